"""Copying into a Pod: a local path is sent as a tar to the helper, which unpacks it there.

The destination is probed first (is it a directory, does its parent exist, whose is it), so
that bad destinations fail before any data moves and files arrive owned by the target's
user. The tar is written straight into the exec's stdin in large frames; when the remote
side stops reading (its tar failed), production stops and its stderr is the message.
"""

from __future__ import annotations

import os
import stat
import threading

from podscope.errors import NotFoundError, PodscopeError, UsageError
from podscope.rules.cppath import RemotePath, check_directory_destination, split_remote
from podscope.rules.requests import CpRequest
from podscope.session.cp.archive import walk, write_archive
from podscope.session.cp.progress import ProgressCallback, TransferMeter
from podscope.session.cp.remote import CHUNK, Remote, RemoteExec, one_line, probe
from podscope.session.cp.result import CpResult
from podscope.session.cp.verify import verify


class _StdinWriter:
    """A write-only file object sending to the exec's stdin in large frames."""

    def __init__(self, ex: RemoteExec, meter: TransferMeter) -> None:
        self.ex, self.meter = ex, meter
        self._buffer = bytearray()
        self.failed = False

    def write(self, data: bytes) -> int:
        self._buffer.extend(data)
        if len(self._buffer) >= CHUNK:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if not self._buffer or self.failed:
            self._buffer.clear()
            return
        if not self.ex.stream.write_stdin(bytes(self._buffer)):
            # The remote side ended (its error is in stderr); stop producing.
            self.failed = True
            raise BrokenPipeError("the remote tar stopped reading")
        self.meter.add(len(self._buffer))
        self._buffer.clear()

    def close(self) -> None:
        self.flush()


def local_source(local: str) -> os.stat_result:
    """What is to be copied in; NotFoundError if there is nothing at ``local``."""
    try:
        return os.lstat(local)
    except FileNotFoundError:
        raise NotFoundError(f"{local}: no such local file or directory") from None
    except NotADirectoryError:
        raise UsageError(f"{local} is not a directory (a file is there)") from None


def copy_in(
    remote: Remote,
    local: str,
    dest: RemotePath,
    request: CpRequest,
    result: CpResult,
    on_progress: ProgressCallback | None = None,
) -> None:
    st = local_source(local)
    found = probe(remote, dest.path)
    if dest.directory:
        check_directory_destination(str(dest), found.kind, stat.S_ISDIR(st.st_mode))
    if found.kind == "dir":
        directory, arcname = dest.path, os.path.basename(os.path.abspath(local))
    else:
        directory, arcname = split_remote(dest.path)
        if not found.parent_is_dir:
            raise NotFoundError(f"{directory}: no such directory in the target")
        if found.kind == "file" and stat.S_ISDIR(st.st_mode):
            raise UsageError(f"cannot copy directory {local} over the file {dest.path}")
    total = sum(os.lstat(path).st_size for path, _ in walk(local) if os.path.isfile(path))
    meter = TransferMeter(local, str(dest), total, on_progress)
    ex = remote.open(f"writing into {directory} in the target", "in", directory, stdin=True)
    reader = threading.Thread(target=ex.pump_stderr, daemon=True)
    reader.start()
    writer = _StdinWriter(ex, meter)
    try:
        digests, files, size, skipped = write_archive(writer, local, arcname, found.uid, found.gid)
        writer.flush()
    except BrokenPipeError:
        digests, files, size, skipped = {}, 0, 0, []
    finally:
        meter.finish()
    ex.stream.close_stdin()
    reader.join()
    ex.finish()
    if writer.failed:
        raise PodscopeError(
            f"writing into {directory} failed: {one_line(ex.stderr) or 'stream closed'}"
        )
    result.files, result.bytes, result.skipped = files, size, skipped
    if request.checksum:
        verify(remote, directory, digests, "in")
        result.checksum = "verified"
