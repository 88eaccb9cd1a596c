"""``podscope node enable-gate``: plan every file first, then write all of them or none.

Writing nothing when any file is refused keeps a node from ending up half-configured (for
example the kubelet's env file switched on while its config file says ``false``).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from podscope.errors import NodeEditError
from podscope.gate import files
from podscope.gate.envfile import edit_env_text
from podscope.gate.gates import GATE, Edit, GateState
from podscope.gate.kubeletconfig import edit_kubelet_config_text
from podscope.gate.manifest import edit_manifest_text
from podscope.gate.versions import (
    KubeVersion,
    Support,
    gate_support,
    parse_user_version,
    probe_kubelet_version,
    version_from_image,
)
from podscope.rules.requests import EnableGateRequest

COMPONENTS = ("kubelet", "apiserver", "scheduler")
Action = Literal["changed", "unchanged", "skipped", "refused"]

DEFAULT_KUBELET_CONFIG = "var/lib/kubelet/config.yaml"
DEFAULT_KUBELET_ENVS = ("etc/sysconfig/kubelet", "etc/default/kubelet")
DEFAULT_MANIFESTS_DIR = "etc/kubernetes/manifests"
_MANIFEST_NAMES = {"apiserver": "kube-apiserver", "scheduler": "kube-scheduler"}

KUBELET_RESTART = "systemctl daemon-reload && systemctl restart kubelet"


@dataclass
class FileReport:
    """What happened to one file. ``action`` is changed/unchanged/skipped/refused."""

    component: str  # kubelet | apiserver | scheduler
    kind: str  # kubelet-config | kubelet-env | manifest
    path: str
    action: Action
    reason: str
    remedy: str | None = None
    target: str | None = None  # the real file when ``path`` is a symlink
    backup: str | None = None
    version: str | None = None
    diff: str | None = None
    written: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class GateReport:
    dry_run: bool
    files: list[FileReport] = field(default_factory=list)

    @property
    def refused(self) -> list[FileReport]:
        return [f for f in self.files if f.action == "refused"]

    @property
    def changed(self) -> list[FileReport]:
        return [f for f in self.files if f.action == "changed"]

    @property
    def ok(self) -> bool:
        return not self.refused

    def restart_steps(self) -> list[str]:
        """What the operator still has to do; podscope never restarts anything itself."""
        written = [f for f in self.changed if f.written or self.dry_run]
        steps: list[str] = []
        if any(f.component == "kubelet" for f in written):
            steps.append(KUBELET_RESTART)
        names = sorted({_MANIFEST_NAMES[f.component] for f in written if f.kind == "manifest"})
        if names:
            steps.append(
                f"{' and '.join(names)}: nothing to run, the kubelet restarts static Pods when "
                "their manifest changes (watch: crictl ps, or kubectl -n kube-system get pods)"
            )
        return steps

    def raise_for_refusal(self) -> None:
        """Raise the first refusal as :class:`NodeEditError` (for Python callers)."""
        if self.refused:
            first = self.refused[0]
            raise NodeEditError(first.reason, remedy=first.remedy)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dryRun": self.dry_run,
            "ok": self.ok,
            "files": [f.to_dict() for f in self.files],
            "restart": self.restart_steps(),
        }


@dataclass
class _Target:
    component: str
    kind: str
    path: Path
    explicit: bool
    tried: tuple[Path, ...] = ()


@dataclass
class _Plan:
    report: FileReport
    original: files.Original | None = None
    new_text: str | None = None
    hidden_backup: bool = False


def _diff(path: str, old: str, new: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), fromfile=path, tofile=path
    )
    out = []
    for line in lines:
        out.append(line)
        if not line.endswith("\n"):
            out.append("\n\\ No newline at end of file\n")
    return "".join(out)


def _targets(
    root: Path,
    only: set[str],
    kubelet_config: str | Path | None,
    kubelet_env: str | Path | None,
    manifests_dir: str | Path | None,
) -> list[_Target]:
    targets: list[_Target] = []
    if "kubelet" in only:
        if kubelet_config is not None:
            targets.append(_Target("kubelet", "kubelet-config", Path(kubelet_config), True))
        else:
            default = root / DEFAULT_KUBELET_CONFIG
            targets.append(_Target("kubelet", "kubelet-config", default, False))
        if kubelet_env is not None:
            targets.append(_Target("kubelet", "kubelet-env", Path(kubelet_env), True))
        else:
            candidates = tuple(root / p for p in DEFAULT_KUBELET_ENVS)
            chosen = next((p for p in candidates if p.exists()), candidates[0])
            targets.append(_Target("kubelet", "kubelet-env", chosen, False, candidates))
    explicit_dir = manifests_dir is not None
    mdir = Path(manifests_dir) if manifests_dir is not None else root / DEFAULT_MANIFESTS_DIR
    for component in ("apiserver", "scheduler"):
        if component in only:
            path = mdir / f"{_MANIFEST_NAMES[component]}.yaml"
            targets.append(_Target(component, "manifest", path, False))
    if explicit_dir and not mdir.is_dir() and ({"apiserver", "scheduler"} & only):
        for t in targets:
            if t.kind == "manifest":
                t.explicit = True  # a named directory that does not exist is an error
    return targets


class _Versions:
    """Resolves each component's version once: user flag, else kubelet binary or image tag."""

    def __init__(
        self,
        root: Path,
        version: KubeVersion | None,
        kubelet_version: KubeVersion | None,
        probe: Callable[[], KubeVersion | None] | None,
    ) -> None:
        self._root = root
        self._version = version
        self._kubelet_version = kubelet_version
        self._probe = probe
        self._probed: tuple[KubeVersion | None] | None = None

    def kubelet(self) -> tuple[KubeVersion | None, str]:
        if self._kubelet_version is not None:
            return self._kubelet_version, "--kubelet-version"
        if self._version is not None:
            return self._version, "--version"
        if self._probed is None:
            probe = self._probe or (lambda: probe_kubelet_version(self._root))
            self._probed = (probe(),)
        return self._probed[0], "kubelet --version"

    def control_plane(self, image: str | None) -> tuple[KubeVersion | None, str]:
        if self._version is not None:
            return self._version, "--version"
        if image is None:
            return None, "the manifest has no image"
        return version_from_image(image), f"image {image}"


def _component_label(target: _Target) -> str:
    if target.kind == "manifest":
        return _MANIFEST_NAMES[target.component]
    return "the kubelet"


def _version_gate(
    target: _Target, edit: Edit, version: KubeVersion | None, source: str, force: bool
) -> str | None:
    """Apply the version rules; return a reason to leave the file alone, or raise."""
    who = _component_label(target)
    if version is None:
        if not edit.changed:
            return None  # already on: nothing to write, the version does not matter
        raise NodeEditError(
            f"{target.path}: cannot tell the version of {who} ({source})",
            remedy="pass it with --version X.Y.Z (or --kubelet-version for the kubelet)",
        )
    support = gate_support(version)
    if support is Support.TOO_OLD:
        raise NodeEditError(
            f"{target.path}: {who} is {version}; the {GATE} feature gate exists from 1.16 on",
            remedy="ephemeral containers need Kubernetes 1.16 or later: upgrade the cluster first",
        )
    if support is Support.REMOVED:
        if edit.before is GateState.ABSENT:
            raise NodeEditError(
                f"{target.path}: {who} is {version}; the {GATE} gate was removed in 1.27 and "
                f"setting it would stop {who} from starting",
                remedy="nothing to do: ephemeral containers are always on since 1.25",
            )
        raise NodeEditError(
            f"{target.path}: {who} is {version}, which no longer knows the {GATE} gate, "
            f"but this file sets it: {who} will not start",
            remedy=f"remove {GATE} from this file by hand; ephemeral containers are always on",
        )
    if support is Support.DEFAULT_ON and not force:
        if edit.before is GateState.OFF:
            return None  # explicitly off overrides the default: the caller asks for --force
        return f"{who} is {version}: {GATE} is on by default since 1.23; nothing to do"
    return None


