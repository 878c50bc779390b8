// Package flags implements `gantry flags`, starting with `gantry flags
// eval`: one flag evaluated through the configured OpenFeature provider.
package flags

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	of "github.com/open-feature/go-sdk/openfeature"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/gantryhq/gantry/pkg/gate"
	"github.com/gantryhq/gantry/pkg/gate/flagd"
)

// FlagsUsage is the help text of --flags.
const FlagsUsage = "flag provider: file:PATH (a flagd flag file) or launchdarkly (key in LAUNCHDARKLY_SDK_KEY); default $GANTRY_FLAGS"

// AddFlagsFlag defines --flags on fs.
func AddFlagsFlag(fs *pflag.FlagSet, spec *string) {
	fs.StringVar(spec, "flags", "", FlagsUsage)
}

// Open opens the provider that spec (or GANTRY_FLAGS) names, turning its
// errors into exit codes: 2 for no or a bad --flags value and for a flag
// file that cannot be used (its problems go to stderr, one per line with
// file:line:column), 1 for a provider that cannot be reached. Load
// warnings of a flag file go to stderr.
func Open(ctx context.Context, f *cmdutil.Factory, spec string) (*gate.Opened, error) {
	o, err := gate.OpenProvider(ctx, spec, gate.OpenOptions{Logger: f.Log(), Getenv: f.Env})
	var (
		se *gate.SpecError
		le *flagd.LoadError
	)
	switch {
	case err == nil:
	case errors.Is(err, gate.ErrNoProvider):
		return nil, cmdutil.UsageErrorf("%v", err)
	case errors.As(err, &se):
		return nil, cmdutil.UsageErrorf("%v", err)
	case errors.As(err, &le):
		if le.Err != nil {
			return nil, cmdutil.InputError(le)
		}
		for _, p := range le.Problems {
			fmt.Fprintf(f.IOStreams.ErrOut, "%s: error: %s\n", p.Pos, p.Message)
		}
		return nil, cmdutil.InputError(fmt.Errorf("flag file %s has %s; fix %s and run again", le.File, cmdutil.Plural(len(le.Problems), "problem"), them(len(le.Problems))))
	default:
		return nil, cmdutil.Failure(err)
	}
	if fp, ok := o.Provider.(*flagd.Provider); ok {
		if set := fp.FlagSet(); set != nil {
			for _, w := range set.Warnings {
				fmt.Fprintf(f.IOStreams.ErrOut, "%s: warning: %s\n", w.Pos, w.Message)
			}
		}
	}
	return o, nil
}

func them(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// NewCmd builds `gantry flags`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	var spec string
	cmd := &cobra.Command{
		Use:   "flags <command>",
		Short: "Evaluate feature flags through the configured provider",
		Long: `Work with the OpenFeature flags that gate rollouts. The provider is
--flags file:PATH (a flagd flag-definition file, evaluated in-process) or
--flags launchdarkly (LaunchDarkly, with the server-side SDK key in
LAUNCHDARKLY_SDK_KEY); without --flags, $GANTRY_FLAGS.`,
		Example: `  $ gantry flags eval --flags file:flags.json --flag payments-deploy-gate \
      --context '{"targetingKey": "payments/prod/eu-west-1", "region": "eu-west-1"}'`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmdutil.UsageErrorf("%s needs a subcommand: eval", cmd.CommandPath())
		},
	}
	AddFlagsFlag(cmd.PersistentFlags(), &spec)
	cmd.AddCommand(newEvalCmd(f, &spec))
	return cmd
}

// EvalOptions are `flags eval`'s flags.
type EvalOptions struct {
	Spec    *string
	Flag    string
	Type    string
	Default string
	Context string
	Format  string
}

