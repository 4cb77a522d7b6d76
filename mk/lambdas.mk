# Go Lambda handlers (lambdas/). The CDK app builds each one at synth time with
# the same command as lambdas-build; lambdas-test needs mariadb-server (apt) for
# the dbinit tests, which fail instead of skipping when CI=true.
GO ?= go
LAMBDAS := dbinit scaletozero reaper protectionrelease
LAMBDA_OUT ?= dist/lambdas

.PHONY: lambdas-build lambdas-vet lambdas-test

lambdas-build:
	@for l in $(LAMBDAS); do \
	  mkdir -p $(LAMBDA_OUT)/$$l && \
	  GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -tags lambda.norpc -o $(LAMBDA_OUT)/$$l/bootstrap ./lambdas/$$l || exit 1; \
	  echo "built $(LAMBDA_OUT)/$$l/bootstrap"; \
	done

lambdas-vet:
	@unformatted="$$(gofmt -l lambdas)"; if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./lambdas/...

lambdas-test: lambdas-vet
	$(GO) test -count=1 ./lambdas/...
