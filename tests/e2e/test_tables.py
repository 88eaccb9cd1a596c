"""Tables that fit the terminal, on a Pod with 20 ephemeral containers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.e2e.conftest import BUSYBOX_IMAGE
from tests.e2e.helpers import podscope

COUNT = 20


def test_ls_and_doctor_fit_100_columns(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    tmp_path: Any,
) -> None:
    make_pod("busy", command=["sleep", "3600"])
    document = [
        {
            "name": f"debugger-with-a-long-name-{i:02d}",
            "image": BUSYBOX_IMAGE,
            "imagePullPolicy": "IfNotPresent",
            "command": ["sleep", "3600"],
        }
        for i in range(COUNT)
    ]
    path = tmp_path / "many.json"
    path.write_text(json.dumps(document))
    added = podscope(
        podscope_env, "apply", str(path), "--pod", "busy", "-n", namespace, "--no-wait", "-q"
    )
    assert added.returncode == 0, added.stderr
    narrow = {**podscope_env, "COLUMNS": "100"}

    listed = podscope(narrow, "ls", "busy", "-n", namespace)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert all(len(line) <= 100 for line in lines), listed.stdout
    assert sum("debugger-with-a-long" in line for line in lines) >= COUNT

    wide = podscope(narrow, "ls", "busy", "-n", namespace, "-o", "wide", "--no-headers")
    rows = wide.stdout.splitlines()
    assert len(rows) == COUNT and not rows[0].startswith("POD")

    doctor = podscope(narrow, "doctor", "busy", "-n", namespace)
    assert doctor.returncode in (0, 17), doctor.stderr
    assert all(len(line) <= 100 for line in doctor.stdout.splitlines()), doctor.stdout
    assert "CHECK" in doctor.stdout.splitlines()[0]
    words = " ".join(doctor.stdout.split())
    assert f"and {COUNT - 3} more" in words  # the 20 containers summarised, not all listed
