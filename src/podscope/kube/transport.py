"""HTTP to the API server, without importing the kubernetes package.

Importing the kubernetes package costs more than half of a short command's start-up: its
``config`` module pulls in google-auth, oauthlib and the like whether they are used or not.
What podscope needs of it is small: the kubeconfig's TLS material, a bearer token (or basic
credentials, or a client certificate), a proxy, and JSON over HTTP. This module does that.

``HttpClient`` keeps the two-call shape of the package's ``ApiClient`` (``param_serialize``
then ``call_api``) and ``ConnectionSettings`` keeps the attribute names of its
``Configuration``, so that ``KubeClient`` and the streams work with either: a kubeconfig user
with a legacy ``auth-provider`` (oidc, gcp, azure) still goes through the package
(``config.connect``), everything else through here.
"""

from __future__ import annotations

import atexit
import base64
import json
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

# Enough pooled connections for the many-Pod commands' worker threads to each keep one.
POOL_MAXSIZE = 32


@dataclass
class ConnectionSettings:
    """Where the API server is and how to talk to it (the names of the package's
    ``Configuration``, which ``credentials.ExecCredentials.install`` and the streams read)."""

    host: str
    verify_ssl: bool = True
    ssl_ca_cert: str | None = None
    assert_hostname: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    tls_server_name: str | None = None
    proxy: str | None = None
    no_proxy: str | None = None
    # "Bearer TOKEN" or "Basic ..." under "BearerToken", as the package keeps it.
    api_key: dict[str, str] = field(default_factory=dict)
    refresh_api_key_hook: Callable[[Any], None] | None = None
    # TLS contexts made from these settings (``tls_context``), by purpose and material.
    tls_contexts: dict[tuple[Any, ...], Any] = field(default_factory=dict, repr=False)


class _Materials:
    """Private files for the kubeconfig's inline (``*-data``) certificates and keys.

    TLS libraries load client certificates from files only. On Linux these are anonymous
    memory files (``memfd``, read through ``/proc/self/fd``): no key is ever written to a
    disk, and none is left behind however the process ends, even killed. Elsewhere they live
    in a directory only this user can read, removed when the process exits normally.
    """

    _lock = threading.Lock()
    _folder: str | None = None

    @classmethod
    def write(cls, data: bytes, name: str) -> str:
        if hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd"):
            # Never closed: the path reads the file for as long as the descriptor is open.
            descriptor = os.memfd_create(f"podscope-{name}")  # close-on-exec
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view) :]
            return f"/proc/self/fd/{descriptor}"
        return cls._write_file(data, name)

    @classmethod
    def _write_file(cls, data: bytes, name: str) -> str:
        import shutil
        import tempfile

        with cls._lock:
            if cls._folder is None:
                cls._folder = tempfile.mkdtemp(prefix="podscope-tls-")
                atexit.register(shutil.rmtree, cls._folder, True)
            folder = cls._folder
        descriptor, path = tempfile.mkstemp(dir=folder, suffix=f"-{name}.pem")
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        return path


def private_file(data: bytes, name: str) -> str:
    """A path that reads back ``data``, readable by this user only (see ``_Materials``)."""
    return _Materials.write(data, name)


def _file_or_data(entry: dict[str, Any], key: str, name: str) -> str | None:
    if entry.get(key):
        return str(entry[key])
    data = entry.get(f"{key}-data")
    if not data:
        return None
    return private_file(base64.b64decode(str(data)), name)


def _environment_proxy(host: str) -> tuple[str | None, str | None]:
    """The proxy the environment gives for ``host`` ($HTTPS_PROXY and the like) and $NO_PROXY,
    read as the package's ``Configuration`` reads them."""
    # Only the environment, as client-go's ProxyFromEnvironment (no macOS system settings).
    # urllib.request (with tempfile, shutil and their compression modules) is only worth
    # importing when the environment names a proxy at all.
    if not any(key.lower().endswith("_proxy") for key in os.environ):
        return None, None
    from urllib.request import getproxies_environment

    proxies = getproxies_environment()
    scheme = urlsplit(host).scheme
    return proxies.get(scheme) or proxies.get("all"), proxies.get("no")


