# GPU worker daemon (worker/): static binaries for the GPU AMI and its tests.
GO ?= go
WORKER_ARCHES := amd64 arm64

.PHONY: worker worker-test worker-bench
worker: $(foreach a,$(WORKER_ARCHES),dist/worker-linux-$(a))

dist/worker-linux-%: FORCE_WORKER
	@mkdir -p dist
	GO=$(GO) scripts/build-worker.sh $* $@

.PHONY: FORCE_WORKER
FORCE_WORKER:

worker-test:
	$(GO) test -race ./worker/...

worker-bench:
	$(GO) test -bench . -run '^$$' ./worker/...
