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
