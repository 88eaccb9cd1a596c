"""Exec streams through the real client (``connect`` -> ``KubeClient.exec`` -> ``open_stream``)
to a local WebSocket server speaking the Kubernetes channel protocols over TLS.

The server answers the upgrade as the API server does: ``101`` with the subprotocol it picked
from the client's list (v5 or v4), or an HTTP error with a ``metav1.Status`` body. Frames are
``[channel] + data``; the final Status comes on channel 3; v5's close signal is ``[255, 0]``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from podscope.errors import ForbiddenError, UnreachableError
from podscope.kube.client import KubeClient
from podscope.kube.config import connect
from podscope.kube.queries import StreamQuery
from podscope.kube.streams import V4_PROTOCOL, V5_PROTOCOL
from tests.unit.kube.test_quick_get import _certificate

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def _exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def _frame(payload: bytes, opcode: int = 0x2) -> bytes:
    size = len(payload)
    if size < 126:
        head = bytes([0x80 | opcode, size])
    else:
        head = bytes([0x80 | opcode, 126]) + size.to_bytes(2, "big")
    return head + payload


def _read_frame(conn: socket.socket) -> tuple[int, bytes]:
    first, second = _exactly(conn, 2)
    size = second & 0x7F
    if size == 126:
        size = int.from_bytes(_exactly(conn, 2), "big")
    elif size == 127:
        size = int.from_bytes(_exactly(conn, 8), "big")
    mask = _exactly(conn, 4) if second & 0x80 else b"\0\0\0\0"
    data = bytes(b ^ mask[i % 4] for i, b in enumerate(_exactly(conn, size)))
    return first & 0x0F, data


def _exit(code: int) -> bytes:
    if code == 0:
        return json.dumps({"metadata": {}, "status": "Success"}).encode()
    return json.dumps(
        {
            "metadata": {},
            "status": "Failure",
            "message": f"command terminated with non-zero exit code: {code}",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
        }
    ).encode()


class _StreamServer:
    """Serves each exec by the ``container`` it names (the behaviour under test)."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls.load_cert_chain(str(cert), str(key))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.requests: list[tuple[str, list[tuple[str, str]], dict[str, str]]] = []
        self.stdin: list[bytes] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                raw, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(raw,), daemon=True).start()

    def close(self) -> None:
        self.listener.close()

    def _handle(self, raw: socket.socket) -> None:
        try:
            conn = self.tls.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            raw.close()
            return
        with conn, contextlib.suppress(ConnectionError, OSError):
            self._exchange(conn)

    def _exchange(self, conn: socket.socket) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                return
            data += chunk
        lines = data.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:])
        headers = {k.lower(): v for k, v in headers.items()}
        target = urlsplit(lines[0].split()[1])
        query = parse_qsl(target.query)
        self.requests.append((target.path, query, headers))
        container = dict(query)["container"]
        offered = [p.strip() for p in headers.get("sec-websocket-protocol", "").split(",")]
        if container == "forbidden":
            body = json.dumps(
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "status": "Failure",
                    "message": 'pods "web" is forbidden: User "u" cannot create resource '
                    '"pods/exec" in API group "" in the namespace "ns"',
                    "reason": "Forbidden",
                    "code": 403,
                }
            ).encode()
            conn.sendall(
                b"HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            return
        if container == "silent":
            threading.Event().wait(2)  # never answers the upgrade in time
            return
        protocol = V4_PROTOCOL if container == "v4" else V5_PROTOCOL
        assert protocol in offered
        if container == "v3":
            protocol = "v3.channel.k8s.io"  # an old server picking what was not offered
        accept = base64.b64encode(
            hashlib.sha1((headers["sec-websocket-key"] + _GUID).encode()).digest()
        ).decode()
        conn.sendall(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n"
                f"Sec-WebSocket-Protocol: {protocol}\r\n\r\n"
            ).encode()
        )
        if container == "cat":
            # Echo stdin until the client's close signal for it, then exit 0.
            got = b""
            while True:
                opcode, frame = _read_frame(conn)
                if opcode == 0x8 or frame == bytes([255, 0]):
                    break
                if frame[:1] == b"\0":
                    got += frame[1:]
            self.stdin.append(got)
            conn.sendall(_frame(b"\x01" + got) + _frame(b"\x03" + _exit(0)) + _frame(b"", 0x8))
            return
        if container == "drop":
            conn.sendall(_frame(b"\x01partial"))
            return  # the connection ends without a Status or a close frame
        # A command: output on both channels (one frame over 125 bytes), then exit code 3.
        conn.sendall(
            _frame(b"\x01" + b"o" * 300)
            + _frame(b"\x02err\n")
            + _frame(bytes([255, 2]))  # v5: the server closed its stderr
            + _frame(b"\x03" + _exit(3))
            + _frame(b"", 0x8)
        )


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return _certificate(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def server(pki: tuple[Path, Path]) -> Iterator[_StreamServer]:
    running = _StreamServer(*pki)
    yield running
    running.close()


def _client(
    tmp_path: Path, port: int, cert: Path, connect_timeout: float = 5, **cluster: Any
) -> KubeClient:
    entry: dict[str, Any] = {"server": f"https://127.0.0.1:{port}"}
    if not cluster.pop("no_ca", False):
        entry["certificate-authority-data"] = base64.b64encode(cert.read_bytes()).decode()
    entry.update(cluster)
    document = {
        "clusters": [{"name": "c", "cluster": entry}],
        "users": [{"name": "u", "user": {"token": "tok"}}],
        "contexts": [{"name": "a", "context": {"cluster": "c", "user": "u", "namespace": "ns"}}],
        "current-context": "a",
    }
    path = tmp_path / "config"
    path.write_text(json.dumps(document))
    return connect(str(path), connect_timeout=connect_timeout)


@pytest.fixture(autouse=True)
def _no_proxy_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)


