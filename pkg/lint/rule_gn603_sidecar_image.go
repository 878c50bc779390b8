package lint

import (
	"regexp"
	"strings"
)

var (
	tagRe    = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	digestRe = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)
)

func ruleSidecarImage() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN603", Name: "sidecar-image", Severity: Error,
			Title: "a sidecar's image names a tag or a digest",
			Doc: "A sidecar does not follow the service's version: its image is what the descriptor says. Without a " +
				"tag it would be `latest`, whatever that is on the day a task starts; pin a tag, or a digest " +
				"(@sha256:…) for a build that can never change.",
			Example: Example{
				YAML:    "sidecars:\n  otel:\n    image: public.ecr.aws/aws-observability/aws-otel-collector\n    cpu: 128\n    memory: 256\n",
				Message: "sidecar otel's image names no tag or digest; pin one, such as public.ecr.aws/aws-observability/aws-otel-collector:1.2.3 or @sha256:…",
			},
		},
		check: func(c *checker) {
			c.eachSpec(func(v view) {
				for _, n := range sidecarNames(v) {
					sc := v.Spec.Sidecars[n]
					path := "sidecars." + n + ".image"
					if sc == nil || !has(v.Pos, path) || strings.Contains(sc.Image, "${") {
						continue
					}
					switch kind, pin := imagePin(sc.Image); {
					case kind == "":
						v.report(value(v.Pos, path), "sidecar %s's image names no tag or digest; pin one, such as %s:1.2.3 or @sha256:…", n, sc.Image)
					case kind == "tag" && !tagRe.MatchString(pin):
						v.report(value(v.Pos, path), "sidecar %s's image tag %q is not a valid tag: up to 128 letters, digits, _ . -, not starting with . or -", n, pin)
					case kind == "digest" && !digestRe.MatchString(pin):
						v.report(value(v.Pos, path), "sidecar %s's image digest is not sha256: followed by 64 lowercase hex digits", n)
					}
				}
			})
		},
	}
}
