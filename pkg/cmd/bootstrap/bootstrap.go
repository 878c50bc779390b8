// Package bootstrap implements `gantry bootstrap`: the state table, and on
// request the demo platform, in every account and region a descriptor's
// stages use (or in the current account for --region).
package bootstrap

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/gantryhq/gantry/internal/crash"
	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/iostreams"
	"github.com/gantryhq/gantry/pkg/platform"
)

// Parallel is how many (account, region) pairs are bootstrapped at once.
const Parallel = 4

// Options are bootstrap's flags and arguments. The AWS flags (--profile,
// --endpoint-url, --role-name, --state-table) are the root's, in
// cmdutil.Factory.AWS.
type Options struct {
	File         string
	Stages       []string
	Regions      []string
	DemoPlatform bool
	Output       string
}

// NewCmd builds the bootstrap command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "bootstrap [FILE] [flags]",
		Short: "Create the state table (and a demo platform) in each account and region",
		Long: `Prepare AWS for gantry. With a descriptor FILE, for every selected stage
(--stage repeats; default all) it creates the state table (--state-table,
default gantry-state) in the stage's account and first region, where
deploy keeps its lock, journal and deployed templates; and in every
account and region the stages deploy to (--region narrows those) the
artifacts bucket gantry-artifacts-<account>-<region> (encrypted, versioned,
public access blocked, old versions expired after 30 days), where deploy,
plan and rollback upload templates over CloudFormation's 51,200-byte limit
for an inline template. A stage's account is reached by assuming the role
--role-name (default gantry-deploy) unless the caller is already in it.

With --demo-platform it also creates a small platform in every account and
region the selected stages deploy to (--region narrows those): a VPC
10.0.0.0/16 with two private subnets in two zones, the ECS cluster
gantry-demo, an internal application load balancer with its security group
and an HTTP:80 listener answering 404, published as the SSM parameters
/gantry/platform/{vpc-id,private-subnets,ecs-cluster,alb-listener-arn,
alb-security-group} that rendered templates read. It is meant for demos and
the local emulator: its subnets have no route to the internet. It never
overwrites /gantry/platform/ parameters that describe another platform.

Without FILE, --region is required: the table, the artifacts bucket (and
the demo platform) are made in the current account in each of those regions.

Everything is found again by name or tag, so running bootstrap twice is
safe and the second run creates nothing. Each thing is listed as created,
found or updated; --output json (-o json) prints one summary object on one
line instead: {"result": "succeeded|failed", "stateTable", "targets":
[{"account", "region", "stages", "resources": [{"kind", "id", "status"}],
"platform": {"vpcId", "privateSubnets", "ecsCluster", "albListenerArn",
"albSecurityGroup"}, "error"}]} (platform only with --demo-platform, error
only when that target failed).

Exit status: 0 done; 1 an AWS call failed (what and where is printed);
2 bad usage, an invalid descriptor, or a set-up problem found before any
work (no credentials, an unknown profile, an unreachable endpoint), said
once with what to do.`,
		Example: `  # the state table for every stage of a service
  $ gantry bootstrap payments.sd.yaml

  # try gantry on the local emulator: tables and demo platforms everywhere
  $ gantry bootstrap payments.sd.yaml --demo-platform --endpoint-url http://127.0.0.1:4566

  # one stage, as JSON for a script
  $ gantry bootstrap payments.sd.yaml --stage staging --output json

  # no descriptor: this account, two regions
  $ gantry bootstrap --region us-east-1 --region eu-west-1 --demo-platform`,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch len(args) {
			case 0:
			case 1:
				opts.File = args[0]
			default:
				return cmdutil.UsageErrorf("%s takes at most one descriptor FILE, got %d arguments: %q", cmd.CommandPath(), len(args), args)
			}
			return run(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&opts.Stages, "stage", nil, "bootstrap only this stage (repeatable; default all; needs FILE)")
	fl.StringSliceVar(&opts.Regions, "region", nil, "with FILE: narrow the artifacts buckets and the demo platform to this region; without: bootstrap this region of the current account (repeatable)")
	fl.BoolVar(&opts.DemoPlatform, "demo-platform", false, "also create the demo VPC, subnets, ECS cluster and load balancer, published under /gantry/platform/")
	cmdutil.AddOutputFlag(cmd, &opts.Output, "text", "json")
	return cmd
}

