package gate_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gantryhq/gantry/pkg/gate"
)

// weightFlags holds a canary weight flag: 25 in eu-west-1, 100 elsewhere,
// a flag that is boolean, and one whose value is out of range.
const weightFlags = `{"flags": {
  "payments-canary": {"state": "ENABLED", "defaultVariant": "all",
    "variants": {"quarter": 25, "all": 100},
    "targeting": {"if": [{"==": [{"var": "region"}, "eu-west-1"]}, "quarter", null]}},
  "a-boolean": {"state": "ENABLED", "defaultVariant": "on", "variants": {"on": true}},
  "too-much": {"state": "ENABLED", "defaultVariant": "v", "variants": {"v": 250}}
}}`

func TestWeightFlag(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flags.json")
	if err := os.WriteFile(path, []byte(weightFlags), 0o644); err != nil {
		t.Fatal(err)
	}
	client, closeFn, err := gate.Open(context.Background(), "file:"+path, gate.OpenOptions{PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	var evs []gate.Evaluation
	g := gate.New(client, desc("", ""), gate.Options{OnEvaluation: func(e gate.Evaluation) { evs = append(evs, e) }})
	defer g.Close()
	ctx := context.Background()
	for _, c := range []struct {
		flag, region string
		want         int
		fails        string
	}{
		{"payments-canary", "eu-west-1", 25, ""},
		{"payments-canary", "us-east-1", 100, ""},
		{"too-much", "us-east-1", 100, ""},
		{"a-boolean", "us-east-1", 0, "TYPE_MISMATCH"},
		{"missing", "us-east-1", 0, "FLAG_NOT_FOUND"},
	} {
		w, why, err := g.Weight(ctx, c.flag, req("prod", c.region))
		var ee *gate.EvalError
		switch {
		case c.fails != "" && (!errors.As(err, &ee) || ee.Evaluation.ErrorCode != c.fails || !strings.Contains(why, "failing closed")):
			t.Errorf("%s in %s: %d %q %v, want a %s failure", c.flag, c.region, w, why, err, c.fails)
		case c.fails == "" && (err != nil || w != c.want):
			t.Errorf("%s in %s: %d %v, want %d", c.flag, c.region, w, err, c.want)
		}
	}
	if len(evs) != 5 || evs[0].Kind != gate.KindWeight || evs[0].Attrs()["value"] != "25" || evs[0].Attrs()["context.region"] != "eu-west-1" {
		t.Errorf("evaluations %+v", evs)
	}
	none := gate.New(nil, desc("", ""), gate.Options{})
	if _, _, err := none.Weight(ctx, "payments-canary", req("prod", "us-east-1")); err == nil {
		t.Error("no provider: a weight without an error")
	}
}
