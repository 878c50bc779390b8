// Package flags implements `gantry flags`, starting with `gantry flags
// eval`: one flag evaluated through the configured OpenFeature provider.
package flags

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	of "github.com/open-feature/go-sdk/openfeature"
	"github.com/spf13/cobra"

	"github.com/gantryhq/gantry/internal/jsonout"
	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/gantryhq/gantry/pkg/gate/flagd"
)

// NewCmd builds `gantry flags`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	var spec string
	cmd := &cobra.Command{
		Use:   "flags <command>",
		Short: "Evaluate feature flags through the configured provider",
		Long: `Work with the OpenFeature flags that gate rollouts. The provider is
--flags file:PATH (a flagd flag-definition file, evaluated in-process) or
--flags launchdarkly (LaunchDarkly, with the server-side SDK key in
LAUNCHDARKLY_SDK_KEY); without --flags, $GANTRY_FLAGS.

Exit status: that of the subcommand; 2 when none is given.`,
		Example: `  $ gantry flags eval --flags file:flags.json --flag payments-deploy-gate \
      --context '{"targetingKey": "payments/prod/eu-west-1", "region": "eu-west-1"}'`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmdutil.UsageErrorf("%s needs a subcommand: eval", cmd.CommandPath())
		},
	}
	cmdutil.AddFlagsFlag(cmd.PersistentFlags(), &spec)
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
	Output  string
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

--context may be at most 64 KiB and nested at most 16 levels deep.

--output json (or -o json; --format is an alias kept for existing
scripts) prints one line, {"flag", "value", "variant", "reason",
"errorCode", "metadata", "fractional", "explain"}: variant and errorCode
null when there is none; metadata the flag's metadata (a flag file's flag
and flag-set "metadata", {} when none); fractional the bucketing algorithm
("v2" or "v3") when a fractional split decided, else null; explain which
rule branch decided (or null). --default for a float flag must be finite
(JSON has no NaN or infinity).

Exit status: 0 evaluated; 1 the evaluation failed (an error code: the value
printed is --default) or the provider cannot be reached; 2 bad usage or a
flag file that cannot be used.`,
		Example: `  $ gantry flags eval --flags file:flags.json --flag payments-deploy-gate \
      --context '{"targetingKey": "payments/prod/eu-west-1", "region": "eu-west-1", "stage": "prod"}'
  $ GANTRY_FLAGS=launchdarkly gantry flags eval --flag max-connections --type integer --default 10 -o json
  $ gantry flags eval --flags file:examples/flags/prod-after-version.flagd.json --flag payments-deploy-gate \
      --context '{"targetingKey": "payments/prod/us-west-2", "stage": "prod", "version": "3f2a9c1e"}' -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runEval(cmd, f, opts) },
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Flag, "flag", "", "flag key to evaluate (required)")
	fl.StringVar(&opts.Type, "type", "boolean", "flag type: boolean, string, integer, float or object")
	fl.StringVar(&opts.Default, "default", "", "default value, returned on errors (default false, \"\", 0, 0 or {} by type)")
	fl.StringVar(&opts.Context, "context", "", "evaluation context as a JSON object; \"targetingKey\" is the targeting key")
	cmdutil.AddOutputFlag(cmd, &opts.Output, "text", "json")
	cmdutil.AddFormatAlias(cmd, &opts.Output)
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
	// Metadata is the flag's metadata; Fractional and Explain come from the
	// provider (see gate.Evaluation).
	Metadata   map[string]any `json:"-"`
	Fractional string         `json:"-"`
	Explain    string         `json:"-"`
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
	md := r.Metadata
	if md == nil {
		md = map[string]any{}
	}
	return jsonout.Marshal(struct {
		Flag       string         `json:"flag"`
		Value      any            `json:"value"`
		Variant    any            `json:"variant"`
		Reason     string         `json:"reason"`
		ErrorCode  any            `json:"errorCode"`
		Metadata   map[string]any `json:"metadata"`
		Fractional any            `json:"fractional"`
		Explain    any            `json:"explain"`
	}{r.Flag, r.Value, null(r.Variant), r.Reason, null(r.ErrorCode), md, null(r.Fractional), null(r.Explain)})
}

// fromMetadata splits the provider's flag metadata into the flag's own and
// the keys gantry's providers add.
func (r *Result) fromMetadata(md of.FlagMetadata) {
	for k, v := range md {
		switch k {
		case flagd.MetaFractional:
			r.Fractional, _ = v.(string)
		case flagd.MetaExplain:
			r.Explain, _ = v.(string)
		case flagd.MetaOperatorErrors:
		default:
			if r.Metadata == nil {
				r.Metadata = map[string]any{}
			}
			r.Metadata[k] = v
		}
	}
}

func runEval(cmd *cobra.Command, f *cmdutil.Factory, opts *EvalOptions) error {
	if opts.Flag == "" {
		return cmdutil.UsageErrorf("--flag is required: the key of the flag to evaluate")
	}
	if err := cmdutil.OneOf("type", opts.Type, "boolean", "string", "integer", "float", "object"); err != nil {
		return err
	}
	if err := cmdutil.CheckOutput(cmd, opts.Output, "text", "json"); err != nil {
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
	o, err := cmdutil.OpenFlags(ctx, f, *opts.Spec)
	if err != nil {
		return err
	}
	defer o.Close()
	res := Evaluate(ctx, o.Client, opts.Flag, opts.Type, def, ec)
	if err := write(f.IOStreams.Out, opts.Output, res); err != nil {
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
	r.fromMetadata(d.FlagMetadata)
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
		return cmdutil.WriteJSON(w, r)
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
	for _, k := range slices.Sorted(maps.Keys(r.Metadata)) {
		fmt.Fprintf(w, "metadata   %s=%v\n", k, r.Metadata[k])
	}
	if r.Fractional != "" {
		fmt.Fprintf(w, "fractional %s\n", r.Fractional)
	}
	if r.Explain != "" {
		fmt.Fprintf(w, "explain    %s\n", r.Explain)
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
		// JSON has no NaN or infinity: such a default could never be printed.
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, cmdutil.UsageErrorf("--default %q is not a finite number; give a float such as 0.5", v)
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
	// Budgets before and after parsing: size first, so a huge value is
	// never decoded; then depth (the evaluator checks both again).
	if len(s) > flagd.MaxContextBytes {
		return of.EvaluationContext{}, cmdutil.UsageErrorf("--context is %d bytes; at most %d are allowed (context budget)", len(s), flagd.MaxContextBytes)
	}
	var attrs map[string]any
	if err := json.Unmarshal([]byte(s), &attrs); err != nil || attrs == nil {
		if err == nil {
			err = errors.New("not an object")
		}
		return of.EvaluationContext{}, cmdutil.UsageErrorf("--context must be a JSON object, e.g. '{\"targetingKey\": \"payments/prod/eu-west-1\", \"region\": \"eu-west-1\"}': %v", err)
	}
	if err := flagd.CheckContext(attrs); err != nil {
		return of.EvaluationContext{}, cmdutil.UsageErrorf("--context: %v (context budget)", err)
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
