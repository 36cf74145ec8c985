#!/usr/bin/env bash
# Creates (once) the Python venv with the official OpenAI client that tests/e2e/openai_api.rs drives against
# the gateway's HTTP API, and prints the path of its python. Idempotent: reinstalls only when
# requirements.txt changed. The venv lives in ~/.cache (override with OPENAI_VENV), outside the worktree.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${OPENAI_VENV:-$HOME/.cache/mediabot-openai-venv}"
requirements="$here/requirements.txt"

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" >&2
fi
if ! cmp -s "$requirements" "$venv/.installed-requirements"; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
    cp "$requirements" "$venv/.installed-requirements"
fi
echo "$venv/bin/python"
