"""Exec credential plugins (``users[].user.exec``), run the way kubectl runs them.

The kubernetes package runs a plugin itself, but treats a credential as expired five minutes
before its ``expirationTimestamp`` (a credential valid for less than that runs the plugin on
every request), swallows a failing plugin into a log line and then talks to the API server
unauthenticated. kubectl instead keeps the credential until it has expired, runs the plugin
again then (or when the API server answers 401), and stops with the plugin's error. This
module does what kubectl does, once per client; the token reaches every request, watch and
WebSocket stream through the ``Configuration``'s ``refresh_api_key_hook``.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from podscope.errors import ConfigError

SUPPORTED_API_VERSIONS = (
    "client.authentication.k8s.io/v1",
    "client.authentication.k8s.io/v1beta1",
)

# The cluster extension whose content a plugin gets as spec.cluster.config.
_EXEC_EXTENSION = "client.authentication.k8s.io/exec"


@dataclass(frozen=True)
class Credential:
    token: str | None
    cert_file: str | None
    key_file: str | None
    expires: datetime.datetime | None


def _parse_time(value: Any, plugin: str) -> datetime.datetime | None:
    if value in (None, ""):
        return None
    text = str(value)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"exec credential plugin {plugin} gave an expirationTimestamp that is not RFC 3339"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


def _cluster_info(cluster: dict[str, Any], extension: Any) -> dict[str, Any]:
    """The ``spec.cluster`` a plugin with ``provideClusterInfo: true`` is given."""
    info: dict[str, Any] = {"server": cluster.get("server", "")}
    for key in ("tls-server-name", "insecure-skip-tls-verify", "proxy-url"):
        if key in cluster:
            info[key] = cluster[key]
    if cluster.get("certificate-authority-data"):
        info["certificate-authority-data"] = cluster["certificate-authority-data"]
    elif cluster.get("certificate-authority"):
        try:
            with open(cluster["certificate-authority"], "rb") as handle:
                info["certificate-authority-data"] = base64.b64encode(handle.read()).decode()
        except OSError:
            pass
    if extension is not None:
        info["config"] = extension
    return info


class ExecCredentials:
    """The credential of one kubeconfig user, from its exec plugin; thread-safe."""

    def __init__(
        self,
        exec_config: dict[str, Any],
        cluster: dict[str, Any],
        *,
        clock: Callable[[], datetime.datetime] | None = None,
    ) -> None:
        command = exec_config.get("command")
        version = exec_config.get("apiVersion")
        if not isinstance(command, str) or not command:
            raise ConfigError("the kubeconfig's exec credential plugin names no command")
        if version not in SUPPORTED_API_VERSIONS:
            raise ConfigError(
                f"exec credential plugin {command}: apiVersion {version!r} is not supported",
                remedy="use " + " or ".join(SUPPORTED_API_VERSIONS),
            )
        self.command = command
        self.api_version = str(version)
        self._args = [str(a) for a in exec_config.get("args") or []]
        self._env = {
            str(item["name"]): str(item.get("value", ""))
            for item in exec_config.get("env") or []
            if isinstance(item, dict) and "name" in item
        }
        self._install_hint = str(exec_config.get("installHint") or "")
        self._interactive_mode = str(exec_config.get("interactiveMode") or "IfAvailable")
        self._cluster = None
        if exec_config.get("provideClusterInfo"):
            extension = None
            for item in cluster.get("extensions") or []:
                if isinstance(item, dict) and item.get("name") == _EXEC_EXTENSION:
                    extension = item.get("extension")
            self._cluster = _cluster_info(cluster, extension)
        self._clock = clock or (lambda: datetime.datetime.now(datetime.timezone.utc))
        self._lock = threading.Lock()
        self._current: Credential | None = None
        self.runs = 0

    def _expired(self, credential: Credential) -> bool:
        return credential.expires is not None and self._clock() >= credential.expires

    def current(self) -> Credential:
        """The cached credential, running the plugin first when there is none or it expired."""
        with self._lock:
            if self._current is None or self._expired(self._current):
                self._current = self._run()
            return self._current

    def renew_after_rejection(self, token: str | None) -> bool:
        """After a 401: forget the credential if it is the one that was refused. True when
        a retry can use a different one."""
        with self._lock:
            if self._current is None or self._current.token != token:
                return self._current is not None
            self._current = self._run()
            return self._current.token != token

    def _interactive(self) -> bool:
        if self._interactive_mode == "Never":
            return False
        return sys.stdin is not None and sys.stdin.isatty()

    def _run(self) -> Credential:
        interactive = self._interactive()
        spec: dict[str, Any] = {"interactive": interactive}
        if self._cluster is not None:
            spec["cluster"] = self._cluster
        info = {"apiVersion": self.api_version, "kind": "ExecCredential", "spec": spec}
        env = {**os.environ, **self._env, "KUBERNETES_EXEC_INFO": json.dumps(info)}
        self.runs += 1
        try:
            # stderr goes to the user, as kubectl lets it (login prompts, hints).
            result = subprocess.run(
                [self.command, *self._args],
                stdin=None if interactive else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                env=env,
                check=False,
            )
        except FileNotFoundError:
            raise ConfigError(
                f"exec credential plugin {self.command} not found",
                remedy=self._install_hint or "install it or fix users[].user.exec.command",
            ) from None
        except OSError as exc:
            raise ConfigError(
                f"cannot run exec credential plugin {self.command}: {exc.strerror}"
            ) from None
        if result.returncode != 0:
            raise ConfigError(
                f"exec credential plugin {self.command} failed (exit code {result.returncode})",
                remedy="run it by hand to see why (its output may hold a credential)",
            )
        return self._parse(result.stdout)

    def _parse(self, output: bytes) -> Credential:
        # Never quote the output in an error: it holds the credential.
        what = f"exec credential plugin {self.command}"
        try:
            document = json.loads(output)
        except ValueError:
            raise ConfigError(f"{what} did not print an ExecCredential (JSON)") from None
        if not isinstance(document, dict) or document.get("kind") != "ExecCredential":
            raise ConfigError(f"{what} did not print an ExecCredential")
        if document.get("apiVersion") != self.api_version:
            raise ConfigError(
                f"{what} answered with apiVersion {document.get('apiVersion')!r}, "
                f"not the {self.api_version} the kubeconfig asks for"
            )
        status = document.get("status")
        if not isinstance(status, dict):
            raise ConfigError(f"{what} printed an ExecCredential without a status")
        expires = _parse_time(status.get("expirationTimestamp"), self.command)
        token = status.get("token")
        if isinstance(token, str) and token:
            return Credential(token, None, None, expires)
        cert, key = status.get("clientCertificateData"), status.get("clientKeyData")
        if isinstance(cert, str) and isinstance(key, str) and cert and key:
            return Credential(None, self._write(cert, "cert"), self._write(key, "key"), expires)
        raise ConfigError(
            f"{what} printed neither a token nor clientCertificateData and clientKeyData"
        )

    def _write(self, data: str, name: str) -> str:
        from podscope.kube.transport import private_file

        return private_file(data.encode(), name)

    def install(self, configuration: Any) -> None:
        """Have every request built from ``configuration`` carry the current credential."""
        first = self.current()
        if first.token is None:
            # A client certificate is fixed in the connection pool: it is used as first given.
            configuration.cert_file = first.cert_file
            configuration.key_file = first.key_file
            return

        def refresh(config: Any) -> None:
            credential = self.current()
            if credential.token is not None:
                config.api_key["BearerToken"] = f"Bearer {credential.token}"

        refresh(configuration)
        configuration.refresh_api_key_hook = refresh
