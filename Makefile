# Two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo
DEB_PACKAGES := pkg-config perl libssl-dev libpq-dev libsqlite3-dev openssl ca-certificates scep
CONFIG ?= mdm.toml

.PHONY: run test bench deps build lint

## Installs the Debian packages the build and tests need (skipped when already present).
deps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	fi

build: deps
	$(CARGO) build --release --bin mdm

## Builds, writes dev certificates and mdm.toml if absent, serves on embedded SQLite.
run: build
	./target/release/mdm --config $(CONFIG) init --dir certs --hostname localhost
	./target/release/mdm --config $(CONFIG) serve

## The whole test suite: unit tests, end-to-end tests on SQLite and PostgreSQL.
test: deps
	@log=$$(mktemp); set -o pipefail; \
	$(CARGO) test --workspace --all-targets -- --test-threads=4 2>&1 | tee $$log; rc=$$?; \
	awk '/^test result:/ { p += $$4; f += $$6 } END { printf "%d passed, %d failed\n", p, f }' $$log; \
	rm -f $$log; exit $$rc

## Benchmarks (figures, not pass/fail).
## Builds the server and the benchmark in one cargo invocation (one feature resolution, no
## rebuild when the benchmark starts the server), then runs it.
bench: deps
	$(CARGO) build --release --bin mdm --example bench
	./target/release/examples/bench

lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings
