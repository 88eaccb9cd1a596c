"""One target root file system per Pod behind the fake's execs (for copies out of several
Pods): each Pod's exec goes to its own :class:`TargetRoot`."""

from __future__ import annotations

from pathlib import Path

from tests.unit.fakekube import FakeKube, exec_target
from tests.unit.session.test_cp_on_fake import TargetRoot


def roots_by_pod(
    fake: FakeKube, tmp_path: Path, files: dict[str, bytes | None]
) -> dict[str, TargetRoot]:
    """``/etc/app.conf`` in each Pod's root holds ``files[pod]`` (None: no such file)."""
    roots: dict[str, TargetRoot] = {}
    for pod, content in files.items():
        root = tmp_path / "roots" / pod
        (root / "etc").mkdir(parents=True)
        if content is not None:
            (root / "etc" / "app.conf").write_bytes(content)
        roots[pod] = TargetRoot(root)

    def program(command: list[str], stdin: bytes) -> tuple[bytes, bytes, int]:
        target = exec_target()
        assert target is not None
        return roots[target[1]](command, stdin)

    fake.programs["*"] = program  # type: ignore[assignment]
    return roots
