#!/usr/bin/env bash
# Everything a fresh machine needs: Python venv with podscope + dev tools, Debian packages,
# the Kubernetes build (cached by Go), images, and a running local cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  # Debian's python3 needs python3-venv for this; install it when the first try fails.
  python3 -m venv .venv 2>/dev/null || {
    rm -rf .venv
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv
    python3 -m venv .venv
  }
fi
# jq: bench/inventory.py pipes `kubectl get pods -A -o json` through it.
command -v jq >/dev/null || {
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q jq
}
.venv/bin/pip install -q --disable-pip-version-check -e '.[dev]'
# Debian packages by the command they provide:
# tinyproxy: the HTTP CONNECT proxy tests/e2e/test_credentials.py sends podscope through;
# zsh, fish: tests/e2e/test_completion.py runs the completion scripts in each shell;
# docker-registry, skopeo, htpasswd: the local image registries (devcluster/registry.py), the
# client that pushes into them, and the private repository's bcrypt password file.
missing=""
for pair in tinyproxy:tinyproxy zsh:zsh fish:fish docker-registry:docker-registry \
  skopeo:skopeo htpasswd:apache2-utils; do
  command -v "${pair%%:*}" >/dev/null || missing="$missing ${pair##*:}"
done
if [ -n "$missing" ]; then
  # shellcheck disable=SC2086
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing
fi
.venv/bin/python -m devcluster up
