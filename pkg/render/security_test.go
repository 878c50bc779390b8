package render

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// checkovAllowFile lists the checkov checks the rendered templates may fail,
// each with the reason; docs/security.md shows it (TestCheckov -update
// rewrites that part of the page).
const checkovAllowFile = "testdata/checkov-allow.json"

// allowedCheck is one entry of checkovAllowFile.
type allowedCheck struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// forbiddenWords mark a checkov check as one of the kinds issue 5 says no
// rendered template may fail, whatever the reason: encryption at rest and in
// transit, public access, ingress from anywhere, IAM wildcards and log
// retention. A check whose name holds one of them cannot be allow-listed.
var forbiddenWords = []string{
	"encrypt", "kms", "tls", "ssl", "https", "transit",
	"public",
	"0.0.0.0", "::/0", "ingress",
	"iam", "wildcard", "*", "privilege", "admin",
	"retention",
}

func forbidden(checkName string) bool {
	name := strings.ToLower(checkName)
	return slices.ContainsFunc(forbiddenWords, func(w string) bool { return strings.Contains(name, w) })
}

// controlTemplate breaks one forbidden kind of check per resource, so the
// test proves it reads checkov's findings and that forbidden() knows them.
const controlTemplate = `{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Resources": {
    "SshFromAnywhere": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "control",
      "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}]}},
    "LogsForever": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "control"}},
    "AdminPolicy": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": {"Version": "2012-10-17",
      "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}},
    "PlainBucket": {"Type": "AWS::S3::Bucket", "Properties": {}}
  }
}
`

// venvTool finds a pinned Python tool: $env, else <repo>/<venv>/bin/<name>.
func venvTool(t *testing.T, env, venv, name, setup string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s=%s: %v", env, p, err)
		}
		return p
	}
	p := filepath.Join(repoRoot(t), venv, "bin", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s not found at %s: run %s (it installs the pinned %s), or set %s", name, p, setup, name, env)
	}
	return p
}

// checkovReport is the part of checkov's JSON report the test reads.
type checkovReport struct {
	Summary struct {
		Passed         int    `json:"passed"`
		Failed         int    `json:"failed"`
		ParsingErrors  int    `json:"parsing_errors"`
		ResourceCount  int    `json:"resource_count"`
		CheckovVersion string `json:"checkov_version"`
	} `json:"summary"`
	Results struct {
		Failed []checkovFinding `json:"failed_checks"`
	} `json:"results"`
}

type checkovFinding struct {
	ID       string `json:"check_id"`
	Name     string `json:"check_name"`
	File     string `json:"file_path"`
	Resource string `json:"resource"`
}

// runCheckov scans every template under dir in one process (checkov takes
// seconds to start) and returns its report.
func runCheckov(t *testing.T, dir string) checkovReport {
	t.Helper()
	bin := venvTool(t, "GANTRY_CHECKOV", ".venv-checkov", "checkov", "scripts/venv checkov")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	// --skip-download: checkov would otherwise fetch guidelines from its
	// vendor's API; the test reaches no network.
	cmd := exec.CommandContext(ctx, bin, "--directory", dir, "--framework", "cloudformation",
		"--output", "json", "--quiet", "--compact", "--skip-download")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	// Exit 1 means failed checks, which the report lists.
	var exit *exec.ExitError
	if err != nil && (!errors.As(err, &exit) || exit.ExitCode() != 1) {
		t.Fatalf("running checkov: %v\n%s", err, stderr.String())
	}
	var rep checkovReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("reading checkov's report: %v\nstdout: %.2000s\nstderr: %.2000s", err, stdout.String(), stderr.String())
	}
	if rep.Summary.ParsingErrors > 0 {
		t.Fatalf("checkov could not parse %d templates", rep.Summary.ParsingErrors)
	}
	return rep
}

func readAllowList(t *testing.T) []allowedCheck {
	t.Helper()
	data, err := os.ReadFile(checkovAllowFile)
	if err != nil {
		t.Fatal(err)
	}
	var allow []allowedCheck
	if err := json.Unmarshal(data, &allow); err != nil {
		t.Fatalf("%s: %v", checkovAllowFile, err)
	}
	return allow
}

