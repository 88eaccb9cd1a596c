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
.venv/bin/pip install -q --disable-pip-version-check -e '.[dev]'
# The HTTP CONNECT proxy tests/e2e/test_credentials.py sends podscope through.
command -v tinyproxy >/dev/null || {
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q tinyproxy
}
# The local image registries (devcluster/registry.py): the distribution registry, the client that
# pushes into it, and htpasswd for its private repository's bcrypt password file.
command -v docker-registry >/dev/null && command -v skopeo >/dev/null && command -v htpasswd >/dev/null || {
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-registry skopeo apache2-utils
}
.venv/bin/python -m devcluster up
