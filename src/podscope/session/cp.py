"""``podscope cp``: copy files out of and into a container, even one without tar or a shell.

The transfer goes through a helper ephemeral container (busybox, ``general`` profile for
CAP_SYS_PTRACE) that targets the container and reaches its root file system through
``/proc/<pid>/root``. The helper only sleeps; each step is an **exec** into it, so one helper
serves every later copy (ephemeral containers cannot be removed: they must not pile up).

Data streams: tar on the exec's stdout/stdin, parsed or produced here chunk by chunk, so memory
stays flat whatever the size. Each regular file's sha256 is computed here while streaming and
compared with ``sha256sum`` run in the target afterwards.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
import tarfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from podscope.errors import (
    ChecksumError,
    NotFoundError,
    PodscopeError,
    StreamLostError,
    UsageError,
    ValidationError,
)
from podscope.events import Events
from podscope.kube.protocol import KubeAPI
from podscope.kube.streams import STDERR, STDOUT, ChannelStream
from podscope.rules._pod import all_names
from podscope.rules.container import DebugSpec, build_ephemeral_container
from podscope.rules.cppath import RemotePath, plan_copy, split_remote
from podscope.rules.names import generate_name
from podscope.rules.requests import DEFAULT_TIMEOUT
from podscope.rules.target import choose_target
from podscope.rules.targetfs import HELPER_COMMAND, cp_command
from podscope.rules.validate import check_pod_can_debug
from podscope.session.container_state import container_state_of
from podscope.session.ephemeral import create_container
from podscope.session.wait import wait_until_started

HELPER_PREFIX = "podscope-cp"
CHUNK = 256 * 1024
_STDERR_KEEP = 16 * 1024


@dataclass
class CpOptions:
    source: str
    dest: str
    namespace: str | None = None
    container: str | None = None  # the target container (-c)
    image: str = "docker.io/library/busybox:latest"
    image_pull_policy: str | None = None
    checksum: bool = True
    progress: bool = False  # draw a progress bar on stderr
    timeout: float = DEFAULT_TIMEOUT


@dataclass
class CpResult:
    direction: str  # "out" (Pod to local) or "in"
    pod: str
    namespace: str
    target: str
    helper: str
    helper_created: bool
    remote: str
    local: str
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0
    checksum: str = "skipped"  # "verified" | "skipped"
    skipped: list[str] = field(default_factory=list)  # entries not copied (devices, fifos)


# --- the helper container ------------------------------------------------------------------


def _has_ptrace(container: dict[str, Any]) -> bool:
    sc = container.get("securityContext") or {}
    added = (sc.get("capabilities") or {}).get("add") or []
    return sc.get("privileged") is True or any(c in ("SYS_PTRACE", "CAP_SYS_PTRACE") for c in added)


def find_helper(pod: dict[str, Any], image: str, target: str) -> str | None:
    """A running container that can serve as the helper: a podscope cp helper with the same
    image and target, else a debug container of that image and target holding SYS_PTRACE."""
    candidates: list[tuple[int, str]] = []
    for item in (pod.get("spec") or {}).get("ephemeralContainers") or []:
        name = str(item.get("name"))
        if item.get("image") != image or item.get("targetContainerName") != target:
            continue
        if container_state_of(pod, name).state != "running":
            continue
        if list(item.get("command") or []) == list(HELPER_COMMAND):
            candidates.append((0, name))
        elif _has_ptrace(item):
            candidates.append((1, name))
    return min(candidates)[1] if candidates else None


def ensure_helper(
    client: KubeAPI,
    pod: dict[str, Any],
    target: str,
    options: CpOptions,
    report: Events,
) -> tuple[dict[str, Any], str, bool]:
    """The Pod, the helper's name, and whether it was created now."""
    found = find_helper(pod, options.image, target)
    if found is not None:
        report(f"reusing helper container {found}")
        return pod, found, False
    shape = client.writable_ephemeral_shape()
    spec = DebugSpec(
        image=options.image,
        name=generate_name(all_names(pod), prefix=HELPER_PREFIX),
        target=target,
        command=list(HELPER_COMMAND),
        image_pull_policy=options.image_pull_policy or "IfNotPresent",
        profile="general",
    )
    container = build_ephemeral_container(pod, spec)
    pod, container = create_container(client, pod, spec, container, shape, report)
    name = str(container["name"])
    report(
        f"created helper container {name} (image {options.image}, targeting {target}); "
        "later copies reuse it"
    )
    pod, _ = wait_until_started(client, pod, name, options.timeout, report)
    return pod, name, True


