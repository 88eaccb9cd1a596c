"""Attach/exec streams over the Kubernetes WebSocket channel protocols (v5, falling back to v4).

Each binary frame starts with a channel byte: 0 stdin, 1 stdout, 2 stderr, 3 error (a
``metav1.Status`` JSON document when the stream ends), 4 resize (``{"Width":..,"Height":..}``).
v5 adds a close signal, frame ``[255, channel]``, so stdin can reach EOF while output keeps
flowing.

The kubernetes package's ``WSClient`` speaks the same protocol but gives no connect timeout,
buffers channels as text for polling, and fails on error Statuses without an exit code. So the
frames are read here, on top of ``websocket-client``, with the TLS and proxy settings of the
loaded ``Configuration`` and the headers (credential, User-Agent) of every other request.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from typing import Any, Protocol
from urllib.parse import unquote, urlencode, urlsplit, urlunsplit

from podscope.kube.errors import RequestContext, map_status, unreachable

STDIN, STDOUT, STDERR, ERROR, RESIZE = 0, 1, 2, 3, 4
CLOSE_SIGNAL = 255
V5_PROTOCOL = "v5.channel.k8s.io"
V4_PROTOCOL = "v4.channel.k8s.io"


def exit_code_from_status(status: dict[str, Any] | None) -> int | None:
    """The process exit code a stream's final Status carries (``None`` when it has none)."""
    if not status:
        return None
    if status.get("status") == "Success":
        return 0
    if status.get("reason") == "NonZeroExitCode":
        for cause in (status.get("details") or {}).get("causes") or []:
            if cause.get("reason") == "ExitCode":
                try:
                    return int(cause.get("message"))
                except (TypeError, ValueError):
                    return None
    return None


def status_failure(status: dict[str, Any] | None) -> str | None:
    """The message of a failure Status that is not a plain non-zero exit, else ``None``."""
    if not status or status.get("status") == "Success":
        return None
    if status.get("reason") == "NonZeroExitCode":
        return None
    return str(status.get("message") or status.get("reason") or "stream failed")


def resize_payload(cols: int, rows: int) -> bytes:
    """The body of a resize frame (without the channel byte)."""
    return json.dumps({"Width": int(cols), "Height": int(rows)}).encode()


class _WebSocket(Protocol):
    """What is used of ``websocket.WebSocket``, typed here because websocket-client leaves
    ``connect``, ``abort`` and ``shutdown`` unannotated."""

    sock: socket.socket | None

    @property
    def subprotocol(self) -> str | None: ...

    def connect(self, url: str, **options: Any) -> None: ...

    def settimeout(self, timeout: float | None) -> None: ...

    def recv_data_frame(self, control_frame: bool = False) -> tuple[int, Any]: ...

    def send(self, payload: bytes | str, opcode: int = ...) -> int: ...

    def abort(self) -> None: ...

    def shutdown(self) -> None: ...


class ChannelStream:
    """One open attach/exec stream. Reading and writing may happen from different threads."""

    def __init__(self, websocket: _WebSocket, protocol: str) -> None:
        self._ws = websocket
        self.protocol = protocol
        self._error = bytearray()
        self._closed = threading.Event()
        self.lost = False  # the connection dropped without a close frame

    @property
    def can_close_stdin(self) -> bool:
        return self.protocol == V5_PROTOCOL

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def read_frame(self) -> tuple[int, bytes] | None:
        """The next stdout/stderr payload as ``(channel, data)``, or ``None`` once closed."""
        from websocket import ABNF, WebSocketException

        while not self._closed.is_set():
            try:
                opcode, frame = self._ws.recv_data_frame(True)
            except (WebSocketException, OSError, ValueError):
                # ValueError: the socket was shut down under us by close().
                self.lost = not self._closed.is_set() and not self._error
                self._closed.set()
                return None
            if opcode == ABNF.OPCODE_CLOSE:
                self._closed.set()
                return None
            if opcode not in (ABNF.OPCODE_BINARY, ABNF.OPCODE_TEXT):
                continue
            data = frame.data if isinstance(frame.data, bytes) else frame.data.encode()
            if not data:
                continue
            channel, payload = data[0], data[1:]
            if channel == CLOSE_SIGNAL:
                continue  # the server closed one of its channels; the others go on
            if channel == ERROR:
                self._error.extend(payload)
                continue
            if payload and channel in (STDOUT, STDERR):
                return channel, payload
        return None

    def frames(self) -> Iterator[tuple[int, bytes]]:
        while (frame := self.read_frame()) is not None:
            yield frame

    def _send(self, payload: bytes) -> bool:
        from websocket import ABNF, WebSocketException

        if self._closed.is_set():
            return False
        try:
            self._ws.send(payload, opcode=ABNF.OPCODE_BINARY)
        except (WebSocketException, OSError):
            return False
        return True

    def write_stdin(self, data: bytes) -> bool:
        """Send bytes to the process's stdin. False when the stream is gone."""
        return self._send(bytes([STDIN]) + data)

    def resize(self, cols: int, rows: int) -> bool:
        return self._send(bytes([RESIZE]) + resize_payload(cols, rows))

    def close_stdin(self) -> bool:
        """Signal EOF on stdin (v5 only; v4 has no way to, so this returns False)."""
        if not self.can_close_stdin:
            return False
        return self._send(bytes([CLOSE_SIGNAL, STDIN]))

    @property
    def status(self) -> dict[str, Any] | None:
        """The Status the server sent on the error channel, if any."""
        if not self._error:
            return None
        try:
            data = json.loads(bytes(self._error).decode("utf-8", "replace"))
        except ValueError:
            # Servers before v4 sent plain text on the error channel.
            return {"status": "Failure", "message": bytes(self._error).decode("utf-8", "replace")}
        return data if isinstance(data, dict) else None

    @property
    def exit_code(self) -> int | None:
        return exit_code_from_status(self.status)

    def close(self) -> None:
        """Close the connection; a reader blocked in :meth:`read_frame` returns ``None``."""
        already = self._closed.is_set()
        self._closed.set()
        if already and self._ws.sock is None:
            return
        try:
            self._ws.abort()
        finally:
            self._ws.shutdown()


