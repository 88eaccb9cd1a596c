#!/usr/bin/env bash
# Everything a fresh machine needs: Python venv with podscope + dev tools, Debian packages,
# the Kubernetes build (cached by Go), images, and a running local cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -e '.[dev]'
.venv/bin/python -m devcluster up
