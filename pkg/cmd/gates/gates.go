// Package gates implements `gantry gates`: a dry run of a rollout's gates,
// what the gate and halt flags say right now for every stage, wave and
// region, and why.
package gates

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/gantryhq/gantry/pkg/gate"
	"github.com/gantryhq/gantry/pkg/rollout"
)

// DryRunRolloutID is the rolloutId attribute of a dry run's evaluations.
const DryRunRolloutID = "dry-run"

// Options are the command's flags and arguments.
type Options struct {
	File    string
	Version string
	Stages  []string
	Output  string
	Spec    string
	Explain bool
}

// NewCmd builds `gantry gates`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "gates FILE --version V [flags]",
		Short: "Show what every region's gate and the halt flag say right now",
		Long: `A dry run of a rollout's gates: for every stage, wave and region of the
descriptor (or the --stage ones), evaluate rollout.gate and rollout.halt
exactly as gantry deploy would before starting the region, and show the
answer and why (value, variant, reason, or the error that fails closed).
Nothing is deployed and AWS is not called.

Flags are evaluated with targeting key <service>/<stage>/<region> and
attributes service, team, stage, region, wave, version, account and
rolloutId ("dry-run" here). The provider is --flags file:PATH or
--flags launchdarkly, or $GANTRY_FLAGS.

--explain adds, for each region, which branch of the flag's rule decided
(the first "if" condition that held, or none), which flagd operators
returned null on the way (a version that is not semantic, say), or the
error that fails closed; for LaunchDarkly, the evaluation reason (rule
index and id). When a fractional split decided, the table names its
bucketing algorithm (v2 or v3): changing it re-buckets regions.

--output json prints one object on one line: {"service", "version",
"provider", "gateFlag", "haltFlag", "regions": [{"stage", "wave", "region",
"targetingKey", "start", "gate", "halt"}], "summary": {"regions", "open",
"closed", "halted"}}, where gate and halt are null or {"flag", "outcome",
"value", "variant", "reason", "errorCode", "errorMessage", "why",
"metadata", "fractional", "explain"} (metadata is the flag's metadata,
fractional and explain null when there is none).

Exit status: 0 every region would start; 3 at least one region would be
held or the halt flag is on; 2 bad usage, an invalid descriptor or flag
file; 1 the provider cannot be reached.`,
		Example: `  $ gantry gates payments.sd.yaml --version 1.4.2 --flags file:flags.json
  $ gantry gates payments.sd.yaml --version 3f2a9c1e --stage prod --explain \
      --flags file:examples/flags/prod-after-version.flagd.json
  $ gantry gates payments.sd.yaml --version 1.4.2 --stage prod --output json`,
		Args: cmdutil.ExactArgs(1, "one descriptor FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			return run(cmd, f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Version, "version", "", "version the rollout would deploy (required): the version attribute")
	fl.StringSliceVar(&opts.Stages, "stage", nil, "only this stage (repeatable; default all, in file order)")
	fl.BoolVar(&opts.Explain, "explain", false, "also show, per region, which rule branch decided each flag (or which error)")
	cmdutil.AddOutputFlag(cmd, &opts.Output, "text", "json")
	cmdutil.AddFlagsFlag(fl, &opts.Spec)
	return cmd
}

// Report is the --output json document.
type Report struct {
	Service  string   `json:"service"`
	Version  string   `json:"version"`
	Provider string   `json:"provider,omitempty"`
	GateFlag string   `json:"gateFlag"`
	HaltFlag string   `json:"haltFlag"`
	Regions  []Region `json:"regions"`
	Summary  Summary  `json:"summary"`
}

// Region is one region's answer.
type Region struct {
	Stage        string `json:"stage"`
	Wave         int    `json:"wave"`
	Region       string `json:"region"`
	TargetingKey string `json:"targetingKey"`
	// Start reports whether the region would start: gate open, not halted.
	Start bool  `json:"start"`
	Gate  *Flag `json:"gate"`
	Halt  *Flag `json:"halt"`
}

