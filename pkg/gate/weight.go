package gate

import (
	"context"
	"fmt"
	"time"

	of "github.com/open-feature/go-sdk/openfeature"

	"github.com/gantryhq/gantry/pkg/rollout"
)

// KindWeight is the evaluation of a canary's weight flag.
const KindWeight = "weight"

// Weight implements deploy.WeightGate: the integer flag, evaluated for the
// region, is the most percent of its traffic the canary may take now. It
// fails closed: an evaluation that errs returns an *EvalError (the engine
// then gives the canary no more traffic), and a value outside 0-100 is
// clamped into it.
func (g *Gate) Weight(ctx context.Context, flag string, req rollout.GateRequest) (int, string, error) {
	start := time.Now()
	ev := Evaluation{Time: start, Kind: KindWeight, Flag: flag, TargetingKey: req.TargetingKey(), Context: attributes(req)}
	if g.client == nil {
		ev.Reason, ev.ErrorCode = string(of.ErrorReason), string(of.ProviderNotReadyCode)
		ev.ErrorMessage = "no flag provider configured: pass --flags file:PATH or --flags launchdarkly, or set GANTRY_FLAGS"
		ev.Failed = true
	} else {
		d, err := g.client.IntValueDetails(ctx, flag, 0, Context(req))
		ev.Weight, ev.Variant, ev.Reason = d.Value, d.Variant, string(d.Reason)
		ev.ErrorCode, ev.ErrorMessage = string(d.ErrorCode), d.ErrorMessage
		ev.fromMetadata(d.FlagMetadata)
		if err != nil || d.ErrorCode != "" || d.Reason == of.ErrorReason {
			ev.Failed, ev.Weight = true, 0
			if ev.ErrorCode == "" {
				ev.ErrorCode = string(of.GeneralCode)
			}
			if ev.ErrorMessage == "" && err != nil {
				ev.ErrorMessage = err.Error()
			}
		}
	}
	ev.Duration = time.Since(start)
	ev.Outcome, ev.Why = g.explainWeight(ev)
	g.log.InfoContext(ctx, "flag evaluated", "kind", KindWeight, "flag", flag, "targetingKey", ev.TargetingKey,
		"value", ev.Weight, "variant", ev.Variant, "reason", ev.Reason, "errorCode", ev.ErrorCode, "errorMessage", ev.ErrorMessage, "took", ev.Duration)
	if g.opts.OnEvaluation != nil {
		g.opts.OnEvaluation(ev)
	}
	if ev.Failed {
		return 0, ev.Why, &EvalError{Evaluation: ev}
	}
	return int(max(0, min(100, ev.Weight))), ev.Why, nil
}

// explainWeight is the outcome ("weight N") and the sentence of a weight
// flag's evaluation.
func (g *Gate) explainWeight(ev Evaluation) (outcome, why string) {
	if ev.Failed {
		_, why := g.explain(ev) // the same sentence as a gate's failure
		return "failed", why
	}
	detail := "reason " + ev.Reason
	if ev.Variant != "" {
		detail = fmt.Sprintf("variant %q, reason %s", ev.Variant, ev.Reason)
	}
	return fmt.Sprintf("weight %d", ev.Weight), fmt.Sprintf("flag %q is %d for %s (%s)", ev.Flag, ev.Weight, ev.TargetingKey, detail)
}
