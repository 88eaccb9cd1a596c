"""``ExecCredentials`` with a real plugin program (a shell script) and a clock of the test's:
the answer it parses, when it runs again, what it is told about the cluster."""

from __future__ import annotations

import base64
import datetime
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from podscope.errors import ConfigError
from podscope.kube.credentials import ExecCredentials

V1 = "client.authentication.k8s.io/v1"
START = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=datetime.timezone.utc)

# Counts its runs in $COUNT; writes what it was told to $INFO; prints $ANSWER with every
# "N" replaced by the run's number (default: a v1 token credential expiring at $EXPIRES).
SCRIPT = r"""
n=$(cat "$COUNT" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "$COUNT"
printf '%s' "$KUBERNETES_EXEC_INFO" > "$INFO"
if [ -n "$ANSWER" ]; then printf '%s' "$ANSWER" | sed "s/N/$n/g"; exit 0; fi
printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"tok-%s"%s}}' \
  "$VERSION" "$n" "${EXPIRES:+,\"expirationTimestamp\":\"$EXPIRES\"}"
"""


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime.datetime:
        return self.now


def _plugin(
    tmp_path: Path,
    clock: Clock | None = None,
    *,
    cluster: dict[str, Any] | None = None,
    **settings: Any,
) -> ExecCredentials:
    env = {
        "COUNT": str(tmp_path / "count"),
        "INFO": str(tmp_path / "info"),
        "VERSION": V1,
        **{k: v for k, v in settings.items() if k.isupper()},
    }
    config: dict[str, Any] = {
        "apiVersion": V1,
        "command": "/bin/sh",
        "args": ["-c", SCRIPT],
        "env": [{"name": k, "value": v} for k, v in env.items()],
        "interactiveMode": "Never",
    }
    config.update({k: v for k, v in settings.items() if not k.isupper()})
    return ExecCredentials(config, cluster or {"server": "https://10.0.0.1:6443"}, clock=clock)


def _info(tmp_path: Path) -> dict[str, Any]:
    return json.loads((tmp_path / "info").read_text())


def test_a_credential_is_kept_until_it_expires_then_renewed(tmp_path: Path) -> None:
    clock = Clock()
    plugin = _plugin(tmp_path, clock, EXPIRES="2026-12-01T10:05:00Z")
    assert plugin.current().token == "tok-1"
    clock.now = START + datetime.timedelta(minutes=4, seconds=59)
    assert plugin.current().token == "tok-1" and plugin.runs == 1
    clock.now = START + datetime.timedelta(minutes=5)
    assert plugin.current().token == "tok-2" and plugin.runs == 2
    assert plugin.current().expires == datetime.datetime(
        2026, 12, 1, 10, 5, tzinfo=datetime.timezone.utc
    )
    info = _info(tmp_path)
    assert info == {"apiVersion": V1, "kind": "ExecCredential", "spec": {"interactive": False}}


def test_a_credential_without_expiry_is_kept(tmp_path: Path) -> None:
    clock = Clock()
    plugin = _plugin(tmp_path, clock)
    plugin.current()
    clock.now = START + datetime.timedelta(days=365)
    assert plugin.current().token == "tok-1" and plugin.runs == 1


def test_a_time_without_zone_is_utc(tmp_path: Path) -> None:
    clock = Clock()
    plugin = _plugin(tmp_path, clock, EXPIRES="2026-12-01T10:01:00")
    plugin.current()
    clock.now = START + datetime.timedelta(minutes=1)
    assert plugin.current().token == "tok-2"


def test_a_refused_token_is_fetched_again_once(tmp_path: Path) -> None:
    plugin = _plugin(tmp_path)
    assert not plugin.renew_after_rejection(None)  # nothing was sent with a credential yet
    assert plugin.current().token == "tok-1"
    assert plugin.renew_after_rejection("tok-1")
    assert plugin.current().token == "tok-2" and plugin.runs == 2
    # A refusal of an older token: the current one may still be good, no new run.
    assert plugin.renew_after_rejection("tok-1") and plugin.runs == 2


