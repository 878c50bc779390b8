package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/gantryhq/gantry/e2e/proxy"
	"github.com/gantryhq/gantry/pkg/awsx"
)

// The services of the canary part: the same web service with a canary and
// without one (deployed whole, as before issue 13).
const (
	checkoutCanary = "bench/testdata/checkout.sd.yaml"
	checkoutWhole  = "bench/testdata/checkout-whole.sd.yaml"
	checkoutApp    = "checkout-dev-app"
	benchAccount   = "123456789012"
)

// canaryRuns is how many aborts (and restores) the part times: each run is
// a stack operation or three, so fewer than -runs.
const canaryRuns = 3

// CanaryResult compares issue 13's canary abort with the restore by
// redeploy it replaces, at the same stack operation time, in one run.
type CanaryResult struct {
	StackOperationSeconds float64 `json:"stack_operation_seconds"`
	// AbortSeconds: from the canary's alarm set to ALARM (at step 1, 10%)
	// to the listener rule showing the canary's weight 0, polled every
	// 10 ms at the emulator.
	AbortRunsSeconds   []float64 `json:"canary_abort_runs_seconds"`
	AbortMedianSeconds float64   `json:"canary_abort_seconds"`
	// RestoreSeconds: from the service's 5xx alarm set to ALARM during the
	// bake of a version deployed whole to its app stack being back on the
	// previous version (UPDATE_COMPLETE), polled every 10 ms.
	RestoreRunsSeconds   []float64 `json:"restore_runs_seconds"`
	RestoreMedianSeconds float64   `json:"restore_seconds"`
	Goal                 string    `json:"goal"`
}

// benchCanary times the canary aborts and then the restores.
func (b *bench) benchCanary(ctx context.Context) (*CanaryResult, error) {
	res := &CanaryResult{StackOperationSeconds: b.cfg.stackOp.Seconds(), Goal: "canary_abort_seconds <= 5"}
	aws, err := b.direct(ctx)
	if err != nil {
		return nil, err
	}
	if res.AbortRunsSeconds, err = b.timeRuns(ctx, aws, checkoutCanary, nil, b.abortOnce); err != nil {
		return nil, fmt.Errorf("canary abort: %w", err)
	}
	if res.RestoreRunsSeconds, err = b.timeRuns(ctx, aws, checkoutWhole, []string{"--bake", "10m"}, b.restoreOnce); err != nil {
		return nil, fmt.Errorf("restore by redeploy: %w", err)
	}
	res.AbortMedianSeconds, res.RestoreMedianSeconds = median(res.AbortRunsSeconds), median(res.RestoreRunsSeconds)
	return res, nil
}

// timeRuns deploys file's 1.0.0 from nothing at the stack operation time,
// then times once() canaryRuns times, each on a new version it starts
// deploying (with extra) and expects to fail.
func (b *bench) timeRuns(ctx context.Context, c *emu, file string, extra []string,
	once func(context.Context, *emu, string) (float64, error)) ([]float64, error) {
	p, err := b.freshProxy(ctx, file)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	p.SetStackDuration(b.cfg.stackOp)
	if _, err := b.runGantry(ctx, p.URL(), deployArgs(file)...); err != nil {
		return nil, err
	}
	var runs []float64
	for i := range canaryRuns {
		v := fmt.Sprintf("1.%d.0", i+1)
		secs, err := b.failingDeploy(ctx, p, c, append([]string{"deploy", file, "--version", v, "--output", "json"}, extra...), once)
		if err != nil {
			return nil, fmt.Errorf("version %s: %w", v, err)
		}
		runs = append(runs, secs)
	}
	return runs, nil
}

// failingDeploy starts a deploy through p, times it with once, and waits
// for it to end failed (exit 1).
func (b *bench) failingDeploy(ctx context.Context, p *proxy.Proxy, c *emu, args []string,
	once func(context.Context, *emu, string) (float64, error)) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.gantry, append(args, "--endpoint-url", p.URL())...)
	cmd.Env = append(awsEnv(), "GANTRY_FLAGS="+flagsFile)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	secs, err := once(ctx, c, args[3])
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return 0, fmt.Errorf("%w\n%s", err, tail(stderr.String(), 30))
	}
	var ee *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &ee) || ee.ExitCode() != 1 {
		return 0, fmt.Errorf("gantry %s: %v, want exit 1\n%s", joinArgs(args), err, tail(stderr.String(), 30))
	}
	return secs, nil
}