def server_url(server: str) -> str:
    """The kubeconfig's ``server`` as a base URL. As in client-go, a server given without a
    scheme is taken as https; anything else that is not an http(s) URL with a host is refused
    (ValueError) rather than sent wherever urllib3 would guess."""
    server = server.strip()
    if not server:
        return ""  # the caller says that the context names no server
    if any(not char.isprintable() or char.isspace() for char in server):
        raise ValueError("the cluster's server holds a space or a control character")
    if "://" not in server:
        server = "https://" + server
    parts = urlsplit(server)
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise ValueError("the cluster's server has a port that is not a number") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("the cluster's server is not an http(s) URL with a host")
    return server.rstrip("/")


def settings_from_kubeconfig(cluster: dict[str, Any], user: dict[str, Any]) -> ConnectionSettings:
    """The settings of one kubeconfig context (its cluster and user entries, paths already
    resolved against their files). An exec plugin is not run here: see ``credentials``."""
    host = server_url(str(cluster.get("server") or ""))
    settings = ConnectionSettings(host=host)
    if host.startswith("https"):
        settings.ssl_ca_cert = _file_or_data(cluster, "certificate-authority", "ca")
        settings.cert_file = _file_or_data(user, "client-certificate", "cert")
        settings.key_file = _file_or_data(user, "client-key", "key")
    if "insecure-skip-tls-verify" in cluster:
        settings.verify_ssl = not cluster["insecure-skip-tls-verify"]
    if cluster.get("tls-server-name"):
        settings.tls_server_name = str(cluster["tls-server-name"])
    if cluster.get("proxy-url"):
        # As in kubectl, a kubeconfig's proxy-url is used for every host: $NO_PROXY is for
        # proxies taken from the environment.
        settings.proxy = str(cluster["proxy-url"])
    else:
        settings.proxy, settings.no_proxy = _environment_proxy(host)
    token = user.get("token")
    if not token and user.get("tokenFile"):
        with open(str(user["tokenFile"]), encoding="utf-8") as handle:
            token = handle.read().strip()
    if token:
        settings.api_key["BearerToken"] = f"Bearer {token}"
    elif user.get("username") and user.get("password"):
        pair = f"{user['username']}:{user['password']}".encode()
        settings.api_key["BearerToken"] = "Basic " + base64.b64encode(pair).decode()
    return settings


class Response:
    """One answer: status and body, read on demand (``response`` is the pool's, unread)."""

    def __init__(self, response: Any) -> None:
        self.response = response
        self.status: int = response.status
        self.reason: str = response.reason or ""
        self._data: bytes | None = None

    def read(self) -> bytes:
        if self._data is None:
            self._data = self.response.read()
        return self._data

    @property
    def data(self) -> bytes:
        return self.read()


_TLS_LOCK = threading.Lock()


def tls_context(settings: Any, purpose: str) -> Any:
    """The ``ssl.SSLContext`` of ``settings`` for ``purpose`` ("rest" or "streams").

    Made once per settings and material: the CA and the client certificate are read once,
    not at every connection (a many-Pod command opens dozens). urllib3 adjusts the context
    it is given, so the streams have their own. ``settings`` may also be the kubernetes
    package's ``Configuration`` (auth-provider users), which has no cache: a new context.
    Unreadable TLS material is a ConfigError naming it.
    """
    key = (
        purpose,
        settings.verify_ssl,
        settings.ssl_ca_cert,
        settings.cert_file,
        settings.key_file,
        settings.assert_hostname,
    )
    cache: dict[tuple[Any, ...], Any] | None = getattr(settings, "tls_contexts", None)
    if cache is None:
        return _new_tls_context(settings, purpose)
    with _TLS_LOCK:
        context = cache.get(key)
        if context is None:
            context = cache[key] = _new_tls_context(settings, purpose)
    return context


