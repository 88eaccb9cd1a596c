"""enable_gate() on a fake node root: backups, permissions, links, refusals, versions."""

from __future__ import annotations

import os
import stat
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from podscope.gate import KubeVersion, enable_gate
from podscope.gate.enable import GateReport
from podscope.rules.requests import EnableGateRequest
from tests.unit.gate.samples import APISERVER, ENV_SYSCONFIG, KUBELET_CONFIG, SCHEDULER


def _enable(**kwargs: Any) -> GateReport:
    # The probe and the clock are the call's own arguments; the rest is the request.
    extra = {k: kwargs.pop(k) for k in ("kubelet_version_probe", "now") if k in kwargs}
    return enable_gate(EnableGateRequest(**kwargs), **extra)


NOW = datetime(2021, 7, 14, 9, 30, 5, tzinfo=timezone.utc)
STAMP = "20210714T093005Z"
GATE_OFF_CONFIG = (
    "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
    "featureGates:\n  EphemeralContainers: false\n"
)


class Node:
    """A node's files under a temporary root."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.config = root / "var/lib/kubelet/config.yaml"
        self.env = root / "etc/sysconfig/kubelet"
        self.manifests = root / "etc/kubernetes/manifests"
        self.apiserver = self.manifests / "kube-apiserver.yaml"
        self.scheduler = self.manifests / "kube-scheduler.yaml"
        for path, text in (
            (self.config, KUBELET_CONFIG),
            (self.env, ENV_SYSCONFIG),
            (self.apiserver, APISERVER),
            (self.scheduler, SCHEDULER),
        ):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        self.kubelet("Kubernetes v1.21.3")

    def kubelet(self, version_line: str) -> None:
        binary = self.root / "usr/bin/kubelet"
        binary.parent.mkdir(parents=True, exist_ok=True)
        binary.write_text(f"#!/bin/sh\necho '{version_line}'\n")
        binary.chmod(0o755)

    def files(self) -> dict[str, bytes]:
        """Every file under the root (but the kubelet binary), to prove what was written."""
        out = {}
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not path.is_symlink() and path.name != "kubelet":
                out[str(path.relative_to(self.root))] = path.read_bytes()
        return out

    def run(self, **kwargs: Any) -> GateReport:
        kwargs.setdefault("now", NOW)
        return _enable(root=self.root, **kwargs)


@pytest.fixture
def node(tmp_path: Path) -> Node:
    return Node(tmp_path)


def _actions(report: GateReport) -> dict[str, str]:
    return {f"{f.component}/{f.kind}": f.action for f in report.files}


def test_enables_everything_and_backs_up(node: Node) -> None:
    report = node.run()
    assert report.ok
    assert _actions(report) == {
        "kubelet/kubelet-config": "changed",
        "kubelet/kubelet-env": "changed",
        "apiserver/manifest": "changed",
        "scheduler/manifest": "changed",
    }
    assert all(f.written and f.version for f in report.files)
    assert "featureGates:\n  EphemeralContainers: true\n" in node.config.read_text()
    assert "RotateKubeletServerCertificate=true,EphemeralContainers=true" in node.env.read_text()
    assert "- --feature-gates=EphemeralContainers=true\n" in node.apiserver.read_text()
    # backups hold the original bytes; inside the manifests dir they are dot-files, which
    # the kubelet ignores (it would otherwise run a second kube-apiserver from the backup)
    assert (node.config.parent / f"config.yaml.podscope-backup-{STAMP}").read_text() == (
        KUBELET_CONFIG
    )
    assert (node.env.parent / f"kubelet.podscope-backup-{STAMP}").read_text() == ENV_SYSCONFIG
    backup = node.manifests / f".kube-apiserver.yaml.podscope-backup-{STAMP}"
    assert backup.read_text() == APISERVER
    assert report.files[2].backup == str(backup)
    visible = sorted(p.name for p in node.manifests.iterdir() if not p.name.startswith("."))
    assert visible == ["kube-apiserver.yaml", "kube-scheduler.yaml"]
    assert report.restart_steps()[0] == "systemctl daemon-reload && systemctl restart kubelet"
    assert "restarts static Pods" in report.restart_steps()[1]


def test_second_run_is_a_no_op(node: Node) -> None:
    node.run()
    before = node.files()
    report = node.run(now=datetime(2021, 7, 15, tzinfo=timezone.utc))
    assert report.ok
    assert set(_actions(report).values()) == {"unchanged"}
    assert node.files() == before  # no new backups either
    assert report.restart_steps() == []


def test_dry_run_writes_nothing_and_shows_diffs(node: Node) -> None:
    before = node.files()
    report = node.run(dry_run=True)
    assert node.files() == before
    assert report.ok and report.dry_run
    assert all(f.action == "changed" and not f.written and f.diff for f in report.files)
    diff = report.files[0].diff
    assert diff is not None
    assert diff.startswith(f"--- {node.config}\n+++ {node.config}\n@@ ")
    assert "\n+featureGates:\n+  EphemeralContainers: true\n" in diff


def test_mode_and_owner_are_kept(node: Node) -> None:
    node.config.chmod(0o640)
    os.chown(node.config, 1234, 2345)
    node.run(only=["kubelet"])
    st = node.config.stat()
    assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o640, 1234, 2345)
    backup = node.config.parent / f"config.yaml.podscope-backup-{STAMP}"
    bst = backup.stat()
    assert (stat.S_IMODE(bst.st_mode), bst.st_uid, bst.st_gid) == (0o640, 1234, 2345)


def test_no_temporary_files_are_left(node: Node) -> None:
    node.run()
    leftovers = [p for p in node.root.rglob("*podscope-*") if "backup" not in p.name]
    assert leftovers == []


def test_symlink_is_kept_and_its_target_edited(node: Node) -> None:
    real = node.root / "srv/config/kubelet.yaml"
    real.parent.mkdir(parents=True)
    real.write_text(KUBELET_CONFIG)
    node.config.unlink()
    node.config.symlink_to(real)
    report = node.run(only=["kubelet"])
    assert report.ok
    assert node.config.is_symlink() and os.readlink(node.config) == str(real)
    assert "EphemeralContainers: true" in real.read_text()
    assert report.files[0].target == str(real)
    assert (real.parent / f"kubelet.yaml.podscope-backup-{STAMP}").read_text() == KUBELET_CONFIG


def test_read_only_file_is_refused_and_nothing_is_written(node: Node) -> None:
    node.apiserver.chmod(0o444)  # root could still write it: podscope must not
    before = node.files()
    report = node.run()
    assert not report.ok
    refused = report.refused
    assert [f.path for f in refused] == [str(node.apiserver)]
    assert "read-only (mode 0444)" in refused[0].reason
    assert refused[0].remedy and "chmod u+w" in refused[0].remedy
    # the other files were fine, but a half-configured node is worse than none
    assert _actions(report)["kubelet/kubelet-config"] == "skipped"
    assert "another file was refused" in report.files[0].reason
    assert node.files() == before


def test_read_only_file_is_fine_in_dry_run(node: Node) -> None:
    node.apiserver.chmod(0o444)
    assert node.run(dry_run=True).ok


def test_unwritable_directory_is_refused(node: Node) -> None:
    node.config.parent.chmod(0o555)
    try:
        report = node.run(only=["kubelet"])
    finally:
        node.config.parent.chmod(0o755)
    assert [f.kind for f in report.refused] == ["kubelet-config"]
    assert "cannot create files in" in report.refused[0].reason
    assert node.config.read_text() == KUBELET_CONFIG


def test_not_yaml_is_refused(node: Node) -> None:
    node.scheduler.write_bytes(b"\x7fELF\x02\x01\x01\x00\xff\xfe\x00garbage")
    report = node.run()
    assert [f.component for f in report.refused] == ["scheduler"]
    assert "not a text file" in report.refused[0].reason
    node.scheduler.write_text("kube-scheduler: [unclosed\n")
    report = node.run()
    assert "not valid YAML" in report.refused[0].reason


def test_missing_default_files_are_skipped(tmp_path: Path) -> None:
    report = _enable(root=tmp_path, version="1.21.3")
    assert report.ok
    assert set(_actions(report).values()) == {"skipped"}
    env = report.files[1]
    assert env.reason.startswith("not found (")
    assert "etc/sysconfig/kubelet or " in env.reason and env.reason.endswith("etc/default/kubelet)")


def test_missing_explicit_file_is_refused(node: Node) -> None:
    report = node.run(kubelet_config=node.root / "nope.yaml", only=["kubelet"])
    assert [f.path for f in report.refused] == [str(node.root / "nope.yaml")]
    assert "not found" in report.refused[0].reason
    report = node.run(manifests_dir=node.root / "no-such-dir", only=["apiserver"])
    assert len(report.refused) == 1


def test_env_file_falls_back_to_etc_default(node: Node) -> None:
    node.env.unlink()
    default = node.root / "etc/default/kubelet"
    default.parent.mkdir(parents=True)
    default.write_text("KUBELET_EXTRA_ARGS=\n")
    report = node.run(only=["kubelet"])
    assert report.files[1].path == str(default)
    assert default.read_text() == "KUBELET_EXTRA_ARGS=--feature-gates=EphemeralContainers=true\n"


def test_only_selects_components(node: Node) -> None:
    report = node.run(only=["scheduler"])
    assert [f.component for f in report.files] == ["scheduler"]
    assert node.apiserver.read_text() == APISERVER


def test_explicit_false_needs_force(node: Node) -> None:
    node.config.write_text(GATE_OFF_CONFIG)
    report = node.run(only=["kubelet"])
    assert [f.kind for f in report.refused] == ["kubelet-config"]
    assert "explicitly set to false" in report.refused[0].reason
    assert "--force" in (report.refused[0].remedy or "")
    assert node.config.read_text() == GATE_OFF_CONFIG
    report = node.run(only=["kubelet"], force=True)
    assert report.ok
    assert "EphemeralContainers: true" in node.config.read_text()


@pytest.mark.parametrize("version", ["1.23.0", "v1.26.3"])
def test_default_on_versions_change_nothing_without_force(node: Node, version: str) -> None:
    before = node.files()
    report = node.run(version=version)
    assert report.ok
    assert set(_actions(report).values()) == {"unchanged"}
    assert "on by default since 1.23" in report.files[0].reason
    assert node.files() == before
    assert node.run(version=version, force=True).changed


def test_default_on_version_with_explicit_false_still_needs_force(node: Node) -> None:
    node.config.write_text(GATE_OFF_CONFIG)
    report = node.run(version="1.24.0", only=["kubelet"])
    assert "explicitly set to false" in report.refused[0].reason


@pytest.mark.parametrize("version", ["1.27.0", "1.30.2"])
def test_removed_gate_versions_are_refused_even_with_force(node: Node, version: str) -> None:
    before = node.files()
    report = node.run(version=version, force=True)
    assert len(report.refused) == 4
    assert "removed in 1.27" in report.refused[0].reason
    assert node.files() == before


def test_gate_already_set_on_127_is_reported(node: Node) -> None:
    node.run()
    report = node.run(kubelet_version="1.27.1", only=["kubelet"])
    assert "no longer knows" in report.refused[0].reason
    assert "remove EphemeralContainers" in (report.refused[0].remedy or "")


def test_too_old_is_refused(node: Node) -> None:
    node.kubelet("Kubernetes v1.15.12")
    report = node.run(only=["kubelet"])
    assert len(report.refused) == 2
    assert "exists from 1.16 on" in report.refused[0].reason


def test_versions_come_from_binary_and_image_tags(node: Node) -> None:
    node.kubelet("Kubernetes v1.22.9")
    node.apiserver.write_text(APISERVER.replace("kube-apiserver:v1.21.3", "kube-apiserver:v1.27.2"))
    report = node.run()
    assert [f.version for f in report.files] == ["v1.22.9", "v1.22.9", "v1.27.2", "v1.22.17"]
    assert [f.component for f in report.refused] == ["apiserver"]


def test_kubelet_version_flag_beats_the_binary(node: Node) -> None:
    node.kubelet("Kubernetes v1.27.0")
    report = node.run(kubelet_version="1.20.1", only=["kubelet"])
    assert report.ok and report.files[0].version == "1.20.1"


def test_unknown_kubelet_version_is_refused_with_remedy(node: Node) -> None:
    (node.root / "usr/bin/kubelet").unlink()
    report = node.run(only=["kubelet"])
    assert "cannot tell the version of the kubelet" in report.refused[0].reason
    assert "--version" in (report.refused[0].remedy or "")


def test_unknown_version_is_fine_when_nothing_changes(node: Node) -> None:
    node.run()
    (node.root / "usr/bin/kubelet").unlink()
    assert node.run(only=["kubelet"]).ok


def test_probe_is_injectable_and_called_once(node: Node) -> None:
    calls: list[int] = []

    def probe() -> KubeVersion:
        calls.append(1)
        return KubeVersion(1, 19, 0)

    assert node.run(only=["kubelet"], kubelet_version_probe=probe).ok
    assert calls == [1]


def test_report_as_dict(node: Node) -> None:
    data = node.run(dry_run=True).to_dict()
    assert data["dryRun"] is True and data["ok"] is True
    first = data["files"][0]
    assert {k: first[k] for k in ("component", "kind", "action", "written")} == {
        "component": "kubelet",
        "kind": "kubelet-config",
        "action": "changed",
        "written": False,
    }
    assert first["reason"] == "added featureGates.EphemeralContainers: true"


def test_raise_for_refusal(node: Node) -> None:
    from podscope.errors import NodeEditError

    node.config.write_text(GATE_OFF_CONFIG)
    with pytest.raises(NodeEditError, match="explicitly set to false"):
        node.run(only=["kubelet"]).raise_for_refusal()


def test_file_not_writable_by_this_user_is_refused(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests run as root, so pretend to be an ordinary user for the access check only.
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode: False if Path(p) == node.config else real_access(p, mode)
    )
    report = node.run(only=["kubelet"])
    assert "not writable by this user" in report.refused[0].reason
    assert "sudo" in (report.refused[0].remedy or "")
    assert node.config.read_text() == KUBELET_CONFIG


def test_write_failure_stops_and_is_reported(node: Node, monkeypatch: pytest.MonkeyPatch) -> None:
    from podscope.errors import NodeEditError
    from podscope.gate import files

    real = files.atomic_replace

    def flaky(original: files.Original, text: str) -> None:
        if original.path == node.env:
            raise NodeEditError(f"{original.path}: cannot write it (No space left on device)")
        real(original, text)

    monkeypatch.setattr(files, "atomic_replace", flaky)
    report = node.run()
    assert list(_actions(report).values()) == ["changed", "refused", "skipped", "skipped"]
    assert "No space left" in report.refused[0].reason
    assert node.env.read_text() == ENV_SYSCONFIG
    assert node.apiserver.read_text() == APISERVER


def test_file_changed_behind_our_back_is_not_overwritten(node: Node) -> None:
    from podscope.errors import NodeEditError
    from podscope.gate import files

    original = files.read(node.config)
    node.config.write_text(KUBELET_CONFIG + "# edited by someone else\n")
    with pytest.raises(NodeEditError, match="changed while podscope was editing it"):
        files.atomic_replace(original, "x: 1\n")
    assert node.config.read_text().endswith("# edited by someone else\n")


def _full_disk(fd: int, data: bytes, original: Any) -> None:
    os.close(fd)
    raise OSError(28, "No space left on device")


def test_a_failed_backup_leaves_no_half_file_and_keeps_older_backups(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    from podscope.errors import NodeEditError
    from podscope.gate import files

    original = files.read(node.config)
    older = files.backup_path(original.target, "20260101T000000Z", hidden=False)
    older.write_text("an older backup\n")
    before = set(node.config.parent.iterdir())
    monkeypatch.setattr(files, "_fill", _full_disk)
    with pytest.raises(NodeEditError, match=r"cannot write the backup .*\.1 \(No space left"):
        files.write_backup(original, "20260101T000000Z", hidden=False)
    assert set(node.config.parent.iterdir()) == before
    assert older.read_text() == "an older backup\n"


def test_a_failed_replace_leaves_no_temporary_file(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    from podscope.errors import NodeEditError
    from podscope.gate import files

    original = files.read(node.config)
    before = set(node.config.parent.iterdir())
    monkeypatch.setattr(files, "_fill", _full_disk)
    with pytest.raises(NodeEditError, match="cannot write it \\(No space left"):
        files.atomic_replace(original, "x: 1\n")
    assert set(node.config.parent.iterdir()) == before
    assert node.config.read_text() == KUBELET_CONFIG
