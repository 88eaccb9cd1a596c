"""`podscope version` against the local cluster, compared with kubectl's answer."""

from __future__ import annotations

import json

from tests.e2e.conftest import Kubectl
from tests.e2e.helpers import podscope


def test_version_matches_kubectl(kubectl: Kubectl, podscope_env: dict[str, str]) -> None:
    expected = json.loads(kubectl.run("version", "-o", "json").stdout)["serverVersion"]
    out = podscope(podscope_env, "version", "-o", "json")
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["server"] == expected["gitVersion"]
    assert info["shape"] == "pod"  # 1.34: the subresource takes a Pod
    import podscope as package

    assert info["client"] == package.__version__
    text = podscope(podscope_env, "version")
    assert f"Server Version: {expected['gitVersion']}" in text.stdout
