# Two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo
DEB_PACKAGES := pkg-config perl libssl-dev libpq-dev libsqlite3-dev openssl ca-certificates scep xmlsec1
CONFIG ?= mdm.toml

.PHONY: run test bench deps build lint fuzz

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

## Guardrails (not part of `make test`): formatting, clippy with warnings as errors, and no
## server module using the simulator (only the binary's `sim` command and tests may).
lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	@if grep -rn --include='*.rs' mdm_sim src | grep -v -e '^src/main.rs:' -e '^src/sim_cli.rs:' -e '/tests.rs:'; then \
	  echo "lint: server modules must not use mdm-sim (only the binary's sim command, src/sim_cli.rs, and tests may)"; exit 1; fi
	@echo "lint: clean"

## Fuzzing (libFuzzer through cargo-fuzz): each target for FUZZ_SECONDS (default 600). Installs
## cargo-fuzz if absent; uses a nightly toolchain when one is installed, else the stable one with
## RUSTC_BOOTSTRAP=1. New inputs go to fuzz/corpus/<target>-new (not checked in); a crash stops
## the run with its input in fuzz/artifacts/<target>/. `make test` never needs any of this.
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?= checkin report mdm_signature proxy_header scep_request scep_cert_rep enroll_attributes profile_upload templates
fuzz: deps
	@command -v cargo-fuzz >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked
	@set -o pipefail; \
	if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then tc=+nightly; else tc=; export RUSTC_BOOTSTRAP=1; fi; \
	cd fuzz && for t in $(FUZZ_TARGETS); do \
	  mkdir -p corpus/$$t-new; \
	  cargo $$tc fuzz run $$t corpus/$$t-new corpus/$$t -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=4096 -print_final_stats=1 2>&1 \
	    | tee /tmp/mdm-fuzz-$$t.log | grep -E '^(Done|==|SUMMARY|stat::number_of_executed_units)' || exit 1; \
	  echo "fuzz $$t: $$(grep -h 'stat::number_of_executed_units' /tmp/mdm-fuzz-$$t.log | awk '{print $$2}') executions in $(FUZZ_SECONDS) s, no crash"; \
	done
