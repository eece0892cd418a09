# Snapdesk. `make run` and `make test` are all a fresh machine needs.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X github.com/snapdesk/snapdesk/internal/app.Version=$(VERSION)

.PHONY: run test bench build generate check vendor-htmx vendor-axe stop-db clean

## run: the app with the Atlas simulator and a private Postgres in .data/, at a printed URL
run:
	$(GO) run -ldflags "$(LDFLAGS)" ./cmd/devserver

## test: every test, race detector on, against a real Postgres (started when DATABASE_URL is unset)
test:
	$(GO) test -race -timeout 30m ./...

## bench: the benchmarks whose figures are in the README
bench:
	$(GO) test -run '^$$' -bench . -benchmem -timeout 30m ./...

## build: static binaries in bin/: the server and the snapdesk command-line client
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/server ./cmd/server
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/snapdesk ./cmd/snapdesk

## generate: regenerate templ components (the generated files are committed)
generate:
	$(GO) tool templ generate

## check: formatting, vet, and generated code up to date
check: generate
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...
	@git diff --exit-code -- '*_templ.go' || (echo "templ generate changed files: commit them"; exit 1)

## vendor-htmx: fetch htmx and its SSE extension from the npm registry into static/vendor
vendor-htmx:
	./scripts/vendor-htmx.sh

## vendor-axe: fetch axe-core (accessibility rules for the browser tests) from the npm registry into internal/browsertest/axe
vendor-axe:
	./scripts/vendor-axe.sh

## stop-db: stop the private Postgres clusters the tests and `make run` leave in .data/
stop-db:
	$(GO) run ./cmd/devserver stop-db

clean: stop-db
	rm -rf .data bin
