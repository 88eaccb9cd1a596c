"""``kube.quick.get_json``: completion's one GET, against a local HTTPS server standing in for
the API server (its certificate made here, valid for 127.0.0.1 and kube.test)."""

from __future__ import annotations

import base64
import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from podscope.kube.quick import NotQuick, get_json
from tests.unit.kube.certs import self_signed


def _certificate(tmp: Path) -> tuple[Path, Path]:
    return self_signed(tmp, name="kube-apiserver", sans=("127.0.0.1", "kube.test"))


class _Server:
    def __init__(self, cert: Path, key: Path) -> None:
        self.cert, self.key = cert, key
        self.seen: list[tuple[str, dict[str, str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                server.seen.append((self.path, dict(self.headers)))
                if self.path.endswith("/pods"):
                    code, body = 200, {"kind": "PodList", "items": [{"metadata": {"name": "web"}}]}
                elif self.path.endswith("/boom"):
                    code, body = 500, {"kind": "Status", "code": 500}
                else:
                    code, body = 404, {"kind": "Status", "code": 404}
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(str(cert), str(key))
        self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Server]:
    cert, key = _certificate(tmp_path_factory.mktemp("pki"))
    running = _Server(cert, key)
    yield running
    running.close()


@pytest.fixture(autouse=True)
def _no_proxy_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)


def _kubeconfig(
    tmp_path: Path, server: _Server, cluster: dict[str, Any], user: dict[str, Any]
) -> str:
    ca = base64.b64encode(server.cert.read_bytes()).decode()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "c",
                "cluster": {
                    "server": f"https://127.0.0.1:{server.port}",
                    "certificate-authority-data": ca,
                    **cluster,
                },
            }
        ],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u", "namespace": "shop"}}],
        "current-context": "x",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(config))
    return str(path)


def test_one_get_with_the_token_answers_json_and_the_namespace(
    tmp_path: Path, server: _Server
) -> None:
    config = _kubeconfig(tmp_path, server, {}, {"token": "abc"})
    body, namespace = get_json("/api/v1/namespaces/shop/pods", kubeconfig=config)
    assert body["items"] == [{"metadata": {"name": "web"}}] and namespace == "shop"
    path, headers = server.seen[-1]
    assert path == "/api/v1/namespaces/shop/pods"
    assert headers["Authorization"] == "Bearer abc"
    assert headers["User-Agent"] == "podscope-completion"


def test_nothing_of_that_name_offers_nothing(tmp_path: Path, server: _Server) -> None:
    config = _kubeconfig(tmp_path, server, {}, {"token": "abc"})
    assert get_json("/api/v1/namespaces/shop/pods/nope", kubeconfig=config) == ({}, "shop")


def test_another_answer_needs_the_full_client(tmp_path: Path, server: _Server) -> None:
    config = _kubeconfig(tmp_path, server, {}, {})
    with pytest.raises(NotQuick, match="HTTP 500"):
        get_json("/boom", kubeconfig=config)
    assert "Authorization" not in server.seen[-1][1]


def test_tls_server_name_checks_the_certificate_for_that_name(
    tmp_path: Path, server: _Server
) -> None:
    config = _kubeconfig(tmp_path, server, {"tls-server-name": "kube.test"}, {"token": "t"})
    assert get_json("/pods", kubeconfig=config)[0]["kind"] == "PodList"
    wrong = _kubeconfig(tmp_path, server, {"tls-server-name": "other.test"}, {"token": "t"})
    with pytest.raises(ssl.SSLCertVerificationError):
        get_json("/pods", kubeconfig=wrong)


def test_insecure_skip_tls_verify_needs_no_ca(tmp_path: Path, server: _Server) -> None:
    config = _kubeconfig(tmp_path, server, {"insecure-skip-tls-verify": True}, {"token": "t"})
    text = Path(config).read_text().replace('"certificate-authority-data"', '"unused"')
    Path(config).write_text(text)
    assert get_json("/pods", kubeconfig=config)[0]["kind"] == "PodList"


def test_a_client_certificate_is_loaded(tmp_path: Path, server: _Server) -> None:
    user = {"client-certificate": str(server.cert), "client-key": str(server.key)}
    config = _kubeconfig(tmp_path, server, {}, user)
    assert get_json("/pods", kubeconfig=config)[0]["kind"] == "PodList"


@pytest.mark.parametrize(
    ("cluster", "user", "why"),
    [
        ({}, {"exec": {"command": "plugin", "apiVersion": "x"}}, "needs the full client"),
        ({}, {"auth-provider": {"name": "oidc"}}, "needs the full client"),
        ({"proxy-url": "http://proxy.test:3128"}, {"token": "t"}, "goes through a proxy"),
    ],
)
def test_what_needs_the_full_client(
    tmp_path: Path, server: _Server, cluster: dict[str, Any], user: dict[str, Any], why: str
) -> None:
    config = _kubeconfig(tmp_path, server, cluster, user)
    count = len(server.seen)
    with pytest.raises(NotQuick, match=why):
        get_json("/pods", kubeconfig=config)
    assert len(server.seen) == count  # nothing was sent


def test_a_plain_http_server_needs_the_full_client(tmp_path: Path, server: _Server) -> None:
    config = _kubeconfig(tmp_path, server, {}, {"token": "t"})
    Path(config).write_text(Path(config).read_text().replace("https://", "http://"))
    with pytest.raises(NotQuick, match="not an https server"):
        get_json("/pods", kubeconfig=config)


def test_a_malformed_user_entry_needs_the_full_client(tmp_path: Path, server: _Server) -> None:
    config = _kubeconfig(tmp_path, server, {}, {"token": "t"})
    data = json.loads(Path(config).read_text())
    data["users"][0]["user"] = "not a mapping"
    Path(config).write_text(json.dumps(data))
    with pytest.raises(NotQuick, match="malformed kubeconfig"):
        get_json("/pods", kubeconfig=config)


def test_a_server_that_is_no_url_needs_the_full_client(tmp_path: Path, server: _Server) -> None:
    config = _kubeconfig(tmp_path, server, {}, {"token": "t"})
    text = Path(config).read_text().replace(f"https://127.0.0.1:{server.port}", "ftp://host")
    Path(config).write_text(text)
    with pytest.raises(NotQuick, match="server"):
        get_json("/pods", kubeconfig=config)
