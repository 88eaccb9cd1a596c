#!/usr/bin/env bash
# The whole test suite, unit and e2e, against a freshly booted local cluster (taken down after).
# Extra arguments go to pytest, e.g. `scripts/test.sh tests/unit -x`, and skip the stages that
# otherwise follow the 1.34 suite: scripts/test_newest_python.sh and scripts/test121.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PODSCOPE_TEST_KUBECONFIG=/var/lib/podscope-devcluster/admin.kubeconfig
trap '.venv/bin/python -m devcluster down >/dev/null || true' EXIT
.venv/bin/ruff check src tests devcluster
.venv/bin/mypy
rc=0
.venv/bin/pytest -p no:cacheprovider "$@" || rc=$?
if [ "$rc" -eq 5 ]; then
  echo "test.sh: pytest collected no tests: that is a failure" >&2
  exit 1
fi
[ "$rc" -eq 0 ] || exit "$rc"
# Then, when the run is the whole suite (no pytest arguments), a smoke set on the newest
# CPython here, and the kubeadm-shaped 1.21 cluster.
if [ "$#" -eq 0 ]; then
  scripts/test_newest_python.sh
  .venv/bin/python -m devcluster down  # one cluster at a time on a 2-core CI machine
  scripts/test121.sh
fi
