package schema

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// validator checks a document against the subset of JSON Schema 2020-12 that
// Build emits. It exists so the examples and templates are checked against
// the schema without a new dependency; any keyword it does not know fails
// the test rather than passing silently.
type validator struct {
	root map[string]any
}

func (v *validator) validate(s map[string]any, doc any, path string) []string {
	var errs []string
	fail := func(format string, args ...any) {
		errs = append(errs, path+": "+fmt.Sprintf(format, args...))
	}
	for k, kw := range s {
		switch k {
		case "$schema", "$id", "title", "description", "$defs":
		case "$ref":
			name := strings.TrimPrefix(kw.(string), "#/$defs/")
			def, ok := v.root["$defs"].(map[string]any)[name].(map[string]any)
			if !ok {
				fail("unresolved $ref %v", kw)
				continue
			}
			errs = append(errs, v.validate(def, doc, path)...)
		case "type":
			if !hasType(doc, kw.(string)) {
				fail("want %v, got %T", kw, doc)
			}
		case "const":
			if !equal(doc, kw) {
				fail("want %v, got %v", kw, doc)
			}
		case "enum":
			found := false
			for _, e := range kw.([]any) {
				found = found || equal(doc, e)
			}
			if !found {
				fail("%v not in %v", doc, kw)
			}
		case "pattern":
			if str, ok := doc.(string); ok && !regexp.MustCompile(kw.(string)).MatchString(str) {
				fail("%q does not match %s", str, kw)
			}
		case "minLength":
			if str, ok := doc.(string); ok && len([]rune(str)) < int(kw.(float64)) {
				fail("shorter than %v", kw)
			}
		case "minimum":
			if n, ok := number(doc); ok && n < kw.(float64) {
				fail("%v below %v", n, kw)
			}
		case "maximum":
			if n, ok := number(doc); ok && n > kw.(float64) {
				fail("%v above %v", n, kw)
			}
		case "items":
			if list, ok := doc.([]any); ok {
				for i, e := range list {
					errs = append(errs, v.validate(kw.(map[string]any), e, fmt.Sprintf("%s[%d]", path, i))...)
				}
			}
		case "minItems":
			if list, ok := doc.([]any); ok && len(list) < int(kw.(float64)) {
				fail("fewer than %v items", kw)
			}
		case "uniqueItems":
			if list, ok := doc.([]any); ok && kw.(bool) {
				for i := range list {
					for j := range i {
						if equal(list[i], list[j]) {
							fail("item %d repeats item %d", i, j)
						}
					}
				}
			}
		case "properties":
			if m, ok := doc.(map[string]any); ok {
				for name, ps := range kw.(map[string]any) {
					if val, ok := m[name]; ok {
						errs = append(errs, v.validate(ps.(map[string]any), val, path+"."+name)...)
					}
				}
			}
		case "required":
			if m, ok := doc.(map[string]any); ok {
				for _, r := range kw.([]any) {
					if _, ok := m[r.(string)]; !ok {
						fail("missing required %q", r)
					}
				}
			}
		case "propertyNames":
			if m, ok := doc.(map[string]any); ok {
				for name := range m {
					errs = append(errs, v.validate(kw.(map[string]any), name, path+"#"+name)...)
				}
			}
		case "additionalProperties":
			m, ok := doc.(map[string]any)
			if !ok {
				continue
			}
			props, _ := s["properties"].(map[string]any)
			for name, val := range m {
				if _, known := props[name]; known {
					continue
				}
				if kw == false {
					fail("unknown key %q", name)
					continue
				}
				errs = append(errs, v.validate(kw.(map[string]any), val, path+"."+name)...)
			}
		case "minProperties":
			if m, ok := doc.(map[string]any); ok && len(m) < int(kw.(float64)) {
				fail("fewer than %v keys", kw)
			}
		case "oneOf", "anyOf":
			matched := 0
			var sub []string
			for _, b := range kw.([]any) {
				e := v.validate(b.(map[string]any), doc, path)
				if len(e) == 0 {
					matched++
				}
				sub = append(sub, e...)
			}
			if (k == "oneOf" && matched != 1) || (k == "anyOf" && matched == 0) {
				fail("%s matched %d branches: %v", k, matched, sub)
			}
		default:
			fail("validator does not know keyword %q", k)
		}
	}
	return errs
}

