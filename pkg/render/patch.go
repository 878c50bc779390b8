package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	jsonpatch "github.com/evanphx/json-patch/v5"

	"github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/naming"
)

// PatchError is a patch of the descriptor that cannot be applied to its
// rendered stack, or that leaves the stack's template invalid.
type PatchError struct {
	// Index is the patch's place in the stage's effective patches (the top
	// level's first, then the stage's overrides').
	Index int
	// Field is the patch's key the problem is at: path, from, value, stack
	// or "" for the patch as a whole.
	Field string
	// Stack is the kind of stack patched: app or data.
	Stack string
	Msg   string
}

func (e *PatchError) Error() string {
	return fmt.Sprintf("patches[%d]: %s", e.Index, e.Msg)
}

// patchOp is one patch of a stack, with its place in the spec's patches.
type patchOp struct {
	index int
	p     descriptor.Patch
}

// copyLimit bounds how much one copy operation may grow a template.
const copyLimit = 1 << 20

// MaxTemplateSize is the largest template CloudFormation takes (from S3);
// a patch that makes one larger is refused, which also bounds what a run
// of patches can build.
const MaxTemplateSize = 1_000_000

func patchOptions() *jsonpatch.ApplyOptions {
	o := jsonpatch.NewApplyOptions()
	o.SupportNegativeIndices = false // not RFC 6902
	o.AccumulatedCopySizeLimit = copyLimit
	o.EscapeHTML = false
	return o
}

// applyPatches applies ops in order to doc (a template decoded with
// UseNumber), stopping at the first that fails unless collect is set: then
// a failing patch is skipped, reported, and the next applied to the
// template as it stood.
func applyPatches(doc any, stack string, ops []patchOp, collect bool) (any, []*PatchError) {
	var errs []*PatchError
	for _, op := range ops {
		next, err := applyOne(doc, stack, op)
		if err != nil {
			errs = append(errs, err)
			if !collect {
				return doc, errs
			}
			continue
		}
		doc = next
	}
	return doc, errs
}

// applyOne applies one patch: its pointers checked against the template as
// it is (so a missing target is named precisely), then applied by the JSON
// Patch library, then the result checked as a template.
func applyOne(doc any, stack string, op patchOp) (any, *PatchError) {
	fail := func(field, format string, args ...any) *PatchError {
		return &PatchError{Index: op.index, Field: field, Stack: stack, Msg: fmt.Sprintf(format, args...)}
	}
	p := op.p
	if err := checkTargets(doc, p, stack); err != nil {
		return nil, fail(err.field, "%s: %s", p.Op, err.msg)
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, fail("", "encoding the %s template: %v", stack, err)
	}
	opJSON, perr := patchJSON(p)
	if perr != nil {
		return nil, fail("value", "%v", perr)
	}
	patch, err := jsonpatch.DecodePatch(opJSON)
	if err != nil {
		return nil, fail("", "%v", err)
	}
	out, err := patch.ApplyWithOptions(raw, patchOptions())
	switch {
	case errors.Is(err, jsonpatch.ErrTestFailed):
		return nil, fail("value", "test failed: the value at %s is %s, not the value given", p.Path, shortJSON(mustLookup(doc, p.Path)))
	case err != nil:
		return nil, fail("path", "%s: %v", p.Op, err)
	}
	if len(out) > MaxTemplateSize {
		return nil, fail("", "after this patch the %s template is %d bytes; CloudFormation takes at most %d", stack, len(out), MaxTemplateSize)
	}
	var next any
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&next); err != nil {
		return nil, fail("", "the patched %s template is not JSON: %v", stack, err)
	}
	if err := validTemplate(next); err != nil {
		return nil, fail("", "after this patch the %s template is not a valid CloudFormation template: %v", stack, err)
	}
	return next, nil
}

// patchJSON is the patch as a one-operation RFC 6902 document.
func patchJSON(p descriptor.Patch) ([]byte, error) {
	op := map[string]any{"op": p.Op, "path": p.Path}
	if p.Op == "move" || p.Op == "copy" {
		op["from"] = p.From
	}
	if p.Value != nil {
		v, err := yamlJSON(p.Value, 0)
		if err != nil {
			return nil, err
		}
		op["value"] = v
	}
	return json.Marshal([]any{op})
}

