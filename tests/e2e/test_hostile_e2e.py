"""Hostile input and broken trust against the real cluster: injection, paths, TLS, credentials."""

from __future__ import annotations

import base64
import datetime
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.e2e.conftest import Kubectl
from tests.e2e.helpers import PULL, SLEEPER, ephemeral, podscope
from tests.e2e.tcpproxy import TcpProxy, kubeconfig_via

PKI = Path("/var/lib/podscope-devcluster/pki")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def mint_client_cert(
    ca_dir: Path, *, days_from_now: tuple[int, int], cn: str = "admin"
) -> tuple[bytes, bytes]:
    """A client certificate (PEM) and key signed by the cluster's CA, valid for the given span."""
    ca_cert = x509.load_pem_x509_certificate((ca_dir / "ca.crt").read_bytes())
    ca_key = serialization.load_pem_private_key((ca_dir / "ca.key").read_bytes(), password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:masters"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + datetime.timedelta(days=days_from_now[0]))
        .not_valid_after(now + datetime.timedelta(days=days_from_now[1]))
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    pem_key = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), pem_key


def self_signed_ca() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "some-other-ca")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=10))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def edited_kubeconfig(
    kubeconfig: str,
    out: Path,
    cluster: dict[str, Any] | None = None,
    user: dict[str, Any] | None = None,
) -> dict[str, str]:
    doc = json.loads(Path(kubeconfig).read_text())
    if cluster is not None:
        doc["clusters"][0]["cluster"].update(cluster)
        for key, value in cluster.items():
            if value is None:
                del doc["clusters"][0]["cluster"][key]
    if user is not None:
        doc["users"][0]["user"] = user
    out.write_text(json.dumps(doc))
    out.chmod(0o600)
    return {"KUBECONFIG": str(out)}


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    p = TcpProxy("127.0.0.1", 6443)
    yield p
    p.close()


# --- injection ------------------------------------------------------------------------------


