package descriptor

import (
	"bytes"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/gantryhq/gantry/pkg/kind"
)

var (
	serviceRe  = regexp.MustCompile(`^[a-z][a-z0-9-]{1,28}[a-z0-9]$`)
	stageRe    = regexp.MustCompile(`^[a-z]([a-z0-9-]{0,14}[a-z0-9])?$`)
	resourceRe = regexp.MustCompile(`^[a-z]([a-z0-9-]{0,18}[a-z0-9])?$`)
	envKeyRe   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	accountRe  = regexp.MustCompile(`^[0-9]{12}$`)
)

// check validates what the loader owns beyond types: names, values and the
// syntax of placeholders and secret references.
func (dc *decoder) check(d *Descriptor) {
	if _, ok := d.Pos["schemaVersion"]; ok && d.SchemaVersion != 1 {
		dc.add(d.Pos.Lookup("schemaVersion"), CodeValue, "schemaVersion %d is not supported; this gantry reads schemaVersion 1", d.SchemaVersion)
	}
	if _, ok := d.Pos["service"]; ok && !serviceRe.MatchString(d.Service) {
		dc.add(d.Pos.Lookup("service"), CodeName, "service name %q must be 3-30 characters of lowercase letters, digits and hyphens, start with a letter and not end with a hyphen", d.Service)
	}
	for i, st := range d.Stages {
		p := fmt.Sprintf("stages[%d]", i)
		if _, ok := d.Pos[p+".name"]; ok && !stageRe.MatchString(st.Name) {
			dc.add(d.Pos.Lookup(p+".name"), CodeName, "stage name %q must be 1-16 characters of lowercase letters, digits and hyphens, start with a letter and not end with a hyphen", st.Name)
		}
		if _, ok := d.Pos[p+".account"]; ok && !accountRe.MatchString(st.Account) {
			dc.add(d.Pos.Lookup(p+".account"), CodeValue, "account %q must be a 12-digit AWS account ID; quote it so YAML keeps leading zeros", st.Account)
		}
		for j, w := range st.Waves {
			if w.MaxParallel < 0 {
				dc.add(d.Pos.Lookup(fmt.Sprintf("%s.waves[%d].maxParallel", p, j)), CodeValue, "maxParallel must be 1 or more (omit it to deploy the whole wave at once)")
			}
		}
	}
	dc.checkSpec(&d.Spec, d.Pos)
}

// checkSpec validates one Spec, top-level or a stage's effective one.
func (dc *decoder) checkSpec(s *Spec, pos Positions) {
	dc.placeholders(s.Image, pos, "image")
	dc.image(s.Image, pos)
	if s.Compute.Port != nil && (*s.Compute.Port < 1 || *s.Compute.Port > 65535) {
		dc.add(pos.Lookup("compute.port"), CodeValue, "port %d is out of range; use 1-65535, or omit port for a worker", *s.Compute.Port)
	}
	for i, c := range s.Compute.Command {
		dc.placeholders(c, pos, fmt.Sprintf("compute.command[%d]", i))
	}
	if s.Routing != nil {
		dc.placeholders(s.Routing.Host, pos, "routing.host")
		dc.placeholders(s.Routing.Path, pos, "routing.path")
	}
	dc.envAndSecrets(s.Env, s.Secrets, pos, "")
	for _, name := range slices.Sorted(maps.Keys(s.Resources)) {
		if !resourceRe.MatchString(name) {
			dc.add(pos.Key("resources."+name), CodeName, "resource name %q must be 1-20 characters of lowercase letters, digits and hyphens, start with a letter and not end with a hyphen", name)
		}
	}
	dc.checkEscape(s, pos)
}

// A container repository reference, as Docker's distribution/reference reads
// one: an optional registry host (with a port), then lowercase path
// components. A tag or digest is GN206's to report.
var (
	imageRe = regexp.MustCompile(`^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)?` +
		`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`)
	imagePlaceholderRe = regexp.MustCompile(`\$\{[^}]*\}`)
)

// maxImage is Docker's limit on a repository name, registry included.
const maxImage = 255

