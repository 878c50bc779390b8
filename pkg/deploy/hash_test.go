package deploy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/awslabs/goformation/v7/cloudformation"

	"github.com/gantryhq/gantry/pkg/naming"
	"github.com/gantryhq/gantry/pkg/render"
	"github.com/gantryhq/gantry/pkg/rollout"
)

func stack(name string, kind naming.StackKind, params map[string]string) render.Stack {
	tpl := cloudformation.NewTemplate()
	tpl.Description = "test " + name
	return render.Stack{Name: name, Kind: kind, Template: tpl, Parameters: params}
}

func TestHashIsTheDocumentedDigest(t *testing.T) {
	data := stack("svc-dev-data", naming.Data, nil)
	app := stack("svc-dev-app", naming.App, map[string]string{"Version": "v1", "A": "x"})
	got, err := Hash([]render.Stack{data, app})
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	for _, s := range []render.Stack{data, app} {
		b, err := s.Encode("json")
		if err != nil {
			t.Fatal(err)
		}
		h.Write([]byte(s.Name + "\n"))
		h.Write(b)
		h.Write([]byte("\n"))
		if s.Kind == naming.App {
			h.Write([]byte("A=x\nVersion=v1\n")) // sorted
		}
	}
	if want := hex.EncodeToString(h.Sum(nil)); got != want {
		t.Errorf("Hash = %s, want %s", got, want)
	}

	// Stable, and sensitive to every input.
	again, _ := Hash([]render.Stack{data, stack("svc-dev-app", naming.App, map[string]string{"A": "x", "Version": "v1"})})
	if again != got {
		t.Error("hash depends on map order")
	}
	for name, stacks := range map[string][]render.Stack{
		"parameter": {data, stack("svc-dev-app", naming.App, map[string]string{"Version": "v2", "A": "x"})},
		"name":      {data, stack("svc-dev-app2", naming.App, map[string]string{"Version": "v1", "A": "x"})},
		"order":     {app, data},
		"no data":   {app},
	} {
		if h, _ := Hash(stacks); h == got {
			t.Errorf("changing the %s leaves the hash unchanged", name)
		}
	}
	mod := stack("svc-dev-app", naming.App, map[string]string{"Version": "v1", "A": "x"})
	mod.Template.Description = "changed"
	if h, _ := Hash([]render.Stack{data, mod}); h == got {
		t.Error("changing the template leaves the hash unchanged")
	}
	if _, err := Hash([]render.Stack{{Name: "x"}}); err == nil {
		t.Error("no template: no error")
	}
}

func TestStackTags(t *testing.T) {
	base := map[string]string{"gantry:service": "s", "gantry:stage": "dev", "gantry:team": "t"}
	data := DeployedStack{Name: "s-dev-data", Kind: naming.Data, Template: []byte("{}"), Parameters: map[string]string{}}
	dt := StackTags(base, data, "v1", "H")
	if dt[TagHash] != HashDeployed([]DeployedStack{data}) || dt["gantry:version"] != "" || len(dt) != 4 {
		t.Errorf("data tags = %v", dt)
	}
	at := StackTags(base, DeployedStack{Name: "s-dev-app", Kind: naming.App}, "v1", "H")
	if at[TagHash] != "H" || at["gantry:version"] != "v1" || len(at) != 5 {
		t.Errorf("app tags = %v", at)
	}
	if len(base) != 3 {
		t.Error("base tags modified")
	}
}

func TestSleepWakes(t *testing.T) {
	r := &run{clock: SystemClock{}}
	wake := make(chan struct{})
	close(wake)
	start := time.Now()
	if err := r.sleep(context.Background(), time.Hour, nil, wake); err != nil {
		t.Fatalf("sleep: %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Error("a closed wake channel did not end the sleep")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled sleep = %v", err)
	}
	if err := (SystemClock{}).Sleep(context.Background(), 0); err != nil {
		t.Errorf("zero sleep = %v", err)
	}
}

func TestOpenGateAndApprovers(t *testing.T) {
	ctx := context.Background()
	if d, err := (OpenGate{}).Check(ctx, rollout.GateRequest{}); err != nil || !d.Open {
		t.Errorf("OpenGate.Check = %v, %v", d, err)
	}
	if h, _, err := (OpenGate{}).Halted(ctx, rollout.GateRequest{}); h || err != nil {
		t.Errorf("OpenGate.Halted = %v, %v", h, err)
	}
	a := ApproveStages("prod")
	if ok, _ := a.Approve(ctx, ApprovalRequest{Stage: "prod"}); !ok {
		t.Error("prod not approved")
	}
	if ok, _ := a.Approve(ctx, ApprovalRequest{Stage: "staging"}); ok {
		t.Error("staging approved")
	}
}

func TestMergeRestore(t *testing.T) {
	stacks := []rollout.StackResult{{Name: "d", Kind: string(naming.Data), Action: rollout.ActionUpdate}, {Name: "a", Kind: string(naming.App), Action: rollout.ActionUpdate}}
	got := mergeRestore(stacks, []StackOutcome{
		{Name: "d", Kind: naming.Data, Action: rollout.ActionUnchanged},
		{Name: "a", Kind: naming.App, Action: rollout.ActionUpdate, Status: "UPDATE_COMPLETE", Changes: 2},
	})
	if got[0].Action != rollout.ActionUpdate || got[1].Action != rollout.ActionRestore || got[1].Changes != 2 || stacks[1].Action != rollout.ActionUpdate {
		t.Errorf("merged = %+v (input %+v)", got, stacks)
	}
}
