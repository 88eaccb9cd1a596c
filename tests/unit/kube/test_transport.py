"""The kubeconfig-to-HTTP settings of ``kube.transport`` and what ``connect`` imports."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest

from podscope.errors import ConfigError
from podscope.kube.client import KubeClient
from podscope.kube.transport import (
    HttpClient,
    proxy_bypassed,
    server_url,
    settings_from_kubeconfig,
    tls_context,
)
from tests.unit.kube.certs import issued_without_key_identifiers, self_signed

SERVER = "https://10.0.0.1:6443"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _inline_settings(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("HTTPS_PROXY", raising=False)
    monkeypatch.delenv("https_proxy", raising=False)
    cluster = {"server": SERVER + "/", "certificate-authority-data": _b64("CA PEM")}
    user = {"client-certificate-data": _b64("CERT PEM"), "client-key-data": _b64("KEY PEM")}
    return settings_from_kubeconfig(cluster, user)


def _materials(settings: Any) -> list[tuple[str | None, str]]:
    return [
        (settings.ssl_ca_cert, "CA PEM"),
        (settings.cert_file, "CERT PEM"),
        (settings.key_file, "KEY PEM"),
    ]


@pytest.mark.skipif(not hasattr(os, "memfd_create"), reason="memory files are Linux's")
def test_inline_material_stays_in_memory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Nothing may reach a disk, so a killed process leaves no key behind.
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    settings = _inline_settings(monkeypatch)
    assert settings.host == SERVER
    for path, content in _materials(settings):
        assert path is not None and path.startswith("/proc/self/fd/")
        assert Path(path).read_text() == content
    assert list(tmp_path.iterdir()) == []
    assert settings.verify_ssl is True and settings.api_key == {}


def test_inline_material_in_private_files_without_memory_files(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delattr(os, "memfd_create", raising=False)
    for path, content in _materials(_inline_settings(monkeypatch)):
        assert path is not None and Path(path).read_text() == content
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(Path(path).parent).st_mode) == 0o700


def _client_pair(folder: Path) -> tuple[str, str]:
    """A self-signed certificate and its key, as PEM files."""
    cert, key = self_signed(folder, "client")
    return str(cert), str(key)


def test_one_tls_context_per_client_and_purpose(tmp_path: Path) -> None:
    cert, key = _client_pair(tmp_path)
    settings = settings_from_kubeconfig(
        {"server": SERVER, "certificate-authority": cert},
        {"client-certificate": cert, "client-key": key},
    )
    rest = tls_context(settings, "rest")
    assert tls_context(settings, "rest") is rest  # read once, however many connections
    streams = tls_context(settings, "streams")
    assert streams is not rest  # urllib3 adjusts its own
    assert streams.check_hostname and streams.verify_mode == ssl.CERT_REQUIRED
    # A certificate installed later (an exec credential plugin's) makes a new context.
    other_cert, other_key = _client_pair(tmp_path / "..")
    settings.cert_file, settings.key_file = other_cert, other_key
    assert tls_context(settings, "rest") is not rest


def test_a_certificate_kubectl_accepts_is_not_refused_by_strict_mode(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Python 3.13's default context is strict; this makes older ones behave the same.
    strict_default = ssl.create_default_context

    def as_python_3_13(**kwargs: Any) -> ssl.SSLContext:
        context = strict_default(**kwargs)
        context.verify_flags |= ssl.VERIFY_X509_STRICT
        return context

    monkeypatch.setattr(ssl, "create_default_context", as_python_3_13)
    ca_cert, ca_key = self_signed(tmp_path, "ca", name="cluster-ca")
    leaf_cert, leaf_key = issued_without_key_identifiers(
        tmp_path, ca_cert, ca_key, sans=("127.0.0.1",)
    )
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(leaf_cert, leaf_key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve_one() -> None:
        connection, _ = listener.accept()
        with (
            contextlib.suppress(OSError),
            server_context.wrap_socket(connection, server_side=True) as tls,
        ):
            tls.recv(1)

    server = threading.Thread(target=serve_one, daemon=True)
    server.start()
    settings = settings_from_kubeconfig(
        {"server": f"https://127.0.0.1:{port}", "certificate-authority": str(ca_cert)},
        {"token": "t"},
    )
    client_context = tls_context(settings, "streams")
    assert client_context.verify_mode == ssl.CERT_REQUIRED and client_context.check_hostname
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    with client_context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        assert tls.getpeercert() is not None  # verified, not skipped
    server.join(5)
    listener.close()


def test_insecure_contexts_verify_nothing(tmp_path: Path) -> None:
    settings = settings_from_kubeconfig(
        {"server": SERVER, "insecure-skip-tls-verify": True}, {"token": "t"}
    )
    for purpose in ("rest", "streams"):
        context = tls_context(settings, purpose)
        assert not context.check_hostname and context.verify_mode == ssl.CERT_NONE


def test_unreadable_tls_material_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _inline_settings(monkeypatch)  # "CA PEM" is no certificate
    with pytest.raises(ConfigError, match="cannot load the kubeconfig's TLS files"):
        tls_context(settings, "streams")


def test_the_pool_is_made_at_the_first_request_with_the_current_certificate(
    tmp_path: Path,
) -> None:
    # An exec credential plugin's certificate arrives after the client is made.
    settings = settings_from_kubeconfig({"server": SERVER}, {})
    client = HttpClient(settings)
    cert, key = _client_pair(tmp_path)
    settings.cert_file, settings.key_file = cert, key
    pool = client._pool
    assert pool.ssl_context is tls_context(settings, "rest")


def test_paths_tokens_and_basic_credentials(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("from-file\n")
    cluster = {"server": SERVER, "certificate-authority": "/etc/ca.crt"}
    settings = settings_from_kubeconfig(cluster, {"tokenFile": str(token_file)})
    assert settings.ssl_ca_cert == "/etc/ca.crt"
    assert settings.api_key["BearerToken"] == "Bearer from-file"
    # A token given inline wins over the file, as in kubectl.
    both = settings_from_kubeconfig(cluster, {"token": "inline", "tokenFile": str(token_file)})
    assert both.api_key["BearerToken"] == "Bearer inline"
    basic = settings_from_kubeconfig(cluster, {"username": "ann", "password": "pw"})
    assert basic.api_key["BearerToken"] == "Basic " + _b64("ann:pw")


def test_tls_flags_and_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://env-proxy:3128")
    monkeypatch.setenv("NO_PROXY", "10.0.0.0/8")
    cluster = {"server": SERVER, "insecure-skip-tls-verify": True, "tls-server-name": "api"}
    settings = settings_from_kubeconfig(cluster, {})
    assert settings.verify_ssl is False and settings.tls_server_name == "api"
    assert settings.proxy == "http://env-proxy:3128" and settings.no_proxy == "10.0.0.0/8"
    own = settings_from_kubeconfig({**cluster, "proxy-url": "http://own:8080"}, {})
    assert own.proxy == "http://own:8080" and own.no_proxy is None


@pytest.mark.parametrize(
    ("host", "no_proxy", "bypassed"),
    [
        ("https://10.0.0.1:6443", "10.0.0.0/8", True),
        ("https://10.0.0.1:6443", "192.168.0.0/16", False),
        ("https://api.corp.example:6443", ".corp.example", True),
        ("https://api.corp.example:6443", "corp.example", True),
        ("https://api.corp.example:6443", "other.example,api.corp.example:6443", True),
        ("https://apicorp.example:6443", "corp.example", False),
        ("https://anything:6443", "*", True),
        ("https://anything:6443", "", False),
    ],
)
def test_no_proxy_rules(host: str, no_proxy: str, bypassed: bool) -> None:
    assert proxy_bypassed(host, no_proxy) is bypassed


def test_requests_carry_the_credential_and_encode_json() -> None:
    settings = settings_from_kubeconfig({"server": SERVER}, {"token": "t0k"})
    refreshed: list[str] = []
    settings.refresh_api_key_hook = lambda s: refreshed.append("yes")
    client = HttpClient(settings)
    client.user_agent = "podscope/test"
    method, url, headers, body, _ = client.param_serialize(
        method="PATCH",
        resource_path="/api/v1/namespaces/n/pods/p",
        query_params=[("fieldManager", "podscope"), ("a", "b c")],
        header_params={"Content-Type": "application/merge-patch+json"},
        body={"spec": {}},
        auth_settings=["BearerToken"],
    )
    assert (method, url) == (
        "PATCH",
        SERVER + "/api/v1/namespaces/n/pods/p?fieldManager=podscope&a=b+c",
    )
    assert headers["authorization"] == "Bearer t0k" and headers["User-Agent"] == "podscope/test"
    assert json.loads(body) == {"spec": {}} and refreshed == ["yes"]


class _Refusing:
    """An ApiClient-shaped transport that answers every request with 401."""

    class configuration:  # noqa: N801
        host = SERVER

    def param_serialize(self, **kw: Any) -> tuple[str, str, dict[str, str], Any, None]:
        return kw["method"], SERVER + kw["resource_path"], {}, None, None

    def call_api(self, *args: Any, **kw: Any) -> Any:
        class Answer:
            status = 401
            data = b'{"kind":"Status","code":401,"message":"Unauthorized"}'

            def read(self) -> bytes:
                return self.data

        return Answer()


def test_a_401_runs_the_certificate_check() -> None:
    def expired() -> None:
        raise ConfigError("the client certificate of kubeconfig context 'c' expired on 2021-01-01")

    kube = KubeClient(
        _Refusing(),
        namespace="ns",
        context="c",
        request_timeout=5,
        connect_timeout=1,
        certificate_check=expired,
    )
    with pytest.raises(ConfigError, match="expired on 2021-01-01"):
        kube.get_pod("ns", "p")


def test_connect_and_a_request_do_not_import_the_kubernetes_package(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kc"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters: [{name: k, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
    )
    script = (
        "import sys\n"
        "from podscope.kube.config import connect\n"
        f"client = connect({str(kubeconfig)!r}, connect_timeout=0.5)\n"
        "try:\n"
        "    client.get_pod('default', 'p')\n"
        "except Exception:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'kubernetes'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_the_pool_widens_for_many_requests_at_once() -> None:
    client = HttpClient(settings_from_kubeconfig({"server": SERVER}, {}))
    kube = KubeClient(client, namespace="ns", context="c", request_timeout=5, connect_timeout=1)
    kube.widen_pool(64)
    assert client._pool.maxsize == 64
    kube.widen_pool(8)  # never narrowed
    assert client._pool.maxsize == 64


@pytest.mark.parametrize(
    ("server", "url"),
    [
        ("https://10.0.0.1:6443/", "https://10.0.0.1:6443"),
        ("api.example:6443", "https://api.example:6443"),  # client-go's default scheme
        ("1", "https://1"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("", ""),
    ],
)
def test_server_urls_as_client_go_takes_them(server: str, url: str) -> None:
    assert server_url(server) == url


@pytest.mark.parametrize(
    "server",
    [
        "ftp://host",
        "https://",
        "https://host:port",
        "https:///x",
        "\x1b",
        "https://a b",
        "https://h\nx",
    ],
)
def test_servers_that_are_not_urls_are_refused(server: str) -> None:
    with pytest.raises(ValueError, match="server"):
        server_url(server)
