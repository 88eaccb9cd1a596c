"""Copying out of a Pod: the target's path streams here as a tar and is unpacked safely.

For a single file the target's checksum is computed while the data streams (it does not
depend on the transfer, and the target reads the file from its page cache), so the check
costs no extra time; a tree's files are summed in the target afterwards.
"""

from __future__ import annotations

import os
import tarfile
import threading

from podscope.errors import NotFoundError, PodscopeError, UsageError
from podscope.rules.cppath import (
    RemotePath,
    check_directory_destination,
    names_directory,
    split_remote,
)
from podscope.rules.requests import CpRequest
from podscope.session.cp.extract import extract_stream
from podscope.session.cp.progress import ProgressCallback, TransferMeter
from podscope.session.cp.remote import Remote, one_line, probe, remote_sums
from podscope.session.cp.result import CpResult
from podscope.session.cp.verify import verify


def local_kind(local: str) -> str:
    """What is at ``local``, in the terms of the target's probe (symlinks followed, as the
    copy would): ``dir``, ``file``, ``other`` or ``none``."""
    if os.path.isdir(local):
        return "dir"
    if not os.path.lexists(local.rstrip("/") or "/"):
        return "none"
    return "file" if os.path.isfile(local.rstrip("/")) else "other"


def local_destination(local: str, source_is_dir: bool | None = None) -> tuple[str, str | None]:
    """The local directory to unpack into, and the name the copy takes there (None: keep).
    ``source_is_dir`` (None: not known yet) decides whether ``local`` written with a trailing
    ``/`` can be made from the source."""
    if names_directory(local):
        check_directory_destination(local, local_kind(local), source_is_dir)
    if os.path.isdir(local):
        return local, None
    name = local.rstrip("/")
    base = os.path.dirname(os.path.abspath(name))
    if not os.path.isdir(base):
        raise NotFoundError(f"{base}: no such local directory")
    return base, os.path.basename(name)


def copy_out(
    remote: Remote,
    source: RemotePath,
    local: str,
    request: CpRequest,
    result: CpResult,
    on_progress: ProgressCallback | None = None,
) -> None:
    found = probe(remote, source.path)
    if found.kind == "none":
        raise NotFoundError(f"{source.path}: no such file or directory in the target")
    if found.kind == "other":
        raise UsageError(f"{source.path} is neither a file nor a directory (a device or socket?)")
    if source.directory and found.kind != "dir":
        raise UsageError(f"{source} is not a directory (a file is there)")
    directory, name = split_remote(source.path)
    base, rename = local_destination(local, found.kind == "dir")
    meter = TransferMeter(str(source), local, found.size, on_progress)
    early_sums: list[str] = []
    early_errors: list[BaseException] = []
    summer = None
    if request.checksum and found.kind == "file" and "\n" not in name:

        def remote_sum() -> None:
            try:
                early_sums.extend(remote_sums(remote, directory, [name]))
            except BaseException as exc:  # handed to the main thread, which re-raises
                early_errors.append(exc)

        summer = threading.Thread(target=remote_sum, daemon=True)
        summer.start()
    ex = remote.open(f"reading {source.path} from the target", "out", directory, name)
    ex.on_data = meter.add
    try:
        extracted = extract_stream(ex, base, name, rename)
    except tarfile.TarError as exc:
        ex.stream.close()
        ex.raise_if_refused()
        detail = one_line(ex.stderr)
        raise PodscopeError(f"reading {source.path} failed: {detail or exc}") from None
    finally:
        meter.finish()
    ex.finish()
    result.files, result.bytes, result.skipped = (
        extracted.files,
        extracted.bytes,
        extracted.skipped,
    )
    if request.checksum:
        theirs = None
        if summer is not None:
            summer.join()
            if early_errors:
                raise early_errors[0]
            theirs = early_sums
        verify(remote, directory, extracted.digests, "out", theirs)
        result.checksum = "verified"
