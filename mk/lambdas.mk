# Go Lambda handlers (lambdas/). lambdas-build and synthesis build them with
# one command (internal/lambdabuild, via tools/lambdabuild);
# lambdas-test needs mariadb-server (apt) for the dbinit tests, which fail
# instead of skipping when CI=true.
GO ?= go
LAMBDAS := $(notdir $(wildcard lambdas/cmd/*)) # every handler: lambdas/cmd/<name> starts lambdas/<name>
LAMBDA_OUT ?= dist/lambdas

.PHONY: lambdas-build lambdas-vet lambdas-test

lambdas-build: ## build every Lambda handler into $(LAMBDA_OUT)/<name>/bootstrap, with synthesis's own build command
	$(GO) run ./tools/lambdabuild -o $(LAMBDA_OUT) $(addprefix ./lambdas/cmd/,$(LAMBDAS))

lambdas-vet:
	@unformatted="$$(gofmt -l lambdas)"; if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./lambdas/...

lambdas-test: lambdas-vet ## the handlers' tests and their build (internal/lambdabuild: static binaries for the functions' architecture)
	$(GO) test -count=1 ./lambdas/... ./internal/lambdabuild
