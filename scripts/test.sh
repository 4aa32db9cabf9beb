#!/usr/bin/env bash
# The whole test suite: prerequisites, formatting, lints, unit and integration tests (C programs
# natively and under Veil, real Debian programs, bad-input tests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-deps.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo build --workspace
cargo test --workspace --no-fail-fast
# Again with every process in an address space of its own (process.address_space =
# "per-process"): the programs, real programs and shells must pass under both placement policies.
VEIL_TEST_ADDRESS_SPACE=per-process cargo test --no-fail-fast \
    --test c_programs --test real_programs --test shells
