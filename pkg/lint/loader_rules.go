package lint

import "github.com/gantryhq/gantry/pkg/descriptor"

// loaderRules describes the problem codes of the descriptor loader (see
// pkg/descriptor/problem.go). They are reported as error findings; lint
// lists them so that docs/rules.md and SARIF cover every id a user sees.
func loaderRules() []RuleInfo {
	loader := func(id, name, title, doc string, ex Example) RuleInfo {
		return RuleInfo{ID: id, Name: name, Severity: Error, Title: title, Doc: doc, Example: ex}
	}
	return []RuleInfo{
		loader(descriptor.CodeSyntax, "syntax", "the file is valid YAML that gantry can load",
			"Not YAML, more than one YAML document, a file gantry cannot read (permissions, a named pipe), or too large, "+
				"too deep or expanding to too many nodes to load safely: a descriptor is a page of plain YAML, at most "+
				"1 MiB, 64 levels deep and 100,000 nodes counting what aliases and merge keys expand to "+
				"(see docs/security.md, \"Budgets\").",
			Example{YAML: "service: payments\n  team: payments-platform\n", Message: "invalid YAML: mapping values are not allowed in this context"}),
		loader(descriptor.CodeDuplicate, "duplicate-key", "a key appears once per mapping",
			"YAML parsers disagree on which of two equal keys wins; gantry refuses them.",
			Example{YAML: "compute:\n  cpu: 256\n  cpu: 512\n  memory: 1024\n", Message: "key \"cpu\" is given twice in `compute` (first at line 2); keep one"}),
		loader(descriptor.CodeType, "type", "values have the type their key needs",
			"A number where a string is needed, a list where a mapping is needed, and so on.",
			Example{YAML: "compute:\n  cpu: one\n  memory: 512\n", Message: "`compute.cpu` must be a whole number, found the string \"one\""}),
		loader(descriptor.CodeUnknownKey, "unknown-key", "every key is one the format has",
			"Unknown keys are errors, not ignored, so a typo cannot silently drop a setting. The message suggests the nearest key.",
			Example{YAML: "compute:\n  cpu: 256\n  memroy: 512\n", Message: "unknown key \"memroy\" in `compute`; did you mean \"memory\"?"}),
		loader(descriptor.CodeRequired, "required", "required keys are present",
			"schemaVersion, service, team, image, compute (cpu, memory), stages (name, account, regions or waves) and each resource's type.",
			Example{YAML: "compute:\n  cpu: 256\n", Message: "`compute` is missing the required key \"memory\""}),
		loader(descriptor.CodeDuration, "duration", "durations use Go syntax",
			"Bake times are Go durations such as 90s, 10m or 1h30m, never negative.",
			Example{YAML: "stages:\n  - name: dev\n    account: \"111122223333\"\n    regions: [us-east-1]\n    bake: 10\n", Message: "`stages[0].bake`: 10 has no unit; write a Go duration such as 10s or 10m"}),
		loader(descriptor.CodeName, "name", "names follow their pattern",
			"service: 3-30 lower-case letters, digits and hyphens; stage names 1-16; resource names 1-20; "+
				"environment variable names letters, digits and underscores. They become parts of AWS names.",
			Example{YAML: "service: Payments\n", Message: "service name \"Payments\" must be 3-30 characters of lowercase letters, digits and hyphens, start with a letter and not end with a hyphen"}),
		loader(descriptor.CodeValue, "value", "values are ones their field allows",
			"schemaVersion 1, 12-digit accounts, ports 1-65535, resource types, an image that is a container "+
				"repository, and secret references that name exactly one SSM parameter or Secrets Manager secret (no "+
				"wildcard, which would widen the task's IAM policy). A message about a secret reference never repeats it.",
			Example{YAML: "stages:\n  - name: dev\n    account: 1111\n    regions: [us-east-1]\n", Message: "account \"1111\" must be a 12-digit AWS account ID; quote it so YAML keeps leading zeros"}),
		loader(descriptor.CodePlaceholder, "placeholder", "placeholders are well formed",
			"${service}, ${stage}, ${region}, ${account}, ${version} and ${resources.NAME.OUTPUT}; $${ writes a literal ${.",
			Example{YAML: "env:\n  REGION: ${regoin}\n", Message: "`env.REGION`: unknown placeholder ${regoin}; did you mean ${region}?"}),
		loader(descriptor.CodeOverride, "override", "stage overrides change only what a stage may change",
			"overrides may change image, compute, scaling, routing, env, secrets and resources; not service, team or stages.",
			Example{YAML: "stages:\n  - name: dev\n    account: \"111122223333\"\n    regions: [us-east-1]\n    overrides:\n      team: other\n", Message: "\"team\" cannot be overridden per stage; overrides may change image, compute, scaling, routing, env, secrets, resources, sidecars, jobs, patches"}),
	}
}
