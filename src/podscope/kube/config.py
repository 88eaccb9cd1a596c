"""Load a kubeconfig the way kubectl does and return a connected :class:`KubeClient`.

The files are read (with ruamel.yaml) and merged here, once, with kubectl's rules. The chosen
context's TLS material, token and proxy become :mod:`podscope.kube.transport` settings; only a
user with a legacy ``auth-provider`` goes to the kubernetes package's ``KubeConfigLoader``.
Exec credential plugins are run by :mod:`podscope.kube.credentials`, as kubectl runs them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from podscope.errors import ConfigError
from podscope.kube.client import KubeClient

if TYPE_CHECKING:
    from podscope.kube.credentials import ExecCredentials

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
            what = "is a directory, not a file" if os.path.isdir(path) else "not found"
            raise ConfigError(f"kubeconfig {explicit} {what}", remedy="check the --kubeconfig path")
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


def _yaml_loader() -> Any:
    from ruamel.yaml import YAML

    loader = YAML(typ="safe", pure=True)
    # kubectl reads kubeconfigs as YAML 1.1 (``insecure-skip-tls-verify: yes`` is true there).
    loader.version = (1, 1)
    return loader


def _read_yaml(path: str) -> dict[str, Any] | None:
    """One kubeconfig file as a mapping (``None`` when it is empty)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read kubeconfig {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"kubeconfig {path} is not UTF-8 text") from None
    if text.lstrip().startswith("{"):
        # A JSON kubeconfig (which kubectl accepts) is read as JSON: its \u escapes of
        # characters outside the BMP are surrogate pairs, which a YAML reader leaves as two
        # unpaired surrogates, and JSON needs no YAML library at all (~20 ms of start-up).
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"kubeconfig {path} is not valid JSON (line {exc.lineno}): {exc.msg}"
            ) from None
    else:
        data = _parse_yaml(path, text)
    return _checked_mapping(path, data)


def _parse_yaml(path: str, text: str) -> Any:
    from ruamel.yaml.error import YAMLError, YAMLFutureWarning

    try:
        return _yaml_loader().load(text)
    except (YAMLError, YAMLFutureWarning) as exc:
        # Some ruamel versions raise a duplicate key as a warning class; both carry a mark.
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "malformed YAML"
        raise ConfigError(f"kubeconfig {path} is not valid YAML{where}: {problem}") from None


def _checked_mapping(path: str, data: Any) -> dict[str, Any] | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise ConfigError(f"kubeconfig {path} is not a kubeconfig (expected a mapping at the top)")
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigError(
            f"kubeconfig {path} holds a \\u escape of an unpaired surrogate, which is no "
            "character (a path or name with it could not be used)"
        ) from None
    except (TypeError, ValueError):
        pass  # YAML-only values (dates); the checks that read them say more
    return data


# The fields kubectl resolves against the directory of the file that names them.
_CLUSTER_PATHS = ("certificate-authority",)
_USER_PATHS = ("client-certificate", "client-key", "tokenFile")


def _resolve(base: str, value: Any) -> Any:
    if isinstance(value, str) and value and not os.path.isabs(value):
        return os.path.normpath(os.path.join(base, os.path.expanduser(value)))
    return value


def _resolved_item(section: str, item: dict[str, Any], base: str) -> dict[str, Any]:
    body = item.get(section[:-1])
    if not isinstance(body, dict):
        return item
    body = dict(body)
    keys = {"clusters": _CLUSTER_PATHS, "users": _USER_PATHS}.get(section, ())
    for key in keys:
        if key in body:
            body[key] = _resolve(base, body[key])
    plugin = body.get("exec") if section == "users" else None
    command = plugin.get("command") if isinstance(plugin, dict) else None
    # A bare command name is looked up on $PATH; a path is relative to the file.
    if isinstance(plugin, dict) and isinstance(command, str) and os.sep in command:
        body["exec"] = {**plugin, "command": _resolve(base, command)}
    return {**item, section[:-1]: body}


def _named(items: Any) -> dict[str, dict[str, Any]]:
    named: dict[str, dict[str, Any]] = {}
    if not isinstance(items, list):
        return named  # malformed: reported as "not found; available: ..." by the caller
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            named.setdefault(item["name"], item)  # first file wins, like kubectl
    return named


