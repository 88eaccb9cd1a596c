"""Exec credential plugins: a real plugin program, run as kubectl runs it (no API server)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from podscope.errors import ConfigError
from podscope.kube.config import connect

# Prints an ExecCredential whose token names the run; counts its runs in COUNT_FILE.
PLUGIN = """
import datetime, json, os, sys
count_file = os.environ["COUNT_FILE"]
runs = int(open(count_file).read() or 0) + 1 if os.path.exists(count_file) else 1
open(count_file, "w").write(str(runs))
info = json.loads(os.environ["KUBERNETES_EXEC_INFO"])
assert info["kind"] == "ExecCredential" and info["spec"]["interactive"] is False
if os.environ.get("FAIL"):
    print(json.dumps({"status": {"token": "leaked-" + str(runs)}}))
    sys.exit(1)
expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(
    seconds=float(os.environ["EXPIRES_IN"])
)
print(json.dumps({
    "apiVersion": os.environ.get("ANSWER_VERSION", info["apiVersion"]),
    "kind": "ExecCredential",
    "status": {"token": "tok-" + str(runs),
               "expirationTimestamp": expires.strftime("%Y-%m-%dT%H:%M:%SZ")},
}))
"""


def _kubeconfig(tmp_path: Path, **env: str) -> tuple[str, Path]:
    plugin = tmp_path / "plugin.py"
    plugin.write_text(PLUGIN)
    count = tmp_path / "runs"
    document = {
        "clusters": [{"name": "c", "cluster": {"server": "https://10.0.0.1:6443"}}],
        "users": [
            {
                "name": "u",
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1",
                        "command": sys.executable,
                        "args": [str(plugin)],
                        "env": [
                            {"name": "COUNT_FILE", "value": str(count)},
                            *({"name": k, "value": v} for k, v in env.items()),
                        ],
                        "interactiveMode": "Never",
                    }
                },
            }
        ],
        "contexts": [{"name": "a", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "a",
    }
    path = tmp_path / "config"
    path.write_text(json.dumps(document))
    return str(path), count


def _runs(count: Path) -> int:
    return int(count.read_text())


def test_the_plugin_runs_once_while_its_credential_is_valid(tmp_path: Path) -> None:
    # 60 s is inside the kubernetes package's 5-minute early-expiry margin: with its handling
    # the plugin would run again on every request.
    path, count = _kubeconfig(tmp_path, EXPIRES_IN="60")
    client = connect(path)
    for _ in range(3):
        _, headers = client.stream_headers("/api/v1/namespaces/x/pods/y/attach")
        assert headers["authorization"] == "Bearer tok-1"
        assert headers["User-Agent"].startswith("podscope/")
    assert _runs(count) == 1
    client.close()


def test_an_expired_credential_is_renewed_and_streams_get_the_new_one(tmp_path: Path) -> None:
    path, count = _kubeconfig(tmp_path, EXPIRES_IN="2")
    client = connect(path)
    assert client.stream_headers("/x")[1]["authorization"] == "Bearer tok-1"
    time.sleep(2.5)
    assert client.stream_headers("/x")[1]["authorization"] == "Bearer tok-2"
    assert _runs(count) == 2
    client.close()


def test_a_failing_plugin_is_a_config_error_that_never_shows_its_output(tmp_path: Path) -> None:
    path, count = _kubeconfig(tmp_path, EXPIRES_IN="60", FAIL="1")
    with pytest.raises(ConfigError) as info:
        connect(path)
    assert info.value.exit_code == 3
    assert "failed (exit code 1)" in info.value.message
    assert "leaked" not in info.value.message + (info.value.remedy or "")


def test_an_answer_in_another_api_version_is_refused(tmp_path: Path) -> None:
    path, _ = _kubeconfig(
        tmp_path, EXPIRES_IN="60", ANSWER_VERSION="client.authentication.k8s.io/v1beta1"
    )
    with pytest.raises(ConfigError, match="answered with apiVersion"):
        connect(path)


def test_a_client_certificate_from_the_plugin_is_used_and_kept_off_the_disk(
    tmp_path: Path,
) -> None:
    script = tmp_path / "cert-plugin.py"
    script.write_text(
        "import json\n"
        'print(json.dumps({"apiVersion": "client.authentication.k8s.io/v1beta1",'
        ' "kind": "ExecCredential", "status": {"clientCertificateData": "CERT",'
        ' "clientKeyData": "KEY"}}))\n'
    )
    document = {
        "clusters": [{"name": "c", "cluster": {"server": "https://10.0.0.1:6443"}}],
        "users": [
            {
                "name": "u",
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": sys.executable,
                        "args": [str(script)],
                    }
                },
            }
        ],
        "contexts": [{"name": "a", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "a",
    }
    path = tmp_path / "config"
    path.write_text(json.dumps(document))
    client = connect(str(path))
    configuration = client._api.configuration
    cert, key = Path(configuration.cert_file), Path(configuration.key_file)
    assert (cert.read_text(), key.read_text()) == ("CERT", "KEY")
    if hasattr(os, "memfd_create"):
        assert str(key).startswith("/proc/self/fd/")  # memory only: see transport._Materials
    else:
        assert key.stat().st_mode & 0o777 == 0o600
    assert "BearerToken" not in configuration.api_key
    client.close()
