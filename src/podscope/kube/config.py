"""Load a kubeconfig the way kubectl does and return a connected :class:`KubeClient`.

The kubernetes client library does the heavy lifting (auth providers, exec credential plugins,
client certificates); this module adds kubectl's file-selection rules and one-line errors.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from podscope.errors import ConfigError
from podscope.kube.client import KubeClient

DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_REQUEST_TIMEOUT = 30.0


@dataclass(frozen=True)
class KubeconfigFiles:
    """The files a kubeconfig is merged from, and where that list came from."""

    paths: tuple[str, ...]
    source: str  # "--kubeconfig", "$KUBECONFIG" or "~/.kube/config"


def kubeconfig_files(
    explicit: str | None, environ: Mapping[str, str] | None = None
) -> KubeconfigFiles:
    """Which kubeconfig files to read: ``--kubeconfig``, else ``$KUBECONFIG``, else the default.

    Like kubectl, files listed in ``$KUBECONFIG`` that do not exist are skipped; an explicitly
    named file must exist.
    """
    env = os.environ if environ is None else environ
    if explicit:
        if "\x00" in explicit:
            # No file has such a name; expanduser would raise ValueError on "~\x00".
            raise ConfigError(
                f"kubeconfig {explicit!r} not found", remedy="check the --kubeconfig path"
            )
        path = os.path.expanduser(explicit)
        if not os.path.isfile(path):
            raise ConfigError(
                f"kubeconfig {explicit} not found", remedy="check the --kubeconfig path"
            )
        return KubeconfigFiles((path,), "--kubeconfig")
    listed = env.get("KUBECONFIG", "")
    if listed:
        candidates = [os.path.expanduser(p) for p in listed.split(os.pathsep) if p]
        existing = tuple(p for p in candidates if os.path.isfile(p))
        if not existing:
            raise ConfigError(
                f"none of the files in $KUBECONFIG exist: {', '.join(candidates) or listed}",
                remedy="fix $KUBECONFIG or pass --kubeconfig",
            )
        return KubeconfigFiles(existing, "$KUBECONFIG")
    default = os.path.expanduser("~/.kube/config")
    if not os.path.isfile(default):
        raise ConfigError(
            "no kubeconfig found (~/.kube/config does not exist and $KUBECONFIG is not set)",
            remedy="pass --kubeconfig PATH or set KUBECONFIG",
        )
    return KubeconfigFiles((default,), "~/.kube/config")


def _read_yaml(path: str) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read kubeconfig {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"kubeconfig {path} is not UTF-8 text") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "malformed YAML"
        raise ConfigError(f"kubeconfig {path} is not valid YAML{where}: {problem}") from None
    if data is None:
        raise ConfigError(f"kubeconfig {path} is empty")
    if not isinstance(data, dict):
        raise ConfigError(f"kubeconfig {path} is not a kubeconfig (expected a mapping at the top)")
    return data


def _named(items: Any) -> dict[str, dict[str, Any]]:
    named: dict[str, dict[str, Any]] = {}
    if not isinstance(items, list):
        return named  # malformed: reported as "not found; available: ..." by the caller
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            named.setdefault(item["name"], item)  # first file wins, like kubectl
    return named


@dataclass(frozen=True)
class ContextChoice:
    name: str
    namespace: str
    cluster: str


def choose_context(documents: list[dict[str, Any]], requested: str | None) -> ContextChoice:
    """Pick the context (``--context`` or the first ``current-context``) from merged files."""
    contexts: dict[str, dict[str, Any]] = {}
    current: str | None = None
    for doc in documents:
        for context_name, item in _named(doc.get("contexts")).items():
            contexts.setdefault(context_name, item)
        if current is None and doc.get("current-context"):
            current = str(doc["current-context"])
    available = ", ".join(sorted(contexts)) or "none"
    name = requested or current
    if not name:
        raise ConfigError(
            f"the kubeconfig has no current-context; available contexts: {available}",
            remedy="pass --context NAME",
        )
    if name not in contexts:
        origin = "--context" if requested else "current-context"
        raise ConfigError(
            f"context {name!r} ({origin}) not found in the kubeconfig; available: {available}",
            remedy="pass --context with one of the available names",
        )
    body = contexts[name].get("context") or {}
    return ContextChoice(
        name=name,
        namespace=str(body.get("namespace") or "default"),
        cluster=str(body.get("cluster") or ""),
    )


def context_names(kubeconfig: str | None = None) -> list[str]:
    """The contexts of the kubeconfig (for completion: no request is sent)."""
    files = kubeconfig_files(kubeconfig)
    names: dict[str, None] = {}
    for path in files.paths:
        names.update(dict.fromkeys(_named(_read_yaml(path).get("contexts"))))
    return list(names)


def connect(
    kubeconfig: str | None = None,
    context: str | None = None,
    namespace: str | None = None,
    request_timeout: float | None = None,
    *,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
) -> KubeClient:
    """A client for the cluster of ``context`` (default: the current context).

    ``namespace`` overrides the context's namespace (else ``default``). ``request_timeout`` is
    the read timeout of each API request (default 30 s); connecting gives up after
    ``connect_timeout`` seconds. Nothing is sent to the cluster here.
    """
    from kubernetes.client import ApiClient, Configuration
    from kubernetes.config.config_exception import ConfigException
    from kubernetes.config.kube_config import KubeConfigLoader, KubeConfigMerger

    files = kubeconfig_files(kubeconfig)
    documents = [_read_yaml(path) for path in files.paths]
    choice = choose_context(documents, context)

    configuration = Configuration()
    try:
        merged = KubeConfigMerger(os.pathsep.join(files.paths))
        loader = KubeConfigLoader(
            config_dict=merged.config, active_context=choice.name, config_base_path=None
        )
        loader.load_and_set(configuration)
    except ConfigException as exc:
        raise ConfigError(f"kubeconfig context {choice.name!r}: {exc}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        # The loader indexes and calls string methods on whatever the file holds.
        raise ConfigError(f"kubeconfig context {choice.name!r} is incomplete: {exc}") from None
    if not configuration.host or configuration.host == "http://localhost":
        raise ConfigError(f"kubeconfig context {choice.name!r} names no server for its cluster")
    check_client_certificate(configuration.cert_file, choice.name)
    configuration.retries = _retry_policy()
    return KubeClient(
        ApiClient(configuration),
        namespace=namespace or choice.namespace,
        context=choice.name,
        request_timeout=request_timeout or DEFAULT_REQUEST_TIMEOUT,
        connect_timeout=connect_timeout,
    )


def check_client_certificate(path: str | None, context: str, now: float | None = None) -> None:
    """Refuse a client certificate that has expired or is not valid yet, before connecting.

    The API server would only answer 401 without saying why; the dates are known here.
    """
    if not path:
        return
    import ssl
    import time

    try:
        # CPython's own certificate decoder (used by its test suite); absent elsewhere.
        decoded = ssl._ssl._test_decode_cert(path)  # type: ignore[attr-defined]
        not_before = ssl.cert_time_to_seconds(decoded["notBefore"])
        not_after = ssl.cert_time_to_seconds(decoded["notAfter"])
    except Exception:  # noqa: BLE001
        return  # cannot tell: let the server decide
    current = time.time() if now is None else now
    if current > not_after:
        raise ConfigError(
            f"the client certificate of kubeconfig context {context!r} expired on "
            f"{decoded['notAfter']}",
            remedy="get a new certificate (or log in again) and update the kubeconfig",
        )
    if current < not_before:
        raise ConfigError(
            f"the client certificate of kubeconfig context {context!r} is not valid before "
            f"{decoded['notBefore']} (check this machine's clock)"
        )


def _retry_policy() -> Any:
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