def test_v5_output_by_channel_and_the_exit_code_from_the_status(
    tmp_path: Path, server: _StreamServer, pki: tuple[Path, Path]
) -> None:
    client = _client(tmp_path, server.port, pki[0])
    stream = client.exec(StreamQuery("ns", "web", "cmd"), ["sh", "-c", "exit 3"])
    frames = list(stream.frames())
    stream.close()
    client.close()
    assert frames == [(1, b"o" * 300), (2, b"err\n")]
    assert stream.protocol == V5_PROTOCOL and not stream.lost
    assert stream.exit_code == 3 and stream.status is not None
    path, query, headers = server.requests[-1]
    assert path == "/api/v1/namespaces/ns/pods/web/exec"
    assert query == [
        ("command", "sh"),
        ("command", "-c"),
        ("command", "exit 3"),
        ("container", "cmd"),
        ("stdin", "false"),
        ("stdout", "true"),
        ("stderr", "true"),
        ("tty", "false"),
    ]
    assert headers["authorization"] == "Bearer tok"
    assert headers["user-agent"].startswith("podscope/")
    offered = [p.strip() for p in headers["sec-websocket-protocol"].split(",")]
    assert offered == [V5_PROTOCOL, V4_PROTOCOL]


def test_v5_stdin_reaches_eof_through_the_close_signal(
    tmp_path: Path, server: _StreamServer, pki: tuple[Path, Path]
) -> None:
    client = _client(tmp_path, server.port, pki[0])
    stream = client.exec(StreamQuery("ns", "web", "cat", stdin=True), ["cat"])
    assert stream.write_stdin(b"hello ") and stream.write_stdin(b"there")
    assert stream.close_stdin()
    frames = list(stream.frames())
    stream.close()
    client.close()
    assert frames == [(1, b"hello there")]
    assert stream.exit_code == 0
    assert server.stdin[-1] == b"hello there"
    assert not stream.write_stdin(b"late")  # the stream has ended


