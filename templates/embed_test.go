package templates

import (
	"strings"
	"testing"

	"github.com/gantryhq/gantry/pkg/descriptor"
)

func TestNames(t *testing.T) {
	got := strings.Join(Names(), ",")
	if got != "jobs,web,worker" {
		t.Errorf("Names() = %s, want jobs,web,worker", got)
	}
}

func TestTemplatesLoadWithoutProblems(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			src, err := Get(name)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(src), "\n")
			if first != "# yaml-language-server: $schema=https://gantry.dev/schema/v1.json" {
				t.Errorf("first line = %q, want the schema modeline", first)
			}
			d, probs := descriptor.Parse(name+".sd.yaml", src)
			for _, p := range probs {
				t.Errorf("%s.sd.yaml:%s", name, p)
			}
			if d == nil || d.Service != DefaultService {
				t.Fatalf("service not %s", DefaultService)
			}
		})
	}
}

func TestRenderReplacesTheServiceName(t *testing.T) {
	for _, name := range Names() {
		src, err := Render(name, "billing")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(src), DefaultService) {
			t.Errorf("%s: %q left in the rendered template", name, DefaultService)
		}
		d, probs := descriptor.Parse("billing.sd.yaml", src)
		if len(probs) > 0 {
			t.Errorf("%s: problems after renaming: %v", name, probs)
		}
		if d.Service != "billing" {
			t.Errorf("%s: service = %q, want billing", name, d.Service)
		}
	}
}

func TestWebHasPortAndWorkerHasNone(t *testing.T) {
	web, _ := Get("web")
	worker, _ := Get("worker")
	dw, _ := descriptor.Parse("web.sd.yaml", web)
	dk, _ := descriptor.Parse("worker.sd.yaml", worker)
	if dw.Compute.Port == nil || dw.Routing == nil || dw.Resources["db"] == nil || dw.Resources["db"].Type != "postgres" {
		t.Error("web template is not a routed service with a postgres db")
	}
	if dk.Compute.Port != nil || dk.Routing != nil {
		t.Error("worker template has a port or routing")
	}
	if dk.Resources["queue"].Type != "sqs" || dk.Resources["files"].Type != "s3" {
		t.Error("worker template lacks sqs queue and s3 files")
	}
}

func TestGetUnknown(t *testing.T) {
	if _, err := Get("cron"); err == nil || !strings.Contains(err.Error(), "web, worker") {
		t.Errorf("Get(cron) error = %v", err)
	}
}
