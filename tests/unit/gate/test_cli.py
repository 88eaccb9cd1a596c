"""`podscope node enable-gate`: parsing, printing and exit codes (podscope.gate does the work)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from podscope.cli.main import main
from podscope.errors import ExitCode
from tests.unit.gate.samples import APISERVER, KUBELET_CONFIG, SCHEDULER


@pytest.fixture
def root(tmp_path: Path) -> Path:
    for rel, text in (
        ("var/lib/kubelet/config.yaml", KUBELET_CONFIG),
        ("etc/kubernetes/manifests/kube-apiserver.yaml", APISERVER),
        ("etc/kubernetes/manifests/kube-scheduler.yaml", SCHEDULER),
    ):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def _run(root: Path, *extra: str) -> int:
    return main(["node", "enable-gate", "--root", str(root), "--version", "1.21.3", *extra])


def test_dry_run_prints_diffs_and_restart_steps(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(root, "--dry-run") == ExitCode.OK
    out = capsys.readouterr().out
    assert "would change kubelet config" in out
    assert "+featureGates:\n+  EphemeralContainers: true\n" in out
    assert "skipped      kubelet env" in out and "not found" in out
    assert "dry run: nothing was written" in out
    assert "systemctl daemon-reload && systemctl restart kubelet" in out
    assert (root / "var/lib/kubelet/config.yaml").read_text() == KUBELET_CONFIG


def test_real_run_then_no_op(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(root) == ExitCode.OK
    out = capsys.readouterr().out
    assert out.count("backup: ") == 3
    assert "next, on this node (podscope does not run these):" in out
    assert _run(root) == ExitCode.OK
    out = capsys.readouterr().out
    assert "\nchanged" not in "\n" + out and out.count("unchanged    ") == 3
    assert "systemctl" not in out


def test_json_report(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(root, "-o", "json", "--only", "apiserver", "--only", "scheduler") == ExitCode.OK
    data = json.loads(capsys.readouterr().out)
    assert [(f["component"], f["action"]) for f in data["files"]] == [
        ("apiserver", "changed"),
        ("scheduler", "changed"),
    ]
    assert {"path", "action", "reason"} <= set(data["files"][0])


def test_refusal_exit_code_and_hint(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (root / "etc/kubernetes/manifests/kube-scheduler.yaml").write_text("kind: Pod\n")
    assert _run(root, "-o", "json") == ExitCode.NODE_EDIT
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["ok"] is False
    assert [f["action"] for f in data["files"]] == ["skipped", "skipped", "skipped", "refused"]
    assert "podscope: error: " in captured.err and "podscope: hint: " in captured.err
    assert "spec" in captured.err


def test_removed_gate_version_exit_code(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["node", "enable-gate", "--root", str(root), "--version", "1.28.0"])
    assert code == ExitCode.NODE_EDIT
    assert "removed in 1.27" in capsys.readouterr().err


def test_bad_version_is_a_usage_error(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(root, "--version", "latest") == ExitCode.USAGE
    assert "not a Kubernetes version" in capsys.readouterr().err


def test_bad_only_is_rejected_by_argparse(root: Path) -> None:
    with pytest.raises(SystemExit) as info:
        _run(root, "--only", "etcd")
    assert info.value.code == 2


def test_node_without_action_prints_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["node"]) == ExitCode.USAGE
    assert "enable-gate" in capsys.readouterr().err