def test_env_value_arrives_verbatim_and_is_never_run(
    make_pod: Callable[..., dict[str, Any]], namespace: str, podscope_env: dict[str, str]
) -> None:
    make_pod("web", command=SLEEPER)
    marker = Path("/tmp/pwned")
    existed = marker.exists()
    value = "$(touch /tmp/pwned); `touch /tmp/pwned` && echo $HOME"
    script = 'sleep 2; echo "$X"; if [ -e /tmp/pwned ]; then echo PWNED; else echo clean; fi'
    result = podscope(
        podscope_env,
        *("debug", "web", "-n", namespace, *PULL, "--env", f"X={value}"),
        *("--", "sh", "-c", script),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{value}\nclean\n"
    assert marker.exists() == existed  # nothing ran locally either


@pytest.mark.parametrize(
    "args",
    [
        ["debug", "../x", "--", "true"],
        ["debug", "x/../../y", "--", "true"],
        ["debug", "web;rm", "--", "true"],
        ["debug", "web", "-n", "../kube-system", "--", "true"],
        ["debug", "web", "-n", "a/b", "--", "true"],
        ["debug", "$(id)", "--", "true"],
        ["debug", "web\nx", "--", "true"],
        ["attach", "../x", "-c", "debugger"],
        ["ls", "../x"],
        ["debug", "web", "-c", "../x", "--", "true"],
    ],
)
def test_path_like_names_are_refused_before_any_request(
    args: list[str],
    kubeconfig: str,
    podscope_env: dict[str, str],
    proxy: TcpProxy,
    tmp_path: Path,
) -> None:
    config = kubeconfig_via(kubeconfig, f"https://127.0.0.1:{proxy.port}", tmp_path / "kc")
    result = podscope({**podscope_env, "KUBECONFIG": str(config)}, *args)
    assert result.returncode in (2, 7), result.stderr
    assert "Traceback" not in result.stderr
    assert proxy.accepted == 0, "a request was sent for an invalid name"


def test_container_stdout_stays_on_stdout_with_o_json(
    make_pod: Callable[..., dict[str, Any]], namespace: str, podscope_env: dict[str, str]
) -> None:
    make_pod("web", command=SLEEPER)
    result = podscope(
        podscope_env,
        *("debug", "web", "-n", namespace, *PULL, "-o", "json"),
        *("--", "sh", "-c", "echo 'podscope: error: fake'; echo 'podscope: fake2' >&2"),
    )
    assert result.returncode == 0, result.stderr
    assert "fake" not in result.stderr
    document = json.loads(result.stdout)  # -o output is only podscope's JSON
    # The command's output is kept in the document, each stream as it came.
    assert document["stdout"] == "podscope: error: fake\n"
    assert document["stderr"] == "podscope: fake2\n"


# --- broken trust ---------------------------------------------------------------------------


def test_expired_client_certificate_is_an_authentication_error(
    kubeconfig: str, podscope_env: dict[str, str], tmp_path: Path
) -> None:
    cert, key = mint_client_cert(PKI, days_from_now=(-30, -1))
    user = {"client-certificate-data": _b64(cert), "client-key-data": _b64(key)}
    env = {**podscope_env, **edited_kubeconfig(kubeconfig, tmp_path / "kc", user=user)}
    result = podscope(env, "debug", "web", "-n", "default", *PULL, "--", "true")
    assert "Traceback" not in result.stderr
    # The server only says 401: podscope then reads the certificate and names the date.
    assert result.returncode == 3, result.stderr
    assert "podscope: error: the client certificate of kubeconfig context" in result.stderr
    assert "expired on" in result.stderr
    assert key.decode() not in result.stderr + result.stdout


def test_valid_minted_certificate_works(
    kubeconfig: str, podscope_env: dict[str, str], tmp_path: Path
) -> None:
    # The same minting with a validity in the present: proves the test above tests expiry.
    cert, key = mint_client_cert(PKI, days_from_now=(-1, 1))
    user = {"client-certificate-data": _b64(cert), "client-key-data": _b64(key)}
    env = {**podscope_env, **edited_kubeconfig(kubeconfig, tmp_path / "kc", user=user)}
    result = podscope(env, "ls", "-n", "kube-system")
    assert result.returncode == 0, result.stderr


def test_server_certificate_from_another_ca_is_refused(
    kubeconfig: str, podscope_env: dict[str, str], tmp_path: Path
) -> None:
    cluster = {"certificate-authority-data": _b64(self_signed_ca())}
    env = {**podscope_env, **edited_kubeconfig(kubeconfig, tmp_path / "kc", cluster=cluster)}
    result = podscope(env, "debug", "web", "-n", "default", *PULL, "--", "true")
    assert result.returncode == 4, result.stderr
    assert "podscope: error: TLS connection to https://127.0.0.1:6443 failed" in result.stderr
    assert "certificate verify failed" in result.stderr
    assert "Traceback" not in result.stderr


def test_tls_material_that_is_not_a_certificate_is_one_config_error(
    kubeconfig: str, podscope_env: dict[str, str], tmp_path: Path
) -> None:
    # base64 of text, not of a PEM certificate: what a pasted secret name or a truncated
    # copy leaves in a kubeconfig.
    cluster = {"certificate-authority-data": _b64(b"not a certificate\n")}
    env = {**podscope_env, **edited_kubeconfig(kubeconfig, tmp_path / "kc", cluster=cluster)}
    for args in (("ls", "-n", "default"), ("debug", "web", "-n", "default", *PULL, "--", "true")):
        result = podscope(env, *args)
        assert result.returncode == 3, result.stderr
        [error] = [line for line in result.stderr.splitlines() if "error:" in line]
        assert error.startswith("podscope: error: cannot load the kubeconfig's TLS files")
        assert "certificate-authority(-data)" in result.stderr
        assert "Traceback" not in result.stderr


def test_server_name_not_in_the_certificate_is_refused(
    kubeconfig: str, podscope_env: dict[str, str], tmp_path: Path
) -> None:
    # 127.0.0.2 reaches the same API server, but its certificate does not name that address.
    cluster = {"server": "https://127.0.0.2:6443"}
    env = {**podscope_env, **edited_kubeconfig(kubeconfig, tmp_path / "kc", cluster=cluster)}
    result = podscope(env, "debug", "web", "-n", "default", *PULL, "--", "true")
    assert result.returncode == 4, result.stderr
    assert "TLS connection to https://127.0.0.2:6443 failed" in result.stderr
    assert "mismatch" in result.stderr or "doesn't match" in result.stderr
    # And the stream transport (attach) refuses it the same way.
    attach = podscope(env, "attach", "web", "-n", "default", "-c", "x")
    assert attach.returncode == 4, attach.stderr


def test_insecure_skip_verify_only_when_the_kubeconfig_says_so(
    kubeconfig: str, podscope_env: dict[str, str], tmp_path: Path
) -> None:
    cluster = {
        "server": "https://127.0.0.2:6443",
        "insecure-skip-tls-verify": True,
        "certificate-authority-data": None,
    }
    env = {**podscope_env, **edited_kubeconfig(kubeconfig, tmp_path / "kc", cluster=cluster)}
    result = podscope(env, "ls", "-n", "kube-system")
    assert result.returncode == 0, result.stderr


def test_malformed_kubeconfig_and_missing_context(
    kubeconfig: str, podscope_env: dict[str, str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad"
    bad.write_text("apiVersion: v1\nclusters: [\n")
    result = podscope({**podscope_env, "KUBECONFIG": str(bad)}, "ls")
    assert result.returncode == 3
    assert f"podscope: error: kubeconfig {bad} is not valid YAML" in result.stderr
    result = podscope(podscope_env, "ls", "--context", "nope")
    assert result.returncode == 3
    assert "context 'nope' (--context) not found in the kubeconfig" in result.stderr


def test_pod_exists_check_unchanged_after_refusals(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
) -> None:
    make_pod("web", command=SLEEPER)
    for args in (["-c", "Bad_Name"], ["--env", "=x"], ["--env", "A\tB=1"]):
        result = podscope(podscope_env, "debug", "web", "-n", namespace, *args, "--", "true")
        assert result.returncode in (2, 7), result.stderr
    assert ephemeral(kubectl.pod(namespace, "web")) == []