func newEvalCmd(f *cmdutil.Factory, spec *string) *cobra.Command {
	opts := &EvalOptions{Spec: spec}
	cmd := &cobra.Command{
		Use:   "eval --flag KEY [flags]",
		Short: "Evaluate one flag and print its value, variant and reason",
		Long: `Evaluate one flag through the configured provider, as a rollout would,
and print the result: value, variant, reason (STATIC, TARGETING_MATCH,
DEFAULT, DISABLED, SPLIT, ERROR, ...) and, when it failed, the error code
(FLAG_NOT_FOUND, TYPE_MISMATCH, PARSE_ERROR, GENERAL, PROVIDER_NOT_READY,
...). --context is the evaluation context as a JSON object; its
"targetingKey" is the targeting key. A rollout's gate is evaluated with
targeting key <service>/<stage>/<region> and attributes service, team,
stage, region, wave, version, account and rolloutId.

--format json prints {"flag", "value", "variant", "reason", "errorCode"}
(variant and errorCode null when there is none).

Exit status: 0 evaluated; 1 the evaluation failed (an error code: the value
printed is --default) or the provider cannot be reached; 2 bad usage or a
flag file that cannot be used.`,
		Example: `  $ gantry flags eval --flags file:flags.json --flag payments-deploy-gate \
      --context '{"targetingKey": "payments/prod/eu-west-1", "region": "eu-west-1", "stage": "prod"}'
  $ GANTRY_FLAGS=launchdarkly gantry flags eval --flag max-connections --type integer --default 10 --format json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runEval(cmd, f, opts) },
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Flag, "flag", "", "flag key to evaluate (required)")
	fl.StringVar(&opts.Type, "type", "boolean", "flag type: boolean, string, integer, float or object")
	fl.StringVar(&opts.Default, "default", "", "default value, returned on errors (default false, \"\", 0, 0 or {} by type)")
	fl.StringVar(&opts.Context, "context", "", "evaluation context as a JSON object; \"targetingKey\" is the targeting key")
	fl.StringVar(&opts.Format, "format", "text", "output: text or json")
	return cmd
}

// Result is what `flags eval` prints.
type Result struct {
	Flag         string `json:"flag"`
	Value        any    `json:"value"`
	Variant      string `json:"-"`
	Reason       string `json:"reason"`
	ErrorCode    string `json:"-"`
	ErrorMessage string `json:"-"`
}

// MarshalJSON gives the design's shape: variant and errorCode are null when
// empty, and the fields come in the documented order.
func (r Result) MarshalJSON() ([]byte, error) {
	null := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	return json.Marshal(struct {
		Flag      string `json:"flag"`
		Value     any    `json:"value"`
		Variant   any    `json:"variant"`
		Reason    string `json:"reason"`
		ErrorCode any    `json:"errorCode"`
	}{r.Flag, r.Value, null(r.Variant), r.Reason, null(r.ErrorCode)})
}

func runEval(cmd *cobra.Command, f *cmdutil.Factory, opts *EvalOptions) error {
	if opts.Flag == "" {
		return cmdutil.UsageErrorf("--flag is required: the key of the flag to evaluate")
	}
	if err := cmdutil.OneOf("type", opts.Type, "boolean", "string", "integer", "float", "object"); err != nil {
		return err
	}
	if err := cmdutil.OneOf("format", opts.Format, "text", "json"); err != nil {
		return err
	}
	def, err := parseDefault(opts.Type, opts.Default, cmd.Flags().Changed("default"))
	if err != nil {
		return err
	}
	ec, err := parseContext(opts.Context)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	o, err := Open(ctx, f, *opts.Spec)
	if err != nil {
		return err
	}
	defer o.Close()
	res := Evaluate(ctx, o.Client, opts.Flag, opts.Type, def, ec)
	if err := write(f.IOStreams.Out, opts.Format, res); err != nil {
		return err
	}
	if res.ErrorCode != "" {
		fmt.Fprintf(f.IOStreams.ErrOut, "error: %s: %s\n", res.ErrorCode, res.ErrorMessage)
		return cmdutil.SilentExit(cmdutil.ExitError)
	}
	return nil
}

// Evaluate evaluates flag as typ through client.
func Evaluate(ctx context.Context, client *of.Client, flag, typ string, def any, ec of.EvaluationContext) Result {
	var (
		d   of.InterfaceEvaluationDetails
		err error
	)
	switch typ {
	case "boolean":
		x, e := client.BooleanValueDetails(ctx, flag, def.(bool), ec)
		d, err = of.InterfaceEvaluationDetails{Value: x.Value, EvaluationDetails: x.EvaluationDetails}, e
	case "string":
		x, e := client.StringValueDetails(ctx, flag, def.(string), ec)
		d, err = of.InterfaceEvaluationDetails{Value: x.Value, EvaluationDetails: x.EvaluationDetails}, e
	case "integer":
		x, e := client.IntValueDetails(ctx, flag, def.(int64), ec)
		d, err = of.InterfaceEvaluationDetails{Value: x.Value, EvaluationDetails: x.EvaluationDetails}, e
	case "float":
		x, e := client.FloatValueDetails(ctx, flag, def.(float64), ec)
		d, err = of.InterfaceEvaluationDetails{Value: x.Value, EvaluationDetails: x.EvaluationDetails}, e
	default:
		d, err = client.ObjectValueDetails(ctx, flag, def, ec)
	}
	r := Result{Flag: flag, Value: d.Value, Variant: d.Variant, Reason: string(d.Reason),
		ErrorCode: string(d.ErrorCode), ErrorMessage: d.ErrorMessage}
	if err != nil && r.ErrorCode == "" {
		r.ErrorCode, r.ErrorMessage = string(of.GeneralCode), err.Error()
	}
	if r.ErrorCode != "" && r.Reason == "" {
		r.Reason = string(of.ErrorReason)
	}
	return r
}

func write(w io.Writer, format string, r Result) error {
	if format == "json" {
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("encoding the result: %w", err)
		}
		_, err = fmt.Fprintln(w, string(b))
		return err
	}
	val, _ := json.Marshal(r.Value)
	fmt.Fprintf(w, "flag       %s\n", r.Flag)
	fmt.Fprintf(w, "value      %s\n", val)
	if r.Variant != "" {
		fmt.Fprintf(w, "variant    %s\n", r.Variant)
	}
	fmt.Fprintf(w, "reason     %s\n", r.Reason)
	if r.ErrorCode != "" {
		fmt.Fprintf(w, "errorCode  %s\n", r.ErrorCode)
	}
	return nil
}

func parseDefault(typ, v string, given bool) (any, error) {
	bad := func() error {
		return cmdutil.UsageErrorf("--default %q is not a valid %s", v, typ)
	}
	switch typ {
	case "boolean":
		if !given {
			return false, nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, bad()
		}
		return b, nil
	case "string":
		return v, nil
	case "integer":
		if !given {
			return int64(0), nil
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return nil, bad()
		}
		return n, nil
	case "float":
		if !given {
			return 0.0, nil
		}
		x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return nil, bad()
		}
		return x, nil
	}
	if !given {
		return map[string]any{}, nil
	}
	var o any
	if err := json.Unmarshal([]byte(v), &o); err != nil {
		return nil, cmdutil.UsageErrorf("--default for an object flag must be JSON: %v", err)
	}
	return o, nil
}

func parseContext(s string) (of.EvaluationContext, error) {
	if strings.TrimSpace(s) == "" {
		return of.EvaluationContext{}, nil
	}
	var attrs map[string]any
	if err := json.Unmarshal([]byte(s), &attrs); err != nil || attrs == nil {
		if err == nil {
			err = errors.New("not an object")
		}
		return of.EvaluationContext{}, cmdutil.UsageErrorf("--context must be a JSON object, e.g. '{\"targetingKey\": \"payments/prod/eu-west-1\", \"region\": \"eu-west-1\"}': %v", err)
	}
	key := ""
	if tk, ok := attrs[of.TargetingKey]; ok {
		s, ok := tk.(string)
		if !ok {
			return of.EvaluationContext{}, cmdutil.UsageErrorf("--context: targetingKey must be a string")
		}
		key = s
		delete(attrs, of.TargetingKey)
	}
	return of.NewEvaluationContext(key, attrs), nil
}
