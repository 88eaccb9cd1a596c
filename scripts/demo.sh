#!/usr/bin/env bash
# The main job: boot the local cluster, start a distroless-style Pod (no shell in it), and open a
# podscope debug session in it. On a terminal the session is interactive (type `ps`, then `exit`);
# otherwise it runs `ps` and exits with its code.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export KUBECONFIG=/var/lib/podscope-devcluster/admin.kubeconfig
.venv/bin/python -m devcluster demo-pod --namespace podscope-demo --name app
if [ -t 0 ] && [ -t 1 ]; then
  exec .venv/bin/podscope debug app -n podscope-demo --profile general -it -- sh
else
  exec .venv/bin/podscope debug app -n podscope-demo --profile general -- ps
fi