def _ssl_options(configuration: Any, url: str) -> dict[str, Any]:
    if not url.startswith("wss://"):
        return {}
    from podscope.kube.transport import tls_context

    # The client's one context for streams: trust, hostname check and client certificate.
    options: dict[str, Any] = {"context": tls_context(configuration, "streams")}
    if configuration.tls_server_name:
        options["server_hostname"] = configuration.tls_server_name
    return options


def _keepalive_options() -> list[tuple[int, int, int]]:
    # A long interactive session can idle for hours; keepalives notice a dead peer (laptop
    # asleep, NAT dropped) instead of leaving the session hanging forever.
    options = [
        (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1),
        (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),
    ]
    for name, value in (("TCP_KEEPIDLE", 30), ("TCP_KEEPINTVL", 10), ("TCP_KEEPCNT", 6)):
        if hasattr(socket, name):
            options.append((socket.IPPROTO_TCP, getattr(socket, name), value))
    return options


def websocket_url(url: str, query: list[tuple[str, str]]) -> str:
    """``url`` (http/https) as a ws/wss URL with ``query`` (repeated keys kept, in order)."""
    parts = urlsplit(url)
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path, urlencode(query), ""))


_MATCHES_NO_HOST = "no-host.invalid"


def proxy_options(configuration: Any) -> dict[str, Any]:
    """websocket-client's options for the kubeconfig's ``proxy-url`` (HTTP CONNECT)."""
    if not configuration.proxy:
        return {}
    bypass = [h.strip() for h in (configuration.no_proxy or "").split(",") if h.strip()]
    # websocket-client reads $no_proxy when given no list; a proxy-url (no_proxy unset by
    # kube/config.py) applies to every host, so it gets a list that matches none.
    options: dict[str, Any] = {"http_no_proxy": bypass or [_MATCHES_NO_HOST]}
    proxy = urlsplit(configuration.proxy)
    if proxy.scheme != "http":
        from podscope.errors import ConfigError

        raise ConfigError(
            f"proxy-url scheme {proxy.scheme or '(none)'!r} is not supported for streams",
            remedy="use an http:// proxy-url",
        )
    options["proxy_type"] = "http"
    options["http_proxy_host"] = proxy.hostname
    options["http_proxy_port"] = proxy.port or (443 if proxy.scheme == "https" else 80)
    if proxy.username is not None:
        options["http_proxy_auth"] = (unquote(proxy.username), unquote(proxy.password or ""))
    return options


def open_stream(
    configuration: Any,
    url: str,
    query: list[tuple[str, str]],
    headers: dict[str, str],
    context: RequestContext,
    *,
    connect_timeout: float,
) -> ChannelStream:
    """Open a channel stream at ``url`` (an https/http API URL) and negotiate v5 or v4."""
    from websocket import (
        WebSocket,
        WebSocketBadStatusException,
        WebSocketException,
        WebSocketTimeoutException,
    )

    ws_url = websocket_url(url, query)
    header = [f"{key}: {value}" for key, value in headers.items() if key.lower() in _PASSED_HEADERS]
    options: dict[str, Any] = {
        "header": header,
        "subprotocols": [V5_PROTOCOL, V4_PROTOCOL],
        "timeout": connect_timeout,
    }
    options.update(proxy_options(configuration))
    ws: _WebSocket = WebSocket(
        sslopt=_ssl_options(configuration, ws_url),
        sockopt=_keepalive_options(),
        skip_utf8_validation=True,
        enable_multithread=True,
    )
    try:
        ws.connect(ws_url, **options)
    except WebSocketBadStatusException as exc:
        raise map_status(exc.status_code, exc.resp_body, context) from None
    except (TimeoutError, WebSocketTimeoutException):
        raise unreachable(context, "timed out opening the stream") from None
    except (WebSocketException, OSError) as exc:
        raise unreachable(context, str(exc) or type(exc).__name__) from None
    # The connect timeout must not turn into an idle timeout for the session itself.
    ws.settimeout(None)
    protocol = ws.subprotocol or ""
    if protocol not in (V5_PROTOCOL, V4_PROTOCOL):
        ws.shutdown()
        raise unreachable(
            context,
            f"the server offered no supported stream protocol (got {protocol or 'none'}; "
            f"need {V5_PROTOCOL} or {V4_PROTOCOL})",
        )
    return ChannelStream(ws, protocol)


_PASSED_HEADERS = {"authorization", "user-agent", "impersonate-user", "impersonate-group"}
