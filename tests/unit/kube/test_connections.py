"""``kube.connections``: keep-alive requests on http.client, against a real loopback server."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from podscope.kube.connections import AnswerBroken, ConnectFailed, Pool, _Connection
from podscope.kube.errors import RequestContext, unreachable
from tests.unit.kube.certs import self_signed


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def log_message(self, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1  # type: ignore[attr-defined]

    def _answer(self, body: bytes, *, close: bool = False) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        if close:
            # Closed without "Connection: close": as a server ends an idle keep-alive one.
            self.close_connection = True

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/ok":
            self._answer(b'{"kind":"Pod"}')
        elif self.path == "/ok-then-close":
            self._answer(b"{}", close=True)
        elif self.path == "/hang":
            time.sleep(1.5)
            self._answer(b"{}")
        elif self.path == "/short":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.close_connection = True
        elif self.path.startswith("/watch"):
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for line in (b'{"type":"ADDED"}\n', b'{"type":"MODIFIED"}\n'):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                self.wfile.flush()
                # The second event only once the client has the first.
                self.server.first_read.wait(5)  # type: ignore[attr-defined]
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_error(404)

    def do_PATCH(self) -> None:  # noqa: N802
        length = int(self.headers["Content-Length"])
        self._answer(self.rfile.read(length))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    connections = 0

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.first_read = threading.Event()
        self.tls = tls

    def get_request(self) -> tuple[Any, Any]:
        sock, address = super().get_request()
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_side=True)
        return sock, address

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.server_address[1]}"


@contextlib.contextmanager
def _serving(tls: ssl.SSLContext | None = None) -> Iterator[_Server]:
    server = _Server(tls)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


TIMEOUT = (2.0, 2.0)


def _get(pool: Pool, url: str, timeout: tuple[float, float] = TIMEOUT) -> bytes:
    answer = pool.request("GET", url, timeout=timeout)
    try:
        return answer.data
    finally:
        answer.release_conn()


def test_requests_share_one_kept_alive_connection() -> None:
    with _serving() as server:
        pool = Pool(server.url)
        assert [_get(pool, server.url + "/ok") for _ in range(3)] == [b'{"kind":"Pod"}'] * 3
        assert server.connections == 1


def test_an_answer_not_read_to_its_end_does_not_go_back_to_the_pool() -> None:
    with _serving() as server:
        pool = Pool(server.url)
        pool.request("GET", server.url + "/ok", timeout=TIMEOUT).release_conn()  # body unread
        assert _get(pool, server.url + "/ok") == b'{"kind":"Pod"}'
        assert server.connections == 2


def test_a_connection_the_server_closed_while_idle_is_replaced() -> None:
    with _serving() as server:
        pool = Pool(server.url)
        assert _get(pool, server.url + "/ok-then-close") == b"{}"
        time.sleep(0.1)  # the close reaches the client
        assert pool._idle_connection() is None  # seen closed before any request is sent
        assert _get(pool, server.url + "/ok") == b'{"kind":"Pod"}'
        assert server.connections == 2


def test_a_request_racing_the_servers_close_is_sent_again_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The close arrives after the idle check: the request goes out on a dead connection.
    monkeypatch.setattr(_Connection, "dropped", lambda self: False)
    with _serving() as server:
        pool = Pool(server.url)
        _get(pool, server.url + "/ok-then-close")
        time.sleep(0.1)
        assert _get(pool, server.url + "/ok") == b'{"kind":"Pod"}'
        assert server.connections == 2


def test_a_body_is_sent_as_utf8() -> None:
    with _serving() as server:
        pool = Pool(server.url)
        answer = pool.request(
            "PATCH", server.url + "/echo", body='{"name":"café"}', timeout=TIMEOUT
        )
        assert answer.data == '{"name":"café"}'.encode()


def test_a_chunked_answer_streams_as_it_arrives() -> None:
    with _serving() as server:
        pool = Pool(server.url)
        answer = pool.request("GET", server.url + "/watch?watch=true", timeout=TIMEOUT)
        pieces = answer.stream()
        assert next(pieces) == b'{"type":"ADDED"}\n'  # before the server sends the next
        server.first_read.set()
        assert b"".join(pieces) == b'{"type":"MODIFIED"}\n'
        answer.release_conn()
        assert _get(pool, server.url + "/ok") == b'{"kind":"Pod"}'
        assert server.connections == 1


CONTEXT = RequestContext(verb="get", resource="pods", server="https://cluster:6443")


def test_a_read_timeout_says_the_phase_and_that_the_request_was_sent() -> None:
    with _serving() as server:
        pool = Pool(server.url)
        with pytest.raises(AnswerBroken) as caught:
            pool.request("GET", server.url + "/hang", timeout=(2.0, 0.2))
    assert caught.value.maybe_sent
    message = unreachable(CONTEXT, str(caught.value), maybe_sent=True).message
    assert message == "no answer from https://cluster:6443 within 0.2 s (waiting for its reply)"


def test_an_answer_that_breaks_off_is_a_broken_answer() -> None:
    with _serving() as server:
        pool = Pool(server.url)
        answer = pool.request("GET", server.url + "/short", timeout=TIMEOUT)
        with pytest.raises(AnswerBroken, match="IncompleteRead"):
            answer.read()


def test_a_refused_connection_was_never_sent() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    pool = Pool(f"http://127.0.0.1:{port}")
    with pytest.raises(ConnectFailed) as caught:
        pool.request("GET", f"http://127.0.0.1:{port}/ok", timeout=TIMEOUT)
    assert not caught.value.maybe_sent
    assert unreachable(CONTEXT, str(caught.value)).message == (
        "connection to https://cluster:6443 refused"
    )


def test_a_connect_timeout_says_connecting(monkeypatch: pytest.MonkeyPatch) -> None:
    def never_answers(address: Any, timeout: float | None = None) -> socket.socket:
        raise TimeoutError("timed out")

    monkeypatch.setattr(socket, "create_connection", never_answers)
    pool = Pool("https://10.0.0.1:6443")
    with pytest.raises(ConnectFailed) as caught:
        pool.request("GET", "https://10.0.0.1:6443/api", timeout=(0.5, 2.0))
    assert unreachable(CONTEXT, str(caught.value)).message == (
        "no answer from https://cluster:6443 within 0.5 s (connecting)"
    )


def _tls_pair(folder: Path, name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    cert, key = self_signed(folder, sans=(name,))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    return server, ssl.create_default_context(cafile=str(cert))


def test_tls_verifies_the_server_name_the_kubeconfig_gives(tmp_path: Path) -> None:
    server_tls, client_tls = _tls_pair(tmp_path, "kube.internal")
    with _serving(server_tls) as server:
        named = Pool(server.url, ssl_context=client_tls, server_hostname="kube.internal")
        assert _get(named, server.url + "/ok") == b'{"kind":"Pod"}'
        # Without tls-server-name the certificate does not name 127.0.0.1: refused.
        unnamed = Pool(server.url, ssl_context=client_tls)
        with pytest.raises(ConnectFailed) as caught:
            _get(unnamed, server.url + "/ok")
    message = unreachable(CONTEXT, str(caught.value)).message
    assert message.startswith("TLS connection to https://cluster:6443 failed:")
    assert "certificate verify failed" in message


def test_idle_connections_beyond_maxsize_are_closed() -> None:
    with _serving() as server:
        pool = Pool(server.url, maxsize=1)
        first = pool.request("GET", server.url + "/ok", timeout=TIMEOUT)
        second = pool.request("GET", server.url + "/ok", timeout=TIMEOUT)
        for answer in (first, second):
            answer.read()
            answer.release_conn()
        assert len(pool._idle) == 1
        pool.clear()
        assert pool._idle == []


def test_an_answer_read_to_its_end_gives_its_connection_back_by_itself() -> None:
    # An error answer is read and raised without release_conn: its connection still serves.
    with _serving() as server:
        pool = Pool(server.url)
        pool.request("GET", server.url + "/ok", timeout=TIMEOUT).read()
        assert len(pool._idle) == 1
        assert _get(pool, server.url + "/ok") == b'{"kind":"Pod"}'
        assert server.connections == 1
