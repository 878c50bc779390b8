package descriptor

import (
	"fmt"
	"maps"
	"slices"

	"gopkg.in/yaml.v3"
)

// minContainerMemory is the least memory ECS lets a container reserve.
const minContainerMemory = 6

// checkEscape validates what the loader owns of sidecars, jobs and patches
// (names, values, placeholders, secret references, the shape of each
// patch); lint checks what needs the whole spec or a rendering.
func (dc *decoder) checkEscape(s *Spec, pos Positions) {
	for _, name := range slices.Sorted(maps.Keys(s.Sidecars)) {
		if sc := s.Sidecars[name]; sc != nil {
			dc.sidecar(name, sc, pos)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.Jobs)) {
		if j := s.Jobs[name]; j != nil {
			dc.job(name, j, pos)
		}
	}
	if len(s.Patches) > MaxPatches {
		dc.add(pos.Key("patches"), CodeValue, "%d patches (with the stage's); at most %d are applied: a template needing more is better split or asked for as a descriptor field", len(s.Patches), MaxPatches)
	}
	for i := range s.Patches {
		dc.patch(i, &s.Patches[i], pos)
	}
}

func (dc *decoder) sidecar(name string, sc *Sidecar, pos Positions) {
	p := "sidecars." + name
	if !resourceRe.MatchString(name) {
		dc.add(pos.Key(p), CodeName, "sidecar name %q must be 1-20 characters of lowercase letters, digits and hyphens, start with a letter and not end with a hyphen", name)
	}
	dc.placeholders(sc.Image, pos, p+".image")
	if sc.Port != nil && (*sc.Port < 1 || *sc.Port > 65535) {
		dc.add(pos.Lookup(p+".port"), CodeValue, "port %d is out of range; use 1-65535, or omit port", *sc.Port)
	}
	if _, ok := pos[p+".cpu"]; ok && sc.CPU < 0 {
		dc.add(pos.Lookup(p+".cpu"), CodeValue, "cpu %d is negative; give the CPU units the sidecar reserves, 0 or more", sc.CPU)
	}
	if _, ok := pos[p+".memory"]; ok && sc.Memory < minContainerMemory {
		dc.add(pos.Lookup(p+".memory"), CodeValue, "memory %d MiB is too little; ECS gives a container at least %d MiB", sc.Memory, minContainerMemory)
	}
	for i, c := range sc.Command {
		dc.placeholders(c, pos, fmt.Sprintf("%s.command[%d]", p, i))
	}
	dc.envAndSecrets(sc.Env, sc.Secrets, pos, p+".")
}

// envAndSecrets checks a container's env and secrets under prefix ("" for
// the service's, "sidecars.NAME." for a sidecar's).
func (dc *decoder) envAndSecrets(env, secrets map[string]string, pos Positions, prefix string) {
	for _, k := range slices.Sorted(maps.Keys(env)) {
		if !envKeyRe.MatchString(k) {
			dc.add(pos.Key(prefix+"env."+k), CodeName, "environment variable name %q must be letters, digits and underscores, not starting with a digit", k)
		}
		dc.placeholders(env[k], pos, prefix+"env."+k)
	}
	for _, k := range slices.Sorted(maps.Keys(secrets)) {
		p := prefix + "secrets." + k
		if !envKeyRe.MatchString(k) {
			dc.add(pos.Key(p), CodeName, "environment variable name %q must be letters, digits and underscores, not starting with a digit", k)
		}
		dc.secretRef(secrets[k], pos, p)
	}
}

func (dc *decoder) job(name string, j *Job, pos Positions) {
	p := "jobs." + name
	if !resourceRe.MatchString(name) {
		dc.add(pos.Key(p), CodeName, "job name %q must be 1-20 characters of lowercase letters, digits and hyphens, start with a letter and not end with a hyphen", name)
	}
	if _, ok := pos[p+".command"]; ok && len(j.Command) == 0 {
		dc.add(pos.Lookup(p+".command"), CodeValue, "`%s.command` is empty; give the command the job runs, such as [bin/report]", p)
	}
	for i, c := range j.Command {
		dc.placeholders(c, pos, fmt.Sprintf("%s.command[%d]", p, i))
	}
	if j.Retries < 0 || j.Retries > MaxJobRetries {
		dc.add(pos.Lookup(p+".retries"), CodeValue, "retries %d is out of range; use 0-%d", j.Retries, MaxJobRetries)
	}
	if j.Timeout.Set && (j.Timeout.Duration <= 0 || j.Timeout.Duration > MaxJobTimeout) {
		dc.add(pos.Lookup(p+".timeout"), CodeValue, "timeout %s is out of range; use more than 0s and at most %s", j.Timeout.Duration, "24h")
	}
}

func (dc *decoder) patch(i int, pt *Patch, pos Positions) {
	p := fmt.Sprintf("patches[%d]", i)
	if _, ok := pos[p+".op"]; ok && !slices.Contains(PatchOps, pt.Op) {
		msg := fmt.Sprintf("%q is not a JSON Patch operation; use %s", pt.Op, "add, remove, replace, move, copy or test")
		if s := Suggest(pt.Op, PatchOps); s != "" {
			msg = fmt.Sprintf("%q is not a JSON Patch operation; did you mean %q?", pt.Op, s)
		}
		dc.add(pos.Lookup(p+".op"), CodeValue, "%s", msg)
	}
	if _, ok := pos[p+".stack"]; ok && !slices.Contains(PatchStacks, pt.Stack) {
		dc.add(pos.Lookup(p+".stack"), CodeValue, "stack %q is not a stack gantry renders; use app or data", pt.Stack)
	}
	_, hasFrom := pos[p+".from"]
	switch pt.Op {
	case "move", "copy":
		if !hasFrom {
			dc.add(pos.Lookup(p), CodeRequired, "a %s patch needs `from`: the JSON Pointer of the value it takes", pt.Op)
		}
	case "add", "remove", "replace", "test":
		if hasFrom {
			dc.add(pos.Key(p+".from"), CodeValue, "`from` is only for move and copy; a %s patch takes `path`%s", pt.Op, map[bool]string{true: " and `value`", false: ""}[pt.Op != "remove"])
		}
	}
	switch pt.Op {
	case "add", "replace", "test":
		if pt.Value == nil {
			dc.add(pos.Lookup(p), CodeRequired, "a %s patch needs `value` (write `value: null` for JSON null)", pt.Op)
		}
	case "remove", "move", "copy":
		if pt.Value != nil {
			dc.add(pos.Key(p+".value"), CodeValue, "a %s patch takes no `value`; remove it", pt.Op)
		}
	}
}

// concatPatches is the merge of the top level's patches and a stage's:
// the stage's come after, as JSON Patch operations apply in order.
func concatPatches(base, over *yaml.Node) *yaml.Node {
	base, over = resolve(base), resolve(over)
	if base == nil || over == nil || base.Kind != yaml.SequenceNode || over.Kind != yaml.SequenceNode {
		return over
	}
	out := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: over.Line, Column: over.Column}
	out.Content = append(append(out.Content, base.Content...), over.Content...)
	return out
}
