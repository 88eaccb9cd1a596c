"""`podscope attach` and `podscope debug --reuse` on containers left in a Pod."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.e2e.conftest import Kubectl
from tests.e2e.helpers import PULL, SLEEPER, ephemeral, podscope


def _keep_shell(env: dict[str, str], namespace: str, name: str) -> None:
    # A shell with stdin open and nothing attached: it waits for input, running.
    created = podscope(
        env, "debug", "web", "-n", namespace, "-i", "--no-attach", "-c", name, *PULL, "--", "sh"
    )
    assert created.returncode == 0, created.stderr
    assert f"podscope attach web -c {name} -n {namespace}" in created.stderr


def test_attach_to_an_existing_container_with_piped_stdin(
    make_pod: Callable[..., dict[str, Any]], namespace: str, podscope_env: dict[str, str]
) -> None:
    make_pod("web", command=SLEEPER)
    _keep_shell(podscope_env, namespace, "keep")
    result = podscope(
        podscope_env,
        "attach",
        "web",
        "-c",
        "keep",
        "-n",
        namespace,
        "-i",
        input="echo hello from $HOSTNAME; echo oops >&2; exit 4\n",
    )
    assert result.returncode == 4, result.stderr
    assert result.stdout == "hello from web\n"
    assert "oops" in result.stderr
    # Attaching again to the finished container shows its log and its exit code.
    again = podscope(podscope_env, "attach", "web", "-c", "keep", "-n", namespace)
    assert again.returncode == 4, again.stderr
    assert "hello from web" in again.stdout
    assert "has already finished" in again.stderr


def test_attach_to_a_missing_container_lists_the_ephemeral_ones(
    make_pod: Callable[..., dict[str, Any]], namespace: str, podscope_env: dict[str, str]
) -> None:
    make_pod("web", command=SLEEPER)
    _keep_shell(podscope_env, namespace, "keep")
    result = podscope(podscope_env, "attach", "web", "-c", "nope", "-n", namespace)
    assert result.returncode == 5
    assert "container nope not found in Pod web (its ephemeral containers: keep)" in result.stderr


def test_reuse_attaches_instead_of_creating(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
) -> None:
    make_pod("web", command=SLEEPER)
    _keep_shell(podscope_env, namespace, "keep")
    result = podscope(
        podscope_env,
        "debug",
        "web",
        "-n",
        namespace,
        "--attach-mode",  # --reuse is the attach model's (the exec model reuses by default)
        "--reuse",
        "-i",
        *PULL,
        "--",
        "sh",
        input="echo reused; exit 5\n",
    )
    assert result.returncode == 5, result.stderr
    assert result.stdout == "reused\n"
    assert "reusing running ephemeral container keep" in result.stderr
    assert [c["name"] for c in ephemeral(kubectl.pod(namespace, "web"))] == ["keep"]
    # Nothing left to reuse: the next --reuse creates a new container.
    fresh = podscope(
        podscope_env,
        "debug",
        "web",
        "-n",
        namespace,
        "--attach-mode",
        "--reuse",
        "-q",
        *PULL,
        "--",
        "sh",
        "-c",
        "exit 0",
    )
    assert fresh.returncode == 0, fresh.stderr
    assert len(ephemeral(kubectl.pod(namespace, "web"))) == 2
