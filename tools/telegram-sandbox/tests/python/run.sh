#!/usr/bin/env bash
# Runs tests/python (python-telegram-bot, a Bot API client that is not teloxide) against a freshly built
# telegram-sandbox binary on a free port. Creates/updates a venv under ${CARGO_TARGET_DIR:-<repo>/target}.
# Exits non-zero if anything fails.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../../.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
venv="$target/sandbox-pyenv"
requirements="$here/requirements.txt"
fixtures="${FIXTURES:-$repo/../shared/fixtures}"

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if ! cmp -s "$requirements" "$venv/.installed-requirements"; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$venv/.installed-requirements"
fi

# SANDBOX_PREBUILT=1: use the binary already in the target dir (scripts/test.sh builds it with the workspace).
if [ -z "${SANDBOX_PREBUILT:-}" ]; then
    cargo build --quiet --manifest-path "$repo/Cargo.toml" -p telegram-sandbox --bin telegram-sandbox
fi

work="$(mktemp -d)"
token="123456789:AAH_sandbox_python_test_token_0123"
"$target/debug/telegram-sandbox" --listen 127.0.0.1:0 --token "$token" \
    >"$work/stdout" 2>"$work/stderr" &
pid=$!
cleanup() {
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

line=""
for _ in $(seq 1 100); do
    line="$(head -n 1 "$work/stdout" 2>/dev/null || true)"
    [ -n "$line" ] && break
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "telegram-sandbox exited early:" >&2
        cat "$work/stderr" >&2
        exit 1
    fi
    sleep 0.1
done
url="${line##* }"
case "$url" in
    http://*) ;;
    *) echo "telegram-sandbox did not print its URL (got: '$line')" >&2; cat "$work/stderr" >&2; exit 1 ;;
esac

status=0
SANDBOX_URL="$url" SANDBOX_TOKEN="$token" FIXTURES="$fixtures" PYTHONDONTWRITEBYTECODE=1 \
    "$venv/bin/python" -m pytest -q -p no:cacheprovider "$here" || status=$?
if [ "$status" -ne 0 ]; then
    echo "--- telegram-sandbox log ---" >&2
    cat "$work/stderr" >&2
fi
exit "$status"
