# netdep's developer entry points. Every target is what CI runs too.
GO      ?= go
BIN     ?= bin/netdep
EXAMPLES := $(patsubst examples/%/,%,$(sort $(dir $(wildcard examples/*/))))
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X github.com/netdep/netdep/cmd/netdep/app.version=$(VERSION) -X github.com/netdep/netdep/cmd/netdep/app.commit=$(COMMIT)

.PHONY: all build test lint golden examples bench e2e fuzz clean

all: lint test

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/netdep

test:
	$(GO) test -race -count=1 ./...

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Regenerate every golden file (review the diff before committing).
golden:
	$(GO) test ./... -run . -update

# Regenerate each example's committed tree from its dependency files.
examples:
	@for ex in $(EXAMPLES); do \
		echo "examples/$$ex"; \
		$(GO) run ./cmd/netdep generate examples/$$ex --out examples/$$ex/netpol --quiet || exit 1; \
	done

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin
