# gantry's build, test and demo entry points. `make test` is what CI runs
# (.ci/run); `make demo` is the first thing to try on a fresh machine.

SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
FUZZTIME ?= 30s

.PHONY: all build test vet fmt-check go-test py-test venv demo fuzz fuzz-all gobench schema docs release-check clean

all: build

## build: compile ./gantry with the version stamped in
build:
	go build -trimpath -ldflags '$(LDFLAGS)' -o gantry ./cmd/gantry

## venv: the pinned Python tools (cfn-lint, moto) in .venv, checkov in .venv-checkov
venv:
	scripts/venv
	scripts/venv checkov

## test: everything CI runs: venv, go vet, gofmt, all Go and Python tests
test: venv vet fmt-check py-test go-test

vet:
	go vet ./...

## fmt-check: fail listing any file gofmt would change
fmt-check:
	@unformatted="$$(gofmt -l $$(find . -name '*.go' -not -path './.git/*' -not -path '*/.venv/*' -not -path './.venv-checkov/*' -not -path './dist/*'))"; \
	if [[ -n "$$unformatted" ]]; then \
		echo "gofmt would change these files (run gofmt -w on them):"; \
		echo "$$unformatted"; \
		exit 1; \
	fi

go-test:
	go test -count=1 ./...

## py-test: the Python tests (the local AWS emulator's), in the pinned venv
py-test: venv
	.venv/bin/python -m unittest discover -s e2e/emulator

## demo: set up, then lint and render the examples and show the templates
demo:
	scripts/demo

## fuzz: run the descriptor loader's fuzz target for FUZZTIME (default 30s)
fuzz:
	go test ./pkg/descriptor -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)

## fuzz-all: every fuzz target in turn, FUZZTIME each (default 10m here), one
## worker (the cores are shared); stops at the first failure. Minimizing a new
## input is bounded to 10s: unbounded, FuzzLoad spends its whole time there.
## See docs/testing.md.
FUZZ_TARGETS := pkg/descriptor:FuzzParse pkg/descriptor:FuzzPlaceholder \
	pkg/gate/flagd:FuzzLoad pkg/gate/flagd:FuzzEvaluate pkg/lint:FuzzCheck pkg/render:FuzzRender
# 10m unless FUZZTIME came from the command line or the environment.
fuzz-all: FUZZTIME := $(if $(filter file,$(origin FUZZTIME)),10m,$(FUZZTIME))
fuzz-all:
	for t in $(FUZZ_TARGETS); do \
		pkg="$${t%%:*}" name="$${t##*:}"; \
		echo "== $$name in ./$$pkg for $(FUZZTIME)"; \
		go test "./$$pkg" -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 10s -parallel 1; \
	done

## gobench: the Go benchmarks of the hot paths (load, lint, render), with allocations
gobench:
	go test -run '^$$' -bench . -benchmem ./pkg/descriptor ./pkg/lint ./pkg/render

## schema: regenerate docs/schema.json from the Go types
schema:
	go test ./pkg/schema -run TestCommittedSchemaIsCurrent -update

## docs: regenerate docs/cli.md from the command tree (the commands' help)
docs:
	go test ./pkg/cmd/root -run TestCommittedDocsAreCurrent -update

## release-check: validate goreleaser.yaml (needs goreleaser on PATH)
release-check:
	goreleaser check

clean:
	rm -rf gantry dist out

## bench: the benchmarks of issues 5 and 15, the fleet under CloudFormation's quotas included (bench/run; about 15 minutes, not in CI; see docs/benchmarks.md)
.PHONY: bench
bench:
	bench/run
