#!/usr/bin/env bash
# The newest-Python stage: the unit tests and a smoke set of e2e tests on the newest CPython
# this machine has beyond the main venv's (3.12+, e.g. pyenv's), against the running 1.34
# cluster. podscope supports 3.10+, and each release of CPython changes something podscope
# meets (3.13's strict TLS verification refused certificates kubectl accepts).
# PODSCOPE_OTHER_PYTHON=/path/to/python3 picks the interpreter. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || { echo "test_newest_python.sh: run scripts/setup.sh first" >&2; exit 1; }
python="${PODSCOPE_OTHER_PYTHON:-}"
if [ -z "$python" ]; then
  for candidate in python3.14 python3.13 python3.12 \
    /root/.pyenv/versions/3.14*/bin/python3 /root/.pyenv/versions/3.13*/bin/python3 \
    /root/.pyenv/versions/3.12*/bin/python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c pass 2>/dev/null; then
      python="$(command -v "$candidate")"
      break
    fi
  done
fi
if [ -z "$python" ]; then
  echo "test_newest_python.sh: NOT RUN: no CPython 3.12+ on this machine" \
    "(set PODSCOPE_OTHER_PYTHON to one)" >&2
  exit 0
fi
version="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
venv=".venv-$version"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check -e '.[dev]'
echo "test_newest_python.sh: Python $version ($python)"
export PODSCOPE_TEST_KUBECONFIG="${PODSCOPE_TEST_KUBECONFIG:-/var/lib/podscope-devcluster/admin.kubeconfig}"
# The proxy test tells a stream's tunnel from a request's by the CONNECT line's HTTP version,
# which http.client raised to 1.1 in 3.12: it runs in the main stage only.
rc=0
"$venv/bin/pytest" -p no:cacheprovider -q tests/unit tests/e2e/test_debug.py \
  tests/e2e/test_cp.py tests/e2e/test_python_api.py \
  tests/e2e/test_credentials.py -k "not test_proxy_url_carries_every_request_and_stream" \
  "$@" || rc=$?
if [ "$rc" -eq 5 ]; then
  echo "test_newest_python.sh: pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit "$rc"
