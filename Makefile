# Every target runs offline except `tools` (npm registry), `diff`, `preflight` and `deploy` (AWS).
SHELL := /bin/bash
GO ?= go
TOOLS := $(CURDIR)/.tools/node_modules/.bin
CDK := $(TOOLS)/cdk
# The pinned Node 22 from .tools runs both the CDK CLI and the jsii runtime.
export PATH := $(TOOLS):$(PATH)
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
STAGE ?=
# CI passes CDK_APPROVAL=never: the GitHub environment's reviewers are the gate there.
CDK_APPROVAL ?= broadening
STAGE_CTX := $(if $(STAGE),-c stage=$(STAGE),)
# make deploy only: STACKS="network data" deploys some stacks of STAGE (and
# what they depend on, as cdk deploy does); CDK_CONTEXT adds -c key=value.
STACKS ?=
CDK_CONTEXT ?=
DEPLOY_SELECTION = $(if $(strip $(STACKS)),$(foreach s,$(STACKS),'$(STAGE)/$(s)'),'$(STAGE)/*')
PREFLIGHT = $(GO) run ./tools/preflight --cdk-out cdk.out --stage $(STAGE)$(if $(strip $(STACKS)), --stacks "$(STACKS)",)

# mk/*.mk add their targets (and append to LINT_TARGETS) before the rules below read it.
.DEFAULT_GOAL := all
LINT_TARGETS :=
-include mk/*.mk
.PHONY: all tools synth test test-race snapshot lint fmt-check vet diff preflight deploy deploy-ci names clean help

all: synth test

help: ## list targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | sort

tools: $(CDK) ## install the pinned CDK CLI and Node 22 into .tools/
$(CDK): .tools/package.json .tools/package-lock.json
	cd .tools && npm ci --no-audit --no-fund
	@touch $(CDK)

synth: tools ## synthesize every stage (or STAGE=...) into cdk.out, no AWS credentials needed
	$(CDK) synth --quiet $(STAGE_CTX)
	@echo "cdk.out written: $$(ls -d cdk.out/assembly-* | xargs -n1 basename | tr '\n' ' ')"

test: tools ## run every test (Go unit, CDK assertions, cdk-nag, cfn-lint, snapshots; the worker with -race)
	$(GO) test $$($(GO) list ./... | grep -v '/worker/')
	@# -race needs cgo (a C compiler); without one the worker's tests still run,
	@# with a notice, except under CI=true.
	@if [ "$$($(GO) env CGO_ENABLED)" = 1 ]; then \
	  echo "$(GO) test -race ./worker/..."; $(GO) test -race ./worker/...; \
	elif [ "$$CI" = true ]; then \
	  echo "CI=true: go test -race needs cgo and a C compiler (apt-get install gcc)" >&2; exit 1; \
	else \
	  echo "notice: no C compiler for cgo, so the worker's tests run without -race"; $(GO) test ./worker/...; \
	fi

snapshot: tools ## rewrite the golden templates in test/testdata after a reviewed change
	UPDATE_SNAPSHOTS=1 $(GO) test ./test/ -run TestSnapshots -count=1

lint: fmt-check vet $(LINT_TARGETS) ## gofmt, go vet and the linters of mk/*.mk

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

names: ## list the CI/CD names of STAGE as synthesized (cdk.out/names-<stage>.json) and check them against the contract
	@test -n "$(STAGE)" || (echo "usage: make names STAGE=staging|production" && exit 2)
	@test -f cdk.out/manifest.json || $(MAKE) synth
	$(GO) run ./tools/names --cdk-out cdk.out --stage $(STAGE)

deploy-ci: tools ## (account admin, once per stage) the role GitHub Actions deploys STAGE=... with: stack <app>-<stage>-ci
	@test -n "$(STAGE)" || (echo "usage: make deploy-ci STAGE=staging|production" && exit 2)
	$(CDK) deploy $(STAGE_CTX) 'ci-$(STAGE)/*' --require-approval $(CDK_APPROVAL)

diff: tools ## cdk diff STAGE=... against the deployed stacks (needs AWS credentials)
	@test -n "$(STAGE)" || (echo "usage: make diff STAGE=staging|production" && exit 2)
	$(CDK) diff $(STAGE_CTX) '$(STAGE)/*'

preflight: ## check that AWS has what cdk.out's STAGE=... (STACKS=...) needs at deploy time: AMI and bootstrap SSM parameters, ECR images (needs AWS credentials)
	@test -n "$(STAGE)" || (echo "usage: make preflight STAGE=staging|production [STACKS=\"network data\"]" && exit 2)
	@grep -qs '"assembly-$(STAGE)"' cdk.out/manifest.json || $(MAKE) synth
	$(PREFLIGHT)

# Synthesize once, check that very cdk.out, then deploy it (--app cdk.out).
deploy: tools ## synth STAGE=..., run the preflight, cdk deploy that cdk.out (STACKS="network data" for some stacks, CDK_CONTEXT='-c k=v'; needs AWS credentials)
	@test -n "$(STAGE)" || (echo "usage: make deploy STAGE=staging|production [STACKS=\"network data\"] [CDK_CONTEXT='-c cluster.servicesStartAtZero=true']" && exit 2)
	$(CDK) synth --quiet --output cdk.out $(STAGE_CTX) $(CDK_CONTEXT)
	$(PREFLIGHT)
	$(CDK) deploy --app cdk.out $(DEPLOY_SELECTION) --require-approval $(CDK_APPROVAL)

clean:
	rm -rf cdk.out dist

