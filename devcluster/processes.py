"""Start, watch and stop the cluster's processes by PID file (never by name)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

from devcluster import paths
from devcluster.errors import ClusterError


def log_path(name: str) -> Path:
    return paths.LOGS / f"{name}.log"


def _pid_file(name: str) -> Path:
    return paths.RUN / f"{name}.pid"


def _start_time(pid: int) -> str | None:
    # Field 22 of /proc/PID/stat: guards against a reused PID being taken for ours.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def pid_of(name: str) -> int | None:
    """The PID of a component we started, if it is still that process and still running."""
    try:
        pid_text, started = _pid_file(name).read_text().split()
        pid = int(pid_text)
    except (OSError, ValueError):
        return None
    if _start_time(pid) != started:
        return None
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None
    return None if state == "Z" else pid


def start(name: str, command: list[str], env: dict[str, str] | None = None) -> int:
    paths.LOGS.mkdir(parents=True, exist_ok=True)
    paths.RUN.mkdir(parents=True, exist_ok=True)
    with open(log_path(name), "ab") as log:
        log.write(f"\n==== devcluster start: {' '.join(command)}\n".encode())
        log.flush()
        try:
            proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # outlives the CLI; a Ctrl-C there does not reach it
                env={**os.environ, **(env or {})},
            )
        except OSError as exc:
            raise ClusterError(f"cannot start {name}: {exc}", command=command) from exc
    _pid_file(name).write_text(f"{proc.pid} {_start_time(proc.pid)}\n")
    (paths.RUN / f"{name}.cmd").write_text("\0".join(command))
    return proc.pid


def command_of(name: str) -> list[str]:
    try:
        return (paths.RUN / f"{name}.cmd").read_text().split("\0")
    except OSError:
        return []


def tail(name: str, lines: int = 25) -> str:
    try:
        with open(log_path(name), "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            data = f.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])


def ensure_alive(name: str) -> None:
    """Raise a loud error naming the command and showing the log when a component has died."""
    if pid_of(name) is None:
        raise ClusterError(f"{name} exited", command=command_of(name), log_tail=tail(name))


def stop(name: str, timeout: float = 10.0) -> bool:
    """SIGTERM, then SIGKILL after `timeout`. Returns True when a process was stopped."""
    pid = pid_of(name)
    _pid_file(name).unlink(missing_ok=True)
    if pid is None:
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _start_time(pid) is None or _is_zombie(pid):
            return True
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    return True


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def processes_using(marker: str) -> list[int]:
    """PIDs whose command line contains `marker` (our unique socket path, e.g. for shims)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline:
            found.append(int(entry.name))
    return found