def test_a_plugin_that_answers_the_same_token_again_is_no_retry(tmp_path: Path) -> None:
    fixed = json.dumps({"apiVersion": V1, "kind": "ExecCredential", "status": {"token": "same"}})
    plugin = _plugin(tmp_path, ANSWER=fixed)
    plugin.current()
    assert not plugin.renew_after_rejection("same")
    assert plugin.runs == 2


def test_the_cluster_is_told_when_asked_for(tmp_path: Path) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_bytes(b"CA PEM")
    cluster = {
        "server": "https://api.test:6443",
        "certificate-authority": str(ca),
        "tls-server-name": "kube.test",
        "insecure-skip-tls-verify": False,
        "extensions": [
            {"name": "other", "extension": {"x": 1}},
            {"name": "client.authentication.k8s.io/exec", "extension": {"audience": "a"}},
        ],
    }
    _plugin(tmp_path, cluster=cluster, provideClusterInfo=True).current()
    assert _info(tmp_path)["spec"]["cluster"] == {
        "server": "https://api.test:6443",
        "tls-server-name": "kube.test",
        "insecure-skip-tls-verify": False,
        "certificate-authority-data": base64.b64encode(b"CA PEM").decode(),
        "config": {"audience": "a"},
    }


def test_inline_ca_data_is_passed_and_an_unreadable_ca_file_left_out(tmp_path: Path) -> None:
    inline = {"server": "https://a:1", "certificate-authority-data": "Q0E="}
    _plugin(tmp_path, cluster=inline, provideClusterInfo=True).current()
    assert _info(tmp_path)["spec"]["cluster"] == inline
    missing = {"server": "https://a:1", "certificate-authority": str(tmp_path / "nope")}
    _plugin(tmp_path, cluster=missing, provideClusterInfo=True).current()
    assert _info(tmp_path)["spec"]["cluster"] == {"server": "https://a:1"}


def test_without_provide_cluster_info_the_cluster_is_not_told(tmp_path: Path) -> None:
    _plugin(tmp_path, cluster={"server": "https://secret.test"}).current()
    assert "cluster" not in _info(tmp_path)["spec"]


def test_on_a_terminal_the_plugin_may_ask_the_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal())
    _plugin(tmp_path, interactiveMode="IfAvailable").current()
    assert _info(tmp_path)["spec"]["interactive"] is True
    _plugin(tmp_path).current()  # interactiveMode: Never
    assert _info(tmp_path)["spec"]["interactive"] is False


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"apiVersion": V1}, "names no command"),
        ({"apiVersion": "client.authentication.k8s.io/v1alpha1", "command": "p"}, "not supported"),
    ],
)
def test_a_plugin_entry_that_cannot_run_is_refused(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ExecCredentials(config, {})


def test_a_missing_plugin_gives_its_install_hint(tmp_path: Path) -> None:
    config = {
        "apiVersion": V1,
        "command": str(tmp_path / "gke-gcloud-auth-plugin"),
        "installHint": "install it with: gcloud components install gke-gcloud-auth-plugin",
    }
    with pytest.raises(ConfigError, match="not found") as info:
        ExecCredentials(config, {}).current()
    assert info.value.remedy == config["installHint"]
    with pytest.raises(ConfigError, match="cannot run exec credential plugin"):
        ExecCredentials({"apiVersion": V1, "command": str(tmp_path)}, {}).current()


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("tok-N", r"did not print an ExecCredential \(JSON\)"),
        ('{"kind": "Secret"}', "did not print an ExecCredential$"),
        (json.dumps({"apiVersion": V1, "kind": "ExecCredential"}), "without a status"),
        (
            json.dumps({"apiVersion": V1, "kind": "ExecCredential", "status": {}}),
            "neither a token nor clientCertificateData",
        ),
        (
            json.dumps(
                {
                    "apiVersion": V1,
                    "kind": "ExecCredential",
                    "status": {"token": "tok-N", "expirationTimestamp": "tomorrow"},
                }
            ),
            "not RFC 3339",
        ),
    ],
)
def test_an_answer_that_is_no_credential_is_refused_without_quoting_it(
    tmp_path: Path, answer: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        _plugin(tmp_path, ANSWER=answer).current()
    assert "tok-" not in info.value.message + str(info.value.remedy)