# --- exec plumbing -------------------------------------------------------------------------


class _Exec:
    """One exec into the helper: stdout as a file-like reader, stderr kept (capped)."""

    def __init__(self, stream: ChannelStream, what: str) -> None:
        self.stream = stream
        self.what = what
        self.stderr = bytearray()
        self._buffer = b""
        self._eof = False
        self.received = 0
        self.on_data: Callable[[int], None] | None = None

    def _keep_stderr(self, data: bytes) -> None:
        room = _STDERR_KEEP - len(self.stderr)
        if room > 0:
            self.stderr.extend(data[:room])

    def _next(self) -> bool:
        while True:
            frame = self.stream.read_frame()
            if frame is None:
                self._eof = True
                return False
            channel, data = frame
            if channel == STDERR:
                self._keep_stderr(data)
                continue
            if channel == STDOUT:
                self._buffer = data
                self.received += len(data)
                if self.on_data is not None:
                    self.on_data(len(data))
                return True

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            parts = [self._buffer]
            self._buffer = b""
            while self._next():
                parts.append(self._buffer)
                self._buffer = b""
            return b"".join(parts)
        while not self._buffer and not self._eof:
            self._next()
        chunk, self._buffer = self._buffer[:size], self._buffer[size:]
        return chunk

    def drain(self) -> None:
        self._buffer = b""
        while not self._eof:
            self._next()

    def pump_stderr(self) -> None:
        """Read until the stream ends (in a thread while stdin is written)."""
        self.drain()

    def finish(self) -> None:
        """Raise if the remote command failed; its stderr (one line) is the message."""
        self.drain()
        self.stream.close()
        status = self.stream.status
        code = self.stream.exit_code
        if code == 0:
            return
        detail = _one_line(self.stderr) or (status or {}).get("message") or "no message"
        if code is None and self.stream.lost:
            raise StreamLostError(f"the connection broke while {self.what}")
        raise PodscopeError(f"{self.what} failed (exit code {code}): {detail}")


def _one_line(data: bytes | bytearray) -> str:
    lines = [ln.strip() for ln in bytes(data).decode("utf-8", "replace").splitlines() if ln.strip()]
    text = "; ".join(lines[-3:])
    return "".join(ch if ch.isprintable() else "?" for ch in text)[:400]


class _Remote:
    def __init__(self, client: KubeAPI, namespace: str, pod: str, helper: str, cid: str | None):
        self.client, self.namespace, self.pod, self.helper, self.cid = (
            client,
            namespace,
            pod,
            helper,
            cid,
        )

    def open(self, what: str, op: str, *args: str, stdin: bool = False) -> _Exec:
        stream = self.client.exec(
            self.namespace, self.pod, self.helper, cp_command(op, self.cid, *args), stdin=stdin
        )
        return _Exec(stream, what)

    def run(self, what: str, op: str, *args: str, data: bytes | None = None) -> bytes:
        ex = self.open(what, op, *args, stdin=data is not None)
        if data is None:
            out = ex.read()
        else:
            # Read while writing: a long answer must not stall the stream we write to.
            collected: list[bytes] = []
            reader = threading.Thread(target=lambda: collected.append(ex.read()), daemon=True)
            reader.start()
            for start in range(0, len(data), CHUNK):
                if not ex.stream.write_stdin(data[start : start + CHUNK]):
                    break
            ex.stream.close_stdin()
            reader.join()
            out = b"".join(collected)
        ex.finish()
        return out


@dataclass
class _Probe:
    uid: int
    gid: int
    kind: str  # dir | file | other | none
    size: int | None
    parent_is_dir: bool


def _probe(remote: _Remote, path: str) -> _Probe:
    text = remote.run(f"inspecting {path} in the target", "probe", path).decode("utf-8", "replace")
    uid = gid = 0
    kind, size, parent = "none", None, False
    for line in text.splitlines():
        words = line.split()
        if not words:
            continue
        if words[0] == "owner" and len(words) == 3:
            uid, gid = int(words[1]), int(words[2])
        elif words[0] in ("dir", "file", "other", "none"):
            kind = words[0]
            if len(words) > 1 and words[1].isdigit():
                size = int(words[1]) * (1024 if kind == "dir" else 1)
        elif words[0] == "parent":
            parent = len(words) > 1 and words[1] == "dir"
    return _Probe(uid, gid, kind, size, parent)


# --- progress ------------------------------------------------------------------------------


