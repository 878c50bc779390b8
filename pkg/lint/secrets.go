package lint

import (
	"math"
	"regexp"
	"strings"
)

// Credential detection for values pasted into env. Known formats first,
// then a URL's password, then a secret-named variable with a literal value,
// then any long token of high Shannon entropy. Each detector says only what
// the value looks like: the value itself is never repeated.

type credentialPattern struct {
	what string
	re   *regexp.Regexp
}

var credentialPatterns = []credentialPattern{
	{"an AWS access key id", regexp.MustCompile(`(^|[^A-Z0-9])(AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16}([^A-Z0-9]|$)`)},
	{"a private key", regexp.MustCompile(`-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----`)},
	{"a GitHub token", regexp.MustCompile(`(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})`)},
	{"a GitLab token", regexp.MustCompile(`glpat-[A-Za-z0-9_\-]{20,}`)},
	{"a Slack token", regexp.MustCompile(`xox[abposr]-[A-Za-z0-9\-]{10,}`)},
	{"a Stripe live key", regexp.MustCompile(`(sk|rk)_live_[A-Za-z0-9]{16,}`)},
	{"a Google API key", regexp.MustCompile(`AIza[0-9A-Za-z_\-]{35}`)},
	{"an npm token", regexp.MustCompile(`npm_[A-Za-z0-9]{36}`)},
	{"a SendGrid key", regexp.MustCompile(`SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}`)},
	{"a JSON Web Token", regexp.MustCompile(`eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}`)},
}

// A URL carrying a password: scheme://user:password@host.
var urlPasswordRe = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@]*:([^@\s/]+)@`)

// secretNameRe matches variable names that say they hold a credential.
var secretNameRe = regexp.MustCompile(`(?i)(^|_)(PASSWORD|PASSWD|PASS|PWD|SECRET|SECRET_KEY|TOKEN|API_?KEY|PRIVATE_KEY|ACCESS_KEY|AUTH_KEY|CLIENT_SECRET|CREDENTIALS?)$`)

// tokenRe is a candidate token: base64 or base64url characters, long enough
// that high entropy is meaningful.
var tokenRe = regexp.MustCompile(`[A-Za-z0-9+/=_\-]{20,}`)

// Thresholds of the detectors (tuned in secrets_test.go: random tokens are
// caught, identifiers, host names, URLs, UUIDs and hashes are not).
const (
	minTokenLen     = 20
	maxEntropyFloor = 4.5 // bits per character
	maxWordiness    = 0.5
	minNamedLen     = 8
	minNamedBits    = 2.5
)

// shannon is the Shannon entropy of s in bits per byte.
func shannon(s string) float64 {
	if s == "" {
		return 0
	}
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	h := 0.0
	n := float64(len(s))
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// classes counts the character classes in s: lower, upper, digit.
func classes(s string) (lower, upper, digit bool) {
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= '0' && c <= '9':
			digit = true
		}
	}
	return
}

// wordiness is the share of tok made of word-like runs: four or more
// lower-case letters, with a capital before them counted in (CamelCase).
// Random base64 rarely has such runs; identifiers are mostly made of them.
func wordiness(tok string) float64 {
	sum, run, lead := 0, 0, 0
	flush := func() {
		if run >= 3 && run+lead >= 4 {
			sum += run + lead
		}
		run, lead = 0, 0
	}
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		switch {
		case c >= 'a' && c <= 'z':
			run++
		case c >= 'A' && c <= 'Z':
			flush()
			lead = 1
		default:
			flush()
		}
	}
	flush()
	return float64(sum) / float64(len(tok))
}

// entropyFloor is the entropy below which a token of n characters is not
// taken for random: about the 1st percentile of random base62 strings of
// that length, capped for long ones.
func entropyFloor(n int) float64 {
	return min(0.8*math.Log2(float64(n)), maxEntropyFloor)
}

// looksRandom reports whether tok reads like generated key material rather
// than words: letters of both cases and digits, high entropy for its
// length, and few word-like runs.
func looksRandom(tok string) bool {
	lower, upper, digit := classes(tok)
	n := 0
	for _, b := range []bool{lower, upper, digit} {
		if b {
			n++
		}
	}
	// Short tokens need all three classes; long ones may lack one by chance.
	if n < 2 || n == 2 && len(tok) < 32 {
		return false
	}
	return shannon(tok) >= entropyFloor(len(tok)) && wordiness(tok) < maxWordiness
}

// credential returns what value looks like when it holds a credential, or
// "". name is the variable's name ("" for values without one).
func credential(name, value string) string {
	// Placeholders are resolved by gantry, never pasted secrets.
	v := withoutPlaceholdersSpace(value)
	for _, p := range credentialPatterns {
		if p.re.MatchString(v) {
			return p.what
		}
	}
	if m := urlPasswordRe.FindStringSubmatch(v); m != nil && strings.TrimSpace(m[1]) != "" {
		return "a URL with a password in it"
	}
	for _, tok := range tokenRe.FindAllString(v, -1) {
		if len(tok) == 40 && !strings.ContainsAny(tok, "_-=") && looksRandom(tok) {
			return "an AWS secret access key"
		}
		if t := strings.TrimRight(tok, "="); len(t) >= minTokenLen && looksRandom(t) {
			return "a token or key (a long random string)"
		}
	}
	if name != "" && secretNameRe.MatchString(name) && namedSecretValue(v) {
		return "a credential (its name says so and it has a literal value)"
	}
	return ""
}

// namedSecretValue reports whether v, the value of a variable named like a
// secret, looks like one rather than a setting: not empty, not a number, a
// boolean, a duration, a URL or a path, long enough and not one repeated
// character.
func namedSecretValue(v string) bool {
	v = strings.TrimSpace(v)
	if len(v) < minNamedLen || strings.ContainsAny(v, " \t") {
		return false
	}
	if strings.Contains(v, "://") || strings.HasPrefix(v, "/") || strings.HasPrefix(v, "ssm:") || strings.HasPrefix(v, "secretsmanager:") || strings.HasPrefix(v, "arn:") {
		return false
	}
	if strings.Trim(v, "0123456789.") == "" {
		return false
	}
	return shannon(v) >= minNamedBits
}

// withoutPlaceholdersSpace replaces each ${...} by a space so that text on
// either side is not joined into one token. An escaped $${...} is literal
// text that lands in the template as ${...}, so its inside is kept.
func withoutPlaceholdersSpace(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			b.WriteString("${")
			i += 3
		case strings.HasPrefix(s[i:], "${") && strings.IndexByte(s[i:], '}') > 0:
			b.WriteByte(' ')
			i += strings.IndexByte(s[i:], '}') + 1
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String()
}