func hasType(doc any, t string) bool {
	switch t {
	case "object":
		_, ok := doc.(map[string]any)
		return ok
	case "array":
		_, ok := doc.([]any)
		return ok
	case "string":
		_, ok := doc.(string)
		return ok
	case "boolean":
		_, ok := doc.(bool)
		return ok
	case "integer":
		n, ok := number(doc)
		return ok && n == float64(int64(n))
	case "number":
		_, ok := number(doc)
		return ok
	}
	return false
}

func number(doc any) (float64, bool) {
	switch n := doc.(type) {
	case int:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

func equal(a, b any) bool {
	if x, ok := number(a); ok {
		y, ok := number(b)
		return ok && x == y
	}
	return reflect.DeepEqual(a, b)
}

func newValidator(t *testing.T) *validator {
	t.Helper()
	raw, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	var root map[string]any
	if err := json.Unmarshal(raw, &root); err != nil {
		t.Fatal(err)
	}
	return &validator{root: root}
}

func (v *validator) check(t *testing.T, src []byte) []string {
	t.Helper()
	var doc any
	if err := yaml.Unmarshal(src, &doc); err != nil {
		t.Fatalf("YAML: %v", err)
	}
	return v.validate(v.root, doc, "$")
}

// TestExamplesAndTemplatesMatchSchema checks every committed descriptor
// against the generated schema, so the schema accepts what gantry accepts.
func TestExamplesAndTemplatesMatchSchema(t *testing.T) {
	v := newValidator(t)
	files, _ := filepath.Glob("../../examples/*/*.sd.yaml")
	tpls, _ := filepath.Glob("../../templates/*.sd.yaml")
	files = append(files, tpls...)
	if len(files) < 5 {
		t.Fatalf("found only %d descriptors: %v", len(files), files)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range v.check(t, src) {
			t.Errorf("%s: %s", f, e)
		}
	}
}

// TestSchemaRejectsDefects proves the schema has teeth: each edit of a valid
// descriptor must be refused.
func TestSchemaRejectsDefects(t *testing.T) {
	v := newValidator(t)
	base, err := os.ReadFile("../../examples/catalog/catalog.sd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, from, to string }{
		{"unknown key", "  memory: 512", "  memroy: 512"},
		{"bad service name", "service: catalog", "service: Catalog_API"},
		{"missing team", "team: storefront\n", ""},
		{"bad cpu", "cpu: 256", "cpu: 300"},
		{"string port", "port: 3000", "port: \"3000\""},
		{"both path and host", "  host: catalog.example.com", "  host: catalog.example.com\n  path: /x/*"},
		{"postgres key on wrong type", "    type: postgres", "    type: s3"},
		{"unknown resource type", "    type: postgres", "    type: mysql"},
		{"resource without type", "    type: postgres\n", ""},
		{"unquoted short account", `account: "111122223333"`, "account: 1234"},
		{"regions and waves", "    regions: [us-east-1]\n", "    regions: [us-east-1]\n    waves: [{regions: [us-east-1]}]\n"},
		{"no regions", "    regions: [us-east-1]\n  - name: prod", "  - name: prod"},
		{"bad duration", "bake: 15m", "bake: 15"},
		{"negative duration", "bake: 15m", "bake: -15m"},
		{"secret as plain value", "PGPASSWORD: ${resources.db.password}", "PGPASSWORD: hunter2"},
		{"bad env name", "  NODE_ENV: production", "  1NODE: production"},
		{"unknown override key", "db: {class: db.t4g.medium", "db: {klass: db.t4g.medium"},
		{"schemaVersion 2", "schemaVersion: 1", "schemaVersion: 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(string(base), tt.from, tt.to, 1)
			if src == string(base) {
				t.Fatalf("edit %q did not apply", tt.from)
			}
			if errs := v.check(t, []byte(src)); len(errs) == 0 {
				t.Error("schema accepted the defect")
			}
		})
	}
}

// TestOverridesArePartial: a stage may change one key of a resource without
// repeating its type or required keys.
func TestOverridesArePartial(t *testing.T) {
	v := newValidator(t)
	src, err := os.ReadFile("../../examples/payments/payments.sd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	extra := strings.Replace(string(src), "      scaling: {min: 4, max: 40}", "      scaling: {min: 4, max: 40}\n      compute: {memory: 2048}\n      routing: {path: /pay/*}", 1)
	if errs := v.check(t, []byte(extra)); len(errs) > 0 {
		t.Errorf("partial overrides refused: %v", errs)
	}
}