class ProgressBar:
    """A one-line progress display on a terminal's stderr (nothing when it is not a tty)."""

    def __init__(self, label: str, total: int | None, enabled: bool, out: IO[str] | None = None):
        self.label, self.total, self.enabled = label, total, enabled
        self.out = out or sys.stderr
        self.done = 0
        self.start = time.monotonic()
        self._last = 0.0

    def add(self, count: int) -> None:
        self.done += count
        now = time.monotonic()
        if self.enabled and now - self._last >= 0.1:
            self._last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        rate = self.done / max(now - self.start, 1e-6)
        text = f"{self.label}: {_size(self.done)}"
        if self.total:
            pct = min(100.0, 100.0 * self.done / self.total)
            text += f" / {_size(self.total)} ({pct:.0f}%)"
        text += f"  {_size(int(rate))}/s"
        self.out.write("\r" + text[:120].ljust(60))
        self.out.flush()

    def close(self) -> None:
        if self.enabled:
            self._draw(time.monotonic())
            self.out.write("\n")
            self.out.flush()


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


# --- local extraction (Pod -> here) --------------------------------------------------------


def _member_parts(name: str) -> list[str]:
    if name.startswith("/"):
        raise ValidationError(f"refusing tar entry with an absolute path: {name!r}")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        raise ValidationError(f"refusing tar entry that leaves the destination: {name!r}")
    return parts


def _no_symlink_on_the_way(base: str, parts: list[str]) -> None:
    path = base
    for part in parts[:-1]:
        path = os.path.join(path, part)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return
        if stat.S_ISLNK(st.st_mode):
            raise ValidationError(
                f"refusing to write through the symlink {path!r} (a tar entry would follow it)"
            )


def _clear(path: str) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(path)


@dataclass
class _Extracted:
    files: int = 0
    bytes: int = 0
    digests: dict[str, str] = field(default_factory=dict)  # remote name -> sha256
    skipped: list[str] = field(default_factory=list)


