package render

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// withPatches is shop with a patches block (and, when stage is set, the
// prod stage's overrides adding its own).
func withPatches(top, prod string) string {
	src := strings.Replace(shop, "stages:\n", "patches:\n"+top+"stages:\n", 1)
	if prod != "" {
		src += "    overrides:\n      patches:\n" + prod
	}
	return src
}

func TestPatchesApplyInOrder(t *testing.T) {
	d := parse(t, withPatches(`  - stack: app
    op: add
    path: /Resources/Service/Properties/EnableExecuteCommand
    value: true
  - stack: app
    op: add
    path: /Resources/Service/Properties/AvailabilityZoneRebalancing
    value: ENABLED
  - stack: data
    op: add
    path: /Resources/FilesBucket/Properties/Tags/-
    value: {Key: cost-centre, Value: "4711"}
  - stack: app
    op: test
    path: /Resources/Service/Properties/EnableExecuteCommand
    value: true
`, `        - stack: app
          op: replace
          path: /Resources/Service/Properties/DesiredCount
          value: 3
        - stack: app
          op: copy
          from: /Resources/Service/Properties/DesiredCount
          path: /Resources/ScalableTarget/Properties/MinCapacity
`))
	dev := renderOK(t, d, "dev", "us-east-1")
	app := doc(t, dev[1])
	svc := app["Resources"].(map[string]any)["Service"].(map[string]any)["Properties"].(map[string]any)
	if svc["EnableExecuteCommand"] != true || svc["AvailabilityZoneRebalancing"] != "ENABLED" {
		t.Errorf("dev service properties: %v", svc)
	}
	if svc["DesiredCount"] != float64(2) {
		t.Errorf("dev DesiredCount %v: the prod override leaked", svc["DesiredCount"])
	}
	tags := doc(t, dev[0])["Resources"].(map[string]any)["FilesBucket"].(map[string]any)["Properties"].(map[string]any)["Tags"].([]any)
	last := tags[len(tags)-1].(map[string]any)
	if last["Key"] != "cost-centre" || last["Value"] != "4711" {
		t.Errorf("the tag patch gave %v (a quoted number stays a string)", last)
	}

	prod := renderOK(t, d, "prod", "us-west-2")
	app = doc(t, prod[1])
	svc = app["Resources"].(map[string]any)["Service"].(map[string]any)["Properties"].(map[string]any)
	minCap := app["Resources"].(map[string]any)["ScalableTarget"].(map[string]any)["Properties"].(map[string]any)["MinCapacity"]
	if svc["DesiredCount"] != float64(3) || svc["EnableExecuteCommand"] != true || minCap != float64(3) {
		t.Errorf("prod: DesiredCount %v, exec %v, MinCapacity %v; want the top level's patches then prod's", svc["DesiredCount"], svc["EnableExecuteCommand"], minCap)
	}
	// Deterministic, patched the same way every time.
	a, _ := prod[1].Encode("json")
	again := renderOK(t, d, "prod", "us-west-2")
	b, _ := again[1].Encode("json")
	if string(a) != string(b) {
		t.Error("two renders of the patched stack differ")
	}
	y, err := prod[1].Encode("yaml")
	if err != nil || !strings.Contains(string(y), "EnableExecuteCommand: true") {
		t.Errorf("YAML encoding misses the patch: %v", err)
	}
}

func TestPatchRefusals(t *testing.T) {
	cases := []struct {
		name, patch string
		line        int
		field, msg  string
	}{
		{"pointer without slash", "  - {stack: app, op: add, path: Resources/X, value: 1}\n", 25, "path", "must start with /"},
		{"bad escape", "  - {stack: app, op: add, path: /Resources/a~2b, value: 1}\n", 25, "path", "~ must be written ~0"},
		{"remove missing", "  - {stack: app, op: remove, path: /Resources/Servce}\n", 25, "path", `has no key "Servce" (did you mean "Service"?)`},
		{"replace missing", "  - {stack: app, op: replace, path: /Resources/Service/Properties/Nope, value: 1}\n", 25, "path", `has no key "Nope"`},
		{"test missing", "  - {stack: app, op: test, path: /Outputs/Nope, value: 1}\n", 25, "path", "does not exist"},
		{"move missing", "  - {stack: app, op: move, from: /Nope, path: /Metadata}\n", 25, "from", `from /Nope does not exist`},
		{"copy missing", "  - {stack: app, op: copy, from: /Resources/X/Y, path: /Metadata}\n", 25, "from", `has no key "X"`},
		{"add without parent", "  - {stack: app, op: add, path: /Resources/X/Properties, value: {}}\n", 25, "path", "parent of"},
		{"add past the end", "  - {stack: app, op: add, path: /Resources/Service/Properties/Tags/99, value: {}}\n", 25, "path", "is not an index"},
		{"failed test", "  - {stack: app, op: test, path: /Resources/Service/Properties/DesiredCount, value: 5}\n", 25, "value", "test failed: the value at /Resources/Service/Properties/DesiredCount is 2"},
		{"dangling Ref", "  - {stack: app, op: remove, path: /Resources/LogGroup}\n", 25, "", `a Ref names "LogGroup"`},
		{"no type", "  - {stack: app, op: remove, path: /Resources/Service/Type}\n", 25, "", "resource Service has no Type"},
		{"no resources", "  - {stack: data, op: replace, path: /Resources, value: {}}\n", 25, "", "no Resources"},
		{"unknown section", "  - {stack: app, op: add, path: /Resourcez, value: {}}\n", 25, "", `"Resourcez" is not a template section`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := parse(t, withPatches(c.patch, ""))
			_, err := Render(d, Target{Stage: "dev", Region: "us-east-1"})
			var pe *PatchError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v; want a PatchError", err)
			}
			if pe.Index != 0 || pe.Field != c.field || !strings.Contains(pe.Msg, c.msg) {
				t.Errorf("patch error %+v; want field %q and %q", pe, c.field, c.msg)
			}
			if !strings.Contains(err.Error(), "test.sd.yaml:25:") {
				t.Errorf("error %q does not name the patch's line", err)
			}
		})
	}
}

