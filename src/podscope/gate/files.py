"""Reading, backing up and atomically replacing node config files.

Static Pod manifests live in a directory the kubelet watches: it loads every file there
whose name does not start with a dot. So our temporary files are always dot-files, and a
backup placed inside a manifests directory is a dot-file too, or the kubelet would start a
second copy of the component from it.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

from podscope.errors import NodeEditError

BACKUP_TAG = ".podscope-backup-"


@dataclass(frozen=True)
class Original:
    """A file as read: the path the user knows, the file really edited, and its bytes."""

    path: Path
    target: Path  # ``path`` with symlinks resolved; the link itself is left alone
    data: bytes
    mode: int
    uid: int
    gid: int

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")


def read(path: Path) -> Original:
    """Read a regular file (through symlinks); refuse directories and non-UTF-8 content."""
    target = Path(os.path.realpath(path))
    try:
        st = os.stat(target)
        if not stat.S_ISREG(st.st_mode):
            raise NodeEditError(
                f"{path}: not a regular file", remedy="pass the path of the file itself"
            )
        data = target.read_bytes()
    except OSError as exc:
        raise NodeEditError(f"{path}: cannot read it ({exc.strerror})") from exc
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NodeEditError(
            f"{path}: not a text file (not UTF-8)",
            remedy="check that this is the right file; restore it from a backup if it is damaged",
        ) from exc
    return Original(path, target, data, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)


def _no_write_bits(mode: int) -> bool:
    return not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


def check_writable(original: Original) -> None:
    """Refuse files we should not or cannot replace.

    root passes every ``os.access`` check, so a file (or directory) with no write bit at all
    is taken as "made read-only on purpose" and refused too.
    """
    target = original.target
    where = f"{original.path}" if target == original.path else f"{original.path} (-> {target})"
    if _no_write_bits(original.mode):
        raise NodeEditError(
            f"{where}: file is read-only (mode {original.mode:04o})",
            remedy=f"if it is meant to be edited, make it writable (chmod u+w {target}) "
            "and run again",
        )
    if not os.access(target, os.W_OK):
        raise NodeEditError(
            f"{where}: not writable by this user (owner uid {original.uid}, "
            f"mode {original.mode:04o})",
            remedy="run it as root on the node (sudo podscope node enable-gate ...)",
        )
    directory = target.parent
    try:
        dir_mode = stat.S_IMODE(os.stat(directory).st_mode)
        readonly_fs = bool(os.statvfs(directory).f_flag & os.ST_RDONLY)
    except OSError as exc:
        raise NodeEditError(f"{directory}: cannot inspect the directory ({exc.strerror})") from exc
    if readonly_fs:
        raise NodeEditError(
            f"{where}: {directory} is on a read-only file system",
            remedy="remount it read-write, or change the file through your node image tooling",
        )
    if _no_write_bits(dir_mode) or not os.access(directory, os.W_OK | os.X_OK):
        raise NodeEditError(
            f"{where}: cannot create files in {directory} (mode {dir_mode:04o})",
            remedy=f"podscope writes a backup and a temporary file next to {target.name}; "
            f"make {directory} writable (chmod u+w) and run again",
        )


def timestamp(now: datetime | None = None) -> str:
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return moment.strftime("%Y%m%dT%H%M%SZ")


def backup_path(target: Path, stamp: str, *, hidden: bool) -> Path:
    name = f"{target.name}{BACKUP_TAG}{stamp}"
    return target.with_name(f".{name}" if hidden else name)


def _fill(fd: int, data: bytes, original: Original) -> None:
    """Write ``data`` to a new file with the original's bits and owner, flushed to disk."""
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fchmod(fd, original.mode)
        st = os.fstat(fd)
        if (st.st_uid, st.st_gid) != (original.uid, original.gid):
            os.fchown(fd, original.uid, original.gid)
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _removed_on_failure(path: Path, failure: Callable[[OSError], NodeEditError]) -> Iterator[None]:
    """Remove ``path``, a file podscope is writing, when the block fails, and raise what
    ``failure`` makes of the error: no half-written file is left next to the target."""
    try:
        yield
    except OSError as exc:
        with contextlib.suppress(OSError):
            path.unlink()
        raise failure(exc) from exc


def write_backup(original: Original, stamp: str, *, hidden: bool) -> Path:
    """Save the bytes we read next to the target; never overwrite an older backup."""
    base = backup_path(original.target, stamp, hidden=hidden)
    candidate, n = base, 0
    while True:
        with _removed_on_failure(candidate, partial(_backup_failed, original, candidate)):
            try:
                fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                # Someone else's file (an older backup): left alone, and the next name tried.
                n += 1
                candidate = base.with_name(f"{base.name}.{n}")
                continue
            _fill(fd, original.data, original)
            return candidate


def _backup_failed(original: Original, path: Path, exc: OSError) -> NodeEditError:
    return NodeEditError(
        f"{original.path}: cannot write the backup {path} ({exc.strerror})",
        remedy="nothing was changed; free some space or fix permissions and run again",
    )


def atomic_replace(original: Original, text: str) -> None:
    """Replace the target in one rename so readers (the kubelet) never see half a file."""
    target = original.target
    try:
        current = target.read_bytes()
    except OSError as exc:
        raise NodeEditError(f"{original.path}: cannot re-read it ({exc.strerror})") from exc
    if current != original.data:
        raise NodeEditError(
            f"{original.path}: changed while podscope was editing it",
            remedy="run again",
        )
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.podscope-", dir=target.parent)
    except OSError as exc:
        raise NodeEditError(
            f"{original.path}: cannot create a temporary file in {target.parent} ({exc.strerror})",
            remedy="the file is unchanged; check permissions and free space",
        ) from exc
    tmp = Path(tmp_name)
    with _removed_on_failure(
        tmp,
        lambda exc: NodeEditError(
            f"{original.path}: cannot write it ({exc.strerror or exc})",
            remedy="the file is unchanged; check permissions, free space and attributes (lsattr)",
        ),
    ):
        _fill(fd, text.encode("utf-8"), original)
        os.replace(tmp, target)
    # The rename is durable only once the directory entry is flushed.
    with contextlib.suppress(OSError):
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