// regionRE is the shape of an AWS region name (us-east-1, us-gov-west-1).
var regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// target is one (account, region) and what to make there.
type target struct {
	Account string
	Region  string
	Stages  []string // the stages that use it (empty without FILE)
	Table   bool
	// Artifacts is the artifacts bucket, in every region a stage deploys to.
	Artifacts bool
	Platform  bool
	// Alarms are the descriptor's rollout.alarms, made as stand-ins on a
	// demo platform (a rollout refuses to start while one is missing).
	Alarms []string
}

// Resource is one line of the result.
type Resource struct {
	Kind   string `json:"kind"`
	ID     string `json:"id"`
	Status string `json:"status"`
}

// PlatformJSON is the demo platform of a target, as its parameters say.
type PlatformJSON struct {
	VPCID            string   `json:"vpcId"`
	PrivateSubnets   []string `json:"privateSubnets"`
	ECSCluster       string   `json:"ecsCluster"`
	ALBListenerARN   string   `json:"albListenerArn"`
	ALBSecurityGroup string   `json:"albSecurityGroup"`
}

// TargetResult is what was done in one account and region.
type TargetResult struct {
	Account   string        `json:"account"`
	Region    string        `json:"region"`
	Stages    []string      `json:"stages"`
	Resources []Resource    `json:"resources"`
	Platform  *PlatformJSON `json:"platform,omitempty"`
	Error     string        `json:"error,omitempty"`

	err error
}

// Summary is the --output json object.
type Summary struct {
	Result     string         `json:"result"` // succeeded or failed
	StateTable string         `json:"stateTable"`
	Targets    []TargetResult `json:"targets"`
}

func run(ctx context.Context, f *cmdutil.Factory, opts *Options) error {
	if err := checkFlags(opts); err != nil {
		return err
	}
	targets, b, err := targetsOf(ctx, f, opts)
	if err != nil {
		return err
	}
	table := f.AWS.Table()
	results := bootstrapAll(ctx, f, opts, b, table, targets)

	ios := f.IOStreams
	sum := Summary{Result: "succeeded", StateTable: table, Targets: results}
	var failed []string
	for _, r := range results {
		if r.err != nil {
			sum.Result = "failed"
			failed = append(failed, fmt.Sprintf("%s %s: %v", r.Account, r.Region, r.err))
		}
	}
	if opts.Output == "json" {
		if err := cmdutil.WriteJSON(ios.Out, sum); err != nil {
			return fmt.Errorf("writing the summary: %w", err)
		}
	} else if ios.IsStderrTTY() {
		fmt.Fprintln(ios.ErrOut, summaryLine(results))
	}
	if len(failed) > 0 {
		return cmdutil.Failure(fmt.Errorf("bootstrap failed in %d of %d (account, region) pairs:\n  %s",
			len(failed), len(targets), strings.Join(failed, "\n  ")))
	}
	return nil
}

// checkFlags refuses bad usage before anything is read (exit 2).
func checkFlags(opts *Options) error {
	if err := cmdutil.OneOf("output", opts.Output, "text", "json"); err != nil {
		return err
	}
	if opts.File == "" && len(opts.Regions) == 0 {
		return cmdutil.UsageErrorf("bootstrap needs a descriptor FILE or at least one --region")
	}
	if opts.File == "" && len(opts.Stages) > 0 {
		return cmdutil.UsageErrorf("--stage needs a descriptor FILE")
	}
	for _, r := range opts.Regions {
		if !regionRE.MatchString(r) {
			return cmdutil.UsageErrorf("invalid value %q for --region: not an AWS region name such as us-east-1", r)
		}
	}
	return nil
}