// image checks that `image` names a repository gantry can append a tag to.
func (dc *decoder) image(image string, pos Positions) {
	if _, ok := pos["image"]; !ok {
		return
	}
	const example = "such as 111122223333.dkr.ecr.us-east-1.amazonaws.com/payments"
	repo := imageRepository(image)
	if _, err := ParseTemplate(repo); err != nil {
		return // GN109 says what is wrong
	}
	repo = imagePlaceholderRe.ReplaceAllString(repo, "x0")
	switch {
	case strings.TrimSpace(image) == "":
		dc.add(pos.Lookup("image"), CodeValue, "`image` is empty; name the container repository, %s", example)
	case len(image) > maxImage:
		dc.add(pos.Lookup("image"), CodeValue, "`image` is %d characters; a repository name has at most %d", len(image), maxImage)
	case strings.ContainsFunc(image, func(r rune) bool { return r <= ' ' || r == '"' || r == '\'' || r == '`' || r == 0x7f || r > 0x7e }):
		dc.add(pos.Lookup("image"), CodeValue, "`image` holds spaces, quotes, control or non-ASCII characters; name the container repository, %s", example)
	case !imageRe.MatchString(repo):
		dc.add(pos.Lookup("image"), CodeValue, "`image` is not a container repository: give a registry host, then lowercase path parts of letters, digits and . _ - separated by /, %s", example)
	}
}

// imageRepository is image without a tag or digest.
func imageRepository(image string) string {
	if i := strings.Index(image, "@"); i >= 0 {
		image = image[:i]
	}
	slash := strings.LastIndex(image, "/")
	if i := strings.LastIndex(image, ":"); i > slash {
		image = image[:i]
	}
	return image
}

// placeholders reports malformed ${...} in a string value at path.
func (dc *decoder) placeholders(s string, pos Positions, path string) {
	if !strings.Contains(s, "${") {
		return
	}
	if _, err := ParseTemplate(s); err != nil {
		dc.add(dc.placeholderSpan(pos.Lookup(path), s, err.Offset), CodePlaceholder, "%s: %s", describe(path), err.Msg)
	}
}

// placeholderSpan points at the "${" at byte offset off of value, the
// scalar at sp. The value's k-th "${" is the k-th in the file from where the
// scalar starts, whatever its quoting, escapes, multi-byte characters or
// lines, so the file is searched rather than the offset added to a column.
// When the file does not have it (sp is a parent's span), sp.
func (dc *decoder) placeholderSpan(sp Span, value string, off int) Span {
	i := byteOffset(dc.src, sp.Line, sp.Column)
	if i < 0 {
		return sp
	}
	for k := strings.Count(value[:off], "${"); ; k-- {
		j := bytes.Index(dc.src[i:], []byte("${"))
		if j < 0 {
			return sp
		}
		i += j
		if k == 0 {
			break
		}
		i += 2
	}
	line := 1 + bytes.Count(dc.src[:i], []byte("\n"))
	col := 1 + utf8.RuneCount(dc.src[bytes.LastIndexByte(dc.src[:i], '\n')+1:i])
	return Span{Line: line, Column: col, EndLine: line, EndColumn: col + 2}
}

