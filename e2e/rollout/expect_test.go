package rollout_test

import (
	"fmt"
	"testing"
	"time"
)

// knownWorker is a worker service (one app stack per region) in account
// 444455556666, in the given regions block.
func knownWorker(regions string) string {
	return fmt.Sprintf(`schemaVersion: 1
service: known
team: e2e
description: gantry e2e worker whose operation times are recorded
image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/known
compute:
  cpu: 256
  memory: 512
scaling:
  min: 1
  max: 2
  cpuTarget: 70
stages:
  - name: prod
    account: "444455556666"
    waves:
%s`, regions)
}

// TestNewRegionOfAKnownServiceIsNotWaitedForBlind: a stack operation's
// time is kept in the state table, so the first stack of a new region of
// a known service -- no history of its own, no earlier wave doing the same
// -- is waited for as expected (a poll just past the expected end), not
// blind: a poll or two where the first create in the service's first
// region, blind, took a poll every half second.
func TestNewRegionOfAKnownServiceIsNotWaitedForBlind(t *testing.T) {
	const (
		account = "444455556666"
		op      = 6 * time.Second
	)
	e := newEnv(t)
	both := e.writeDescriptor("known", knownWorker("      - regions: [us-east-1]\n      - regions: [eu-west-1]\n"))
	e.bootstrap(both)
	one := e.writeDescriptor("known", knownWorker("      - regions: [us-east-1]\n"))
	e.proxy.SetStackDuration(op)

	e.rec.reset()
	res, _ := e.deploy(0, one, "1.0.0", "--bake", "0s")
	wantStatuses(t, res, map[string]string{"*": "deployed"})
	blind := e.rec.accountCounts(account)["us-east-1"]["cloudformation:DescribeStacks"]

	times, err := newCloud(t).store(account, "us-east-1").OperationTimes(ctx(t), "known", "prod")
	if err != nil {
		t.Fatal(err)
	}
	rec := times["app/CREATE"]
	if rec.Took < op-time.Second || rec.Took > op+time.Second || rec.Region != "us-east-1" {
		t.Fatalf("recorded operation times %+v; want app/CREATE of about %s measured in us-east-1", times, op)
	}

	e.writeDescriptor("known", knownWorker("      - regions: [us-east-1]\n      - regions: [eu-west-1]\n"))
	e.rec.reset()
	res, _ = e.deploy(0, both, "1.0.0", "--bake", "0s")
	wantStatuses(t, res, map[string]string{"prod/us-east-1": "unchanged", "prod/eu-west-1": "deployed"})
	expected := e.rec.accountCounts(account)["eu-west-1"]["cloudformation:DescribeStacks"]
	t.Logf("DescribeStacks for a %s create: %d blind (the service's first region), %d expecting the recorded %s (a new region)", op, blind, expected, rec.Took)
	t.Logf("the new region's calls: %v", e.rec.accountCounts(account)["eu-west-1"])
	// One describe when its change set is made ahead (the resume check
	// reuses it), then a poll just past 6 s (and one more, should the
	// clocks disagree).
	if expected > 3 || 2*expected > blind {
		t.Errorf("the new region's create cost %d DescribeStacks (blind: %d); want at most 3, the recorded time used", expected, blind)
	}
	if blind < 10 {
		t.Errorf("the blind create cost %d DescribeStacks; a blind wait polls every half second (the comparison proves nothing)", blind)
	}
}