def test_v4_has_no_way_to_close_stdin(
    tmp_path: Path, server: _StreamServer, pki: tuple[Path, Path]
) -> None:
    client = _client(tmp_path, server.port, pki[0])
    stream = client.exec(StreamQuery("ns", "web", "v4"), ["ls"])
    assert stream.protocol == V4_PROTOCOL
    assert not stream.close_stdin()
    assert [c for c, _ in stream.frames()] == [1, 2]
    assert stream.exit_code == 3
    stream.close()
    client.close()


def test_a_connection_that_drops_without_a_status_is_lost(
    tmp_path: Path, server: _StreamServer, pki: tuple[Path, Path]
) -> None:
    client = _client(tmp_path, server.port, pki[0])
    stream = client.exec(StreamQuery("ns", "web", "drop"), ["sleep", "1d"])
    assert list(stream.frames()) == [(1, b"partial")]
    assert stream.lost and stream.status is None and stream.exit_code is None
    stream.close()
    client.close()


def test_a_refused_upgrade_is_the_servers_error(
    tmp_path: Path, server: _StreamServer, pki: tuple[Path, Path]
) -> None:
    client = _client(tmp_path, server.port, pki[0])
    with pytest.raises(ForbiddenError, match="not allowed to create pods/exec in namespace ns"):
        client.exec(StreamQuery("ns", "web", "forbidden"), ["ls"])
    client.close()


def test_the_servers_certificate_is_checked(
    tmp_path: Path, server: _StreamServer, pki: tuple[Path, Path]
) -> None:
    other, _ = _certificate(tmp_path)  # another CA: the server's certificate is not trusted
    untrusted = _client(tmp_path, server.port, other)
    with pytest.raises(UnreachableError, match="certificate"):
        untrusted.exec(StreamQuery("ns", "web", "cmd"), ["ls"])
    untrusted.close()
    # insecure-skip-tls-verify (and no CA) connects all the same, as kubectl does.
    insecure = _client(
        tmp_path, server.port, pki[0], no_ca=True, **{"insecure-skip-tls-verify": True}
    )
    stream = insecure.exec(StreamQuery("ns", "web", "cmd"), ["ls"])
    list(stream.frames())
    assert stream.exit_code == 3
    stream.close()
    insecure.close()


def test_tls_server_name_is_the_name_checked(
    tmp_path: Path, server: _StreamServer, pki: tuple[Path, Path]
) -> None:
    client = _client(tmp_path, server.port, pki[0], **{"tls-server-name": "kube.test"})
    stream = client.exec(StreamQuery("ns", "web", "cmd"), ["ls"])
    list(stream.frames())
    assert stream.exit_code == 3
    stream.close()
    client.close()


def test_nothing_listening_is_unreachable(tmp_path: Path, pki: tuple[Path, Path]) -> None:
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    client = _client(tmp_path, port, pki[0])
    with pytest.raises(UnreachableError):
        client.attach(StreamQuery("ns", "web", "app", stdin=False, tty=False))
    client.close()


def test_an_upgrade_left_unanswered_times_out(
    tmp_path: Path, server: _StreamServer, pki: tuple[Path, Path]
) -> None:
    client = _client(tmp_path, server.port, pki[0], connect_timeout=0.2)
    with pytest.raises(UnreachableError, match="timed out opening the stream"):
        client.exec(StreamQuery("ns", "web", "silent"), ["ls"])
    client.close()


def test_a_protocol_that_was_not_offered_is_refused(
    tmp_path: Path, server: _StreamServer, pki: tuple[Path, Path]
) -> None:
    client = _client(tmp_path, server.port, pki[0])
    with pytest.raises(UnreachableError, match="cannot reach https://127.0.0.1"):
        client.exec(StreamQuery("ns", "web", "v3"), ["ls"])
    client.close()
