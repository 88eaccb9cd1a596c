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
# The HTTP CONNECT proxy tests/e2e/test_credentials.py sends podscope through.
command -v tinyproxy >/dev/null || {
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q tinyproxy
}
.venv/bin/python -m devcluster up