// Flag is one flag's evaluation for a region.
type Flag struct {
	Flag         string  `json:"flag"`
	Outcome      string  `json:"outcome"` // open|closed, or running|halted
	Value        bool    `json:"value"`
	Variant      *string `json:"variant"`
	Reason       string  `json:"reason"`
	ErrorCode    *string `json:"errorCode"`
	ErrorMessage *string `json:"errorMessage"`
	Why          string  `json:"why"`
	// Metadata is the flag's metadata ({} when it has none).
	Metadata map[string]any `json:"metadata"`
	// Fractional names the fractional algorithm that decided, or null.
	Fractional *string `json:"fractional"`
	// Explain says which rule branch decided, or which error; null when
	// the provider says nothing more than the reason.
	Explain *string `json:"explain"`
}

// Summary counts the answers.
type Summary struct {
	Regions int  `json:"regions"`
	Open    int  `json:"open"`
	Closed  int  `json:"closed"`
	Halted  bool `json:"halted"`
}

func run(cmd *cobra.Command, f *cmdutil.Factory, opts *Options) error {
	if opts.Version == "" {
		return cmdutil.UsageErrorf("--version is required: the version the rollout would deploy")
	}
	if err := cmdutil.CheckOutput(cmd, opts.Output, "text", "json"); err != nil {
		return err
	}
	ctx := cmd.Context()
	d, p, err := cmdutil.LoadPlan(ctx, f, opts.File, opts.Stages, nil)
	if err != nil {
		return err
	}
	rep := &Report{Service: d.Service, Version: opts.Version, GateFlag: d.Rollout.Gate, HaltFlag: d.Rollout.Halt}
	var g *gate.Gate
	if d.Rollout.Gate == "" && d.Rollout.Halt == "" {
		g = gate.New(nil, d, gate.Options{})
	} else {
		o, err := cmdutil.OpenFlags(ctx, f, opts.Spec)
		if err != nil {
			return err
		}
		defer o.Close()
		rep.Provider = o.Spec.String()
		g = gate.New(o.Client, d, gate.Options{Logger: f.Log(), Describe: o.Spec.String()})
		defer g.Close()
	}
	for _, st := range p.Stages {
		for _, w := range st.Waves {
			for _, s := range w.Steps {
				req := rollout.GateRequest{Service: d.Service, Team: d.Team, Stage: s.Stage, Region: s.Region,
					Account: s.Account, Version: opts.Version, RolloutID: DryRunRolloutID, Wave: s.Wave}
				r := Region{Stage: s.Stage, Wave: s.Wave, Region: s.Region, TargetingKey: req.TargetingKey(), Start: true}
				if ev, ok := g.Evaluate(ctx, gate.KindGate, req); ok {
					r.Gate = flagOf(ev)
					r.Start = ev.Outcome == "open"
				}
				if ev, ok := g.Evaluate(ctx, gate.KindHalt, req); ok {
					r.Halt = flagOf(ev)
					if ev.Outcome == "halted" {
						r.Start = false
						rep.Summary.Halted = true
					}
				}
				rep.Summary.Regions++
				if r.Gate == nil || r.Gate.Outcome == "open" {
					rep.Summary.Open++
				} else {
					rep.Summary.Closed++
				}
				rep.Regions = append(rep.Regions, r)
			}
		}
	}
	if opts.Output == "json" {
		if err := cmdutil.WriteJSON(f.IOStreams.Out, rep); err != nil {
			return err
		}
	} else {
		writeText(f.IOStreams.Out, rep, opts.Explain)
	}
	if rep.Summary.Closed > 0 || rep.Summary.Halted {
		return cmdutil.SilentExit(cmdutil.ExitHeld)
	}
	return nil
}

