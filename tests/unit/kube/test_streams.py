"""The channel protocol: frames in, Status out (a scripted transport, no API server)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websocket import ABNF

from podscope.kube.streams import (
    V4_PROTOCOL,
    V5_PROTOCOL,
    ChannelStream,
    exit_code_from_status,
    proxy_options,
    resize_payload,
    status_failure,
    websocket_url,
)

NON_ZERO = {
    "metadata": {},
    "status": "Failure",
    "message": "command terminated with non-zero exit code: error executing command [sh -c exit 7]",
    "reason": "NonZeroExitCode",
    "details": {"causes": [{"reason": "ExitCode", "message": "7"}]},
}


def test_exit_codes_from_status() -> None:
    assert exit_code_from_status({"metadata": {}, "status": "Success"}) == 0
    assert exit_code_from_status(NON_ZERO) == 7
    assert exit_code_from_status(None) is None
    failure = {
        "status": "Failure",
        "message": 'container not found ("x")',
        "reason": "InternalError",
    }
    assert exit_code_from_status(failure) is None
    assert status_failure(failure) == 'container not found ("x")'
    assert status_failure(NON_ZERO) is None


def test_resize_payload() -> None:
    assert json.loads(resize_payload(120, 40)) == {"Width": 120, "Height": 40}


class _Frame:
    def __init__(self, data: bytes) -> None:
        self.data = data


class _ScriptedSocket:
    """Plays back server frames; records what the client sends."""

    def __init__(self, frames: list[tuple[int, bytes]]) -> None:
        self.frames = list(frames)
        self.sent: list[bytes] = []
        self.sock: object | None = object()

    def recv_data_frame(self, control_frame: bool) -> tuple[int, Any]:
        opcode, data = self.frames.pop(0)
        return opcode, _Frame(data)

    def send(self, payload: bytes, opcode: int) -> None:
        self.sent.append(payload)

    def abort(self) -> None:
        pass

    def shutdown(self) -> None:
        self.sock = None


def test_frames_are_split_by_channel_and_status_collected() -> None:
    socket = _ScriptedSocket(
        [
            (ABNF.OPCODE_BINARY, b"\x01"),  # empty initial frame
            (ABNF.OPCODE_BINARY, b"\x01out\n"),
            (ABNF.OPCODE_PING, b""),
            (ABNF.OPCODE_BINARY, b"\x02err\n"),
            (ABNF.OPCODE_BINARY, b"\xff\x01"),  # v5: server closed stdout
            (ABNF.OPCODE_BINARY, b"\x03" + json.dumps(NON_ZERO).encode()),
            (ABNF.OPCODE_CLOSE, b""),
        ]
    )
    stream = ChannelStream(socket, V5_PROTOCOL)
    assert list(stream.frames()) == [(1, b"out\n"), (2, b"err\n")]
    assert stream.exit_code == 7
    assert stream.closed and not stream.lost


def test_client_frames_and_stdin_close_only_on_v5() -> None:
    socket = _ScriptedSocket([])
    stream = ChannelStream(socket, V5_PROTOCOL)
    assert stream.write_stdin(b"ps\n")
    assert stream.resize(80, 24)
    assert stream.close_stdin()
    assert socket.sent == [b"\x00ps\n", b"\x04" + resize_payload(80, 24), b"\xff\x00"]
    assert not ChannelStream(_ScriptedSocket([]), V4_PROTOCOL).close_stdin()


def test_a_dropped_connection_is_lost() -> None:
    class _Broken(_ScriptedSocket):
        def recv_data_frame(self, control_frame: bool) -> tuple[int, Any]:
            raise ConnectionResetError("reset")

    stream = ChannelStream(_Broken([]), V5_PROTOCOL)
    assert stream.read_frame() is None
    assert stream.lost
    assert not stream.write_stdin(b"x")


def test_websocket_url_keeps_repeated_command_arguments_in_order() -> None:
    url = websocket_url(
        "https://10.0.0.1:6443/api/v1/namespaces/a/pods/b/exec",
        [("command", "tar"), ("command", "-x f"), ("container", "c")],
    )
    assert url == (
        "wss://10.0.0.1:6443/api/v1/namespaces/a/pods/b/exec?command=tar&command=-x+f&container=c"
    )
    assert websocket_url("http://h:8080/p", []).startswith("ws://h:8080/p")


def test_proxy_url_becomes_an_http_connect_proxy_for_streams() -> None:
    from kubernetes.client import Configuration

    from podscope.errors import ConfigError

    configuration = Configuration()
    configuration.proxy = None
    assert proxy_options(configuration) == {}
    configuration.proxy = "http://127.0.0.1:3128"
    configuration.no_proxy = None
    # Never the environment's $no_proxy (websocket-client reads it when given no list).
    assert proxy_options(configuration)["http_no_proxy"] == ["no-host.invalid"]
    configuration.proxy = "http://user:p%40ss@127.0.0.1:3128"
    configuration.no_proxy = "10.0.0.0/8, .internal"
    assert proxy_options(configuration) == {
        "proxy_type": "http",
        "http_proxy_host": "127.0.0.1",
        "http_proxy_port": 3128,
        "http_proxy_auth": ("user", "p@ss"),
        "http_no_proxy": ["10.0.0.0/8", ".internal"],
    }
    configuration.proxy = "socks5://127.0.0.1:1080"
    with pytest.raises(ConfigError, match="not supported for streams"):
        proxy_options(configuration)