def merge_kubeconfigs(documents: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Merge ``(path, document)`` pairs with kubectl's rules, into one kubeconfig document.

    The first file that names a cluster, user or context wins for that name; current-context
    comes from the first file that sets it; relative file paths (certificate-authority,
    client-certificate, client-key, tokenFile, an exec command with a directory part) are made
    absolute against the directory of the file they were read from.
    """
    merged: dict[str, Any] = {"apiVersion": "v1", "kind": "Config"}
    for section in ("clusters", "users", "contexts"):
        chosen: dict[str, dict[str, Any]] = {}
        for path, doc in documents:
            base = os.path.dirname(os.path.abspath(path))
            for name, item in _named(doc.get(section)).items():
                if name not in chosen:
                    chosen[name] = _resolved_item(section, item, base)
        merged[section] = list(chosen.values())
    for _, doc in documents:
        if doc.get("current-context"):
            merged["current-context"] = str(doc["current-context"])
            break
    return merged


def read_kubeconfig(files: KubeconfigFiles) -> dict[str, Any]:
    """The files read and merged once, as kubectl merges them."""
    documents: list[tuple[str, dict[str, Any]]] = []
    for path in files.paths:
        data = _read_yaml(path)
        if data is None:
            if len(files.paths) == 1:
                raise ConfigError(f"kubeconfig {path} is empty")
            continue  # kubectl skips an empty file in a list
        documents.append((path, data))
    return merge_kubeconfigs(documents)


@dataclass(frozen=True)
class ContextChoice:
    name: str
    namespace: str
    cluster: str
    user: str


def choose_context(merged: dict[str, Any], requested: str | None) -> ContextChoice:
    """Pick the context (``--context``, else ``current-context``) of a merged kubeconfig."""
    contexts = _named(merged.get("contexts"))
    current = merged.get("current-context")
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
        user=str(body.get("user") or ""),
    )


def context_names(kubeconfig: str | None = None) -> list[str]:
    """The contexts of the kubeconfig (for completion: no request is sent)."""
    merged = read_kubeconfig(kubeconfig_files(kubeconfig))
    return list(_named(merged.get("contexts")))


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
    ``connect_timeout`` seconds. Nothing is sent to the cluster here; an exec credential
    plugin in the kubeconfig runs here, once.
    """
    files = kubeconfig_files(kubeconfig)
    merged = read_kubeconfig(files)
    choice = choose_context(merged, context)
    credentials, for_loader = _split_exec_plugin(merged, choice)
    cluster = (_named(merged.get("clusters")).get(choice.cluster) or {}).get("cluster") or {}
    user = (_named(for_loader.get("users")).get(choice.user) or {}).get("user") or {}
    if not isinstance(cluster, dict) or not isinstance(user, dict):
        raise ConfigError(f"kubeconfig context {choice.name!r} is incomplete")
    if user.get("auth-provider"):
        api_client = _package_api_client(for_loader, choice.name)
    else:
        api_client = _http_client(cluster, user, choice.name)
    configuration = api_client.configuration
    if not configuration.host or configuration.host == "http://localhost":
        raise ConfigError(f"kubeconfig context {choice.name!r} names no server for its cluster")
    if credentials is not None:
        credentials.install(configuration)
    if not configuration.verify_ssl:
        _insecure_as_kubectl(cluster, choice.name)
    if cluster.get("proxy-url"):
        configuration.no_proxy = None
    return KubeClient(
        api_client,
        namespace=namespace or choice.namespace,
        context=choice.name,
        request_timeout=request_timeout or DEFAULT_REQUEST_TIMEOUT,
        # --request-timeout bounds a whole request, as kubectl's does: connecting (and the
        # TLS handshake) too, when it is the shorter.
        connect_timeout=min(connect_timeout, request_timeout or connect_timeout),
        credentials=credentials,
        certificate_check=lambda: check_client_certificate(configuration.cert_file, choice.name),
        user=choice.user,
    )


def _http_client(cluster: dict[str, Any], user: dict[str, Any], context: str) -> Any:
    from podscope.kube.transport import HttpClient, settings_from_kubeconfig

    try:
        settings = settings_from_kubeconfig(cluster, user)
    except OSError as exc:
        raise ConfigError(
            f"kubeconfig context {context!r}: cannot read {exc.filename or 'a file'}: "
            f"{exc.strerror or exc}"
        ) from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"kubeconfig context {context!r} is malformed: {exc}",
            remedy="the cluster's server is a URL such as https://HOST:6443",
        ) from None
    return HttpClient(settings)


