"""Keep-alive HTTP/1.1 connections to one API server, on the standard library's ``http.client``.

urllib3 costs about 80 ms of every command's start-up: its import pulls in
``importlib.metadata`` (for an HTTP/2 probe), ``email`` and more, before any request. For a
direct connection to an API server, podscope needs only a few things:

- connections to one host, kept open between requests and shared by threads;
- a connect timeout and a read timeout;
- TLS with the kubeconfig's context and server name.

``http.client`` already does HTTP/1.1 itself: chunked bodies, keep-alive, headers. Proxies
(HTTP CONNECT, SOCKS) still go through urllib3 (``transport.HttpClient``), which is imported
only then.

A response answers to the part of urllib3's ``HTTPResponse`` that ``KubeClient`` uses:
``status``, ``data``, ``stream()``, ``close()``, ``release_conn()``. Failures are
``TransportError``s that say whether the request may have reached the server.
"""

from __future__ import annotations

import http.client
import select
import socket
import ssl
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit


class TransportError(Exception):
    """A request that got no complete answer. ``maybe_sent``: it may have reached the server
    (the connection broke or timed out after the request was written)."""

    maybe_sent = False


class ConnectFailed(TransportError):
    """No connection: refused, unresolvable, timed out, or the TLS handshake failed."""


class AnswerBroken(TransportError):
    """The request was written; its answer timed out or the connection broke."""

    maybe_sent = True


# What a request meets on a kept-alive connection the server closed as it went out.
_CLOSED_BY_SERVER = (
    http.client.RemoteDisconnected,
    BrokenPipeError,
    ConnectionResetError,
    ssl.SSLEOFError,
)


def _read_timed_out(seconds: float | None) -> AnswerBroken:
    # The words and the "timeout=N" that kube.errors.unreachable reads the phase from.
    return AnswerBroken(f"Read timed out. (read timeout={seconds})")


class _Connection(http.client.HTTPConnection):
    """One connection: TCP, then TLS with the kubeconfig's context and server name."""

    def __init__(
        self, host: str, port: int, *, tls: Any, server_name: str | None, timeout: float | None
    ) -> None:
        super().__init__(host, port, timeout=timeout)
        self._tls = tls
        self._server_name = server_name

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._tls is not None:
                # The name the certificate must carry and the SNI sent: tls-server-name when
                # the kubeconfig gives one, as in client-go, else the server's host.
                sock = self._tls.wrap_socket(sock, server_hostname=self._server_name or self.host)
        except BaseException:
            sock.close()
            raise
        self.sock = sock

    def dropped(self) -> bool:
        """Whether the server has closed this idle connection (or sent what it should not):
        an idle keep-alive connection has nothing to read."""
        if self.sock is None:
            return True
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)