def _plan_one(
    target: _Target, report: FileReport, versions: _Versions, force: bool, dry_run: bool
) -> _Plan:
    """Fill ``report`` for one file; a :class:`NodeEditError` means it is refused."""
    path = target.path
    if not path.exists():
        if target.explicit:
            raise NodeEditError(
                f"{path}: not found",
                remedy="check the path, or leave the option out to use the default",
            )
        if target.tried:
            report.reason = f"not found ({' or '.join(str(p) for p in target.tried)})"
        else:
            report.reason = "not found"
        return _Plan(report)
    original = files.read(path)
    if original.target != path:
        report.target = str(original.target)
    text = original.text
    source = str(path)
    if target.kind == "kubelet-config":
        edit: Edit = edit_kubelet_config_text(text, source)
        version, vsource = versions.kubelet()
    elif target.kind == "kubelet-env":
        edit = edit_env_text(text, source)
        version, vsource = versions.kubelet()
    else:
        manifest_edit = edit_manifest_text(text, source)
        edit = manifest_edit
        version, vsource = versions.control_plane(manifest_edit.image)
    report.version = str(version) if version is not None else None

    leave_alone = _version_gate(target, edit, version, vsource, force)
    if leave_alone is not None:
        report.action, report.reason = "unchanged", leave_alone
        return _Plan(report, original)
    if edit.before is GateState.OFF and not force:
        raise NodeEditError(
            f"{path}: {GATE} is explicitly set to false here",
            remedy="someone switched it off on purpose; pass --force to switch it to true",
        )
    if edit.text is None:
        report.action, report.reason = "unchanged", edit.description
        return _Plan(report, original)
    if not dry_run:
        files.check_writable(original)
    report.action, report.reason = "changed", edit.description
    report.diff = _diff(str(original.target), text, edit.text)
    return _Plan(report, original, edit.text, hidden_backup=target.kind == "manifest")


def enable_gate(
    request: EnableGateRequest | None = None,
    *,
    kubelet_version_probe: Callable[[], KubeVersion | None] | None = None,
    now: datetime | None = None,
) -> GateReport:
    """Switch the ``EphemeralContainers`` gate on in this node's kubelet and static Pod files.

    Refusals are reported per file (``action == "refused"``, a :class:`NodeEditError`'s
    message and remedy) and mean nothing was written; call ``raise_for_refusal()`` to get an
    exception instead. ``root`` prefixes the default paths only, not the ones passed in.
    """
    request = request or EnableGateRequest()
    request.validate()
    root, force, dry_run = request.root, request.force, request.dry_run
    kubelet_config, kubelet_env = request.kubelet_config, request.kubelet_env
    manifests_dir, only = request.manifests_dir, request.only
    version, kubelet_version = request.version, request.kubelet_version
    chosen = set(only) if only else set(COMPONENTS)
    unknown = chosen - set(COMPONENTS)
    if unknown:
        raise NodeEditError(
            f"unknown component(s) {', '.join(sorted(unknown))}",
            remedy=f"choose from {', '.join(COMPONENTS)}",
        )
    user_version = parse_user_version(version, "--version") if version else None
    user_kubelet = (
        parse_user_version(kubelet_version, "--kubelet-version") if kubelet_version else None
    )
    root_path = Path(root)
    versions = _Versions(root_path, user_version, user_kubelet, kubelet_version_probe)
    plans: list[_Plan] = []
    for target in _targets(root_path, chosen, kubelet_config, kubelet_env, manifests_dir):
        item = FileReport(target.component, target.kind, str(target.path), "skipped", "")
        try:
            plans.append(_plan_one(target, item, versions, force, dry_run))
        except NodeEditError as exc:
            item.action, item.reason, item.remedy = "refused", exc.message, exc.remedy
            item.diff = None
            plans.append(_Plan(item))
    report = GateReport(dry_run=dry_run, files=[p.report for p in plans])
    if dry_run:
        return report
    if report.refused:
        for plan in plans:
            if plan.report.action == "changed":
                plan.report.action = "skipped"
                plan.report.reason = (
                    f"not written ({plan.report.reason}): another file was refused, "
                    "so podscope changed nothing"
                )
        return report
    stamp = files.timestamp(now)
    failed = False
    for plan in plans:
        if plan.report.action != "changed" or plan.original is None or plan.new_text is None:
            continue
        if failed:
            plan.report.action = "skipped"
            plan.report.reason = f"not written ({plan.report.reason}): an earlier file failed"
            continue
        try:
            backup = files.write_backup(plan.original, stamp, hidden=plan.hidden_backup)
            plan.report.backup = str(backup)
            files.atomic_replace(plan.original, plan.new_text)
            plan.report.written = True
        except NodeEditError as exc:
            failed = True
            plan.report.action = "refused"
            plan.report.reason = exc.message
            plan.report.remedy = exc.remedy
    return report
