package render

import (
	"testing"

	"github.com/gantryhq/gantry/pkg/descriptor"
)

// `gantry render`'s hot path: run with
// `go test -run '^$' -bench . -benchmem ./pkg/render`.

// paymentsTargets loads examples/payments and lists every (stage, region):
// 1 + 2 + 6 of them.
func paymentsTargets(tb testing.TB) (*descriptor.Descriptor, []Target) {
	tb.Helper()
	d, probs, err := descriptor.Load("../../examples/payments/payments.sd.yaml")
	if err != nil || len(probs) > 0 {
		tb.Fatalf("%v %v", err, probs)
	}
	targets, err := Targets(d, Options{Version: "1.0.0"})
	if err != nil {
		tb.Fatal(err)
	}
	if len(targets) != 9 {
		tb.Fatalf("payments has %d targets, want 9", len(targets))
	}
	return d, targets
}

// BenchmarkRenderPayments: every stage and region of payments built as
// goformation templates (two stacks each), without encoding.
func BenchmarkRenderPayments(b *testing.B) {
	d, targets := paymentsTargets(b)
	for b.Loop() {
		for _, t := range targets {
			if stacks, err := Render(d, t); err != nil || len(stacks) != 2 {
				b.Fatalf("%v: %d stacks, %v", t, len(stacks), err)
			}
		}
	}
}

// BenchmarkRenderEncodePayments: the same, plus what `gantry render` writes
// for each stack: the JSON template and its parameters file.
func BenchmarkRenderEncodePayments(b *testing.B) {
	d, targets := paymentsTargets(b)
	for b.Loop() {
		var n int64
		for _, t := range targets {
			stacks, err := Render(d, t)
			if err != nil {
				b.Fatal(err)
			}
			for _, s := range stacks {
				tmpl, err := s.Encode("json")
				if err != nil {
					b.Fatal(err)
				}
				params, err := s.EncodeParameters()
				if err != nil {
					b.Fatal(err)
				}
				n += int64(len(tmpl) + len(params))
			}
		}
		b.SetBytes(n)
	}
}
