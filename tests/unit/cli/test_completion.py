"""cli.completion: candidates from the flag table; names through the live lookup."""

from __future__ import annotations

import pytest

from podscope.cli.completion import FILES, NO_FILES, SCRIPTS, complete

PODS = ["api-1", "web-1", "web-2"]


def live(kind: str, given: dict[str, str], partial: str) -> list[str]:
    # The cluster's answer, as plain data: what each kind of name would list.
    names = {
        "pods": PODS,
        "namespaces": ["default", "shop"],
        "contexts": ["dev", "prod"],
        "nodes": ["node-a"],
        "containers": ["app", "sidecar", "debugger-b2c4d"] if given.get("pod") == "web-1" else [],
        "ephemeral-containers": ["debugger-b2c4d"] if given.get("pod") == "web-1" else [],
    }[kind]
    return [n for n in names if n.startswith(partial)]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (
            [""],
            [
                "apply",
                "attach",
                "cleanup",
                "completion",
                "cp",
                "debug",
                "doctor",
                "ls",
                "node",
                "replay",
                "stop",
                "version",
            ],
        ),
        (["de"], ["debug"]),
        (["debug", "web"], ["web-1", "web-2"]),
        # Before --, a second word is another Pod (kubectl's rule), not the command.
        (["debug", "web-1", "w"], ["web-1", "web-2"]),
        (["debug", ""], ["deploy/", "sts/", "ds/", "rs/", "job/", "node/", *PODS]),
        (["debug", "--prof"], ["--profile"]),
        (
            ["debug", "--re"],
            [
                "--request-timeout",
                "--reconnect",
                "--reuse",
                "--replace",
                "--record",
                "--record-input",
                "--record-required",
            ],
        ),
        (["debug", "web-1", "--profile", "re"], ["restricted"]),
        (["debug", "web-1", "--profile=g"], ["--profile=general"]),
        (["debug", "web-1", "-c", ""], ["debugger-b2c4d"]),  # a debugger to use
        (["debug", "web-1", "--target", ""], ["app", "sidecar", "debugger-b2c4d"]),
        (["stop", "web-1", "-c", ""], ["debugger-b2c4d"]),
        (["attach", "web-1", "-c", ""], ["app", "sidecar", "debugger-b2c4d"]),
        (["debug", "web-1", "--target", "s"], ["sidecar"]),
        (["debug", "-n", ""], ["default", "shop"]),
        (["debug", "--context", "p"], ["prod"]),
        (["debug", "--image-pull-policy", "I"], ["IfNotPresent"]),
        (["debug", "web-1", "-o", ""], ["json", "yaml"]),
        (["attach", "a"], ["api-1"]),
        (["cp", "w"], ["web-1:", "web-2:"]),
        (["completion", "z"], ["zsh"]),
        (["node", ""], ["enable-gate"]),
        (["apply", "ec.json", "--dry-run", ""], ["client", "server"]),
    ],
)
def test_candidates(words: list[str], expected: list[str]) -> None:
    candidates, directive = complete(words, live)
    assert candidates == expected
    assert directive == NO_FILES


def test_files_where_files_are_meant() -> None:
    assert complete(["apply", ""], live) == ([], FILES)
    assert complete(["debug", "--custom", ""], live) == ([], FILES)
    assert complete(["debug", "web-1", "--", "l"], live) == ([], FILES)


def test_free_values_offer_nothing() -> None:
    assert complete(["debug", "web-1", "--image", ""], live) == ([], NO_FILES)


def test_no_cluster_means_static_candidates_only() -> None:
    def unreachable(kind: str, given: dict[str, str], partial: str) -> list[str]:
        return []  # what live_names returns when the cluster cannot be asked

    assert complete(["debug", ""], unreachable)[0] == [
        "deploy/",
        "sts/",
        "ds/",
        "rs/",
        "job/",
        "node/",
    ]


def test_scripts_call_the_engine() -> None:
    for shell, script in SCRIPTS.items():
        assert "__complete" in script, shell
