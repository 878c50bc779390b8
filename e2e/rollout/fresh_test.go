package rollout_test

import (
	"encoding/json"
	"os"
	"testing"
)

// ledger is a descriptor written from the design alone (design.md, "The
// descriptor"), unlike any example: two stages in two accounts, three
// regions (the second stage in two waves, with approval), all three store
// types, host routing, placeholders and secret outputs.
const ledger = `# yaml-language-server: $schema=https://gantry.dev/schema/v1.json
schemaVersion: 1
service: ledger
team: finance-core
description: General ledger API
image: 777788889999.dkr.ecr.eu-west-1.amazonaws.com/ledger
compute:
  cpu: 1024
  memory: 2048
  port: 9000
  healthcheck: /health
  command: ["./ledger", "serve"]
scaling:
  min: 2
  max: 6
  cpuTarget: 70
routing:
  host: ledger.example.com
env:
  LOG_LEVEL: debug
  STAGE: ${stage}
  AWS_REGION_NAME: ${region}
  PGHOST: ${resources.books.host}
  PGPORT: ${resources.books.port}
  PGDATABASE: ${resources.books.database}
  REDIS_URL: ${resources.sessions.url}
  EXPORTS_BUCKET: ${resources.exports.bucket}
secrets:
  PGPASSWORD: ${resources.books.password}
  REDIS_AUTH: ${resources.sessions.auth}
  SIGNING_KEY: secretsmanager:ledger/signing#key
resources:
  books:
    type: postgres
    version: "16"
    class: db.t4g.small
    storage: 20
    backupDays: 3
  sessions:
    type: redis
    class: cache.t4g.micro
    replicas: 0
  exports:
    type: s3
    versioning: false
    expireDays: 30
stages:
  - name: qa
    account: "111122223333"
    regions: [eu-west-1]
  - name: live
    account: "777788889999"
    approval: true
    waves:
      - regions: [us-east-1]
        bake: 15m
      - regions: [ap-southeast-2]
    overrides:
      scaling: {min: 3}
rollout:
  alarms: [ledger-journal-lag]
`

// TestFreshDescriptor takes the ledger descriptor through everything the
// issue's "Done when" asks, with only the design's commands and flags: a
// deploy without approval holds (exit 3) after qa; with --approve it
// finishes; a rerun is unchanged everywhere; a second version updates
// every region; status shows it.
func TestFreshDescriptor(t *testing.T) {
	e := newEnv(t)
	file := e.writeDescriptor("ledger", ledger)
	e.mustRun(0, "lint", file)
	e.bootstrap(file)
	c := newCloud(t)
	p := loadPlan(t, file)

	res, _ := e.deploy(3, file, "1.0.0", "--bake", "0s")
	if res.Result != "held" {
		t.Errorf("result %q, want held (live needs approval)", res.Result)
	}
	wantPlanRegions(t, res, p)
	wantStatuses(t, res, map[string]string{"qa/eu-west-1": "deployed", "*": "held"})
	for _, rr := range res.Regions {
		if rr.Stage == "live" && rr.Error == "" {
			t.Errorf("%s is held without a reason", rr.Key())
		}
	}

	res, _ = e.deploy(0, file, "1.0.0", "--bake", "0s", "--approve", "live")
	wantPlanRegions(t, res, p)
	wantStatuses(t, res, map[string]string{"qa/eu-west-1": "unchanged", "*": "deployed"})

	e.proxy.ResetCounts()
	res, _ = e.deploy(0, file, "1.0.0", "--bake", "0s", "--approve", "live")
	wantStatuses(t, res, map[string]string{"*": "unchanged"})
	if n := e.proxy.Counts()["cloudformation:CreateChangeSet"]; n != 0 {
		t.Errorf("the unchanged rerun made %d change sets", n)
	}

	res, _ = e.deploy(0, file, "2.0.0", "--bake", "0s", "--approve", "live")
	wantStatuses(t, res, map[string]string{"*": "deployed"})
	for _, s := range p.Steps() {
		app := c.mustStack(s.Account, s.Region, appStack("ledger", s.Stage))
		data := c.mustStack(s.Account, s.Region, dataStack("ledger", s.Stage))
		if app.Tags["gantry:version"] != "2.0.0" || app.Parameters["Version"] != "2.0.0" || app.Status != "UPDATE_COMPLETE" {
			t.Errorf("%s/%s (account %s): app stack %s, version tag %q, Version %q; want UPDATE_COMPLETE 2.0.0",
				s.Stage, s.Region, s.Account, app.Status, app.Tags["gantry:version"], app.Parameters["Version"])
		}
		if data.Status != "CREATE_COMPLETE" {
			t.Errorf("%s/%s: data stack %s, want CREATE_COMPLETE (never updated)", s.Stage, s.Region, data.Status)
		}
	}

	t.Run("status shows it", func(t *testing.T) {
		r := gantryAt(t, e.url, "status", file, "--output", "json")
		if r.Code != 0 {
			t.Fatalf("want exit 0\n%s", r)
		}
		var out struct {
			Service string `json:"service"`
			Stages  []struct {
				Stage   string `json:"stage"`
				Regions []struct {
					Region  string  `json:"region"`
					Version *string `json:"version"`
				} `json:"regions"`
			} `json:"stages"`
		}
		if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
			t.Fatalf("status --output json: %v\n%s", err, r.Stdout)
		}
		got := map[string]string{}
		for _, st := range out.Stages {
			for _, reg := range st.Regions {
				v := "<none>"
				if reg.Version != nil {
					v = *reg.Version
				}
				got[st.Stage+"/"+reg.Region] = v
			}
		}
		for _, s := range p.Steps() {
			if v := got[s.Stage+"/"+s.Region]; v != "2.0.0" {
				t.Errorf("status shows %s/%s at %q, want 2.0.0 (all: %v)", s.Stage, s.Region, v, got)
			}
		}
		text := gantryAt(t, e.url, "status", file)
		if text.Code != 0 {
			t.Errorf("gantry status (text): want exit 0\n%s", text)
		}
	})
}

func writeFile(path, text string) error { return os.WriteFile(path, []byte(text), 0o644) }
