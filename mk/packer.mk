# GPU AMI (packer/). ami-validate needs no AWS; ami-build needs Packer >= 1.9,
# AWS credentials and an instance profile that can read the models bucket.
GO ?= go
PACKER ?= packer
PACKER_DIR := packer
# make ami-build STAGE=production FLEET=gpu-default builds from that fleet's var file.
FLEET ?= gpu-default
PACKER_VAR_FILE ?= $(PACKER_DIR)/vars/$(or $(STAGE),staging)-$(FLEET).pkrvars.hcl
WORKER_VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo unknown)

.PHONY: ami-generate ami-validate ami-build

# Regenerate the units and boot locals from bootcontract (commit the result).
ami-generate:
	$(GO) run ./packer/cmd/genunits -dir $(PACKER_DIR)

# CI-style: CI=true turns a missing shellcheck/systemd-analyze/jq into a failure.
ami-validate:
	@unformatted="$$(gofmt -l $(PACKER_DIR))"; if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./packer/...
	CI=true $(GO) test -count=1 ./packer/...
	@if command -v $(PACKER) >/dev/null 2>&1; then $(PACKER) fmt -check -recursive $(PACKER_DIR); else echo "packer not installed: skipped packer fmt -check"; fi

ami-build: ami-validate
	$(MAKE) worker
	@test -s dist/worker-linux-amd64 || { echo "dist/worker-linux-amd64 missing after make worker"; exit 1; }
	$(PACKER) init $(PACKER_DIR)
	$(PACKER) validate -var-file=$(PACKER_VAR_FILE) -var worker_version=$(WORKER_VERSION) $(PACKER_DIR)
	$(PACKER) build -var-file=$(PACKER_VAR_FILE) -var worker_version=$(WORKER_VERSION) $(PACKER_DIR)
	$(PACKER_DIR)/scripts/publish-ami-id.sh --manifest $(PACKER_DIR)/manifest.json
