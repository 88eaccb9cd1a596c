"""The --cd/--chroot wrapper: generated command, quoting, and the script run on a fake /proc."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from podscope.errors import UsageError, ValidationError
from podscope.rules.targetfs import (
    CP_SCRIPT,
    DEBUG_WRAPPER,
    SCRIPT_NAME,
    TargetRoot,
    check_target_root_profile,
    container_id_of,
    cp_command,
    kube_escape,
    kube_unescape,
    normalize_target_path,
    wrap_command,
)

HOSTILE = [
    '/x"; rm -rf /; "',
    "/$(touch pwned)",
    "/`touch pwned`",
    "/a b/c  d",
    "/it's",
    "/$$ $HOME ${PATH}",
    "/-n",
    "/*",
]


def test_wrap_command_shape() -> None:
    words = wrap_command(TargetRoot("cd", "/etc"), ["ls", "-l"], "containerd://abc123")
    assert words[:2] == ["sh", "-c"]
    assert words[2] == kube_escape(DEBUG_WRAPPER)
    assert words[3:] == [SCRIPT_NAME, "cd", "/etc", "abc123", "ls", "-l"]


def test_wrap_command_root_path_and_chroot() -> None:
    assert wrap_command(TargetRoot("cd", "/"), [])[4:] == ["cd", "", ""]
    assert wrap_command(TargetRoot("chroot"), ["cat", "/x"])[4:] == ["chroot", "/", "", "cat", "/x"]


@pytest.mark.parametrize("path", HOSTILE)
def test_hostile_paths_are_one_escaped_word(path: str) -> None:
    words = wrap_command(TargetRoot("cd", path), ["ls"])
    assert kube_unescape(words[5]) == normalize_target_path(path)
    # The script is the same whatever the path: the value is never part of it.
    assert words[2] == kube_escape(DEBUG_WRAPPER)


def test_the_script_never_expands_into_kubelet_references() -> None:
    escaped = kube_escape(DEBUG_WRAPPER)
    assert kube_unescape(escaped) == DEBUG_WRAPPER
    # Every $ is doubled: no "$(" can reach the kubelet's $(VAR) expansion.
    assert "$(" not in escaped.replace("$$", "")


@pytest.mark.parametrize(
    ("path", "message"),
    [("etc", "absolute"), ("/a/../b", "'..'"), ("/a\nb", "control"), ("", "needs a path")],
)
def test_bad_paths(path: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        normalize_target_path(path)


def test_normalize() -> None:
    assert normalize_target_path("//etc/./ssl/") == "/etc/ssl"
    assert normalize_target_path("/") == "/"


def test_container_id_of() -> None:
    assert container_id_of("containerd://0af9") == "0af9"
    assert container_id_of("docker://xyz!") == ""
    assert container_id_of(None) == ""


def test_chroot_with_restricted_is_refused() -> None:
    with pytest.raises(UsageError, match="SYS_CHROOT"):
        check_target_root_profile(TargetRoot("chroot"), "restricted")
    check_target_root_profile(TargetRoot("cd", "/"), "restricted")


def test_cp_command() -> None:
    assert cp_command("out", "containerd://ab", "/etc", "x")[3:] == [
        "podscope-cp",
        "out",
        "ab",
        "/etc",
        "x",
    ]
    assert cp_command("in", None, "/tmp")[2] == CP_SCRIPT
    with pytest.raises(ValidationError):
        cp_command("rm", None)


# --- the script itself, on a fake /proc ----------------------------------------------------


def _process(proc: Path, pid: int, comm: str, mnt: str, root: Path, cgroup: str = "") -> None:
    entry = proc / str(pid)
    (entry / "ns").mkdir(parents=True)
    (entry / "comm").write_text(comm + "\n")
    (entry / "cgroup").write_text(cgroup + "\n")
    os.symlink(f"mnt:[{mnt}]", entry / "ns" / "mnt")
    os.symlink(root, entry / "root")


@pytest.fixture
def fake(tmp_path: Path) -> Path:
    proc = tmp_path / "proc"
    proc.mkdir()
    target_root = tmp_path / "target"
    for name in HOSTILE[:4] + ["etc"]:
        (target_root / name.strip("/")).mkdir(parents=True, exist_ok=True)
    other_root = tmp_path / "other"
    (other_root / "etc").mkdir(parents=True)
    _process(proc, 1, "pause", "1", tmp_path / "pause")
    _process(proc, 7, "server", "2", target_root, "0::/kubepods/pod/abc123")
    _process(proc, 5, "sidecar", "3", other_root, "0::/kubepods/pod/fff000")
    _process(proc, 42, "sh", "9", tmp_path)
    os.symlink("42", proc / "self")
    return tmp_path


def _run(fake: Path, words: list[str]) -> subprocess.CompletedProcess[str]:
    # What the kubelet does to the words, then the script with its /proc moved.
    script = kube_unescape(words[2]).replace("P=/proc", f"P={fake / 'proc'}", 1)
    args = [kube_unescape(w) for w in words[3:6]] + words[6:]
    return subprocess.run(
        ["sh", "-c", script, *args],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"]},
        timeout=10,
    )


def test_script_enters_the_hinted_target_and_runs_the_command(fake: Path) -> None:
    words = wrap_command(
        TargetRoot("cd", "/etc"),
        ["sh", "-c", 'echo "$PWD|$PODSCOPE_TARGET_ROOT"'],
        "containerd://abc123",
    )
    result = _run(fake, words)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{fake}/proc/7/root/etc|{fake}/proc/7/root"


def test_script_without_hint_takes_the_lowest_pid_that_is_not_pause_nor_ours(fake: Path) -> None:
    words = wrap_command(TargetRoot("cd", "/etc"), ["sh", "-c", 'echo "$PODSCOPE_TARGET_ROOT"'])
    result = _run(fake, words)
    assert result.stdout.strip() == f"{fake}/proc/5/root", result.stderr


@pytest.mark.parametrize("path", HOSTILE[:4])
def test_script_treats_hostile_paths_as_names(fake: Path, path: str) -> None:
    words = wrap_command(TargetRoot("cd", path), ["sh", "-c", 'echo "$PWD"'], "abc123")
    result = _run(fake, words)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{fake}/proc/7/root{normalize_target_path(path)}"
    assert not (fake / "pwned").exists() and not Path("pwned").exists()


def test_script_reports_a_missing_directory(fake: Path) -> None:
    result = _run(fake, wrap_command(TargetRoot("cd", "/nope $x"), ["true"], "abc123"))
    assert result.returncode == 126
    assert result.stderr.strip() == "podscope: the target has no directory /nope $x"


def test_script_without_any_target_process(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    proc.mkdir()
    _process(proc, 42, "sh", "9", tmp_path)
    os.symlink("42", proc / "self")
    result = _run(tmp_path, wrap_command(TargetRoot("cd", "/"), ["true"]))
    assert result.returncode == 126
    assert "cannot find the target container's process" in result.stderr
