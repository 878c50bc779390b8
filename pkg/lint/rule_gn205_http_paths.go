package lint

import (
	"regexp"
	"strings"
)

// What the load balancer accepts in listener rule conditions and health
// check paths (Elastic Load Balancing limits).
var (
	albPathRe = regexp.MustCompile(`^/[A-Za-z0-9_\-.$/~"'@:+&*?]*$`)
	albHostRe = regexp.MustCompile(`^[A-Za-z0-9\-.*?]+$`)
	// A health check path is a URL path; spaces and control characters are out.
	healthRe       = regexp.MustCompile(`^/[^\s]*$`)
	placeholderRe  = regexp.MustCompile(`\$\{[^}]*\}`)
	maxRulePattern = 128
	maxHealthPath  = 1024
)

// withoutPlaceholders stands a plain word in for every ${...}, so the shape
// of a templated value can be checked.
func withoutPlaceholders(s string) string {
	return placeholderRe.ReplaceAllString(s, "x")
}

func ruleHTTPPaths() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN205", Name: "http-paths", Severity: Error,
			Title: "`routing.path`, `routing.host` and `compute.healthcheck` are what the load balancer accepts",
			Doc: "Listener rule conditions take a path pattern starting with / or a host name, each at most 128 " +
				"characters of a limited set; a health check path starts with /. Anything else fails when the app stack deploys.",
			Example: Example{
				YAML:    "compute:\n  cpu: 256\n  memory: 512\n  port: 8080\n  healthcheck: healthz\nrouting:\n  path: /payments/*\n",
				Message: "`compute.healthcheck` \"healthz\" must be a path starting with /, such as /healthz",
			},
		},
		check: func(c *checker) {
			c.eachSpec(func(v view) {
				if r := v.Spec.Routing; r != nil {
					if p := withoutPlaceholders(r.Path); r.Path != "" {
						switch {
						case !strings.HasPrefix(p, "/"):
							v.report(value(v.Pos, "routing.path"), "`routing.path` %q must start with /, such as /%s", r.Path, strings.TrimLeft(r.Path, "/"))
						case len(p) > maxRulePattern:
							v.report(value(v.Pos, "routing.path"), "`routing.path` is %d characters; the load balancer allows %d", len(p), maxRulePattern)
						case !albPathRe.MatchString(p):
							v.report(value(v.Pos, "routing.path"), "`routing.path` %q may hold only letters, digits, * ? and _ - . $ / ~ \" ' @ : + &", r.Path)
						}
					}
					if h := withoutPlaceholders(r.Host); r.Host != "" {
						switch {
						case strings.Contains(h, "://") || strings.Contains(h, "/"):
							v.report(value(v.Pos, "routing.host"), "`routing.host` %q must be a host name only, such as payments.example.com, without scheme or path", r.Host)
						case len(h) > maxRulePattern:
							v.report(value(v.Pos, "routing.host"), "`routing.host` is %d characters; the load balancer allows %d", len(h), maxRulePattern)
						case !albHostRe.MatchString(h):
							v.report(value(v.Pos, "routing.host"), "`routing.host` %q may hold only letters, digits, hyphens, dots and the wildcards * ?", r.Host)
						}
					}
				}
				hc := v.Spec.Compute.Healthcheck
				if hc == "" || v.Spec.Compute.Port == nil {
					return
				}
				switch {
				case !strings.HasPrefix(hc, "/"):
					v.report(value(v.Pos, "compute.healthcheck"), "`compute.healthcheck` %q must be a path starting with /, such as /%s", hc, strings.TrimLeft(hc, "/"))
				case len(hc) > maxHealthPath:
					v.report(value(v.Pos, "compute.healthcheck"), "`compute.healthcheck` is %d characters; the load balancer allows %d", len(hc), maxHealthPath)
				case !healthRe.MatchString(hc):
					v.report(value(v.Pos, "compute.healthcheck"), "`compute.healthcheck` %q must not hold spaces", hc)
				}
			})
		},
	}
}