type targetError struct{ field, msg string }

// checkTargets checks a patch's pointers against doc: their syntax, that
// what remove, replace, test, move and copy read exists, and that the
// place add, move and copy write to has a parent that can hold it.
func checkTargets(doc any, p descriptor.Patch, stack string) *targetError {
	path, err := parsePointer(p.Path)
	if err != nil {
		return &targetError{"path", err.Error()}
	}
	switch p.Op {
	case "move", "copy":
		from, err := parsePointer(p.From)
		if err != nil {
			return &targetError{"from", "from: " + err.Error()}
		}
		if _, miss := lookup(doc, from); miss != "" {
			return &targetError{"from", fmt.Sprintf("from %s does not exist in the %s template: %s", p.From, stack, miss)}
		}
		if p.Op == "move" && strings.HasPrefix(p.Path+"/", p.From+"/") {
			return &targetError{"path", fmt.Sprintf("cannot move %s into itself (%s)", p.From, p.Path)}
		}
		return writable(doc, path, p.Path, stack)
	case "add":
		return writable(doc, path, p.Path, stack)
	}
	if _, miss := lookup(doc, path); miss != "" {
		return &targetError{"path", fmt.Sprintf("%s does not exist in the %s template: %s", p.Path, stack, miss)}
	}
	return nil
}

// writable checks that path's parent exists and can take its last token.
func writable(doc any, path []string, raw, stack string) *targetError {
	if len(path) == 0 {
		return nil // the whole document
	}
	parent, miss := lookup(doc, path[:len(path)-1])
	if miss != "" {
		return &targetError{"path", fmt.Sprintf("the parent of %s does not exist in the %s template: %s", raw, stack, miss)}
	}
	last := path[len(path)-1]
	switch c := parent.(type) {
	case map[string]any:
		return nil
	case []any:
		if last == "-" {
			return nil
		}
		i, ok := arrayIndex(last)
		if !ok || i > len(c) {
			return &targetError{"path", fmt.Sprintf("%s: %q is not an index of a list of %d (use 0-%d, or - to append)", raw, last, len(c), len(c))}
		}
		return nil
	}
	return &targetError{"path", fmt.Sprintf("the parent of %s is %s, which holds no keys", raw, kindOf(parent))}
}

