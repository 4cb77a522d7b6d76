# Reviewer tools (issue 9): cost report, architecture diagram, workflow lint.
# Included by the root Makefile; GO and CDK come from there.
GO ?= go
ACTIONLINT_VERSION ?= v1.7.12
TOOLS_BIN := $(CURDIR)/bin
ACTIONLINT := $(TOOLS_BIN)/actionlint-$(ACTIONLINT_VERSION)
DIAGRAM_STAGE ?= $(or $(STAGE),staging)
COST_BASE ?= base/cdk.out
# PROFILE=<name|file.json> projects every stage with one usage profile
# (tools/cost/profiles); without it each stage uses the profile of its name.
COST_FLAGS = $(if $(PROFILE),--profile $(PROFILE),) $(if $(STAGE),--stage $(STAGE),)

LINT_TARGETS += lint-workflows

.PHONY: cost cost-json cost-diff netbytes diagram lint-workflows test-tools

# cdk.out is synthesized on demand: the reports read it, they never deploy.
define need_cdk_out
	@test -f cdk.out/manifest.json || $(MAKE) synth
endef

netbytes: ## measure the GPU worker's backend bytes per job and idle hour at production intervals (about 70 s; the cost profiles' NAT fields must match)
	MEASURE_NETBYTES=1 $(GO) test -count=1 -run TestJobNetworkBytes -v ./worker/internal/cli/

cost: ## fixed monthly cost at idle per stage and stack of cdk.out, usage prices, and the usage projection (PROFILE=production, STAGE=...)
	$(need_cdk_out)
	$(GO) run ./tools/cost --cdk-out cdk.out $(COST_FLAGS)

cost-json: ## the cost report and usage projection as JSON (PROFILE=..., STAGE=...)
	$(need_cdk_out)
	$(GO) run ./tools/cost --cdk-out cdk.out --format json $(COST_FLAGS)

cost-diff: ## what cdk.out adds or removes per month compared with COST_BASE (default base/cdk.out), fixed and projected
	$(need_cdk_out)
	$(GO) run ./tools/cost --cdk-out cdk.out --diff $(COST_BASE) $(COST_FLAGS)

diagram: ## regenerate docs/architecture.dot and .svg from cdk.out (DIAGRAM_STAGE, default staging)
	$(need_cdk_out)
	@mkdir -p docs
	$(GO) run ./tools/diagram --cdk-out cdk.out --stage $(DIAGRAM_STAGE) -o docs/architecture.dot
	@command -v dot >/dev/null || { echo "graphviz 'dot' is missing: apt-get install graphviz"; exit 1; }
	dot -Tsvg docs/architecture.dot -o docs/architecture.svg

test-tools: ## tests of tools/ only
	$(GO) test ./tools/...

# actionlint runs shellcheck on run: blocks when shellcheck is on PATH.
lint-workflows: $(ACTIONLINT) ## check .github/workflows with actionlint (+ shellcheck)
	@command -v shellcheck >/dev/null || echo "note: shellcheck not installed, run: blocks are not checked (apt-get install shellcheck)"
	$(ACTIONLINT)

$(ACTIONLINT):
	@mkdir -p $(TOOLS_BIN)
	GOBIN=$(TOOLS_BIN) $(GO) install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)
	mv $(TOOLS_BIN)/actionlint $@
