// Package schema generates the JSON Schema (draft 2020-12) of the gantry
// service descriptor from the Go types in pkg/descriptor, so editors can
// complete and check *.sd.yaml files. The committed copy is docs/schema.json.
//
// Field names come from `yaml` tags, descriptions from `doc` tags and
// required keys from `required:"true"`; what the types cannot say (patterns,
// ranges, the resource union) is added by hand in constraints().
package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/kind"
	"github.com/gantryhq/gantry/pkg/kinds"
	"gopkg.in/yaml.v3"
)

// ID is the schema's canonical address, named on the first line of every
// descriptor (`# yaml-language-server: $schema=...`).
const ID = "https://gantry.dev/schema/v1.json"

// Draft is the JSON Schema dialect used.
const Draft = "https://json-schema.org/draft/2020-12/schema"

// Patterns shared with the loader's checks (pkg/descriptor/validate.go).
const (
	ServicePattern  = `^[a-z][a-z0-9-]{1,28}[a-z0-9]$`
	StagePattern    = `^[a-z]([a-z0-9-]{0,14}[a-z0-9])?$`
	ResourcePattern = `^[a-z]([a-z0-9-]{0,18}[a-z0-9])?$`
	EnvNamePattern  = `^[A-Za-z_][A-Za-z0-9_]*$`
	AccountPattern  = `^[0-9]{12}$`
	// DurationPattern is Go's time.ParseDuration syntax without a sign.
	DurationPattern = `^(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$`
	// RegionPattern is the shape of an AWS region name; lint checks the
	// name against the real list.
	RegionPattern = `^[a-z]{2}(-[a-z]+)+-[0-9]+$`
	// SecretPattern is what a `secrets:` value may start with.
	SecretPattern = `^(ssm:.+|secretsmanager:.+|\$\{resources\.[^.}]+\.[^.}]+\})$`
)

// Schema is one JSON Schema node. Fields are in the order they are written.
type Schema struct {
	Schema               string    `json:"$schema,omitempty"`
	ID                   string    `json:"$id,omitempty"`
	Ref                  string    `json:"$ref,omitempty"`
	Title                string    `json:"title,omitempty"`
	Description          string    `json:"description,omitempty"`
	Type                 string    `json:"type,omitempty"`
	Const                any       `json:"const,omitempty"`
	Enum                 []any     `json:"enum,omitempty"`
	Pattern              string    `json:"pattern,omitempty"`
	MinLength            *int      `json:"minLength,omitempty"`
	Minimum              *int      `json:"minimum,omitempty"`
	Maximum              *int      `json:"maximum,omitempty"`
	Items                *Schema   `json:"items,omitempty"`
	MinItems             *int      `json:"minItems,omitempty"`
	UniqueItems          bool      `json:"uniqueItems,omitempty"`
	Properties           *Props    `json:"properties,omitempty"`
	Required             []string  `json:"required,omitempty"`
	PropertyNames        *Schema   `json:"propertyNames,omitempty"`
	AdditionalProperties *Schema   `json:"additionalProperties,omitempty"`
	MinProperties        *int      `json:"minProperties,omitempty"`
	OneOf                []*Schema `json:"oneOf,omitempty"`
	AnyOf                []*Schema `json:"anyOf,omitempty"`
	Defs                 *Props    `json:"$defs,omitempty"`

	// False makes this node the boolean schema `false` (nothing allowed),
	// used for additionalProperties.
	False bool `json:"-"`
}

// MarshalJSON writes `false` for a false schema and the fields otherwise.
func (s *Schema) MarshalJSON() ([]byte, error) {
	if s.False {
		return []byte("false"), nil
	}
	type plain Schema // no MarshalJSON: avoids recursion
	return marshal((*plain)(s))
}

// Props is an ordered JSON object of schemas, so output is deterministic
// and follows the field order of the Go types.
type Props []Prop

// Prop is one named schema.
type Prop struct {
	Name   string
	Schema *Schema
}

// Get returns the schema named name, or nil.
func (p *Props) Get(name string) *Schema {
	if p == nil {
		return nil
	}
	for _, e := range *p {
		if e.Name == name {
			return e.Schema
		}
	}
	return nil
}

