package root

import (
	"bytes"

	"github.com/gantryhq/gantry/internal/clidoc"
	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
)

// docsHeader is the hand-written part of docs/cli.md: what holds for every
// command. The rest of the file is generated from the command tree.
const docsHeader = "Every command prints data to stdout and messages, progress and errors to\n" +
	"stderr, so `gantry ... > file` and pipes get only the data. Colour is used\n" +
	"only on a terminal and never when `NO_COLOR` is set. Every command takes\n" +
	"`--help`, with examples; this file is generated from the same text.\n" +
	`
## Exit codes

The same for every command; a pipeline can branch on them.

| code | meaning |
|---|---|
| 0 | success (lint: no error findings; warnings allowed) |
| 1 | lint findings of error severity, or a failed rollout |
| 2 | bad usage or invalid input: an unknown command or flag, a missing argument, a bad ` + "`--output`" + `, a descriptor that does not load or has lint errors (render), no descriptor found (lint), a file init would overwrite; or a set-up problem found before any AWS work (no credentials, an expired SSO session, an unknown profile, an unreachable endpoint, a deploy role that cannot be assumed, a missing state table), said once with the next step: see [deploying.md](deploying.md#when-the-set-up-is-wrong) |
| 3 | a rollout held (closed gate, halt flag, missing approval): run it again to resume |
| 4 | ` + "`plan --exit-code`" + ` only: the plan was made and there are changes to deploy (no error uses 4) |
| 70 | an internal error: gantry crashed (a bug, never a verdict on the input); it prints what to attach to a bug report |
| 130, 143 | ended by Ctrl-C (SIGINT) or SIGTERM: ` + "`lint`, `render`, `flags eval`, `gates`" + ` and the other local commands stop within a second; the commands that talk to AWS (` + "`deploy`, `rollback`, `bootstrap`, `plan`, `unlock`, `status`" + `) finish their clean-up first (a lock, a journal, change sets), unless a second signal comes |

## Output formats

Every command that prints structured output takes ` + "`--output`/`-o`" + `:
` + "`text`" + ` (the default, for people), ` + "`json`" + `, and where they apply
` + "`markdown`" + ` (plan), ` + "`sarif`" + ` and ` + "`github`" + ` (lint). ` + "`lint`" + ` and ` + "`flags eval`" + `
also take ` + "`--format`" + ` as an alias of ` + "`--output`" + `, for scripts written before.

` + "`--output json`" + ` is always one JSON document on one line, ending in a
newline, on stdout: read it with ` + "`jq`" + ` or one line read. Each command's
help below gives its shape. ` + "`gantry schema`" + ` is the exception: it prints the
JSON Schema file, indented. ` + "`render --format json|yaml`" + ` is the format of the
templates it writes, not an output format, and ` + "`render -o`" + ` is ` + "`--out`" + `.

## Global flags

Every command takes the AWS flags ` + "`--profile`, `--endpoint-url`" + ` (or
` + "`AWS_ENDPOINT_URL`), `--role-name` (default `gantry-deploy`) and `--state-table`" + `
(default ` + "`gantry-state`" + `), used by the commands that talk to AWS, and the
logging flags below. ` + "`deploy`, `gates` and `flags eval`" + ` take
` + "`--flags file:PATH|launchdarkly` (or `GANTRY_FLAGS`)" + `, described in
[flags.md](flags.md). The rollout (` + "`bootstrap`, `plan`, `deploy`, `status`,\n`rollback`, `unlock`" + `) is described in [deploying.md](deploying.md), the
lint rules in [rules.md](rules.md), and what ` + "`render`" + ` writes in
[rendering.md](rendering.md).

## Logs

Every command takes ` + "`--log-file PATH` (or `GANTRY_LOG_FILE`) and\n`--log-level debug|info|warn|error` (or `GANTRY_LOG_LEVEL`, default `info`)" + `.
With a file, gantry appends one JSON object per line (` + "`time`, `level`, `msg`,\n`command`, `pid`" + ` and the attributes of the event: stage, region, stack,
rollout ID, gate decisions, state writes). ` + "`--log-file -`" + ` writes them to
stderr. Without a file nothing is logged: the terminal shows progress, and
` + "`--output json`" + ` stays a single document on stdout. Logs never contain secret
values (see [security.md](security.md)).

` + "```sh\nGANTRY_LOG_FILE=gantry.log gantry deploy payments.sd.yaml --version 1.4.2\njq -c 'select(.region == \"eu-west-1\")' gantry.log\n```"

// Docs returns docs/cli.md: the header above and the reference of every
// command, generated from the tree New builds. Flag defaults read from the
// environment (GANTRY_LOG_FILE, GANTRY_LOG_LEVEL) show in it, so callers
// clear those first.
func Docs() ([]byte, error) {
	f, _, _ := cmdutil.TestFactory("dev")
	var b bytes.Buffer
	if err := clidoc.Write(&b, New(f), "The gantry command line", docsHeader); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