def _new_tls_context(settings: Any, purpose: str) -> Any:
    import ssl

    from podscope.errors import ConfigError

    try:
        # A kubeconfig CA replaces the system's trust store, as in kubectl; without one, the
        # system's store.
        context = ssl.create_default_context(cafile=settings.ssl_ca_cert)
        # Python 3.13 turns on OpenSSL's RFC 5280 strict mode here, which refuses, for one,
        # a server certificate with no Authority Key Identifier. Go's crypto/x509 (kubectl)
        # has no such rule, so clusters kubectl reaches would be refused. The chain, its
        # dates and the host name are verified all the same.
        context.verify_flags &= ~ssl.VERIFY_X509_STRICT
        if not settings.verify_ssl:
            # Only when the kubeconfig says insecure-skip-tls-verify: true.
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        elif purpose == "streams" and settings.assert_hostname is not None:
            # urllib3 reads assert_hostname itself; the streams' TLS is this context alone.
            context.check_hostname = bool(settings.assert_hostname)
        if settings.cert_file:
            context.load_cert_chain(settings.cert_file, settings.key_file)
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or exc
        raise ConfigError(
            f"cannot load the kubeconfig's TLS files (certificate authority, client "
            f"certificate or key): {reason}",
            remedy="check certificate-authority(-data), client-certificate(-data) and "
            "client-key(-data) in the kubeconfig",
        ) from None
    return context


class HttpClient:
    """Requests to one API server. Safe to share between threads.

    A direct connection goes through ``connections.Pool`` (the standard library's
    ``http.client``); a proxy, HTTP or SOCKS, through urllib3, imported only then.
    """

    def __init__(self, configuration: ConnectionSettings) -> None:
        self.configuration = configuration
        self.user_agent = "podscope"
        self._maxsize = POOL_MAXSIZE
        self._pool_lock = threading.Lock()
        self._made: Any = None

    @property
    def _pool(self) -> Any:
        # Made at the first request, not here: an exec credential plugin's client
        # certificate is put into the settings after this client is made.
        made = self._made
        if made is not None:
            return made
        with self._pool_lock:
            if self._made is None:
                self._made = self._make_pool()
            return self._made

    def _make_pool(self) -> Any:
        settings = self.configuration
        context = tls_context(settings, "rest") if settings.host.startswith("https") else None
        proxy = settings.proxy or None
        if proxy and proxy_bypassed(settings.host, settings.no_proxy):
            proxy = None
        if proxy is None and settings.assert_hostname is None:
            from podscope.kube.connections import Pool

            return Pool(
                settings.host,
                ssl_context=context,
                server_hostname=settings.tls_server_name,
                maxsize=self._maxsize,
            )
        return _Urllib3Pool(settings, context, self._maxsize, proxy=proxy)

    def param_serialize(
        self,
        *,
        method: str,
        resource_path: str,
        query_params: list[tuple[str, str]] | None = None,
        header_params: dict[str, str] | None = None,
        body: Any = None,
        auth_settings: list[str] | None = None,
    ) -> tuple[str, str, dict[str, str], Any, None]:
        """The method, URL, headers (with the current credential) and encoded body."""
        settings = self.configuration
        url = settings.host + resource_path
        if query_params:
            url += "?" + urlencode(query_params)
        headers = dict(header_params or {})
        headers["User-Agent"] = self.user_agent
        if auth_settings:
            if settings.refresh_api_key_hook is not None:
                settings.refresh_api_key_hook(settings)
            credential = settings.api_key.get("BearerToken")
            if credential:
                headers["authorization"] = credential  # the package's spelling
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        return method, url, headers, body, None

    def call_api(
        self,
        method: str,
        url: str,
        header_params: dict[str, str] | None = None,
        body: Any = None,
        *,
        _request_timeout: tuple[float, float] | None = None,
    ) -> Response:
        """Send one request. Failures raise ``connections.TransportError`` (or, through a
        proxy, urllib3's exceptions): ``transport_failure`` reads either."""
        answer = self._pool.request(
            method, url, headers=header_params, body=body, timeout=_request_timeout
        )
        return Response(answer)

    def widen_pool(self, size: int) -> None:
        """Keep up to ``size`` connections per host (for that many requests at once)."""
        with self._pool_lock:
            if self._maxsize >= size:
                return
            self._maxsize = size
            if self._made is not None:
                self._made.maxsize = size

    def close(self) -> None:
        with self._pool_lock:
            if self._made is not None:
                self._made.clear()