class Pool:
    """Connections to the server of ``base_url``, at most ``maxsize`` of them kept idle.
    Safe to share between threads: each request has a connection of its own."""

    def __init__(
        self,
        base_url: str,
        *,
        ssl_context: Any = None,
        server_hostname: str | None = None,
        maxsize: int = 10,
    ) -> None:
        parts = urlsplit(base_url)
        self.scheme = parts.scheme
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if self.scheme == "https" else 80)
        self.ssl_context = ssl_context if self.scheme == "https" else None
        self.server_hostname = server_hostname
        self.maxsize = maxsize
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        body: bytes | str | None = None,
        timeout: tuple[float, float] | None = None,
    ) -> PooledResponse:
        """Send one request to ``url`` (on this pool's server) and read the answer's head."""
        connect_timeout, read_timeout = timeout or (None, None)
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        data = body.encode() if isinstance(body, str) else body
        idle = self._idle_connection()
        if idle is not None:
            try:
                return self._send(idle, method, target, data, headers, read_timeout)
            except _CLOSED_BY_SERVER:
                # The server closed this kept-alive connection as the request went out: it
                # was not read, so it is sent once more on a new connection.
                pass
        connection = self._connect(connect_timeout)
        try:
            return self._send(connection, method, target, data, headers, read_timeout)
        except _CLOSED_BY_SERVER as exc:
            raise AnswerBroken(f"Connection broken: {exc!r}") from None

    def _send(
        self,
        connection: _Connection,
        method: str,
        target: str,
        data: bytes | None,
        headers: dict[str, str] | None,
        read_timeout: float | None,
    ) -> PooledResponse:
        """One request on ``connection``; a close by the server passes through."""
        try:
            if connection.sock is not None:
                connection.sock.settimeout(read_timeout)
            connection.request(method, target, body=data, headers=headers or {})
            answer = connection.getresponse()
        except _CLOSED_BY_SERVER:
            connection.close()
            raise
        except TimeoutError:
            connection.close()
            raise _read_timed_out(read_timeout) from None
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise AnswerBroken(f"Connection broken: {exc!r}") from None
        return PooledResponse(answer, connection, self, read_timeout)

    def _connect(self, connect_timeout: float | None) -> _Connection:
        connection = _Connection(
            self.host,
            self.port,
            tls=self.ssl_context,
            server_name=self.server_hostname,
            timeout=connect_timeout,
        )
        try:
            connection.connect()
        except TimeoutError:
            raise ConnectFailed(
                f"Connection to {self.host} timed out. (connect timeout={connect_timeout})"
            ) from None
        except OSError as exc:  # refused, unresolvable, unreachable, ssl.SSLError
            raise ConnectFailed(str(exc) or type(exc).__name__) from None
        return connection

    def _idle_connection(self) -> _Connection | None:
        while True:
            with self._lock:
                if not self._idle:
                    return None
                connection = self._idle.pop()
            if not connection.dropped():
                return connection
            connection.close()

    def give_back(self, connection: _Connection) -> None:
        with self._lock:
            if len(self._idle) < self.maxsize:
                self._idle.append(connection)
                return
        connection.close()

    def clear(self) -> None:
        """Close every idle connection (those in use close when their answer is done)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


class PooledResponse:
    """An answer whose body is read on demand; its connection goes back to the pool once the
    body has been read to its end, or is closed (``close``, or ``release_conn`` before the
    end)."""

    def __init__(
        self,
        answer: http.client.HTTPResponse,
        connection: _Connection,
        pool: Pool,
        read_timeout: float | None,
    ) -> None:
        self._answer = answer
        self._connection: _Connection | None = connection
        self._pool = pool
        self._read_timeout = read_timeout
        self.status: int = answer.status
        self.reason: str = answer.reason or ""
        self.headers = answer.headers
        self._data: bytes | None = None

    def read(self) -> bytes:
        if self._data is None:
            self._data = self._guarded(self._answer.read)
            self.release_conn()  # the body is all here: the connection can serve another
        return self._data

    @property
    def data(self) -> bytes:
        return self.read()

    def stream(self, amt: int | None = None, decode_content: Any = None) -> Iterator[bytes]:
        """The body in pieces as they arrive (a watch's events, line after line)."""
        size = amt or 65536
        while True:
            chunk = self._guarded(lambda: self._answer.read1(size))
            if not chunk:
                self.release_conn()
                return
            yield chunk

    def _guarded(self, read: Any) -> bytes:
        try:
            data: bytes = read()
        except TimeoutError:
            self.close()
            raise _read_timed_out(self._read_timeout) from None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            # ValueError: a read after close() (the watch's generator closed from elsewhere).
            self.close()
            raise AnswerBroken(f"Connection broken: {exc!r}") from None
        return data

    def release_conn(self) -> None:
        """Give the connection back if the body was read to its end, else close it."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if self._answer.isclosed() and not self._answer.will_close and connection.sock:
            self._pool.give_back(connection)
        else:
            connection.close()

    def close(self) -> None:
        self._answer.close()
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