// byteOffset is the offset of a line and column (in characters, as yaml.v3
// counts them) of src, or -1 when src has no such place.
func byteOffset(src []byte, line, col int) int {
	i := 0
	for ; line > 1; line-- {
		j := bytes.IndexByte(src[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
	}
	for ; col > 1; col-- {
		if i >= len(src) || src[i] == '\n' {
			return -1
		}
		_, size := utf8.DecodeRune(src[i:])
		i += size
	}
	return i
}

// Secret references name exactly one parameter or secret: the characters
// SSM and Secrets Manager allow in names, so that no `*` or `?` can widen
// the execution role's IAM policy to other secrets.
var (
	ssmNameRe = regexp.MustCompile(`^(arn:aws[a-z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter)?/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$`)
	smNameRe  = regexp.MustCompile(`^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:)?[A-Za-z0-9/_+=.@-]+$`)
	smKeyRe   = regexp.MustCompile(`^[^\x00-\x1f\x7f*?]+$`)
)

// maxSecretRef bounds a reference: an SSM name is at most 2,048 characters
// with its ARN, a Secrets Manager name 512.
const maxSecretRef = 2048

// addSecret adds a problem at a value that may be a secret.
func (dc *decoder) addSecret(sp Span, code, format string, args ...any) {
	dc.add(sp, code, format, args...)
	dc.probs[len(dc.probs)-1].Secret = true
}

// secretRef checks one value under `secrets:`. A malformed reference may
// hold the secret itself (pasted by mistake), so messages never repeat it.
func (dc *decoder) secretRef(v string, pos Positions, path string) {
	sp := pos.Lookup(path)
	switch {
	case strings.HasPrefix(v, "ssm:"):
		if name := strings.TrimPrefix(v, "ssm:"); len(v) > maxSecretRef || !ssmNameRe.MatchString(name) {
			dc.addSecret(sp, CodeValue, "%s must be ssm: and one parameter name such as ssm:/payments/api-key: letters, digits and _ . - / only, no wildcard such as * (it would let the service read other parameters)", describe(path))
		}
	case strings.HasPrefix(v, "secretsmanager:"):
		name, key, hasKey := strings.Cut(strings.TrimPrefix(v, "secretsmanager:"), "#")
		if len(v) > maxSecretRef || !smNameRe.MatchString(name) || (hasKey && !smKeyRe.MatchString(key)) {
			dc.addSecret(sp, CodeValue, "%s must be secretsmanager:NAME or secretsmanager:NAME#jsonKey, NAME one secret's name of letters, digits and / _ + = . @ - only, no wildcard such as * (it would let the service read other secrets)", describe(path))
		}
	case strings.HasPrefix(v, "${"):
		segs, err := ParseTemplate(v)
		if err != nil {
			// The message of err repeats the placeholder's text.
			dc.addSecret(dc.placeholderSpan(sp, v, err.Offset), CodePlaceholder, "%s: a malformed placeholder; a secret is one placeholder of a secret resource output, such as ${resources.db.password}", describe(path))
			return
		}
		if len(segs) != 1 || segs[0].Ref == nil || segs[0].Ref.Name != "resources" {
			dc.addSecret(sp, CodeValue, "%s: a secret is one placeholder of a secret resource output, such as ${resources.db.password}", describe(path))
		}
	default:
		dc.addSecret(sp, CodeValue, "%s: secrets are references, not values: use ssm:/path, secretsmanager:NAME[#jsonKey] or ${resources.NAME.password|auth}; put plain settings under env", describe(path))
	}
}

// applyDefaults fills what the descriptor left out. pos tells which keys
// were written.
func applyDefaults(s *Spec, pos Positions) {
	set := func(p string) bool { _, ok := pos[p]; return ok }
	if !set("scaling.min") {
		s.Scaling.Min = 2
	}
	if !set("scaling.max") {
		s.Scaling.Max = max(4, s.Scaling.Min)
	}
	if !set("scaling.cpuTarget") {
		s.Scaling.CPUTarget = 60
	}
	if s.Scaling.Queue != nil && !set("scaling.queue.messagesPerTask") {
		s.Scaling.Queue.MessagesPerTask = 100
	}
	if s.Compute.Port != nil && s.Compute.Healthcheck == "" {
		s.Compute.Healthcheck = "/"
	}
	escapeDefaults(s)
	for name, r := range s.Resources {
		if r == nil || r.Settings == nil {
			continue
		}
		if r.Access == "" {
			r.Access = kind.AccessWrite
		}
		p := "resources." + name + "."
		r.Settings.Defaults(func(key string) bool { return set(p + key) })
	}
}

// stages normalises waves and builds each stage's effective Spec.
func (dc *decoder) stages(d *Descriptor, root *yaml.Node) {
	specNode := specOnly(root)
	specKeys := FieldNames(Spec{})
	for i := range d.Stages {
		st := &d.Stages[i]
		p := fmt.Sprintf("stages[%d]", i)
		switch {
		case len(st.Regions) > 0 && len(st.Waves) > 0:
			dc.add(d.Pos.Key(p+".waves"), CodeValue, "stage %q has both regions and waves; use regions for a single wave, or waves", st.Name)
		case len(st.Regions) > 0:
			st.Shorthand = true
			st.Waves = []Wave{{Regions: st.Regions, Bake: st.Bake}}
			for k := range st.Regions {
				d.Pos[fmt.Sprintf("%s.waves[0].regions[%d]", p, k)] = d.Pos.Lookup(fmt.Sprintf("%s.regions[%d]", p, k))
			}
			d.Pos[p+".waves[0].regions"] = d.Pos.Lookup(p + ".regions")
			d.Pos[p+".waves[0]"] = d.Pos.Lookup(p + ".regions")
		case len(st.Waves) == 0:
			if _, ok := d.Pos[p+".regions"]; ok {
				dc.add(d.Pos.Lookup(p+".regions"), CodeValue, "stage %q lists no regions", st.Name)
			} else if _, ok := d.Pos[p]; ok {
				dc.add(d.Pos.Lookup(p), CodeRequired, "stage %q needs regions (one wave) or waves", st.Name)
			}
		}
		for j := range st.Waves {
			w := &st.Waves[j]
			if !w.Bake.Set {
				w.Bake = st.Bake
			}
			if _, ok := d.Pos[fmt.Sprintf("%s.waves[%d].regions", p, j)]; ok && len(w.Regions) == 0 && !st.Shorthand {
				dc.add(d.Pos.Lookup(fmt.Sprintf("%s.waves[%d].regions", p, j)), CodeValue, "wave %d of stage %q lists no regions", j+1, st.Name)
			}
		}

		over := dc.overrides(st.Overrides, d, p+".overrides", specKeys)
		merged := dc.merge(specNode, over, "", 0)
		st.EffectivePos = Positions{}
		st.Effective = &Spec{}
		sub := &decoder{ctx: dc.ctx, checked: dc.checked, src: dc.src, pos: st.EffectivePos, visits: dc.visits}
		sub.structure(merged, reflect.ValueOf(st.Effective).Elem(), "", 1, nonSpecKeys(root))
		sub.checkSpec(st.Effective, st.EffectivePos)
		applyDefaults(st.Effective, st.EffectivePos)
		dc.probs = append(dc.probs, sub.probs...)
		dc.visits, dc.checked, dc.spent = sub.visits, sub.checked, sub.spent
		if dc.spent {
			return
		}
	}
}

// specOnly returns the root mapping without the keys that are not part of
// Spec, so it can be merged with overrides.
func specOnly(root *yaml.Node) *yaml.Node {
	spec := FieldNames(Spec{})
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: root.Line, Column: root.Column}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if slices.Contains(spec, root.Content[i].Value) || root.Content[i].Value == "<<" {
			out.Content = append(out.Content, root.Content[i], root.Content[i+1])
		}
	}
	return out
}

