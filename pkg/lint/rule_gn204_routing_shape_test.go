package lint

import "testing"

func TestGN204RoutingShape(t *testing.T) {
	const web = "compute:\n  cpu: 256\n  memory: 512\n  port: 8080\n"
	runRuleCases(t, "GN204", []ruleCase{
		{name: "worker without routing", yaml: "compute:\n  cpu: 256\n  memory: 512\n"},
		{name: "path", yaml: web + "routing:\n  path: /a/*\n"},
		{name: "host", yaml: web + "routing:\n  host: a.example.com\n"},
		{name: "no routing", yaml: web, want: []at{{4, 3}}, msg: "add `routing.path`"},
		{name: "both", yaml: web + "routing:\n  path: /a/*\n  host: a.example.com\n", want: []at{{7, 3}}, msg: "both path and host"},
		{name: "empty", yaml: web + "routing: {}\n", want: []at{{5, 1}}, msg: "needs path"},
	})
}