// abortOnce waits for the canary's first step (10%), sets its alarm and
// times until the rule gives the canary 0.
func (b *bench) abortOnce(ctx context.Context, c *emu, _ string) (float64, error) {
	if err := c.until(ctx, func() (bool, error) { w, err := c.canaryWeight(ctx); return w == 10, err }); err != nil {
		return 0, fmt.Errorf("waiting for the canary's first step: %w", err)
	}
	if err := c.setAlarm(ctx, "checkout-dev-canary-5xx", cwtypes.StateValueAlarm); err != nil {
		return 0, err
	}
	fired := time.Now()
	if err := c.until(ctx, func() (bool, error) { w, err := c.canaryWeight(ctx); return w == 0, err }); err != nil {
		return 0, fmt.Errorf("waiting for the abort: %w", err)
	}
	took := time.Since(fired).Seconds()
	// The abort has begun: the next version starts from a quiet alarm.
	return took, c.setAlarm(ctx, "checkout-dev-canary-5xx", cwtypes.StateValueOk)
}

// restoreOnce waits for the app stack to run version (its bake begins),
// sets the service's 5xx alarm and times until the stack is back on 1.0.0.
func (b *bench) restoreOnce(ctx context.Context, c *emu, version string) (float64, error) {
	if err := c.until(ctx, func() (bool, error) { v, done, err := c.appVersion(ctx); return v == version && done, err }); err != nil {
		return 0, fmt.Errorf("waiting for %s to be deployed: %w", version, err)
	}
	if err := c.setAlarm(ctx, "checkout-dev-5xx", cwtypes.StateValueAlarm); err != nil {
		return 0, err
	}
	fired := time.Now()
	if err := c.until(ctx, func() (bool, error) { v, done, err := c.appVersion(ctx); return v == "1.0.0" && done, err }); err != nil {
		return 0, fmt.Errorf("waiting for the restore: %w", err)
	}
	took := time.Since(fired).Seconds()
	return took, c.setAlarm(ctx, "checkout-dev-5xx", cwtypes.StateValueOk)
}

// emu reads and pokes the emulator directly, not through the proxy: the
// measurements' polls neither count nor wait there.
type emu struct {
	cfn *cloudformation.Client
	elb *elbv2.Client
	cw  *cloudwatch.Client
}

func (b *bench) direct(ctx context.Context) (*emu, error) {
	p, err := awsx.New(ctx, awsx.Options{EndpointURL: b.emulator, Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	if err != nil {
		return nil, err
	}
	cfg, err := p.Config(ctx, benchAccount, "us-east-1")
	if err != nil {
		return nil, err
	}
	return &emu{cfn: cloudformation.NewFromConfig(cfg), elb: elbv2.NewFromConfig(cfg), cw: cloudwatch.NewFromConfig(cfg)}, nil
}

// until polls cond every 10 ms for up to 5 minutes.
func (c *emu) until(ctx context.Context, cond func() (bool, error)) error {
	deadline := time.Now().Add(5 * time.Minute)
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within 5 minutes (last error: %v)", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// appStack is the app stack's outputs, parameters and whether it is
// settled (*_COMPLETE).
func (c *emu) appStack(ctx context.Context) (outs, params map[string]string, done bool, err error) {
	out, err := c.cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(checkoutApp)})
	if err != nil || len(out.Stacks) != 1 {
		return nil, nil, false, fmt.Errorf("describing %s: %w", checkoutApp, err)
	}
	s := out.Stacks[0]
	outs, params = map[string]string{}, map[string]string{}
	for _, o := range s.Outputs {
		outs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	for _, p := range s.Parameters {
		params[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	return outs, params, strings.HasSuffix(string(s.StackStatus), "_COMPLETE"), nil
}

func (c *emu) appVersion(ctx context.Context) (string, bool, error) {
	_, params, done, err := c.appStack(ctx)
	return params["Version"], done, err
}

// canaryWeight is the canary target group's weight on the listener rule
// (-1 until the stack has a canary).
func (c *emu) canaryWeight(ctx context.Context) (int, error) {
	outs, _, _, err := c.appStack(ctx)
	if err != nil || outs["ListenerRuleArn"] == "" {
		return -1, err
	}
	rules, err := c.elb.DescribeRules(ctx, &elbv2.DescribeRulesInput{RuleArns: []string{outs["ListenerRuleArn"]}})
	if err != nil || len(rules.Rules) != 1 || len(rules.Rules[0].Actions) != 1 || rules.Rules[0].Actions[0].ForwardConfig == nil {
		return -1, fmt.Errorf("the listener rule: %w", err)
	}
	for _, g := range rules.Rules[0].Actions[0].ForwardConfig.TargetGroups {
		if aws.ToString(g.TargetGroupArn) == outs["CanaryTargetGroupArn"] {
			return int(aws.ToInt32(g.Weight)), nil
		}
	}
	return -1, errors.New("the rule does not forward to the canary's target group")
}

func (c *emu) setAlarm(ctx context.Context, name string, state cwtypes.StateValue) error {
	_, err := c.cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(name), StateValue: state, StateReason: aws.String("bench")})
	if err != nil {
		return fmt.Errorf("setting alarm %s to %s: %w", name, state, err)
	}
	return nil
}
