"""The target's side of a copy: execs into the helper, and what they answer.

Every step (probe a path, stream a tar out or in, checksum files) is one exec of the cp
script in the helper. Data comes back on the exec's stdout, read frame by frame so memory
stays flat; stderr is kept (capped) because its last lines are the error message when the
remote command fails.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

from podscope.errors import PodscopeError, ServerError, StreamLostError
from podscope.kube.protocol import KubeAPI
from podscope.kube.queries import StreamQuery
from podscope.kube.streams import STDERR, STDOUT, ChannelStream, status_failure
from podscope.rules.debugger import new_session_id, session_command
from podscope.rules.targetfs import cp_command

# The unit of streaming: stdin frames sent, file chunks read and written.
CHUNK = 256 * 1024
_STDERR_KEEP = 16 * 1024


def one_line(data: bytes | bytearray) -> str:
    """The last few lines of a remote stderr as one printable line."""
    lines = [ln.strip() for ln in bytes(data).decode("utf-8", "replace").splitlines() if ln.strip()]
    text = "; ".join(lines[-3:])
    return "".join(ch if ch.isprintable() else "?" for ch in text)[:400]


class HelperEnded(PodscopeError):
    """The runtime refused an exec into the helper because it has ended (nothing ran)."""

    def __init__(self, helper: str) -> None:
        super().__init__(f"debugger {helper} has ended (its main process is gone)")
        self.helper = helper


class RemoteExec:
    """One exec into the helper: stdout as a file-like reader, stderr kept (capped)."""

    def __init__(
        self,
        stream: ChannelStream,
        what: str,
        helper: str = "",
        has_ended: Callable[[], bool] | None = None,
    ) -> None:
        self.stream = stream
        self.what = what
        self.helper = helper
        # Asks whether the helper has ended, for a refusal in words not known here.
        self.has_ended = has_ended
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

    def raise_if_refused(self) -> None:
        """HelperEnded when the runtime refused this exec because the helper has ended."""
        if self.stream.exit_code is not None or self.received or self.stderr:
            return
        from podscope.session.exec_session import refused_as_ended

        failure = status_failure(self.stream.status)
        if refused_as_ended(failure):
            raise HelperEnded(self.helper)
        if failure and self.has_ended is not None and self.has_ended():
            # Refused in words not known here (an empty Status, "ttrpc: closed", ...) by a
            # helper that, asked again, has ended: what the known words mean too.
            raise HelperEnded(self.helper)

    def finish(self) -> None:
        """Raise if the remote command failed; its stderr (one line) is the message."""
        self.drain()
        self.stream.close()
        status = self.stream.status
        code = self.stream.exit_code
        if code == 0:
            return
        self.raise_if_refused()
        detail = one_line(self.stderr) or (status or {}).get("message") or "no message"
        if code is None and self.stream.lost:
            raise StreamLostError(f"the connection broke while {self.what}")
        raise PodscopeError(f"{self.what} failed (exit code {code}): {detail}")


class Remote:
    """The helper of one copy: which Pod and container, and the target's container ID.
    ``debugger``: the helper is a podscope debugger, whose TTL counts only sessions."""

    def __init__(
        self,
        client: KubeAPI,
        namespace: str,
        pod: str,
        helper: str,
        cid: str | None,
        debugger: bool = False,
    ) -> None:
        self.client, self.namespace, self.pod, self.helper, self.cid = (
            client,
            namespace,
            pod,
            helper,
            cid,
        )
        self.debugger = debugger
        self.completed = 0  # commands that ran to their end

    def open(self, what: str, op: str, *args: str, stdin: bool = False) -> RemoteExec:
        words = cp_command(op, self.cid, *args)
        # A step with no input is watched (as a debug session is): a tar writing out to a
        # client that went without a word (SIGKILL) would block on its full pipe for good,
        # and as a session keep the debugger from expiring; the end of the stdin stream,
        # which nothing is written to, ends it. A step with input ends at that input's end.
        watched = self.debugger and not stdin
        if self.debugger:
            session = new_session_id(os.urandom(4)) if watched else ""
            words = session_command(self.helper, words, session, watched=watched)
        helper = StreamQuery(self.namespace, self.pod, self.helper, stdin=stdin or watched)
        has_ended = self._has_ended if self.debugger else None
        try:
            stream = self.client.exec(helper, words)
        except ServerError as exc:
            from podscope.session.exec_session import refused_as_ended

            if refused_as_ended(exc) or (has_ended is not None and has_ended()):
                raise HelperEnded(self.helper) from None
            raise
        return RemoteExec(stream, what, self.helper, has_ended)

    def _has_ended(self) -> bool:
        """Whether the debugger has ended: its holder looked for, then the kubelet's report."""
        from podscope.session.exec_session import how_debugger_ended

        try:
            pod = self.client.get_pod(self.namespace, self.pod)
        except PodscopeError:
            return False
        return how_debugger_ended(self.client, pod, self.helper) is not None

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
        self.completed += 1
        return out


@dataclass
class Probe:
    uid: int
    gid: int
    kind: str  # dir | file | other | none
    size: int | None
    parent_is_dir: bool


def parse_probe(text: str) -> Probe:
    """The cp script's ``probe`` answer: owner, kind and size of a path, and its parent."""
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
    return Probe(uid, gid, kind, size, parent)


def probe(remote: Remote, path: str) -> Probe:
    text = remote.run(f"inspecting {path} in the target", "probe", path)
    return parse_probe(text.decode("utf-8", "replace"))


def remote_sums(remote: Remote, directory: str, names: list[str]) -> list[str]:
    """The sha256 of each of ``names`` under ``directory`` in the target, in order."""
    listing = ("\n".join(names) + "\n").encode("utf-8", "surrogateescape")
    answer = remote.run("computing checksums in the target", "sum", directory, data=listing)
    return answer.decode("ascii", "replace").split()