// targetsOf lists the targets: the descriptor's, or the --region ones in the
// caller's account; and returns the Bootstrapper to make them with.
func targetsOf(ctx context.Context, f *cmdutil.Factory, opts *Options) ([]*target, cmdutil.Bootstrapper, error) {
	var targets []*target
	if opts.File != "" {
		d, err := cmdutil.LoadDescriptor(ctx, f, opts.File)
		if err != nil {
			return nil, nil, err
		}
		if err := cmdutil.CheckSelection(d, opts.Stages, opts.Regions); err != nil {
			return nil, nil, err
		}
		targets = fromDescriptor(d, opts)
	}
	b, err := f.Bootstrapper(ctx)
	if err != nil {
		return nil, nil, cmdutil.AWSError(err, f.AWS.Setting())
	}
	// Who the caller is, asked once: no credentials or an unreachable
	// endpoint is one line with what to do, not one per account and region.
	region := ""
	if len(opts.Regions) > 0 {
		region = opts.Regions[0]
	} else if len(targets) > 0 {
		region = targets[0].Region
	}
	account, err := b.CallerAccount(ctx, region)
	if err != nil {
		return nil, nil, cmdutil.AWSError(err, f.AWS.Setting())
	}
	if opts.File == "" {
		targets = fromRegions(account, opts)
	}
	return targets, b, nil
}

// bootstrapAll does the targets, Parallel at a time, printing each one's
// lines as it ends: on stdout for text, on a terminal's stderr for json.
func bootstrapAll(ctx context.Context, f *cmdutil.Factory, opts *Options, b cmdutil.Bootstrapper, table string, targets []*target) []TargetResult {
	ios := f.IOStreams
	var (
		outMu sync.Mutex
		w     io.Writer
		color bool
	)
	switch {
	case opts.Output == "text":
		w, color = ios.Out, ios.ColorEnabled()
	case ios.IsStderrTTY():
		w, color = ios.ErrOut, ios.ColorEnabledStderr()
	}
	results := make([]TargetResult, len(targets))
	sem := make(chan struct{}, Parallel)
	var wg crash.Group
	for i, t := range targets {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = bootstrap(ctx, b, table, t)
			if w != nil {
				outMu.Lock()
				defer outMu.Unlock()
				printTarget(w, color, results[i])
			}
		})
	}
	wg.Wait()
	return results
}

// fromDescriptor lists the targets of the selected stages, in file order:
// the table in each stage's first region, the platform in its regions.
func fromDescriptor(d *descriptor.Descriptor, opts *Options) []*target {
	var out []*target
	get := func(account, region string) *target {
		for _, t := range out {
			if t.Account == account && t.Region == region {
				return t
			}
		}
		t := &target{Account: account, Region: region}
		out = append(out, t)
		return t
	}
	use := func(t *target, stage string) {
		if !slices.Contains(t.Stages, stage) {
			t.Stages = append(t.Stages, stage)
		}
	}
	for _, st := range d.Stages {
		if len(opts.Stages) > 0 && !slices.Contains(opts.Stages, st.Name) {
			continue
		}
		if len(st.Waves) == 0 || len(st.Waves[0].Regions) == 0 {
			continue // lint refuses such a stage; nothing to do for it
		}
		t := get(st.Account, st.Waves[0].Regions[0])
		t.Table = true
		use(t, st.Name)
		for _, w := range st.Waves {
			for _, r := range w.Regions {
				if len(opts.Regions) > 0 && !slices.Contains(opts.Regions, r) {
					continue
				}
				t := get(st.Account, r)
				t.Artifacts = true
				if opts.DemoPlatform {
					t.Platform, t.Alarms = true, d.Rollout.Alarms
				}
				use(t, st.Name)
			}
		}
	}
	return out
}

