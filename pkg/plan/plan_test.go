package plan

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gantryhq/gantry/pkg/descriptor"
)

const src = `schemaVersion: 1
service: payments
team: pay
image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/payments
compute: {cpu: 512, memory: 1024, port: 8080}
stages:
  - name: dev
    account: "111122223333"
    regions: [us-east-1]
  - name: staging
    account: "444455556666"
    regions: [us-east-1, eu-west-1]
    bake: 10m
  - name: prod
    account: "777788889999"
    approval: true
    bake: 5m
    waves:
      - regions: [us-west-2]
        bake: 30m
      - regions: [eu-central-1, ap-southeast-2, ap-northeast-1]
        maxParallel: 2
`

func parse(t *testing.T, s string) *descriptor.Descriptor {
	t.Helper()
	d, probs := descriptor.Parse("t.sd.yaml", []byte(s))
	if len(probs) > 0 {
		t.Fatalf("parse: %v", probs)
	}
	return d
}

func TestBuildAll(t *testing.T) {
	p, err := Build(parse(t, src), nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Service != "payments" {
		t.Errorf("service = %q", p.Service)
	}
	var names []string
	for _, s := range p.Stages {
		names = append(names, s.Name)
	}
	if !reflect.DeepEqual(names, []string{"dev", "staging", "prod"}) {
		t.Fatalf("stages = %v", names)
	}
	prod := p.Stages[2]
	want := Stage{
		Name: "prod", Account: "777788889999", Approval: true, Index: 2, StateRegion: "us-west-2",
		Waves: []Wave{
			{Index: 1, Bake: 30 * time.Minute, Steps: []Step{{"prod", "777788889999", "us-west-2", 1}}},
			{Index: 2, Bake: 5 * time.Minute, MaxParallel: 2, Steps: []Step{
				{"prod", "777788889999", "eu-central-1", 2},
				{"prod", "777788889999", "ap-southeast-2", 2},
				{"prod", "777788889999", "ap-northeast-1", 2},
			}},
		},
	}
	if !reflect.DeepEqual(prod, want) {
		t.Errorf("prod =\n%+v\nwant\n%+v", prod, want)
	}
	stg := p.Stages[1]
	if len(stg.Waves) != 1 || stg.Waves[0].Bake != 10*time.Minute || stg.StateRegion != "us-east-1" || stg.Index != 1 {
		t.Errorf("staging (shorthand) = %+v", stg)
	}
	if got := stg.Waves[0].Parallel(); got != 2 {
		t.Errorf("Parallel() with maxParallel 0 = %d, want all (2)", got)
	}
	if got := prod.Waves[1].Parallel(); got != 2 {
		t.Errorf("Parallel() = %d, want 2", got)
	}
	if n := len(p.Steps()); n != 7 {
		t.Errorf("Steps() = %d, want 7", n)
	}
	if got := prod.Regions(); !reflect.DeepEqual(got, []string{"us-west-2", "eu-central-1", "ap-southeast-2", "ap-northeast-1"}) {
		t.Errorf("Regions() = %v", got)
	}
}

func TestBuildSelectsInFileOrder(t *testing.T) {
	p, err := Build(parse(t, src), []string{"prod", "dev", "prod"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Stages) != 2 || p.Stages[0].Name != "dev" || p.Stages[1].Name != "prod" || p.Stages[1].Index != 2 {
		t.Errorf("stages = %+v", p.Stages)
	}
	if _, ok := p.Stage("staging"); ok {
		t.Error("unselected stage found")
	}
}

func TestBuildUnknownStage(t *testing.T) {
	_, err := Build(parse(t, src), []string{"qa"})
	if err == nil {
		t.Fatal("no error")
	}
	if want := `unknown stage "qa": the descriptor's stages are dev, staging, prod`; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
}

func TestBuildRejects(t *testing.T) {
	d := parse(t, src)
	d.Stages[1].Waves[0].Regions = []string{"us-east-1", "us-east-1"}
	if _, err := Build(d, nil); err == nil || !strings.Contains(err.Error(), "appears twice") {
		t.Errorf("duplicate region: err = %v", err)
	}
	d = parse(t, src)
	d.Stages[2].Waves[1].Regions = nil
	if _, err := Build(d, nil); err == nil || !strings.Contains(err.Error(), "wave 2 of stage \"prod\" has no regions") {
		t.Errorf("empty wave: err = %v", err)
	}
	d = parse(t, src)
	d.Stages[0].Name = "prod"
	if _, err := Build(d, nil); err == nil || !strings.Contains(err.Error(), "declared twice") {
		t.Errorf("duplicate stage: err = %v", err)
	}
	if _, err := Build(nil, nil); err == nil {
		t.Error("nil descriptor: no error")
	}
}
