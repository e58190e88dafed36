# harden's developer entry points. `make test` is what CI runs (.ci/run).
GO ?= go
PKGS := ./...
DEMO := testdata/examples/python-flask/Dockerfile

.PHONY: all build install test lint demo bench fuzz-short e2e clean

all: lint test build

build:
	$(GO) build -o bin/harden ./cmd/harden

install:
	$(GO) install ./cmd/harden

# Unit, golden, property and CLI tests, plus the BuildKit end-to-end tests,
# which skip themselves (with the reason) when not root or runc is missing.
test:
	$(GO) test $(PKGS)

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)

# Show what harden does to the seed's naive Python Dockerfile.
demo:
	$(GO) run ./cmd/harden fix --diff $(DEMO)

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./transform ./dockerfile

fuzz-short:
	$(GO) test -run '^$$' -fuzz FuzzFix -fuzztime 60s ./transform

# Only the BuildKit end-to-end tests; scripts/e2e-setup.sh installs runc and
# builds buildkitd first.
e2e:
	./scripts/e2e-setup.sh
	$(GO) test -count=1 -run 'E2E' -v ./...

clean:
	rm -rf bin