func TestPatchOfAStackNotRendered(t *testing.T) {
	src := strings.Replace(withPatches("  - {stack: data, op: add, path: /Metadata, value: 1}\n", ""), "resources:\n  db:\n    type: postgres\n  cache:\n    type: redis\n  files:\n    type: s3\n", "", 1)
	src = strings.Replace(src, "  DB_HOST: ${resources.db.host}\nsecrets:\n  DB_PASSWORD: ${resources.db.password}\n", "  A: b\n", 1)
	d := parse(t, src)
	_, err := Render(d, Target{Stage: "dev", Region: "us-east-1"})
	var pe *PatchError
	if !errors.As(err, &pe) || pe.Field != "stack" || !strings.Contains(pe.Msg, `stack "data" is not rendered`) {
		t.Errorf("err = %v", err)
	}
}

func TestCheckPatchesReportsEveryFailure(t *testing.T) {
	d := parse(t, withPatches(`  - {stack: app, op: remove, path: /Resources/Nope}
  - {stack: app, op: add, path: /Metadata, value: {a: 1}}
  - {stack: app, op: test, path: /Metadata/a, value: 2}
  - {stack: data, op: remove, path: /Outputs/Nope}
`, ""))
	errs, err := CheckPatches(d, "dev")
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, e := range errs {
		got = append(got, e.Index)
	}
	if len(got) != 3 || got[0] != 0 || got[1] != 2 || got[2] != 3 {
		t.Errorf("failing patches %v (%v); want 0, 2 and 3 (1 applies, so 2 sees a=1)", got, errs)
	}
	if errs, err := CheckPatches(parse(t, shop), "dev"); err != nil || errs != nil {
		t.Errorf("no patches: %v, %v", errs, err)
	}
}

func TestPatchValueTypes(t *testing.T) {
	d := parse(t, withPatches(`  - stack: app
    op: add
    path: /Metadata
    value:
      quoted: "true"
      bool: true
      int: 42
      float: 1.5
      none: null
      list: [a, 1, {b: c}]
`, ""))
	stacks := renderOK(t, d, "dev", "us-east-1")
	raw, err := stacks[1].Encode("json")
	if err != nil {
		t.Fatal(err)
	}
	var tpl struct{ Metadata map[string]any }
	if err := json.Unmarshal(raw, &tpl); err != nil {
		t.Fatal(err)
	}
	m := tpl.Metadata
	if m["quoted"] != "true" || m["bool"] != true || m["int"] != float64(42) || m["float"] != 1.5 || m["none"] != nil {
		t.Errorf("metadata %v", m)
	}
	if _, ok := m["none"]; !ok {
		t.Error("null dropped")
	}
	if l, _ := m["list"].([]any); len(l) != 3 || l[2].(map[string]any)["b"] != "c" {
		t.Errorf("list %v", m["list"])
	}
}

func TestPatchesCannotGrowATemplateWithoutBound(t *testing.T) {
	var ps strings.Builder
	ps.WriteString("  - {stack: app, op: add, path: /Metadata, value: {}}\n  - {stack: app, op: copy, from: /Resources, path: /Metadata/r0}\n")
	for i := 1; i < 40; i++ {
		ps.WriteString("  - {stack: app, op: copy, from: /Metadata, path: /Metadata/m" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "}\n")
	}
	d := parse(t, withPatches(ps.String(), ""))
	_, err := Render(d, Target{Stage: "dev", Region: "us-east-1"})
	var pe *PatchError
	if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "bytes; CloudFormation takes at most 1000000") {
		t.Fatalf("err = %v; want the doubling copies refused at the size limit", err)
	}
	if pe.Index > 10 {
		t.Errorf("refused at patch %d; doubling a 30 KB template passes 1 MB within a few", pe.Index)
	}
}