def extract_stream(
    fileobj: Any,
    base: str,
    top: str,
    rename: str | None,
    on_file_bytes: Callable[[int], None] | None = None,
) -> _Extracted:
    """Extract a tar stream into ``base``; its entries must all be ``top`` or under it, and
    ``top`` is written as ``rename`` when given. Absolute names, ``..``, and writes through
    symlinks are refused; symlinks themselves are recreated as they are (not followed)."""
    result = _Extracted()
    dir_modes: list[tuple[str, int, float]] = []
    with tarfile.open(fileobj=fileobj, mode="r|") as archive:
        for member in archive:
            parts = _member_parts(member.name)
            if parts[0] != top:
                raise ValidationError(f"unexpected tar entry {member.name!r} (expected {top}/...)")
            local_parts = [rename or top, *parts[1:]]
            _no_symlink_on_the_way(base, local_parts)
            path = os.path.join(base, *local_parts)
            if member.isdir():
                if os.path.islink(path):
                    os.unlink(path)
                os.makedirs(path, exist_ok=True)
                os.chmod(path, 0o700 | (member.mode & 0o777))
                dir_modes.append((path, member.mode & 0o1777, member.mtime))
            elif member.isreg():
                _clear(path)
                digest = hashlib.sha256()
                source = archive.extractfile(member)
                assert source is not None
                flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
                fd = os.open(path, flags, 0o600)
                with os.fdopen(fd, "wb") as out:
                    while chunk := source.read(CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                        if on_file_bytes is not None:
                            on_file_bytes(len(chunk))
                os.chmod(path, member.mode & 0o777)
                os.utime(path, (member.mtime, member.mtime))
                result.files += 1
                result.bytes += member.size
                result.digests[member.name] = digest.hexdigest()
            elif member.issym():
                _clear(path)
                os.symlink(member.linkname, path)
            elif member.islnk():
                link_parts = _member_parts(member.linkname)
                if link_parts[0] != top:
                    raise ValidationError(f"refusing hard link to {member.linkname!r}")
                _no_symlink_on_the_way(base, [rename or top, *link_parts[1:]])
                _clear(path)
                os.link(os.path.join(base, rename or top, *link_parts[1:]), path)
            else:
                result.skipped.append(member.name)
    # Directory modes last: a read-only directory must still take its entries first.
    for path, mode, mtime in reversed(dir_modes):
        os.chmod(path, mode)
        os.utime(path, (mtime, mtime))
    return result


# --- local archive (here -> Pod) -----------------------------------------------------------


class _StdinWriter:
    """A write-only file object sending to the exec's stdin in large frames."""

    def __init__(self, ex: _Exec, progress: ProgressBar) -> None:
        self.ex, self.progress = ex, progress
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
        self.progress.add(len(self._buffer))
        self._buffer.clear()

    def close(self) -> None:
        self.flush()


class _HashingReader:
    def __init__(self, raw: IO[bytes], digest: Any) -> None:
        self.raw, self.digest = raw, digest

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.digest.update(data)
        return data


def _walk(local: str) -> list[tuple[str, str]]:
    """(path, relative name) of ``local`` and everything under it, no symlink followed."""
    entries = [(local, "")]
    if os.path.isdir(local) and not os.path.islink(local):
        for root, dirs, files in os.walk(local, followlinks=False):
            dirs.sort()
            rel_root = os.path.relpath(root, local)
            for name in sorted(dirs + files):
                rel = name if rel_root == "." else f"{rel_root}/{name}"
                entries.append((os.path.join(root, name), rel))
    return entries


def write_archive(
    fileobj: Any, local: str, arcname: str, uid: int, gid: int
) -> tuple[dict[str, str], int, int, list[str]]:
    """Write ``local`` as a tar named ``arcname``; return (sha256 per entry name, files, bytes,
    skipped entries). Owners become the target's ``uid``/``gid``."""
    digests: dict[str, str] = {}
    files = total = 0
    skipped: list[str] = []
    with tarfile.open(fileobj=fileobj, mode="w|", format=tarfile.GNU_FORMAT) as archive:
        for path, rel in _walk(local):
            name = arcname if not rel else f"{arcname}/{rel}"
            info = archive.gettarinfo(path, arcname=name)
            if info is None or not (info.isreg() or info.isdir() or info.issym() or info.islnk()):
                skipped.append(name)
                continue
            info.uid, info.gid, info.uname, info.gname = uid, gid, "", ""
            if info.isreg():
                digest = hashlib.sha256()
                with open(path, "rb") as raw:
                    archive.addfile(info, _HashingReader(raw, digest))
                digests[name] = digest.hexdigest()
                files += 1
                total += info.size
            else:
                archive.addfile(info)
    return digests, files, total, skipped


# --- checksums -----------------------------------------------------------------------------


def _remote_sums(remote: _Remote, directory: str, names: list[str]) -> list[str]:
    listing = ("\n".join(names) + "\n").encode("utf-8", "surrogateescape")
    answer = remote.run("computing checksums in the target", "sum", directory, data=listing)
    return answer.decode("ascii", "replace").split()


def _verify(
    remote: _Remote,
    directory: str,
    digests: dict[str, str],
    direction: str,
    got: list[str] | None = None,
) -> None:
    names = [n for n in digests if "\n" not in n]
    if not names:
        return
    if got is None:
        got = _remote_sums(remote, directory, names)
    if len(got) != len(names):
        raise ChecksumError(
            f"checksum check failed: expected {len(names)} sums from the target, got {len(got)}",
            remedy="copy again; use --no-checksum to skip the check",
        )
    for name, theirs in zip(names, got, strict=True):
        if digests[name] != theirs:
            where = "in the Pod" if direction == "in" else "here"
            raise ChecksumError(
                f"checksum mismatch for {name}: the copy {where} differs from the source "
                f"(sha256 {digests[name][:12]}... vs {theirs[:12]}...)",
                remedy="the file may have changed during the copy; copy it again",
            )


# --- the two directions --------------------------------------------------------------------


def _copy_out(
    remote: _Remote, source: RemotePath, local: str, options: CpOptions, result: CpResult
) -> None:
    probe = _probe(remote, source.path)
    if probe.kind == "none":
        raise NotFoundError(f"{source.path}: no such file or directory in the target")
    if probe.kind == "other":
        raise UsageError(f"{source.path} is neither a file nor a directory (a device or socket?)")
    directory, name = split_remote(source.path)
    if os.path.isdir(local):
        base, rename = local, None
    else:
        base = os.path.dirname(os.path.abspath(local))
        if not os.path.isdir(base):
            raise NotFoundError(f"{base}: no such local directory")
        rename = os.path.basename(local)
    bar = ProgressBar(f"{source} -> {local}", probe.size, options.progress)
    # A single file's remote checksum does not depend on the transfer: compute it meanwhile,
    # so the check costs no extra time (the target reads the file from its page cache).
    early_sums: list[str] = []
    early_errors: list[BaseException] = []
    summer = None
    if options.checksum and probe.kind == "file" and "\n" not in name:

        def remote_sum() -> None:
            try:
                early_sums.extend(_remote_sums(remote, directory, [name]))
            except BaseException as exc:  # handed to the main thread, which re-raises
                early_errors.append(exc)

        summer = threading.Thread(target=remote_sum, daemon=True)
        summer.start()
    ex = remote.open(f"reading {source.path} from the target", "out", directory, name)
    ex.on_data = bar.add
    try:
        extracted = extract_stream(ex, base, name, rename)
    except tarfile.TarError as exc:
        ex.stream.close()
        detail = _one_line(ex.stderr)
        raise PodscopeError(f"reading {source.path} failed: {detail or exc}") from None
    finally:
        bar.close()
    ex.finish()
    result.files, result.bytes, result.skipped = (
        extracted.files,
        extracted.bytes,
        extracted.skipped,
    )
    if options.checksum:
        got = None
        if summer is not None:
            summer.join()
            if early_errors:
                raise early_errors[0]
            got = early_sums
        _verify(remote, directory, extracted.digests, "out", got)
        result.checksum = "verified"


def _copy_in(
    remote: _Remote, local: str, dest: RemotePath, options: CpOptions, result: CpResult
) -> None:
    try:
        st = os.lstat(local)
    except FileNotFoundError:
        raise NotFoundError(f"{local}: no such local file or directory") from None
    probe = _probe(remote, dest.path)
    if probe.kind == "dir":
        directory, arcname = dest.path, os.path.basename(os.path.abspath(local))
    else:
        directory, arcname = split_remote(dest.path)
        if not probe.parent_is_dir:
            raise NotFoundError(f"{directory}: no such directory in the target")
        if probe.kind == "file" and stat.S_ISDIR(st.st_mode):
            raise UsageError(f"cannot copy directory {local} over the file {dest.path}")
    total = sum(os.lstat(path).st_size for path, _ in _walk(local) if os.path.isfile(path))
    bar = ProgressBar(f"{local} -> {dest}", total, options.progress)
    ex = remote.open(f"writing into {directory} in the target", "in", directory, stdin=True)
    reader = threading.Thread(target=ex.pump_stderr, daemon=True)
    reader.start()
    writer = _StdinWriter(ex, bar)
    try:
        digests, files, size, skipped = write_archive(writer, local, arcname, probe.uid, probe.gid)
        writer.flush()
    except BrokenPipeError:
        digests, files, size, skipped = {}, 0, 0, []
    finally:
        bar.close()
    ex.stream.close_stdin()
    reader.join()
    ex.finish()
    if writer.failed:
        raise PodscopeError(
            f"writing into {directory} failed: {_one_line(ex.stderr) or 'stream closed'}"
        )
    result.files, result.bytes, result.skipped = files, size, skipped
    if options.checksum:
        _verify(remote, directory, digests, "in")
        result.checksum = "verified"


def run_cp(client: KubeAPI, options: CpOptions, report: Events) -> CpResult:
    direction, remote_path, local = plan_copy(options.source, options.dest)
    if remote_path.namespace and options.namespace and remote_path.namespace != options.namespace:
        raise UsageError(
            f"{remote_path} names namespace {remote_path.namespace} but -n says {options.namespace}"
        )
    namespace = remote_path.namespace or options.namespace or client.namespace
    pod = client.get_pod(namespace, remote_path.pod)
    check_pod_can_debug(pod)
    target, reason = choose_target(pod, options.container)
    if not target:
        raise UsageError("podscope cp needs a target container", remedy="name it with -c")
    report(f"target container: {target} ({reason})")
    pod, helper, created = ensure_helper(client, pod, target, options, report)
    cid = None
    for item in (pod.get("status") or {}).get("containerStatuses") or []:
        if item.get("name") == target:
            cid = item.get("containerID")
    remote = _Remote(client, namespace, remote_path.pod, helper, cid)
    result = CpResult(
        direction=direction,
        pod=remote_path.pod,
        namespace=namespace,
        target=target,
        helper=helper,
        helper_created=created,
        remote=remote_path.path,
        local=local,
    )
    start = time.monotonic()
    if direction == "out":
        _copy_out(remote, remote_path, local, options, result)
    else:
        _copy_in(remote, local, remote_path, options, result)
    result.seconds = time.monotonic() - start
    for name in result.skipped:
        report(f"skipped {name} (not a file, directory or link)")
    return result
