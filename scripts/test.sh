#!/usr/bin/env bash
# The whole test suite, unit and e2e, against a freshly booted local cluster (taken down after).
# Extra arguments go to pytest, e.g. `scripts/test.sh tests/unit -x`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PODSCOPE_TEST_KUBECONFIG=/var/lib/podscope-devcluster/admin.kubeconfig
trap '.venv/bin/python -m devcluster down >/dev/null || true' EXIT
.venv/bin/ruff check src tests devcluster
.venv/bin/mypy
.venv/bin/pytest -p no:cacheprovider "$@"
