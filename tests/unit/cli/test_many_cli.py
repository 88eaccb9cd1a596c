"""`podscope debug` command lines that name several Pods build a ManyDebugRequest; the
single-Pod ones still build a DebugRequest; the flags that only fit one of them say so."""

from __future__ import annotations

import pytest

from podscope.cli.debug import build_request
from podscope.cli.main import build_parser, main
from podscope.errors import UsageError
from podscope.rules.many import ManyDebugRequest
from podscope.rules.requests import DebugRequest


def parse(*argv: str) -> object:
    return build_request(build_parser().parse_args(["debug", *argv]))


def test_several_pods_before_the_dashes_are_pods() -> None:
    request = parse("web-1", "web-2", "web-3", "--", "cat", "/etc/hostname")
    assert request == ManyDebugRequest(
        pods=("web-1", "web-2", "web-3"), command=("cat", "/etc/hostname")
    )


def test_a_pod_named_twice_runs_once() -> None:
    request = parse("web-1", "web-2", "web-1", "--", "true")
    assert isinstance(request, ManyDebugRequest) and request.pods == ("web-1", "web-2")


def test_a_selector_needs_no_pod() -> None:
    request = parse("-l", "app=web", "--max-parallel", "3", "-n", "shop", "--", "ps")
    assert request == ManyDebugRequest(
        selector="app=web", max_parallel=3, namespace="shop", command=("ps",)
    )


def test_a_workload_with_all_pods_and_a_dry_run() -> None:
    request = parse("deploy/web", "--all-pods", "--dry-run", "--", "true")
    assert request == ManyDebugRequest(
        pods=("deploy/web",), all_pods=True, dry_run=True, command=("true",)
    )


def test_json_output_keeps_attaching_with_several_pods() -> None:
    request = parse("-l", "app=web", "-o", "json", "--", "true")
    assert isinstance(request, ManyDebugRequest) and request.attach


def test_single_pod_command_lines_are_unchanged() -> None:
    assert parse("web", "--", "ps") == DebugRequest(pod="web", command=("ps",))
    assert parse("deploy/web", "--", "ps") == DebugRequest(pod="deploy/web", command=("ps",))
    assert parse("web", "-it") == DebugRequest(pod="web", stdin=True, tty=True)


# kubectl's rule: the words before `--` are targets, and with no `--` every word is one.
@pytest.mark.parametrize(
    "argv",
    [
        ("bb1", "bb2", "--dry-run"),
        ("--dry-run", "bb1", "bb2"),
        ("bb1", "--dry-run", "bb2"),  # a word after a flag is a Pod too
        ("bb1", "bb2", "--dry-run", "--"),
    ],
)
def test_words_without_dashes_are_all_pods(argv: tuple[str, ...]) -> None:
    assert parse(*argv) == ManyDebugRequest(pods=("bb1", "bb2"), dry_run=True)


def test_words_before_the_dashes_are_pods_and_after_them_the_command() -> None:
    request = parse("bb1", "-n", "ns", "bb2", "--", "bb3", "-it")
    assert request == ManyDebugRequest(pods=("bb1", "bb2"), namespace="ns", command=("bb3", "-it"))


@pytest.mark.parametrize(
    ("argv", "words", "remedy"),
    [
        (("bb1", "bb2"), "2 Pods were named (bb1 bb2) and no command", "debug bb1 -- bb2"),
        (("web", "ps", "x"), "every word before -- names a Pod", "debug web -- ps x"),
        (("-n", "ns", "-it", "bb1", "bb2"), "-i/-t attaches to one Pod", "name one Pod for -it"),
        (("bb1", "-it", "bb2"), "-i/-t attaches to one Pod", "name one Pod for -it"),
        (("web", "sh", "--copy-to", "x"), "--copy-to copies one Pod, but 2", "debug web -- sh"),
        (("a", "b", "--copy-to", "x", "--", "sh"), "--copy-to copies one Pod", "name one target"),
        (("node/n1", "sh"), "node/n1 debugs one node, but 2 targets", "debug node/n1 -- sh"),
        (("web", "node/n1", "--", "sh"), "node/n1 debugs one node", "name one target"),
    ],
)
def test_several_targets_where_one_fits_are_refused(
    argv: tuple[str, ...], words: str, remedy: str
) -> None:
    with pytest.raises(UsageError) as caught:
        parse(*argv)
    assert words in caught.value.message
    assert remedy in (caught.value.remedy or "")


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (("--", "ps"), "name the Pod to debug"),
        (("web", "--max-parallel", "3", "--", "ps"), "--max-parallel applies to several Pods"),
        (("web", "--group", "--", "ps"), "--group applies to several Pods"),
        (("-l", "app=web", "-it"), "-i/-t attaches to one Pod"),
        (("a", "b", "-it", "--", "sh"), "-i/-t attaches to one Pod"),
        (("-l", "app=web", "-o", "yaml", "--", "ps"), "-o yaml is not available"),
        (("-l", "app=web", "-o", "json", "--group", "--", "ps"), "not both"),
        (("-l", "app=web", "--copy-to", "x", "--", "ps"), "--copy-to copies one Pod"),
        (("-l", "app=web", "--keep", "--", "ps"), "--keep cannot be used with several Pods"),
        (("a", "b", "--", "ps", "-l", "x"), None),
    ],
)
def test_refusals(argv: tuple[str, ...], words: str | None) -> None:
    if words is None:
        # Words after -- are the command's, even when they look like flags.
        request = parse(*argv)
        assert isinstance(request, ManyDebugRequest) and request.command == ("ps", "-l", "x")
        return
    with pytest.raises(UsageError) as caught:
        parse(*argv)
    assert words in caught.value.message


def test_it_across_several_pods_exits_2_before_any_connection(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", "/nonexistent/kubeconfig")
    code = main(["debug", "-l", "app=web", "-it", "--", "sh"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("podscope: error: -i/-t attaches to one Pod")


def test_a_run_over_several_pods_is_run_by_cli_many(monkeypatch: pytest.MonkeyPatch) -> None:
    # A ManyDebugRequest is a DebugRequest too: the single-Pod path would open a client (and
    # fail on this kubeconfig) and then refuse the empty Pod name.
    import podscope.cli.debug
    import podscope.cli.many

    monkeypatch.setenv("KUBECONFIG", "/nonexistent/kubeconfig")
    handed: list[object] = []

    def run_many(args: object, request: ManyDebugRequest) -> int:
        handed.append(request)
        return 0

    monkeypatch.setattr(podscope.cli.many, "run", run_many)
    args = build_parser().parse_args(["debug", "-l", "app=web", "--", "true"])
    assert podscope.cli.debug.run(args) == 0
    assert handed == [ManyDebugRequest(selector="app=web", command=("true",))]


def test_a_selector_with_words_before_the_dashes_points_at_the_dashes() -> None:
    # `debug -l app=web cat /etc/hostname`: the words are Pods, so the command is missing.
    with pytest.raises(UsageError) as caught:
        parse("-l", "app=web", "cat", "/etc/hostname").validate()
    assert "every word before -- names a Pod: cat /etc/hostname" in caught.value.message
    assert (
        caught.value.remedy
        == "put the command after --: podscope debug -l app=web -- cat /etc/hostname"
    )
