"""A copy whose data changed on the way is caught by the checksum check (no cluster).

The mismatches here are real: the tar stream is corrupted (one byte flipped in a file's
data), extracted by the real extraction code, and compared with the source's sums; the
copy-out and copy-in halves run against a stand-in for the helper that serves the stream.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from podscope.errors import ExitCode
from podscope.kube.streams import STDOUT
from podscope.rules.cppath import RemotePath
from podscope.rules.requests import CpRequest
from podscope.session.cp import ChecksumError, CpResult, TransferProgress
from podscope.session.cp.archive import write_archive
from podscope.session.cp.copy_in import copy_in
from podscope.session.cp.copy_out import copy_out
from podscope.session.cp.extract import extract_stream
from podscope.session.cp.remote import RemoteExec
from podscope.session.cp.verify import compare_sums, verify


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tar_of(tmp_path: Path, name: str, content: bytes) -> bytes:
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    (src / name).write_bytes(content)
    buf = io.BytesIO()
    write_archive(buf, str(src / name), name, 0, 0)
    return buf.getvalue()


def corrupt(stream: bytes, content: bytes) -> bytes:
    """The tar stream with one byte of the file's data flipped (headers untouched)."""
    at = stream.index(content[:64]) + len(content) // 2
    return stream[:at] + bytes([stream[at] ^ 0x01]) + stream[at + 1 :]


# --- the comparison -------------------------------------------------------------------------


def test_equal_sums_pass() -> None:
    digests = {"d/a": sha(b"a"), "d/b": sha(b"b")}
    compare_sums(digests, ["d/a", "d/b"], [sha(b"a"), sha(b"b")], "out")


def test_a_corrupted_stream_is_a_mismatch_naming_the_file(tmp_path: Path) -> None:
    content = os.urandom(200_000)
    stream = tar_of(tmp_path, "data.bin", content)
    out = tmp_path / "out"
    out.mkdir()
    extracted = extract_stream(io.BytesIO(corrupt(stream, content)), str(out), "data.bin", None)
    # The file arrived with the right size: only its sum tells that it is not the source.
    assert (out / "data.bin").stat().st_size == len(content)
    with pytest.raises(ChecksumError) as caught:
        compare_sums(extracted.digests, ["data.bin"], [sha(content)], "out")
    error = caught.value
    assert error.message.startswith("checksum mismatch for data.bin: the copy here differs")
    assert f"vs {sha(content)[:12]}..." in error.message
    assert error.remedy == "the file may have changed during the copy; copy it again"
    assert error.exit_code == ExitCode.FAILURE


def test_the_intact_stream_passes(tmp_path: Path) -> None:
    content = os.urandom(200_000)
    stream = tar_of(tmp_path, "data.bin", content)
    out = tmp_path / "out"
    out.mkdir()
    extracted = extract_stream(io.BytesIO(stream), str(out), "data.bin", None)
    compare_sums(extracted.digests, ["data.bin"], [sha(content)], "out")


def test_mismatch_of_a_later_file_is_found() -> None:
    digests = {"d/a": sha(b"a"), "d/b": sha(b"b"), "d/c": sha(b"c")}
    with pytest.raises(ChecksumError, match="mismatch for d/c: the copy in the Pod differs"):
        compare_sums(digests, ["d/a", "d/b", "d/c"], [sha(b"a"), sha(b"b"), sha(b"C")], "in")


@pytest.mark.parametrize("answer", [[], ["x"], ["x", "y", "z"]])
def test_a_short_or_long_answer_is_a_failed_check(answer: list[str]) -> None:
    digests = {"d/a": sha(b"a"), "d/b": sha(b"b")}
    with pytest.raises(ChecksumError, match=f"expected 2 sums from the target, got {len(answer)}"):
        compare_sums(digests, ["d/a", "d/b"], answer, "out")


def test_the_targets_unreadable_marker_is_a_mismatch() -> None:
    # The cp script answers "?" for a file it cannot read.
    with pytest.raises(ChecksumError):
        compare_sums({"d/a": sha(b"a")}, ["d/a"], ["?"], "in")


def test_names_with_newlines_are_not_asked_about() -> None:
    class NoRemote:
        def run(self, *args: Any, **kwargs: Any) -> bytes:
            raise AssertionError("asked the target about a name it cannot read from stdin")

    verify(NoRemote(), "/d", {"a\nb": sha(b"x")}, "out")  # type: ignore[arg-type]


# --- the two directions against a stand-in helper -------------------------------------------


class FakeStream:
    """An exec stream that answers with ``frames`` and takes whatever stdin it is sent."""

    def __init__(self, frames: list[bytes]) -> None:
        self.frames = [(STDOUT, f) for f in frames]
        self.stdin = bytearray()
        self.status: dict[str, Any] | None = {"status": "Success"}
        self.exit_code: int | None = 0
        self.lost = False
        self._lock = threading.Lock()

    def read_frame(self) -> tuple[int, bytes] | None:
        with self._lock:
            return self.frames.pop(0) if self.frames else None

    def write_stdin(self, data: bytes) -> bool:
        self.stdin.extend(data)
        return True

    def close_stdin(self) -> bool:
        return True

    def close(self) -> None:
        pass