class _ConfigLoader(Protocol):
    """What is used of the kubernetes package's ``KubeConfigLoader``, which is unannotated."""

    def __init__(
        self, *, config_dict: dict[str, Any], active_context: str, config_base_path: None
    ) -> None: ...

    def load_and_set(self, client_configuration: Any) -> None: ...


def _package_api_client(merged: dict[str, Any], context: str) -> Any:
    """The kubernetes package's client, for the legacy auth-provider plugins it implements."""
    from kubernetes.client import ApiClient, Configuration
    from kubernetes.config.config_exception import ConfigException
    from kubernetes.config.kube_config import KubeConfigLoader

    loader_type = cast("type[_ConfigLoader]", KubeConfigLoader)
    configuration = Configuration()
    try:
        loader = loader_type(config_dict=merged, active_context=context, config_base_path=None)
        loader.load_and_set(configuration)
    except ConfigException as exc:
        raise ConfigError(f"kubeconfig context {context!r}: {exc}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        # The loader indexes and calls string methods on whatever the file holds.
        raise ConfigError(f"kubeconfig context {context!r} is incomplete: {exc}") from None
    from podscope.kube.transport import retry_policy

    configuration.retries = retry_policy()
    return ApiClient(configuration)


def _insecure_as_kubectl(cluster: Any, context: str) -> None:
    """``insecure-skip-tls-verify: true`` as kubectl takes it: never together with a CA, and
    chosen by the user, so not warned about on every request."""
    import warnings

    from urllib3.exceptions import InsecureRequestWarning

    if isinstance(cluster, dict) and (
        cluster.get("certificate-authority") or cluster.get("certificate-authority-data")
    ):
        raise ConfigError(
            f"kubeconfig context {context!r}: insecure-skip-tls-verify cannot be used together "
            "with a certificate-authority (kubectl refuses it too)",
            remedy="remove one of them from the cluster entry",
        )
    warnings.filterwarnings("ignore", category=InsecureRequestWarning)


def _split_exec_plugin(
    merged: dict[str, Any], choice: ContextChoice
) -> tuple[ExecCredentials | None, dict[str, Any]]:
    """The context user's exec plugin (run by podscope), and the kubeconfig for the package's
    loader without it. A user with a token or an auth-provider uses those, as in kubectl."""
    users = _named(merged.get("users"))
    user = (users.get(choice.user) or {}).get("user")
    if not isinstance(user, dict) or not isinstance(user.get("exec"), dict):
        return None, merged
    if user.get("token") or user.get("tokenFile") or user.get("auth-provider"):
        return None, merged
    from podscope.kube.credentials import ExecCredentials  # subprocess: only for plugins

    cluster = (_named(merged.get("clusters")).get(choice.cluster) or {}).get("cluster") or {}
    credentials = ExecCredentials(user["exec"], cluster if isinstance(cluster, dict) else {})
    without = {key: value for key, value in user.items() if key != "exec"}
    stripped = [
        {**item, "user": without} if item.get("name") == choice.user else item
        for item in merged.get("users") or []
    ]
    return credentials, {**merged, "users": stripped}


def check_client_certificate(path: str | None, context: str, now: float | None = None) -> None:
    """Refuse a client certificate that has expired or is not valid yet, before connecting.

    The API server would only answer 401 without saying why; the dates are known here.
    """
    if not path:
        return
    import time

    try:
        from cryptography import x509

        with open(path, "rb") as handle:
            certificate = x509.load_pem_x509_certificate(handle.read())
        not_before = certificate.not_valid_before_utc
        not_after = certificate.not_valid_after_utc
    except Exception:  # noqa: BLE001
        return  # cannot tell: let the server decide
    current = time.time() if now is None else now
    if current > not_after.timestamp():
        raise ConfigError(
            f"the client certificate of kubeconfig context {context!r} expired on "
            f"{not_after:%Y-%m-%d %H:%M:%S} UTC",
            remedy="get a new certificate (or log in again) and update the kubeconfig",
        )
    if current < not_before.timestamp():
        raise ConfigError(
            f"the client certificate of kubeconfig context {context!r} is not valid before "
            f"{not_before:%Y-%m-%d %H:%M:%S} UTC (check this machine's clock)"
        )
