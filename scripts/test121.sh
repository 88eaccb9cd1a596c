#!/usr/bin/env bash
# The 1.21 stage: boot the kubeadm-shaped Kubernetes 1.21 cluster (EphemeralContainers gate off
# everywhere), run tests/e2e121 against it, take it down. It shares nothing with the 1.34
# cluster (ports, folders, cgroups, network), so it may run while that one runs.
# Extra arguments go to pytest, e.g. `scripts/test121.sh -x -k walkthrough`.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || { echo "test121.sh: run scripts/setup.sh first" >&2; exit 1; }
trap '.venv/bin/python -m devcluster down --release 1.21 >/dev/null || true' EXIT
# A fresh cluster: the gate tests start from the gate off, as `up` leaves it.
.venv/bin/python -m devcluster down --release 1.21
.venv/bin/python -m devcluster up --release 1.21
export PODSCOPE_TEST121_KUBECONFIG
PODSCOPE_TEST121_KUBECONFIG="$(.venv/bin/python -m devcluster env --release 1.21 | sed 's/^export KUBECONFIG=//')"
rc=0
.venv/bin/pytest -p no:cacheprovider tests/e2e121 "$@" || rc=$?
if [ "$rc" -eq 5 ]; then
  echo "test121.sh: pytest collected no tests in tests/e2e121: that is a failure" >&2
  exit 1
fi
exit "$rc"
