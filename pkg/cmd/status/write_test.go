package status

import (
	"strings"
	"testing"
	"time"
)

// status shows a succeeded rollout, the regions it rolled back, and a
// region whose only stack is a data stack a failed create left behind.
func TestTextShowsSucceededRolledBackAndDataStack(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	v := "1.1.0"
	s := &Status{Service: "payments", Stages: []Stage{{
		Stage: "prod", Account: "777788889999",
		Rollout: &Rollout{ID: "r-9", Version: "1.0.0", Status: "succeeded", Owner: "ci@runner", StartedAt: now, UpdatedAt: now},
		Regions: []Region{
			{Region: "us-east-1", Wave: 1, Version: &v, Status: "UPDATE_COMPLETE", Rollout: "rolled-back"},
			{Region: "eu-west-1", Wave: 2, Status: NotDeployed, DataStack: "ROLLBACK_COMPLETE"},
		},
	}}}
	text := Text(s, now, false)
	for _, want := range []string{
		"prod: rollout r-9 (version 1.0.0, by ci@runner) succeeded at 2026-12-02 12:00:00Z; rolled back in us-east-1",
		"data stack ROLLBACK_COMPLETE",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "not deployed") {
		t.Errorf("a region with a data stack reads as not deployed:\n%s", text)
	}
}