// TestCheckov runs the pinned checkov over every template TestGolden
// renders and fails on any failed check that is not in checkovAllowFile,
// on an allow-listed check of a forbidden kind, and on an entry that no
// longer fails (so the list cannot go stale).
func TestCheckov(t *testing.T) {
	dir := t.TempDir()
	files := writeTemplates(t, filepath.Join(dir, "rendered"))
	control := filepath.Join(dir, "control", "control.template.json")
	if err := os.MkdirAll(filepath.Dir(control), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(control, []byte(controlTemplate), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := runCheckov(t, dir)
	t.Logf("checkov %s: %d templates, %d resources, %d passed, %d failed",
		rep.Summary.CheckovVersion, len(files)+1, rep.Summary.ResourceCount, rep.Summary.Passed, rep.Summary.Failed)

	allow := readAllowList(t)
	allowed := map[string]allowedCheck{}
	for _, a := range allow {
		if a.ID == "" || a.Reason == "" {
			t.Errorf("%s: every entry needs an id and a reason: %+v", checkovAllowFile, a)
		}
		if forbidden(a.Name) {
			t.Errorf("%s: %s (%s) is of a kind no template may fail; fix the template instead", checkovAllowFile, a.ID, a.Name)
		}
		allowed[a.ID] = a
	}

	controlHits := map[string]bool{}
	seen := map[string]bool{}
	var bad []string
	for _, f := range rep.Results.Failed {
		resource := f.Resource[strings.LastIndexByte(f.Resource, '.')+1:]
		if strings.HasPrefix(filepath.ToSlash(f.File), "/control/") {
			if forbidden(f.Name) {
				controlHits[resource] = true
			}
			continue
		}
		seen[f.ID] = true
		a, ok := allowed[f.ID]
		switch {
		case !ok:
			bad = append(bad, fmt.Sprintf("%s %s: %s %s", f.File, f.Resource, f.ID, f.Name))
		case a.Name != f.Name:
			t.Errorf("%s: %s is %q in checkov %s, not %q", checkovAllowFile, f.ID, f.Name, rep.Summary.CheckovVersion, a.Name)
		}
	}
	slices.Sort(bad)
	if len(bad) > 0 {
		t.Errorf("checkov failed %d checks that %s does not allow (fix the template, or add the check with its reason):\n%s",
			len(bad), checkovAllowFile, strings.Join(bad, "\n"))
	}
	for _, id := range slices.Sorted(maps.Keys(allowed)) {
		if !seen[id] {
			t.Errorf("%s allows %s, which no template fails any more; remove it", checkovAllowFile, id)
		}
	}
	for _, r := range []string{"SshFromAnywhere", "LogsForever", "AdminPolicy", "PlainBucket"} {
		if !controlHits[r] {
			t.Errorf("control resource %s failed no check of a forbidden kind: the test no longer reads checkov's findings", r)
		}
	}
	checkSecurityDoc(t, allow, rep.Summary.CheckovVersion)
}

// securityDoc is the page that shows the allow list, between these markers.
const (
	securityDoc      = "docs/security.md"
	allowBeginMarker = "<!-- checkov-allow: generated by go test ./pkg/render -run TestCheckov -update -->"
	allowEndMarker   = "<!-- /checkov-allow -->"
)

// checkSecurityDoc compares the allow list part of docs/security.md with
// the list, or rewrites it with -update.
func checkSecurityDoc(t *testing.T, allow []allowedCheck, version string) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\nchecked with checkov %s\n\n| check | what checkov asks | why gantry's templates fail it |\n|---|---|---|\n", allowBeginMarker, version)
	for _, a := range allow {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", a.ID, a.Name, a.Reason)
	}
	b.WriteString("\n" + allowEndMarker)
	want := b.String()

	path := filepath.Join(repoRoot(t), filepath.FromSlash(securityDoc))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	start, end := strings.Index(doc, allowBeginMarker), strings.Index(doc, allowEndMarker)
	if start < 0 || end < start {
		t.Fatalf("%s has no allow list between %q and %q", securityDoc, allowBeginMarker, allowEndMarker)
	}
	got := doc[start : end+len(allowEndMarker)]
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(doc[:start]+want+doc[end+len(allowEndMarker):]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s's allow list is out of date; run go test ./pkg/render -run TestCheckov -update\nwant:\n%s", securityDoc, want)
}

// TestCheckovPin keeps the requirements file's checkov the one the docs
// name, without running checkov.
func TestCheckovPin(t *testing.T) {
	f, err := os.Open(filepath.Join(repoRoot(t), "scripts", "requirements-checkov.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var version string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "checkov=="); ok {
			version = v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if version == "" {
		t.Fatal("scripts/requirements-checkov.txt pins no checkov==VERSION")
	}
	doc, err := os.ReadFile(filepath.Join(repoRoot(t), filepath.FromSlash(securityDoc)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "checked with checkov "+version+"\n") {
		t.Errorf("%s does not say it was checked with checkov %s, the pinned version", securityDoc, version)
	}
}