class _Urllib3Pool:
    """urllib3 behind the interface of ``connections.Pool`` (``request``, ``maxsize``,
    ``clear``): through a proxy, HTTP or SOCKS, and where urllib3's ``assert_hostname`` is
    asked for."""

    def __init__(
        self, settings: ConnectionSettings, context: Any, maxsize: int, *, proxy: str | None
    ) -> None:
        import urllib3

        options: dict[str, Any] = {"maxsize": maxsize, "retries": retry_policy()}
        if context is not None:
            options["ssl_context"] = context
        if settings.assert_hostname is not None:
            options["assert_hostname"] = settings.assert_hostname
        if settings.tls_server_name:
            options["server_hostname"] = settings.tls_server_name
        if proxy and urlsplit(proxy).scheme.startswith("socks"):
            from urllib3.contrib.socks import SOCKSProxyManager

            self._manager: Any = SOCKSProxyManager(proxy, **options)
        elif proxy:
            self._manager = urllib3.ProxyManager(proxy, **options)
        else:
            self._manager = urllib3.PoolManager(**options)

    @property
    def maxsize(self) -> int:
        return int(self._manager.connection_pool_kw["maxsize"])

    @maxsize.setter
    def maxsize(self, size: int) -> None:
        self._manager.connection_pool_kw["maxsize"] = size
        # Pools made before keep their size: drop them (only idle ones exist yet).
        self._manager.clear()

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        body: Any = None,
        timeout: tuple[float, float] | None = None,
    ) -> Any:
        import urllib3

        return self._manager.request(
            method,
            url,
            headers=headers,
            body=body,
            timeout=urllib3.Timeout(connect=timeout[0], read=timeout[1]) if timeout else None,
            preload_content=False,
            redirect=False,
        )

    def clear(self) -> None:
        self._manager.clear()


def transport_failure(exc: BaseException) -> tuple[str, bool] | None:
    """``(reason, maybe_sent)`` when ``exc`` says a request got no complete answer (from
    ``connections``, from urllib3 when it is in use, or a socket error); else None."""
    from podscope.kube.connections import TransportError

    if isinstance(exc, TransportError):
        return str(exc), exc.maybe_sent
    errors = sys.modules.get("urllib3.exceptions")
    if errors is not None:
        if isinstance(exc, (errors.ReadTimeoutError, errors.ProtocolError)):
            return str(exc), True  # the request may have been sent before it broke
        if isinstance(exc, errors.MaxRetryError):
            return str(exc.reason or exc), False
        if isinstance(exc, errors.HTTPError):
            return str(exc) or type(exc).__name__, False
    if isinstance(exc, OSError):
        return str(exc) or type(exc).__name__, False
    return None


def retry_policy() -> Any:
    """urllib3's retries, minus retrying timeouts.

    By default urllib3 retries a timed-out request three times: 40 s against a hung server
    with the 10 s connect timeout. Refused connections and stale pooled connections are still
    retried (they fail fast); a timeout ends the request at once. Watches retry on their own.
    """
    from urllib3.exceptions import ConnectTimeoutError, ReadTimeoutError
    from urllib3.util.retry import Retry

    class NoTimeoutRetry(Retry):
        def increment(self, *args: Any, **kwargs: Any) -> Retry:  # type: ignore[override]
            error = kwargs.get("error")
            if isinstance(error, (ReadTimeoutError, ConnectTimeoutError)):
                raise error
            return super().increment(*args, **kwargs)

    return NoTimeoutRetry(total=3, redirect=0, status=0)


def proxy_bypassed(host: str, no_proxy: str | None) -> bool:
    """Whether ``host`` matches a $NO_PROXY entry: ``*``, a name or domain suffix, an address
    or a CIDR range (as Go's and the package's readers take them)."""
    import ipaddress

    hostname = (urlsplit(host).hostname or "").lower()
    try:
        address = ipaddress.ip_address(hostname)
    except ValueError:
        address = None
    for entry in (item.strip().lower() for item in (no_proxy or "").split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        if address is not None:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
                continue
            except ValueError:
                pass
        name = entry.rsplit(":", 1)[0] if entry.count(":") == 1 else entry
        name = name.lstrip(".")
        if hostname == name or hostname.endswith("." + name):
            return True
    return False
