package lint

import "strings"

// imagePin returns what pins the image reference to one version, a tag or a
// digest, or "" for a bare repository.
func imagePin(image string) (kind, pin string) {
	if i := strings.Index(image, "@"); i >= 0 {
		return "digest", image[i+1:]
	}
	// A colon before the first slash is a registry port, not a tag.
	last := image[strings.LastIndex(image, "/")+1:]
	if i := strings.LastIndex(last, ":"); i >= 0 {
		return "tag", last[i+1:]
	}
	return "", ""
}

func ruleImageTag() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN206", Name: "image-tag", Severity: Error,
			Title: "`image` names a repository, without tag or digest",
			Doc: "The tag is the version being deployed: gantry appends the --version of each deploy to the " +
				"repository. A tag or digest in the descriptor would pin every deploy to one build.",
			Example: Example{
				YAML:    "image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/payments:v1.4.2\n",
				Message: "`image` pins the tag \"v1.4.2\"; give the repository only: the tag is the version each deploy sets with --version",
			},
		},
		check: func(c *checker) {
			c.eachSpec(func(v view) {
				switch kind, pin := imagePin(v.Spec.Image); kind {
				case "digest":
					if len(pin) > 19 {
						pin = pin[:19] + "…"
					}
					v.report(value(v.Pos, "image"), "`image` pins a digest (@%s); give the repository only: the tag is the version each deploy sets with --version", pin)
				case "tag":
					v.report(value(v.Pos, "image"), "`image` pins the tag %q; give the repository only: the tag is the version each deploy sets with --version", pin)
				}
			})
		},
	}
}