func flagOf(ev gate.Evaluation) *Flag {
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	md := ev.Metadata
	if md == nil {
		md = map[string]any{}
	}
	return &Flag{Flag: ev.Flag, Outcome: ev.Outcome, Value: ev.Value, Variant: opt(ev.Variant), Reason: ev.Reason,
		ErrorCode: opt(ev.ErrorCode), ErrorMessage: opt(ev.ErrorMessage), Why: ev.Why,
		Metadata: md, Fractional: opt(ev.Fractional), Explain: opt(ev.Explain)}
}

// detail is the short "why" of the table: value and variant and reason,
// or the error.
func detail(fl *Flag) string {
	if fl.ErrorCode != nil {
		msg := ""
		if fl.ErrorMessage != nil {
			msg = ": " + *fl.ErrorMessage
		}
		return fmt.Sprintf("%s %s%s (fails closed)", fl.Flag, *fl.ErrorCode, msg)
	}
	v := ""
	if fl.Variant != nil {
		v = fmt.Sprintf(", variant %s", *fl.Variant)
	}
	if fl.Fractional != nil {
		v += ", fractional " + *fl.Fractional
	}
	return fmt.Sprintf("%s=%t (%s%s)", fl.Flag, fl.Value, fl.Reason, v)
}

func writeText(w io.Writer, rep *Report, explain bool) {
	head := fmt.Sprintf("%s %s", rep.Service, rep.Version)
	if rep.Provider != "" {
		head += " · flags from " + rep.Provider
	}
	fmt.Fprintln(w, head)
	if rep.GateFlag == "" && rep.HaltFlag == "" {
		fmt.Fprintf(w, "The descriptor names no rollout.gate or rollout.halt flag: every region starts ungated.\n")
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STAGE\tWAVE\tREGION\tGATE\tHALT\tWHY")
	for _, r := range rep.Regions {
		gateCol, haltCol := "-", "-"
		var why []string
		if r.Gate != nil {
			gateCol = r.Gate.Outcome
			why = append(why, detail(r.Gate))
		} else {
			why = append(why, "no gate flag")
		}
		if r.Halt != nil {
			haltCol = map[string]string{"running": "off", "halted": "ON"}[r.Halt.Outcome]
			if r.Halt.Outcome == "halted" {
				why = append(why, "halt: "+detail(r.Halt))
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", r.Stage, r.Wave, r.Region, gateCol, haltCol, strings.Join(why, "; "))
	}
	tw.Flush()
	if explain {
		writeExplain(w, rep)
	}
	s := rep.Summary
	switch {
	case s.Halted:
		fmt.Fprintf(w, "\nThe halt flag %s is on: a rollout would stop (exit 3).\n", rep.HaltFlag)
	case s.Closed > 0:
		fmt.Fprintf(w, "\n%d of %d regions would start; %d held by the gate (exit 3).\n", s.Open, s.Regions, s.Closed)
	default:
		fmt.Fprintf(w, "\nAll %d regions would start.\n", s.Regions)
	}
}

// writeExplain prints, per region, which rule branch decided each flag, or
// which error.
func writeExplain(w io.Writer, rep *Report) {
	fmt.Fprintln(w, "\nWhy, region by region:")
	for _, r := range rep.Regions {
		for _, fl := range []*Flag{r.Gate, r.Halt} {
			if fl == nil {
				continue
			}
			how := "reason " + fl.Reason + " (the provider gives no more detail)"
			switch {
			case fl.Reason == "STATIC":
				how = "no targeting rule: the default variant"
			case fl.Reason == "DISABLED":
				how = "the flag is disabled"
			case fl.ErrorCode != nil:
				how = *fl.ErrorCode
				if fl.ErrorMessage != nil {
					how += ": " + *fl.ErrorMessage
				}
			case fl.Explain != nil:
				how = *fl.Explain
			}
			fmt.Fprintf(w, "  %s/%s %s %s: %s\n", r.Stage, r.Region, fl.Flag, fl.Outcome, how)
		}
	}
}
