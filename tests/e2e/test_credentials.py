"""Credentials and networks as managed clusters give them, on the real local cluster.

Each kubeconfig here is what EKS, GKE or AKS hand out, or what a corporate network needs: an
exec credential plugin, a ``proxy-url``, a server name that is not in the certificate. podscope
is run on it for ``ls``, ``debug`` (attach stream), ``cp`` (exec stream), and compared with the
real kubectl on the same file. Every output is checked for the tokens involved.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from podscope.kube.queries import StreamQuery
from tests.e2e.conftest import Kubectl
from tests.e2e.helpers import PULL, SLEEPER, podscope, podscope_started
from tests.e2e.test_security import _secrets

# What ls, debug (attach), cp (exec) and the e2e checks need, and nothing else.
RULES = [
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["pods/ephemeralcontainers"], "verbs": ["get", "patch"]},
    {"apiGroups": [""], "resources": ["pods/attach", "pods/exec"], "verbs": ["get", "create"]},
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
]

# Prints an ExecCredential (client.authentication.k8s.io/v1). Run N hands out line N of
# TOKENS_FILE (the last line once they run out) and counts itself in COUNT_FILE.
PLUGIN = """\
import datetime, json, os, sys
count_file = os.environ["COUNT_FILE"]
runs = (int(open(count_file).read()) if os.path.exists(count_file) else 0) + 1
open(count_file, "w").write(str(runs))
info = json.loads(os.environ["KUBERNETES_EXEC_INFO"])
tokens = open(os.environ["TOKENS_FILE"]).read().split()
status = {"token": tokens[min(runs, len(tokens)) - 1]}
expires_in = float(os.environ.get("EXPIRES_IN") or 0)
if expires_in:
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=expires_in)
    status["expirationTimestamp"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
print(json.dumps({"apiVersion": info["apiVersion"], "kind": "ExecCredential", "status": status}))
"""


def _service_account(kubectl: Kubectl, namespace: str, name: str) -> str:
    """A ServiceAccount allowed RULES in ``namespace``; returns a 10-minute token."""
    kubectl.run("create", "serviceaccount", name, "-n", namespace)
    kubectl.apply(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "podscope-user", "namespace": namespace},
            "rules": RULES,
        }
    )
    kubectl.run(
        *("create", "rolebinding", name, "-n", namespace, "--role", "podscope-user"),
        f"--serviceaccount={namespace}:{name}",
    )
    return kubectl.run("create", "token", name, "-n", namespace, "--duration=10m").stdout.strip()


def _admin_cluster(kubectl: Kubectl) -> dict[str, Any]:
    cluster: dict[str, Any] = kubectl.json("config", "view", "--raw", "--minify")["clusters"][0]
    return dict(cluster["cluster"])


def _write_kubeconfig(
    path: Path, cluster: dict[str, Any], user: dict[str, Any], namespace: str
) -> Path:
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "managed", "cluster": cluster}],
        "users": [{"name": "someone", "user": user}],
        "contexts": [
            {
                "name": "managed",
                "context": {"cluster": "managed", "user": "someone", "namespace": namespace},
            }
        ],
        "current-context": "managed",
    }
    path.touch(mode=0o600)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


class Plugin:
    """The exec credential plugin of one kubeconfig, and how often it ran."""

    def __init__(self, directory: Path, tokens: list[str], expires_in: float = 0) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.script = directory / "credential-plugin.py"
        self.script.write_text(PLUGIN)
        self.count_file = directory / "runs"
        self.tokens_file = directory / "tokens"
        self.tokens_file.touch(mode=0o600)
        self.tokens_file.write_text("\n".join(tokens))
        self.expires_in = expires_in

    @property
    def runs(self) -> int:
        return int(self.count_file.read_text()) if self.count_file.exists() else 0

    def user(self) -> dict[str, Any]:
        return {
            "exec": {
                "apiVersion": "client.authentication.k8s.io/v1",
                "command": sys.executable,
                "args": [str(self.script)],
                "env": [
                    {"name": "COUNT_FILE", "value": str(self.count_file)},
                    {"name": "TOKENS_FILE", "value": str(self.tokens_file)},
                    {"name": "EXPIRES_IN", "value": str(self.expires_in)},
                ],
                "interactiveMode": "Never",
            }
        }


class Outputs:
    """Everything podscope and kubectl printed in one test, to search for credentials."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def add(self, result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
        self.texts.append(f"{result.args}\n{result.stdout}\n{result.stderr}")
        return result

    def assert_no_credentials(self, kubeconfig: str, tokens: list[str]) -> None:
        everything = "\n".join(self.texts)
        secrets = set(_secrets(kubeconfig, tokens[0])) | set(tokens)
        leaked = [s[:12] + "..." for s in secrets if s and s in everything]
        assert not leaked, f"credentials in the output: {leaked}"
        assert not re.search(r"(?i)authorization:|bearer [a-z0-9]", everything)


@pytest.fixture
def outputs(kubeconfig: str) -> Iterator[Outputs]:
    yield Outputs()


def _kubectl_on(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["kubectl", "--kubeconfig", str(path), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _three_commands(
    env: dict[str, str], outputs: Outputs, tmp_path: Path, after: Callable[[str], None]
) -> None:
    """ls, debug (attach), cp (exec) on Pod web; ``after(command)`` checks each one."""
    listed = outputs.add(podscope(env, "ls", "web", "-o", "json"))
    assert listed.returncode == 0, listed.stderr
    after("ls")
    debugged = outputs.add(
        podscope(env, "debug", "web", *PULL, "--", "sh", "-c", "sleep 2; echo attached")
    )
    assert debugged.returncode == 0, debugged.stderr
    assert debugged.stdout == "attached\n"
    after("debug")
    local = tmp_path / f"hostname-{len(outputs.texts)}"
    copied = outputs.add(podscope(env, "cp", "web:/etc/hostname", str(local)))
    assert copied.returncode == 0, copied.stderr
    assert local.read_text() == "web\n"
    after("cp")


# -- every request names podscope -----------------------------------------------------------


def test_writes_are_credited_to_podscope_in_managed_fields(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
) -> None:
    make_pod("web", command=SLEEPER)
    result = podscope(podscope_env, "debug", "web", "-n", namespace, *PULL, "--", "true")
    assert result.returncode == 0, result.stderr
    pod = kubectl.json("get", "pod", "web", "-n", namespace, "--show-managed-fields")
    entries = pod["metadata"]["managedFields"]
    ephemeral = [e for e in entries if e.get("subresource") == "ephemeralcontainers"]
    assert [e["manager"] for e in ephemeral] == ["podscope"], entries
    assert not [e for e in entries if e["manager"].startswith("OpenAPI-Generator")], entries


# -- exec credential plugins ----------------------------------------------------------------


def test_exec_plugin_runs_once_per_command(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
    kubeconfig: str,
    tmp_path: Path,
    outputs: Outputs,
) -> None:
    make_pod("web", command=SLEEPER)
    token = _service_account(kubectl, namespace, "plugin-user")
    # Two minutes: inside the kubernetes package's 5-minute early-expiry margin, where its own
    # exec handling would run the plugin again for every request.
    plugin = Plugin(tmp_path / "plugin", [token], expires_in=120)
    config = _write_kubeconfig(
        tmp_path / "config", _admin_cluster(kubectl), plugin.user(), namespace
    )
    env = {**podscope_env, "KUBECONFIG": str(config)}
    runs: list[tuple[str, int]] = []
    _three_commands(env, outputs, tmp_path, lambda command: runs.append((command, plugin.runs)))
    assert runs == [("ls", 1), ("debug", 2), ("cp", 3)]  # one run per podscope command
    # The reference: kubectl takes the same kubeconfig.
    reference = outputs.add(_kubectl_on(config, "get", "pod", "web", "-o", "name"))
    assert reference.returncode == 0 and reference.stdout == "pod/web\n", reference.stderr
    outputs.assert_no_credentials(kubeconfig, [token])


def test_an_expiring_credential_is_renewed_during_a_long_session(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
    kubeconfig: str,
    tmp_path: Path,
    outputs: Outputs,
) -> None:
    make_pod("web", command=SLEEPER)
    first = _service_account(kubectl, namespace, "first")
    second = _service_account(kubectl, namespace, "second")
    plugin = Plugin(tmp_path / "plugin", [first, second], expires_in=3)
    config = _write_kubeconfig(
        tmp_path / "config", _admin_cluster(kubectl), plugin.user(), namespace
    )
    env = {**podscope_env, "KUBECONFIG": str(config)}
    # The session outlives the credential: in the attach model, what follows the attach
    # (reading the exit code and the Pod) must run the plugin again and go on. (An exec session
    # reads its exit code from the stream and sends nothing after it.)
    result = outputs.add(
        podscope(
            env,
            "debug",
            "web",
            "--attach-mode",
            *PULL,
            "--",
            "sh",
            "-c",
            "sleep 8; echo still-here",
        )
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "still-here\n"
    assert plugin.runs >= 2, plugin.runs
    outputs.assert_no_credentials(kubeconfig, [first, second])


def test_a_refused_credential_is_fetched_again_once(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
    kubeconfig: str,
    tmp_path: Path,
    outputs: Outputs,
) -> None:
    """As kubectl: a 401 to the plugin's credential runs the plugin again, once (a revoked
    token whose expirationTimestamp has not come yet)."""
    make_pod("web", command=SLEEPER)
    token = _service_account(kubectl, namespace, "renewed")
    plugin = Plugin(tmp_path / "plugin", ["revoked-token-value", token], expires_in=600)
    config = _write_kubeconfig(
        tmp_path / "config", _admin_cluster(kubectl), plugin.user(), namespace
    )
    listed = outputs.add(podscope({**podscope_env, "KUBECONFIG": str(config)}, "ls", "web"))
    assert listed.returncode == 0, listed.stderr
    assert plugin.runs == 2
    # Only once: a plugin that keeps handing out a refused credential is an authentication error.
    stuck = Plugin(tmp_path / "stuck", ["revoked-token-value"], expires_in=600)
    stuck_config = _write_kubeconfig(
        tmp_path / "stuck-config", _admin_cluster(kubectl), stuck.user(), namespace
    )
    refused = outputs.add(podscope({**podscope_env, "KUBECONFIG": str(stuck_config)}, "ls", "web"))
    assert refused.returncode == 6, refused.stderr
    assert stuck.runs == 2
    outputs.assert_no_credentials(kubeconfig, [token, "revoked-token-value"])


def test_streams_opened_after_renewal_carry_the_new_token(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    kubectl: Kubectl,
    tmp_path: Path,
) -> None:
    """One client, two exec streams: between them the credential expires and the first token
    stops working (its ServiceAccount is deleted); the second stream must use the new one."""
    from podscope.kube.config import connect

    make_pod("web", command=SLEEPER)
    first = _service_account(kubectl, namespace, "first")
    second = _service_account(kubectl, namespace, "second")
    plugin = Plugin(tmp_path / "plugin", [first, second], expires_in=3)
    config = _write_kubeconfig(
        tmp_path / "config", _admin_cluster(kubectl), plugin.user(), namespace
    )

    def run(client: Any, word: str) -> bytes:
        stream = client.exec(StreamQuery(namespace, "web", "web"), ["echo", word])
        try:
            return b"".join(data for _, data in stream.frames())
        finally:
            stream.close()

    client = connect(str(config))
    try:
        assert run(client, "one") == b"one\n"
        assert plugin.runs == 1
        kubectl.run("delete", "serviceaccount", "first", "-n", namespace)
        # The API server caches a token's authentication for a few seconds: wait until the
        # first token is refused (by kubectl), which is also past its expirationTimestamp.
        by_first = _write_kubeconfig(
            tmp_path / "first", _admin_cluster(kubectl), {"token": first}, namespace
        )
        deadline = time.monotonic() + 60
        while _kubectl_on(by_first, "get", "pod", "web").returncode == 0:
            assert time.monotonic() < deadline, "the deleted ServiceAccount's token still works"
            time.sleep(1)
        time.sleep(max(0.0, 4 - (time.monotonic() - deadline + 60)))
        assert run(client, "two") == b"two\n"
        assert plugin.runs == 2
    finally:
        client.close()


# -- proxy-url through a real HTTP CONNECT proxy ---------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Tinyproxy:
    def __init__(self, directory: Path) -> None:
        binary = shutil.which("tinyproxy") or "/usr/bin/tinyproxy"
        assert os.path.exists(binary), "tinyproxy is not installed (apt-get install tinyproxy)"
        self.port = _free_port()
        conf = directory / "tinyproxy.conf"
        self.log = directory / "tinyproxy.log"
        # Its own log file: written line by line (its stdout to a file is block-buffered).
        conf.write_text(
            f"Port {self.port}\nListen 127.0.0.1\nAllow 127.0.0.1\nLogLevel Info\n"
            f'LogFile "{self.log}"\nMaxClients 100\nTimeout 600\n'
        )
        self.process = subprocess.Popen(
            [binary, "-d", "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    break
            assert self.process.poll() is None, "tinyproxy exited"
            assert time.monotonic() < deadline, "tinyproxy did not start listening"
            time.sleep(0.05)

    def tunnels(self, target: str, http: str = "") -> int:
        """How many CONNECT requests for ``target`` (host:port) the proxy has served. urllib3
        (REST requests) asks in HTTP/1.0, websocket-client (streams) in HTTP/1.1: ``http``
        "1.1" counts the streams' tunnels only."""
        if not self.log.exists():
            return 0
        return self.log.read_text(errors="replace").count(f": CONNECT {target} HTTP/{http}")

    def wait_for_more(self, target: str, than: int, http: str = "", seconds: float = 5) -> int:
        """The tunnel count once it exceeds ``than`` (tinyproxy writes its log with a delay),
        or as it is after ``seconds``."""
        deadline = time.monotonic() + seconds
        while (count := self.tunnels(target, http)) <= than and time.monotonic() < deadline:
            time.sleep(0.1)
        return count

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


@pytest.fixture
def tinyproxy(tmp_path: Path) -> Iterator[Tinyproxy]:
    proxy = Tinyproxy(tmp_path)
    yield proxy
    proxy.stop()


def test_proxy_url_carries_every_request_and_stream(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
    kubeconfig: str,
    tmp_path: Path,
    tinyproxy: Tinyproxy,
    outputs: Outputs,
) -> None:
    make_pod("web", command=SLEEPER)
    token = _service_account(kubectl, namespace, "proxied")
    cluster = _admin_cluster(kubectl)
    target = cluster["server"].removeprefix("https://").rstrip("/")
    cluster["proxy-url"] = f"http://127.0.0.1:{tinyproxy.port}"
    config = _write_kubeconfig(tmp_path / "config", cluster, {"token": token}, namespace)
    # Even with the server's address in $NO_PROXY: a kubeconfig's proxy-url applies to all.
    env = {**podscope_env, "KUBECONFIG": str(config), "NO_PROXY": "127.0.0.1,localhost"}
    seen: list[tuple[str, bool, bool]] = []
    before = {"": tinyproxy.tunnels(target), "1.1": tinyproxy.tunnels(target, "1.1")}

    def through_proxy(command: str) -> None:
        now = {kind: tinyproxy.wait_for_more(target, count, kind) for kind, count in before.items()}
        seen.append((command, now[""] > before[""], now["1.1"] > before["1.1"]))
        before.update(now)

    _three_commands(env, outputs, tmp_path, through_proxy)
    # (command, some tunnel, a stream's tunnel): ls has no stream; debug attaches, cp execs.
    assert seen == [("ls", True, False), ("debug", True, True), ("cp", True, True)]
    reference = outputs.add(_kubectl_on(config, "get", "pod", "web", "-o", "name"))
    assert reference.returncode == 0, reference.stderr
    outputs.assert_no_credentials(kubeconfig, [token])


# -- server certificates and names ----------------------------------------------------------

# On loopback but not in the API server's certificate (its SANs: 127.0.0.1, the node's address,
# the Service IP, localhost, kubernetes.default...).
UNNAMED_ADDRESS = "127.0.0.2"


def test_certificate_name_mismatch_tls_server_name_and_insecure_skip(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
    kubeconfig: str,
    tmp_path: Path,
    outputs: Outputs,
) -> None:
    make_pod("web", command=SLEEPER)
    token = _service_account(kubectl, namespace, "tls")
    cluster = _admin_cluster(kubectl)
    port = cluster["server"].rsplit(":", 1)[1].rstrip("/")
    cluster["server"] = f"https://{UNNAMED_ADDRESS}:{port}"

    mismatch = _write_kubeconfig(tmp_path / "mismatch", cluster, {"token": token}, namespace)
    env = {**podscope_env, "KUBECONFIG": str(mismatch)}
    for args in (["ls", "web"], ["debug", "web", *PULL, "--", "true"]):
        refused = outputs.add(podscope(env, *args))
        assert refused.returncode == 4, refused.stderr
        lines = refused.stderr.strip().splitlines()
        errors = [line for line in lines if line.startswith("podscope: error:")]
        assert len(errors) == 1, refused.stderr
        assert f"certificate is not valid for '{UNNAMED_ADDRESS}'" in errors[0], refused.stderr
        assert "Traceback" not in refused.stderr
    assert (
        kubectl.json("get", "pod", "web", "-n", namespace)["spec"].get("ephemeralContainers")
        is None
    )  # nothing was written
    reference = outputs.add(_kubectl_on(mismatch, "get", "pod", "web"))
    assert reference.returncode != 0
    assert f"not {UNNAMED_ADDRESS}" in reference.stderr

    # tls-server-name: verify the certificate against a name it has, as kubectl does.
    named = _write_kubeconfig(
        tmp_path / "named",
        {**cluster, "tls-server-name": "kubernetes"},
        {"token": token},
        namespace,
    )
    assert _kubectl_on(named, "get", "pod", "web", "-o", "name").returncode == 0
    _three_commands({**podscope_env, "KUBECONFIG": str(named)}, outputs, tmp_path, lambda c: None)
    wrong_name = _write_kubeconfig(
        tmp_path / "wrong-name",
        {**cluster, "tls-server-name": "elsewhere.example"},
        {"token": token},
        namespace,
    )
    assert _kubectl_on(wrong_name, "get", "pod", "web").returncode != 0
    refused = outputs.add(podscope({**podscope_env, "KUBECONFIG": str(wrong_name)}, "ls", "web"))
    assert refused.returncode == 4, refused.stderr

    # insecure-skip-tls-verify: true, without a CA (kubectl refuses both together).
    insecure_cluster = {
        k: v for k, v in cluster.items() if not k.startswith("certificate-authority")
    }
    insecure_cluster["insecure-skip-tls-verify"] = True
    insecure = _write_kubeconfig(
        tmp_path / "insecure", insecure_cluster, {"token": token}, namespace
    )
    assert _kubectl_on(insecure, "get", "pod", "web", "-o", "name").returncode == 0
    insecure_env = {**podscope_env, "KUBECONFIG": str(insecure)}
    _three_commands(insecure_env, outputs, tmp_path, lambda c: None)
    quiet = outputs.add(podscope(insecure_env, "ls", "web"))
    assert "InsecureRequestWarning" not in quiet.stderr  # the user chose it, as with kubectl
    both = _write_kubeconfig(
        tmp_path / "both",
        {**cluster, "insecure-skip-tls-verify": True},
        {"token": token},
        namespace,
    )
    by_kubectl = _kubectl_on(both, "get", "pod", "web")
    assert by_kubectl.returncode != 0 and "insecure flag is not allowed" in by_kubectl.stderr
    by_podscope = outputs.add(podscope({**podscope_env, "KUBECONFIG": str(both)}, "ls", "web"))
    assert by_podscope.returncode == 3, by_podscope.stderr
    assert "insecure-skip-tls-verify cannot be used together with a certificate-authority" in (
        by_podscope.stderr
    )
    outputs.assert_no_credentials(kubeconfig, [token])


# -- a client certificate from an exec plugin ------------------------------------------------

CERT_PLUGIN = """\
import json, os
print(json.dumps({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                  "status": json.load(open(os.environ["PAIR_FILE"]))}))
"""


def test_a_client_certificate_from_an_exec_plugin_serves_requests_and_streams(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
    kubeconfig: str,
    tmp_path: Path,
    outputs: Outputs,
) -> None:
    # As tsh (Teleport) and other plugins answer: clientCertificateData and clientKeyData.
    make_pod("web", command=SLEEPER)
    admin = kubectl.json("config", "view", "--raw", "--minify")["users"][0]["user"]
    pair = {
        "clientCertificateData": base64.b64decode(admin["client-certificate-data"]).decode(),
        "clientKeyData": base64.b64decode(admin["client-key-data"]).decode(),
    }
    pair_file = tmp_path / "pair.json"
    pair_file.touch(mode=0o600)
    pair_file.write_text(json.dumps(pair))
    script = tmp_path / "cert-plugin.py"
    script.write_text(CERT_PLUGIN)
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": sys.executable,
            "args": [str(script)],
            "env": [{"name": "PAIR_FILE", "value": str(pair_file)}],
            "interactiveMode": "Never",
        }
    }
    config = _write_kubeconfig(tmp_path / "config", _admin_cluster(kubectl), user, namespace)
    private = tmp_path / "tmp"
    private.mkdir()
    env = {**podscope_env, "KUBECONFIG": str(config), "TMPDIR": str(private)}
    # Without the certificate every request would be anonymous and refused: these succeed.
    _three_commands(env, outputs, tmp_path, lambda command: None)
    # The key stays in memory: nothing under TMPDIR while a session runs, nor once the
    # process is killed (no exit handler runs then).
    with podscope_started(
        env, "debug", "web", *PULL, "--", "sh", "-c", "echo started; sleep 30"
    ) as session:
        assert session.stdout is not None
        assert session.stdout.readline() == "started\n"
        assert list(private.iterdir()) == []
        session.kill()
        session.wait(timeout=30)
    assert list(private.iterdir()) == []
    reference = outputs.add(_kubectl_on(config, "get", "pod", "web", "-o", "name"))
    assert reference.returncode == 0 and reference.stdout == "pod/web\n", reference.stderr
    everything = "\n".join(outputs.texts)
    assert pair["clientKeyData"].splitlines()[1] not in everything