// nonSpecKeys lists the Descriptor keys outside Spec; decoding the merged
// Spec skips them instead of calling them unknown.
func nonSpecKeys(*yaml.Node) []string {
	var out []string
	spec := FieldNames(Spec{})
	for _, k := range FieldNames(Descriptor{}) {
		if !slices.Contains(spec, k) {
			out = append(out, k)
		}
	}
	return out
}

// overrides checks a stage's overrides mapping and returns the part that can
// be merged.
func (dc *decoder) overrides(n *yaml.Node, d *Descriptor, path string, specKeys []string) *yaml.Node {
	n = resolve(n)
	if n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null") {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		dc.add(span(n), CodeType, "%s must be a mapping of top-level keys to change for this stage, found %s", describe(path), kindName(n))
		return nil
	}
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column}
	all := FieldNames(Descriptor{})
	for _, kv := range dc.entries(n, path) {
		k := kv[0].Value
		switch {
		case slices.Contains(specKeys, k):
			out.Content = append(out.Content, kv[0], kv[1])
		case slices.Contains(all, k):
			dc.add(span(kv[0]), CodeOverride, "%q cannot be overridden per stage; overrides may change %s", k, strings.Join(specKeys, ", "))
		default:
			dc.unknownKey(kv[0], path, k, specKeys)
		}
	}
	return out
}

// merge deep-merges over onto base: mappings merge key by key, anything else
// (lists included) is replaced. Resources that base does not declare are
// left out: lint reports them.
func (dc *decoder) merge(base, over *yaml.Node, path string, depth int) *yaml.Node {
	base, over = resolve(base), resolve(over)
	if over == nil || (over.Kind == yaml.ScalarNode && over.ShortTag() == "!!null") {
		return base
	}
	if base == nil || base.Kind != yaml.MappingNode || over.Kind != yaml.MappingNode || depth > maxDepth || !dc.visit(over) {
		return over
	}
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: base.Line, Column: base.Column}
	// base's duplicates were reported already; its merge keys still cost.
	quiet := &decoder{ctx: dc.ctx, checked: dc.checked, pos: Positions{}, visits: dc.visits}
	baseEntries := quiet.entries(base, path)
	if !dc.charge(base, quiet.visits-dc.visits) {
		return over
	}
	overEntries := dc.entries(over, path)
	used := map[string]bool{}
	for _, b := range baseEntries {
		k := b[0].Value
		kv := b
		for _, o := range overEntries {
			// A resource keeps its declared type; lint reports the attempt.
			if o[0].Value != k {
				continue
			}
			used[k] = true
			switch {
			case path == "" && k == "patches":
				kv = [2]*yaml.Node{o[0], concatPatches(b[1], o[1])}
			case k != "type" || !strings.HasPrefix(path, "resources."):
				kv = [2]*yaml.Node{o[0], dc.merge(b[1], o[1], join(path, k), depth+1)}
			}
		}
		out.Content = append(out.Content, kv[0], kv[1])
	}
	for _, o := range overEntries {
		// Resources the top level does not declare are left out (lint
		// reports them), also when it declares none at all.
		if used[o[0].Value] || path == "resources" || (path == "" && o[0].Value == "resources") {
			continue
		}
		out.Content = append(out.Content, o[0], o[1])
	}
	return out
}

// dedupe drops repeated problems (a top-level defect shows in every stage's
// effective Spec) and sorts by position.
func dedupe(probs []Problem) []Problem {
	slices.SortStableFunc(probs, func(a, b Problem) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		if a.Column != b.Column {
			return a.Column - b.Column
		}
		return strings.Compare(a.Code+a.Message, b.Code+b.Message)
	})
	return slices.Compact(probs)
}