class FakeHelper:
    """The helper's answers: a probe, the tar stream of the path, the target's sums."""

    def __init__(self, probe: str, stream: bytes, sums: list[str]) -> None:
        self.probe, self.stream, self.sums = probe, stream, sums
        self.received: FakeStream | None = None

    def open(self, what: str, op: str, *args: str, stdin: bool = False) -> RemoteExec:
        if op == "out":
            size = len(self.stream) // 3 + 1
            frames = [self.stream[i : i + size] for i in range(0, len(self.stream), size)]
            return RemoteExec(FakeStream(frames), what)  # type: ignore[arg-type]
        assert op == "in"
        self.received = FakeStream([])
        return RemoteExec(self.received, what)  # type: ignore[arg-type]

    def run(self, what: str, op: str, *args: str, data: bytes | None = None) -> bytes:
        if op == "probe":
            return self.probe.encode()
        assert op == "sum"
        return ("\n".join(self.sums) + "\n").encode()


def result() -> CpResult:
    return CpResult("out", "p", "ns", "app", "podscope-cp-x", False, "/d/data.bin", "here")


def test_copy_out_reports_a_corrupted_transfer(tmp_path: Path) -> None:
    content = os.urandom(100_000)
    stream = tar_of(tmp_path, "data.bin", content)
    helper = FakeHelper(f"owner 0 0\nfile {len(content)}\nparent dir\n", corrupt(stream, content),
                        [sha(content)])  # fmt: skip
    dest = tmp_path / "copy.bin"
    options = CpRequest(source="p:/d/data.bin", dest=str(dest))
    with pytest.raises(ChecksumError, match="checksum mismatch for data.bin: the copy here"):
        copy_out(helper, RemotePath("p", "/d/data.bin"), str(dest), options, result())  # type: ignore[arg-type]


def test_copy_out_verifies_and_reports_progress_as_data(tmp_path: Path) -> None:
    content = os.urandom(100_000)
    stream = tar_of(tmp_path, "data.bin", content)
    helper = FakeHelper(f"owner 0 0\nfile {len(content)}\nparent dir\n", stream, [sha(content)])
    dest = tmp_path / "copy.bin"
    events: list[TransferProgress] = []
    options = CpRequest(source="p:/d/data.bin", dest=str(dest))
    done = result()
    copy_out(helper, RemotePath("p", "/d/data.bin"), str(dest), options, done, events.append)  # type: ignore[arg-type]
    assert done.checksum == "verified" and done.files == 1 and done.bytes == len(content)
    assert dest.read_bytes() == content
    assert events[0] == TransferProgress("p:/d/data.bin", str(dest), 0, len(content))
    assert [e.finished for e in events] == [False] * (len(events) - 1) + [True]
    assert len(events) >= 4  # the start, one per frame, the end
    counts = [e.done_bytes for e in events]
    assert counts == sorted(counts) and counts[-1] == len(stream)


def test_copy_out_without_checksum_does_not_look(tmp_path: Path) -> None:
    content = os.urandom(10_000)
    stream = tar_of(tmp_path, "data.bin", content)
    helper = FakeHelper(f"owner 0 0\nfile {len(content)}\nparent dir\n", corrupt(stream, content),
                        [sha(content)])  # fmt: skip
    dest = tmp_path / "copy.bin"
    options = CpRequest(source="p:/d/data.bin", dest=str(dest), checksum=False)
    done = result()
    copy_out(helper, RemotePath("p", "/d/data.bin"), str(dest), options, done)  # type: ignore[arg-type]
    assert done.checksum == "skipped"


def test_copy_in_reports_a_copy_that_differs_in_the_pod(tmp_path: Path) -> None:
    local = tmp_path / "conf"
    local.write_bytes(b"port = 8080\n")
    # The target holds something else under that name after the transfer.
    helper = FakeHelper("owner 65532 65532\ndir 4\nparent dir\n", b"", [sha(b"port = 8081\n")])
    events: list[TransferProgress] = []
    options = CpRequest(source=str(local), dest="p:/etc")
    with pytest.raises(ChecksumError, match="checksum mismatch for conf: the copy in the Pod"):
        copy_in(helper, str(local), RemotePath("p", "/etc"), options, result(), events.append)  # type: ignore[arg-type]
    assert helper.received is not None and b"port = 8080" in helper.received.stdin
    assert events[-1].finished and events[-1].done_bytes == len(helper.received.stdin)
    assert events[0].total_bytes == len(b"port = 8080\n")


def test_copy_in_verifies_a_faithful_copy(tmp_path: Path) -> None:
    local = tmp_path / "conf"
    local.write_bytes(b"port = 8080\n")
    helper = FakeHelper("owner 65532 65532\ndir 4\nparent dir\n", b"", [sha(b"port = 8080\n")])
    options = CpRequest(source=str(local), dest="p:/etc")
    done = result()
    copy_in(helper, str(local), RemotePath("p", "/etc"), options, done)  # type: ignore[arg-type]
    assert done.checksum == "verified" and done.files == 1