// MarshalJSON writes the properties as an object in order.
func (p Props) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range p {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := marshal(e.Name)
		if err != nil {
			return nil, err
		}
		v, err := marshal(e.Schema)
		if err != nil {
			return nil, fmt.Errorf("property %s: %w", e.Name, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshal is json.Marshal without HTML escaping, so that "<" in a
// description or "&" in a pattern stay readable in the committed file.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func ptr(i int) *int { return &i }

// no is the `false` schema: with additionalProperties it forbids unknown keys.
func no() *Schema { return &Schema{False: true} }

func ref(name string) *Schema { return &Schema{Ref: "#/$defs/" + name} }

// Generate returns the schema as indented JSON ending in a newline. The
// bytes depend only on the descriptor types, so they are stable.
func Generate() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(Build()); err != nil {
		return nil, fmt.Errorf("encoding the descriptor schema: %w", err)
	}
	return b.Bytes(), nil
}

// Build returns the descriptor's schema as a tree.
func Build() *Schema {
	g := &generator{defs: &Props{}, done: map[string]bool{}, extra: constraints()}
	root := g.object(reflect.TypeFor[descriptor.Descriptor](), false)
	root.Schema = Draft
	root.ID = ID
	root.Title = "gantry service descriptor"
	root.Description = "One service's containers, data stores and staged rollout, written as <service>.sd.yaml."
	g.resources()
	g.define("Duration", &Schema{
		Description: "A Go duration such as 90s, 10m or 1h30m.",
		Type:        "string",
		Pattern:     DurationPattern,
	})
	root.Defs = g.sortedDefs()
	return root
}

type generator struct {
	defs  *Props
	done  map[string]bool
	extra map[string]func(*Schema)
}

var (
	typeDuration = reflect.TypeFor[descriptor.Duration]()
	typeNode     = reflect.TypeFor[yaml.Node]()
	typeResource = reflect.TypeFor[descriptor.Resource]()
	// A patch is whole in a stage's overrides too: they add operations.
	typePatch = reflect.TypeFor[descriptor.Patch]()
)

func (g *generator) define(name string, s *Schema) {
	if g.done[name] {
		return
	}
	g.done[name] = true
	*g.defs = append(*g.defs, Prop{Name: name, Schema: s})
}

// sortedDefs orders $defs by name so that additions elsewhere in the tree do
// not reshuffle the file.
func (g *generator) sortedDefs() *Props {
	out := append(Props(nil), *g.defs...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Name < out[j-1].Name; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return &out
}

// defName names the $defs entry of a struct type; partial variants (for
// stage overrides, where nothing is required) get an "Override" suffix.
func defName(t reflect.Type, partial bool) string {
	if partial {
		return t.Name() + "Override"
	}
	return t.Name()
}

// object builds the schema of a struct: its YAML keys in order, `,inline`
// fields flattened, unknown keys forbidden.
func (g *generator) object(t reflect.Type, partial bool) *Schema {
	s := &Schema{Type: "object", Properties: &Props{}, AdditionalProperties: no()}
	g.fields(s, t, partial)
	// Object-level rules (one of path or host, regions or waves) hold for
	// the merged result, not for each stage's partial override.
	if f, ok := g.extra[defName(t, partial)]; ok {
		f(s)
	}
	return s
}

func (g *generator) fields(s *Schema, t reflect.Type, partial bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if opts == "inline" {
			g.fields(s, f.Type, partial)
			continue
		}
		fs := g.field(f.Type, partial)
		fs.Description = f.Tag.Get("doc")
		if fn, ok := g.extra[t.Name()+"."+name]; ok {
			fn(fs)
		}
		tagConstraints(fs, f.Tag)
		*s.Properties = append(*s.Properties, Prop{Name: name, Schema: fs})
		if !partial && f.Tag.Get("required") == "true" {
			s.Required = append(s.Required, name)
		}
	}
}

// field maps a Go field type to a schema.
func (g *generator) field(t reflect.Type, partial bool) *Schema {
	switch t {
	case typeDuration:
		return ref("Duration")
	case typeResource:
		if partial {
			return ref("ResourceOverride")
		}
		return ref("Resource")
	case typePatch:
		g.structDef(t, false)
		return ref(defName(t, false))
	}
	switch t.Kind() {
	case reflect.Pointer:
		if t.Elem() == typeNode {
			// Stage overrides are kept as raw YAML; they are a partial Spec.
			g.structDef(reflect.TypeFor[descriptor.Spec](), true)
			return ref(defName(reflect.TypeFor[descriptor.Spec](), true))
		}
		return g.field(t.Elem(), partial)
	case reflect.Struct:
		g.structDef(t, partial)
		return ref(defName(t, partial))
	case reflect.Map:
		return &Schema{Type: "object", AdditionalProperties: g.field(t.Elem(), partial)}
	case reflect.Slice:
		return &Schema{Type: "array", Items: g.field(t.Elem(), partial)}
	case reflect.String:
		return &Schema{Type: "string"}
	case reflect.Int:
		return &Schema{Type: "integer"}
	case reflect.Float64:
		return &Schema{Type: "number"}
	case reflect.Bool:
		return &Schema{Type: "boolean"}
	}
	// A type the descriptor does not use yet; fail loudly in the test that
	// compares docs/schema.json rather than writing a wrong schema.
	return &Schema{Description: "UNSUPPORTED TYPE " + t.String()}
}

func (g *generator) structDef(t reflect.Type, partial bool) {
	name := defName(t, partial)
	if g.done[name] {
		return
	}
	g.done[name] = true // before recursing, so cycles terminate
	s := g.object(t, partial)
	*g.defs = append(*g.defs, Prop{Name: name, Schema: s})
}

// resources writes the Resource union from the kinds: the Go type keeps
// the kind's settings apart, while the YAML puts the kind's keys beside
// `type` and `access`.
func (g *generator) resources() {
	var full, partial []*Schema
	for _, k := range kinds.All() {
		for _, p := range []bool{false, true} {
			s := &Schema{Description: k.Summary(), Type: "object", Properties: &Props{}, AdditionalProperties: no()}
			*s.Properties = append(*s.Properties, Prop{Name: "type", Schema: &Schema{
				Description: "The kind of data store.",
				Const:       k.Name(),
			}}, Prop{Name: "access", Schema: &Schema{
				Description: "What the service's task role may do with it: read or write (default write).",
				Enum:        []any{kind.AccessRead, kind.AccessWrite},
			}})
			g.fields(s, reflect.TypeOf(k.New()).Elem(), p)
			name := k.Title()
			if p {
				name += "Override"
			} else {
				s.Required = append([]string{"type"}, s.Required...)
			}
			g.define(name, s)
			if p {
				partial = append(partial, ref(name))
			} else {
				full = append(full, ref(name))
			}
		}
	}
	g.define("Resource", &Schema{
		Description: "A data store owned by the service; `type` decides which keys it takes. Its outputs are reachable as ${resources.NAME.OUTPUT}.",
		OneOf:       full,
	})
	// An override names only the keys it changes, usually without `type`,
	// so several kinds may match: anyOf, not oneOf.
	g.define("ResourceOverride", &Schema{
		Description: "Keys of a declared data store to change for this stage.",
		AnyOf:       partial,
	})
}

// constraints returns what the Go types cannot express, keyed by
// "Type.field" (a property) or "Type" (the object itself).
func constraints() map[string]func(*Schema) {
	pattern := func(p string) func(*Schema) { return func(s *Schema) { s.Pattern = p } }
	between := func(lo, hi int) func(*Schema) {
		return func(s *Schema) { s.Minimum, s.Maximum = ptr(lo), ptr(hi) }
	}
	atLeast := func(lo int) func(*Schema) { return func(s *Schema) { s.Minimum = ptr(lo) } }
	names := func(p string) func(*Schema) {
		return func(s *Schema) { s.PropertyNames = &Schema{Pattern: p} }
	}
	return map[string]func(*Schema){
		"Descriptor.schemaVersion": func(s *Schema) {
			s.Const = 1
		},
		"Descriptor.service": pattern(ServicePattern),
		"Descriptor.team":    func(s *Schema) { s.MinLength = ptr(1) },
		"Descriptor.stages":  func(s *Schema) { s.MinItems = ptr(1) },
		"Spec.image":         func(s *Schema) { s.MinLength = ptr(1) },
		"Spec.env":           names(EnvNamePattern),
		"Spec.secrets": func(s *Schema) {
			s.PropertyNames = &Schema{Pattern: EnvNamePattern}
			s.AdditionalProperties.Pattern = SecretPattern
		},
		"Spec.resources": names(ResourcePattern),
		"Compute.cpu": func(s *Schema) {
			s.Enum = []any{256, 512, 1024, 2048, 4096, 8192, 16384}
		},
		"Compute.memory":      atLeast(512),
		"Compute.port":        between(1, 65535),
		"Compute.healthcheck": pattern("^/"),
		"Scaling.min":         atLeast(0),
		"Scaling.max":         atLeast(1),
		"Scaling.cpuTarget":   between(1, 100),
		// One of path and host, as the load balancer rule matches on one.
		"Routing": func(s *Schema) {
			s.OneOf = []*Schema{{Required: []string{"path"}}, {Required: []string{"host"}}}
		},
		"Stage.name":    pattern(StagePattern),
		"Stage.account": pattern(AccountPattern),
		"Stage.regions": func(s *Schema) {
			s.Items.Pattern, s.MinItems, s.UniqueItems = RegionPattern, ptr(1), true
		},
		// Either the one-wave shorthand or explicit waves.
		"Stage": func(s *Schema) {
			s.OneOf = []*Schema{{Required: []string{"regions"}}, {Required: []string{"waves"}}}
		},
		"Stage.waves": func(s *Schema) { s.MinItems = ptr(1) },
		"Wave.regions": func(s *Schema) {
			s.Items.Pattern, s.MinItems, s.UniqueItems = RegionPattern, ptr(1), true
		},
		"Wave.maxParallel": atLeast(1),
		"Spec.sidecars":    names(ResourcePattern),
		"Spec.jobs":        names(ResourcePattern),
		"Sidecar.cpu":      atLeast(0),
		"Sidecar.memory":   atLeast(6),
		"Sidecar.port":     between(1, 65535),
		"Sidecar.image":    func(s *Schema) { s.Pattern = `[:@][^/]+$` },
		"Job.command":      func(s *Schema) { s.MinItems = ptr(1) },
		"Job.retries":      between(0, 5),
		"Job.schedule":     pattern(`^(cron|rate)\(.*\)$`),
		"Patch.stack":      func(s *Schema) { s.Enum = []any{"app", "data"} },
		"Patch.op":         func(s *Schema) { s.Enum = []any{"add", "remove", "replace", "move", "copy", "test"} },
		"Patch.path":       pattern(`^(/.*)?$`),
		"Patch.from":       pattern(`^(/.*)?$`),
		// Any JSON value; the Go type keeps it as raw YAML.
		"Patch.value": func(s *Schema) { *s = Schema{Description: s.Description} },
		"Canary.steps": func(s *Schema) {
			s.Items.Minimum, s.Items.Maximum, s.MinItems, s.UniqueItems = ptr(1), ptr(99), ptr(1), true
		},
		"Compare.errorRateMargin": between(0, 100),
		"Compare.latencyFactor":   between(1, 100),
	}
}

// tagConstraints applies what a kind's settings say in their struct tags
// (a kind keeps its schema with its fields): min and max for numbers,
// pattern for strings, enum as a comma-separated list.
func tagConstraints(s *Schema, tag reflect.StructTag) {
	if v, ok := tag.Lookup("min"); ok {
		if n, err := strconv.Atoi(v); err == nil {
			s.Minimum = ptr(n)
		}
	}
	if v, ok := tag.Lookup("max"); ok {
		if n, err := strconv.Atoi(v); err == nil {
			s.Maximum = ptr(n)
		}
	}
	if v, ok := tag.Lookup("pattern"); ok {
		s.Pattern = v
	}
	if v, ok := tag.Lookup("enum"); ok {
		for _, e := range strings.Split(v, ",") {
			s.Enum = append(s.Enum, e)
		}
	}
}
