"""Shell completion for real: bash runs the script podscope prints, against the local cluster;
kubectl completes `kubectl podscope ...` through kubectl_complete-podscope."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.e2e.conftest import Kubectl
from tests.e2e.helpers import PULL, podscope

BIN = Path(sys.executable).parent


def bash_complete(line: list[str], env: dict[str, str]) -> list[str]:
    """What bash's completion offers for the words ``line`` (the last one being typed)."""
    words = " ".join(f"'{w}'" for w in line)
    script = (
        "source <(podscope completion bash)\n"
        f"COMP_WORDS=({words}); COMP_CWORD={len(line) - 1}\n"
        "_podscope_complete\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    out = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return [w for w in out.stdout.splitlines() if w]


def test_bash_completes_pods_and_containers(
    make_pod: Callable[..., dict[str, Any]], namespace: str, kubeconfig: str
) -> None:
    make_pod("web", command=["sleep", "3600"])
    env = {**os.environ, "KUBECONFIG": kubeconfig, "PATH": f"{BIN}:{os.environ['PATH']}"}
    offered = bash_complete(["podscope", "debug", "-n", namespace, ""], env)
    assert "web" in offered and "deploy/" in offered
    assert bash_complete(["podscope", "debug", "-n", namespace, "we"], env) == ["web"]
    containers = bash_complete(["podscope", "debug", "-n", namespace, "web", "--target", ""], env)
    assert containers == ["web"]
    assert bash_complete(["podscope", "debug", "--prof"], env) == ["--profile"]
    # -c of debug names a debugger to use: only the Pod's ephemeral containers are offered.
    assert bash_complete(["podscope", "debug", "-n", namespace, "web", "-c", ""], env) == []
    cluster_env = {**os.environ, "KUBECONFIG": kubeconfig}
    made = podscope(cluster_env, "debug", "-n", namespace, "web", *PULL, "--", "true")
    assert made.returncode == 0, made.stderr
    pod = Kubectl(kubeconfig).json("get", "pod", "web", "-n", namespace)
    debugger = [c["name"] for c in pod["spec"]["ephemeralContainers"]]
    assert bash_complete(["podscope", "debug", "-n", namespace, "web", "-c", ""], env) == debugger
    assert bash_complete(["podscope", "stop", "-n", namespace, "web", "-c", ""], env) == debugger


def test_without_a_cluster_completion_stays_static(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: gone\n"
        "clusters: [{name: gone, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "contexts: [{name: gone, context: {cluster: gone, user: u}}]\n"
        "users: [{name: u, user: {token: x}}]\n"
    )
    env = {**os.environ, "KUBECONFIG": str(config), "PATH": f"{BIN}:{os.environ['PATH']}"}
    offered = bash_complete(["podscope", "debug", ""], env)
    assert offered == ["deploy/", "sts/", "ds/", "rs/", "job/", "node/"]


def test_kubectl_plugin_completion(
    make_pod: Callable[..., dict[str, Any]], namespace: str, kubeconfig: str
) -> None:
    make_pod("web", command=["sleep", "3600"])
    assert shutil.which("kubectl_complete-podscope", path=str(BIN))
    env = {**os.environ, "KUBECONFIG": kubeconfig, "PATH": f"{BIN}:{os.environ['PATH']}"}
    out = subprocess.run(
        ["kubectl", "__complete", "podscope", "debug", "-n", namespace, "we"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "web" in lines and lines[-1].startswith(":")


def test_live_names_skip_the_kubernetes_package(
    make_pod: Callable[..., dict[str, Any]], namespace: str, kubeconfig: str
) -> None:
    # Completion runs on every Tab: importing the kubernetes package alone takes ~0.5 s here.
    make_pod("web", command=["sleep", "3600"])
    code = (
        "import sys\n"
        "from podscope.cli.completion import live_names\n"
        f"print(live_names('pods', {{'namespace': {namespace!r}}}, ''))\n"
        "print('kubernetes' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "KUBECONFIG": kubeconfig},
        timeout=60,
    )
    assert out.stdout.splitlines() == ["['web']", "False"], out.stderr


def zsh_complete(line: list[str], env: dict[str, str]) -> list[str]:
    """What podscope's zsh function hands to ``compadd`` for ``line``.

    ``compadd`` and ``_files`` exist only inside zsh's completion system (a widget on a live
    terminal); here they print what they are given, so the script's own expansions run in a
    real zsh.
    """
    words = " ".join(f"'{w}'" for w in line)
    script = (
        "compdef() { :; }\n"
        "source <(podscope completion zsh)\n"
        'compadd() { shift $(( ${@[(i)--]} )); print -l -- "$@"; }\n'
        "_files() { print -- __FILES__; }\n"
        f"words=({words}); CURRENT={len(line)}\n"
        "_podscope\n"
    )
    out = subprocess.run(["zsh", "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    return [w for w in out.stdout.splitlines() if w]


def fish_complete(line: str, env: dict[str, str]) -> list[str]:
    """What fish offers for the command line ``line`` (``complete -C``: fish's own engine)."""
    script = f"podscope completion fish | source; complete -C '{line}'"
    out = subprocess.run(
        ["fish", "--no-config", "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return [w.split("\t")[0] for w in out.stdout.splitlines() if w]


def test_zsh_and_fish_complete_pods_and_flags(
    make_pod: Callable[..., dict[str, Any]], namespace: str, kubeconfig: str
) -> None:
    assert shutil.which("zsh") and shutil.which("fish"), "scripts/setup.sh installs zsh and fish"
    make_pod("web", command=["sleep", "3600"])
    env = {**os.environ, "KUBECONFIG": kubeconfig, "PATH": f"{BIN}:{os.environ['PATH']}"}
    assert zsh_complete(["podscope", "debug", "-n", namespace, "we"], env) == ["web"]
    assert zsh_complete(["podscope", "debug", "--prof"], env) == ["--profile"]
    containers = zsh_complete(["podscope", "debug", "-n", namespace, "web", "--target", ""], env)
    assert containers == ["web"]
    # apply takes a file: with nothing to offer, the script falls back to zsh's files.
    assert zsh_complete(["podscope", "apply", ""], env) == ["__FILES__"]
    assert fish_complete(f"podscope debug -n {namespace} we", env) == ["web"]
    assert fish_complete("podscope debug --prof", env) == ["--profile"]
    assert fish_complete(f"podscope debug -n {namespace} web --target ", env) == ["web"]
