"""One read-only GET without the ``kubernetes`` package, for shell completion.

Completion runs on every Tab, and importing the ``kubernetes`` package alone costs half a
second here. This path reads the same merged kubeconfig (``kube.config``) and sends one GET
with the standard library's ``http.client``. It handles the common cases (server CA, token,
token file, client certificate, ``tls-server-name``, ``insecure-skip-tls-verify``); anything
else (exec plugins, auth providers, proxies) raises :class:`NotQuick`, and the caller uses
the full client instead.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import ssl
import tempfile
from contextlib import ExitStack
from typing import Any
from urllib.parse import urlsplit

from podscope.kube.config import _named, choose_context, kubeconfig_files, read_kubeconfig


class NotQuick(Exception):
    """This kubeconfig needs the full client."""


def _material(stack: ExitStack, item: dict[str, Any], key: str) -> str | None:
    """The path of ``key`` (a file) or of ``key-data`` (written to a private temporary file)."""
    if item.get(key):
        return str(item[key])
    data = item.get(f"{key}-data")
    if not data:
        return None
    handle = stack.enter_context(tempfile.NamedTemporaryFile("wb", suffix=".pem"))  # noqa: SIM115
    os.chmod(handle.name, 0o600)
    handle.write(base64.b64decode(data))
    handle.flush()
    return handle.name


def get_json(
    path: str,
    *,
    kubeconfig: str | None = None,
    context: str | None = None,
    timeout: float = 2.0,
) -> tuple[Any, str]:
    """``GET path`` as JSON, and the context's namespace. Raises NotQuick or OSError."""
    merged = read_kubeconfig(kubeconfig_files(kubeconfig))
    choice = choose_context(merged, context)
    cluster = (_named(merged.get("clusters")).get(choice.cluster) or {}).get("cluster") or {}
    user = (_named(merged.get("users")).get(choice.user) or {}).get("user") or {}
    if not isinstance(cluster, dict) or not isinstance(user, dict):
        raise NotQuick("malformed kubeconfig")
    if cluster.get("proxy-url") or user.get("exec") or user.get("auth-provider"):
        raise NotQuick("needs the full client")
    url = urlsplit(str(cluster.get("server") or ""))
    if url.scheme != "https" or not url.hostname:
        raise NotQuick("not an https server")
    with ExitStack() as stack:
        tls = ssl.create_default_context(cafile=_material(stack, cluster, "certificate-authority"))
        if cluster.get("insecure-skip-tls-verify") is True:
            tls.check_hostname = False
            tls.verify_mode = ssl.CERT_NONE
        cert, key = (
            _material(stack, user, "client-certificate"),
            _material(stack, user, "client-key"),
        )
        if cert:
            tls.load_cert_chain(cert, key)
        headers = {"Accept": "application/json", "User-Agent": "podscope-completion"}
        token = user.get("token")
        if not token and user.get("tokenFile"):
            with open(str(user["tokenFile"]), encoding="utf-8") as handle:
                token = handle.read().strip()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        server_name = cluster.get("tls-server-name")
        connection = http.client.HTTPSConnection(
            url.hostname, url.port or 443, timeout=timeout, context=tls
        )
        if server_name:
            # SNI and the certificate check use this name instead of the URL's host.
            connection = _named_connection(url.hostname, url.port or 443, timeout, tls, server_name)
        try:
            connection.request("GET", url.path.rstrip("/") + path, headers=headers)
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
    if response.status == 404:
        return {}, choice.namespace  # nothing of that name: nothing to offer
    if response.status != 200:
        raise NotQuick(f"HTTP {response.status}")
    return json.loads(body), choice.namespace


def _named_connection(
    host: str, port: int, timeout: float, tls: ssl.SSLContext, server_name: str
) -> http.client.HTTPSConnection:
    class Named(http.client.HTTPSConnection):
        def connect(self) -> None:
            import socket

            raw = socket.create_connection((host, port), timeout)
            self.sock = tls.wrap_socket(raw, server_hostname=server_name)

    return Named(host, port, timeout=timeout, context=tls)
