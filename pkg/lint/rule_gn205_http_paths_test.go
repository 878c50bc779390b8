package lint

import (
	"strings"
	"testing"
)

func TestGN205HTTPPaths(t *testing.T) {
	const web = "compute:\n  cpu: 256\n  memory: 512\n  port: 8080\n"
	runRuleCases(t, "GN205", []ruleCase{
		{name: "good path", yaml: web + "  healthcheck: /healthz?full=1\nrouting:\n  path: /payments/*\n"},
		{name: "good host with placeholder", yaml: web + "routing:\n  host: ${stage}.payments.example.com\n"},
		{name: "good wildcard host", yaml: web + "routing:\n  host: \"*.example.com\"\n"},
		{name: "path without slash", yaml: web + "routing:\n  path: payments/*\n", want: []at{{6, 9}}, msg: "must start with /, such as /payments/*"},
		{name: "path too long", yaml: web + "routing:\n  path: /" + strings.Repeat("a", 128) + "\n", want: []at{{6, 9}}, msg: "129 characters"},
		{name: "path bad character", yaml: web + "routing:\n  path: \"/a b\"\n", want: []at{{6, 9}}, msg: "may hold only"},
		{name: "host with scheme", yaml: web + "routing:\n  host: https://a.example.com\n", want: []at{{6, 9}}, msg: "host name only"},
		{name: "host bad character", yaml: web + "routing:\n  host: a_b.example.com\n", want: []at{{6, 9}}, msg: "may hold only"},
		{name: "healthcheck without slash", yaml: web + "  healthcheck: healthz\nrouting:\n  path: /a/*\n", want: []at{{5, 16}}, msg: "such as /healthz"},
		{name: "healthcheck with space", yaml: web + "  healthcheck: /health check\nrouting:\n  path: /a/*\n", want: []at{{5, 16}}, msg: "spaces"},
	})
}