// parsePointer splits an RFC 6901 JSON Pointer into its unescaped tokens.
func parsePointer(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if p[0] != '/' {
		return nil, fmt.Errorf("%q is not a JSON Pointer: it must start with / (such as /Resources/Service/Properties)", p)
	}
	parts := strings.Split(p[1:], "/")
	for i, t := range parts {
		for j := 0; j < len(t); j++ {
			if t[j] == '~' && (j+1 == len(t) || (t[j+1] != '0' && t[j+1] != '1')) {
				return nil, fmt.Errorf("%q is not a JSON Pointer: ~ must be written ~0 (and / as ~1)", p)
			}
		}
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return parts, nil
}

// lookup follows tokens from doc; miss says where it stopped, "" if found.
func lookup(doc any, tokens []string) (any, string) {
	cur := doc
	at := ""
	for _, tok := range tokens {
		where := "the template"
		if at != "" {
			where = at
		}
		switch c := cur.(type) {
		case map[string]any:
			next, ok := c[tok]
			if !ok {
				msg := fmt.Sprintf("%s has no key %q", where, tok)
				if s := descriptor.Suggest(tok, slices.Collect(maps.Keys(c))); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				return nil, msg
			}
			cur = next
		case []any:
			i, ok := arrayIndex(tok)
			if !ok || i >= len(c) {
				return nil, fmt.Sprintf("%s is a list of %d; %q is not one of its indexes", where, len(c), tok)
			}
			cur = c[i]
		default:
			return nil, fmt.Sprintf("%s is %s, which holds no %q", where, kindOf(cur), tok)
		}
		at += "/" + strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
	}
	return cur, ""
}

func mustLookup(doc any, p string) any {
	tokens, err := parsePointer(p)
	if err != nil {
		return nil
	}
	v, _ := lookup(doc, tokens)
	return v
}

// arrayIndex reads an RFC 6901 array index: digits, no leading zero.
func arrayIndex(tok string) (int, bool) {
	if tok == "" || (len(tok) > 1 && tok[0] == '0') {
		return 0, false
	}
	for _, c := range tok {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	i, err := strconv.Atoi(tok)
	return i, err == nil
}

func kindOf(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// shortJSON shows a value in a message, cut to a line.
func shortJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	if len(b) > 80 {
		return string(b[:77]) + "..."
	}
	return string(b)
}

// stackPatches splits a spec's patches between the stacks rendered; a
// patch of a stack that is not rendered is an error.
func stackPatches(patches []descriptor.Patch, stacks []Stack) (map[naming.StackKind][]patchOp, []*PatchError) {
	out := map[naming.StackKind][]patchOp{}
	var errs []*PatchError
	for i, p := range patches {
		kind := naming.StackKind(p.Stack)
		if !slices.ContainsFunc(stacks, func(s Stack) bool { return s.Kind == kind }) {
			errs = append(errs, &PatchError{Index: i, Field: "stack", Stack: string(kind),
				Msg: fmt.Sprintf("stack %q is not rendered for this stage (a data stack is rendered only for a service with resources)", p.Stack)})
			continue
		}
		out[kind] = append(out[kind], patchOp{index: i, p: p})
	}
	return out, errs
}

// patch gives each stack its patches and applies them once, so that a
// patch that fails is refused by Render, at its line, not at deploy.
func (c *ctx) patch(stacks []Stack) error {
	byKind, errs := stackPatches(c.spec.Patches, stacks)
	if len(errs) > 0 {
		return c.patchError(errs[0])
	}
	for i := range stacks {
		stacks[i].patches = byKind[stacks[i].Kind]
		if len(stacks[i].patches) == 0 {
			continue
		}
		doc, err := stacks[i].document()
		if err != nil {
			return err
		}
		if _, errs := applyPatches(doc, string(stacks[i].Kind), stacks[i].patches, false); len(errs) > 0 {
			return c.patchError(errs[0])
		}
	}
	return nil
}

// patchError places a patch's error at its line in the descriptor.
func (c *ctx) patchError(e *PatchError) error {
	pos := c.d.Pos
	if c.stage.Effective != nil && c.stage.EffectivePos != nil {
		pos = c.stage.EffectivePos
	}
	path := fmt.Sprintf("patches[%d]", e.Index)
	if e.Field != "" {
		path += "." + e.Field
	}
	sp := pos.Lookup(path)
	return fmt.Errorf("%s:%d:%d: %w", c.d.File, sp.Line, sp.Column, e)
}

// CheckPatches renders a stage (in its first region) without its patches,
// then applies them one by one to the stacks, reporting every patch that
// fails; a failing patch is skipped and the next applied as if it were not
// there. It is what lint runs offline. An error is a rendering that failed
// for another reason (other rules report those).
func CheckPatches(d *descriptor.Descriptor, stage string) ([]*PatchError, error) {
	st, err := findStage(d, stage)
	if err != nil {
		return nil, err
	}
	spec := d.SpecFor(stage)
	regions := stageRegions(st)
	if spec == nil || len(spec.Patches) == 0 || len(regions) == 0 {
		return nil, nil
	}
	stacks, err := render(d, Target{Stage: stage, Region: regions[0], Account: st.Account}, false)
	if err != nil {
		return nil, err
	}
	byKind, errs := stackPatches(spec.Patches, stacks)
	for _, s := range stacks {
		if len(byKind[s.Kind]) == 0 {
			continue
		}
		doc, err := s.document()
		if err != nil {
			return nil, err
		}
		_, more := applyPatches(doc, string(s.Kind), byKind[s.Kind], true)
		errs = append(errs, more...)
	}
	slices.SortStableFunc(errs, func(a, b *PatchError) int { return a.Index - b.Index })
	return errs, nil
}