func fromRegions(account string, opts *Options) []*target {
	var out []*target
	for _, r := range opts.Regions {
		if slices.ContainsFunc(out, func(t *target) bool { return t.Region == r }) {
			continue
		}
		out = append(out, &target{Account: account, Region: r, Table: true, Artifacts: true, Platform: opts.DemoPlatform})
	}
	return out
}

// bootstrap does one target; its error is kept in the result.
func bootstrap(ctx context.Context, b cmdutil.Bootstrapper, table string, t *target) TargetResult {
	res := TargetResult{Account: t.Account, Region: t.Region, Stages: t.Stages, Resources: []Resource{}}
	if res.Stages == nil {
		res.Stages = []string{}
	}
	fail := func(err error) TargetResult {
		res.err = err
		res.Error = err.Error()
		return res
	}
	if t.Table {
		st, err := b.StateTable(ctx, t.Account, t.Region, table)
		if err != nil {
			return fail(err)
		}
		res.Resources = append(res.Resources, Resource{Kind: "state-table", ID: table, Status: string(st)})
	}
	if t.Artifacts {
		r, err := b.ArtifactsBucket(ctx, t.Account, t.Region)
		if err != nil {
			return fail(err)
		}
		res.Resources = append(res.Resources, Resource{Kind: r.Kind, ID: r.ID, Status: string(r.Status)})
	}
	if t.Platform {
		p, err := b.DemoPlatform(ctx, t.Account, t.Region)
		if p != nil {
			for _, r := range p.Resources {
				res.Resources = append(res.Resources, Resource{Kind: r.Kind, ID: r.ID, Status: string(r.Status)})
			}
		}
		if err != nil {
			return fail(err)
		}
		alarms, err := b.DemoAlarms(ctx, t.Account, t.Region, t.Alarms)
		for _, r := range alarms {
			res.Resources = append(res.Resources, Resource{Kind: r.Kind, ID: r.ID, Status: string(r.Status)})
		}
		if err != nil {
			return fail(err)
		}
		res.Platform = &PlatformJSON{
			VPCID:            p.VPCID,
			PrivateSubnets:   p.SubnetIDs,
			ECSCluster:       p.ClusterName,
			ALBListenerARN:   p.ListenerARN,
			ALBSecurityGroup: p.SecurityGroupID,
		}
	}
	return res
}

// printTarget writes one line per resource of r:
//
//	111122223333  us-east-1  created  state-table     gantry-state
func printTarget(w io.Writer, color bool, r TargetResult) {
	cs := iostreams.NewColorScheme(color)
	for _, res := range r.Resources {
		style := iostreams.Muted
		switch res.Status {
		case string(platform.Created):
			style = iostreams.Success
		case string(platform.Updated):
			style = iostreams.Warning
		}
		fmt.Fprintf(w, "%s  %-14s  %s  %-14s  %s\n", r.Account, r.Region, cs.Paint(style, fmt.Sprintf("%-7s", res.Status)), res.Kind, res.ID)
	}
	if r.err != nil {
		fmt.Fprintf(w, "%s  %-14s  %s  %v\n", r.Account, r.Region, cs.Paint(iostreams.Failure, "failed "), r.err)
	}
}

func summaryLine(results []TargetResult) string {
	counts := map[string]int{}
	failed := 0
	for _, r := range results {
		for _, res := range r.Resources {
			counts[res.Status]++
		}
		if r.err != nil {
			failed++
		}
	}
	s := fmt.Sprintf("Bootstrapped %d (account, region) pairs: %d created, %d updated, %d found",
		len(results), counts[string(platform.Created)], counts[string(platform.Updated)], counts[string(platform.Found)])
	if failed > 0 {
		s += fmt.Sprintf(", %d failed", failed)
	}
	return s
}
