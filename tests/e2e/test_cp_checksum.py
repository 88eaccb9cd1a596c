"""`podscope cp` catches a copy that is not what the source was, on the real cluster.

Two real mismatches: a file the target keeps rewriting while it is copied out (the CLI in
its own process, as a user runs it), and a byte flipped in the live exec stream on this
side, in either direction (the CLI in this process, so the stream can be reached).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from podscope.cli.main import main
from podscope.kube.streams import ChannelStream
from podscope.session.cp.remote import RemoteExec
from tests.e2e.conftest import APP_IMAGE, BUSYBOX_IMAGE
from tests.e2e.helpers import podscope

# The target writes 4 MiB once, then keeps overwriting its first 4 KiB (same size, so the
# tar stream stays well-formed: only the content differs from one read to the next).
REWRITER = (
    "head -c 4194304 /dev/urandom > /tmp/changing.bin.new && "
    "mv /tmp/changing.bin.new /tmp/changing.bin && "
    "while true; do dd if=/dev/urandom of=/tmp/changing.bin bs=4096 count=1 conv=notrunc "
    "2>/dev/null; done"
)
MISMATCH_OUT = "podscope: error: checksum mismatch for changing.bin: the copy here differs"
HINT = "podscope: hint: the file may have changed during the copy; copy it again"


def test_a_file_changing_during_the_copy_is_reported(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    tmp_path: Path,
) -> None:
    make_pod("app", BUSYBOX_IMAGE, command=["sh", "-c", REWRITER])
    ready = podscope(
        podscope_env, "debug", "app", "-n", namespace, "-q", "--image-pull-policy",
        "IfNotPresent", "--cd", "/tmp", "--", "sh", "-c",
        "for i in $(seq 100); do [ -f changing.bin ] && exit 0; sleep 0.1; done; exit 1",
    )  # fmt: skip
    assert ready.returncode == 0, ready.stderr
    copy = tmp_path / "changing.bin"
    # The two reads (the stream, and sha256sum in the target) see the same content only if
    # no rewrite falls between them: rare, so a few attempts make the test steady.
    outcomes = []
    for _ in range(3):
        result = podscope(podscope_env, "cp", "-n", namespace, "app:/tmp/changing.bin", str(copy))
        outcomes.append(result)
        if result.returncode != 0:
            break
    assert result.returncode == 1, [r.stderr for r in outcomes]
    assert MISMATCH_OUT in result.stderr and HINT in result.stderr, result.stderr
    # The same copy without the check "succeeds": the failure above was the check's.
    unchecked = podscope(
        podscope_env, "cp", "-n", namespace, "--no-checksum", "app:/tmp/changing.bin", str(copy)
    )
    assert unchecked.returncode == 0, unchecked.stderr
    assert "checksum skipped" in unchecked.stderr
    assert copy.stat().st_size == 4 * 1024 * 1024


FLIP_AT = 600  # past the first tar header (512 bytes): inside the file's data


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


@pytest.fixture
def in_process(monkeypatch: pytest.MonkeyPatch, kubeconfig: str) -> Callable[..., tuple[int, str]]:
    """Run the CLI in this process (so the stream can be tampered with): exit code, stderr."""
    monkeypatch.setenv("KUBECONFIG", kubeconfig)
    monkeypatch.setenv("PODSCOPE_NO_CONFIG", "1")

    def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
        capsys.readouterr()
        code = main(list(argv))
        return code, capsys.readouterr().err

    return run


def test_a_byte_flipped_in_the_stream_out_is_reported(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    in_process: Callable[..., tuple[int, str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    make_pod("app", APP_IMAGE)
    original = tmp_path / "data.bin"
    original.write_bytes(os.urandom(300_000))
    sent = podscope(podscope_env, "cp", "-n", namespace, str(original), "app:/tmp/data.bin")
    assert sent.returncode == 0, sent.stderr
    back = tmp_path / "back.bin"
    code, err = in_process(capsys, "cp", "-n", namespace, "app:/tmp/data.bin", str(back))
    assert code == 0 and "sha256 verified" in err, err

    read = RemoteExec.read
    seen = {"bytes": 0, "flipped": 0}

    def corrupting_read(self: RemoteExec, size: int = -1) -> bytes:
        data = read(self, size)
        if self.what.startswith("reading "):  # the tar stream, not the probe or the sums
            start = seen["bytes"]
            seen["bytes"] += len(data)
            if start <= FLIP_AT < seen["bytes"]:
                data = _flip(data, FLIP_AT - start)
                seen["flipped"] += 1
        return data

    monkeypatch.setattr(RemoteExec, "read", corrupting_read)
    code, err = in_process(capsys, "cp", "-n", namespace, "app:/tmp/data.bin", str(back))
    assert seen["flipped"] == 1
    assert code == 1, err
    assert "podscope: error: checksum mismatch for data.bin: the copy here differs" in err, err
    assert HINT in err


def test_a_byte_flipped_in_the_stream_in_is_reported(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    in_process: Callable[..., tuple[int, str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    make_pod("app", APP_IMAGE)
    original = tmp_path / "data.bin"
    original.write_bytes(os.urandom(300_000))
    code, err = in_process(capsys, "cp", "-n", namespace, str(original), "app:/tmp/first.bin")
    assert code == 0 and "sha256 verified" in err, err

    write = ChannelStream.write_stdin
    seen = {"flipped": 0}

    def corrupting_write(self: ChannelStream, data: bytes) -> bool:
        # The first large frame is the tar stream (the names sent to sha256sum are short).
        if not seen["flipped"] and len(data) > FLIP_AT:
            data = _flip(data, FLIP_AT)
            seen["flipped"] += 1
        return write(self, data)

    monkeypatch.setattr(ChannelStream, "write_stdin", corrupting_write)
    code, err = in_process(capsys, "cp", "-n", namespace, str(original), "app:/tmp/data.bin")
    assert seen["flipped"] == 1
    assert code == 1, err
    assert "podscope: error: checksum mismatch for data.bin: the copy in the Pod differs" in err
    assert HINT in err
