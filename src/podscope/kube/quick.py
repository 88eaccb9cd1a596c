"""One read-only GET without the ``kubernetes`` package, for shell completion.

Completion runs on every Tab, and importing the ``kubernetes`` package alone costs half a
second here. This path reads the same merged kubeconfig (``kube.config``) and sends one GET
with the standard library's ``http.client``. It reads the context with the full client's
``transport.settings_from_kubeconfig`` (CA, token, token file, basic credentials, client
certificate, ``tls-server-name``, ``insecure-skip-tls-verify``); what needs more (exec
plugins, auth providers, a proxy) raises :class:`NotQuick`, and the caller uses the full
client instead.
"""

from __future__ import annotations

import http.client
import json
import ssl
from typing import Any
from urllib.parse import urlsplit

from podscope.errors import ConfigError
from podscope.kube.config import _named, choose_context, kubeconfig_files, read_kubeconfig
from podscope.kube.transport import proxy_bypassed, settings_from_kubeconfig, tls_context


class NotQuick(Exception):
    """This kubeconfig needs the full client."""


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
    if user.get("exec") or user.get("auth-provider"):
        raise NotQuick("needs the full client")
    try:
        # The same reading of the context as the full client's (files, -data, tokens).
        settings = settings_from_kubeconfig(cluster, user)
    except ValueError as exc:
        raise NotQuick(str(exc)) from None
    if settings.proxy and not proxy_bypassed(settings.host, settings.no_proxy):
        raise NotQuick("goes through a proxy")
    url = urlsplit(settings.host)
    if url.scheme != "https" or not url.hostname:
        raise NotQuick("not an https server")
    try:
        tls = tls_context(settings, "streams")  # http.client reads only the context
    except ConfigError as exc:
        raise NotQuick(exc.message) from None
    headers = {"Accept": "application/json", "User-Agent": "podscope-completion"}
    credential = settings.api_key.get("BearerToken")
    if credential:
        headers["Authorization"] = credential
    port = url.port or 443
    if settings.tls_server_name:
        # SNI and the certificate check use this name instead of the URL's host.
        connection = _named_connection(url.hostname, port, timeout, tls, settings.tls_server_name)
    else:
        connection = http.client.HTTPSConnection(url.hostname, port, timeout=timeout, context=tls)
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
