"""Kubeconfig selection and loading (no network: connect() only builds the client)."""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path

import pytest

from podscope.errors import ConfigError
from podscope.kube.config import (
    check_client_certificate,
    choose_context,
    connect,
    kubeconfig_files,
    merge_kubeconfigs,
    read_kubeconfig,
)

TOKEN = "s3cr3t-token-value"


def _kubeconfig(
    path: Path, *, contexts: dict[str, str | None], current: str | None, **cluster: object
) -> str:
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "https://10.0.0.1:6443", **cluster}}],
        "users": [{"name": "u", "user": {"token": TOKEN}}],
        "contexts": [
            {
                "name": name,
                "context": {"cluster": "c", "user": "u", **({"namespace": ns} if ns else {})},
            }
            for name, ns in contexts.items()
        ],
    }
    if current:
        document["current-context"] = current
    path.write_text(json.dumps(document))
    return str(path)


def test_explicit_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="kubeconfig .*missing not found"):
        kubeconfig_files(str(tmp_path / "missing"), {})
    with pytest.raises(ConfigError, match="is a directory, not a file"):
        kubeconfig_files(str(tmp_path), {})


def test_kubeconfig_env_lists_several_files_and_skips_missing(tmp_path: Path) -> None:
    a = tmp_path / "a"
    b = tmp_path / "b"
    a.write_text("{}")
    b.write_text("{}")
    listed = os.pathsep.join([str(a), str(tmp_path / "gone"), str(b)])
    files = kubeconfig_files(None, {"KUBECONFIG": listed})
    assert files.paths == (str(a), str(b))
    with pytest.raises(ConfigError, match="none of the files in \\$KUBECONFIG exist"):
        kubeconfig_files(None, {"KUBECONFIG": str(tmp_path / "gone")})


def test_unknown_context_lists_the_available_ones() -> None:
    docs = [("k", {"contexts": [{"name": "dev", "context": {}}, {"name": "prod", "context": {}}]})]
    with pytest.raises(ConfigError) as info:
        choose_context(merge_kubeconfigs(docs), "staging")
    assert "context 'staging' (--context) not found" in info.value.message
    assert "available: dev, prod" in info.value.message


def test_context_namespace_defaults_to_default() -> None:
    docs = merge_kubeconfigs(
        [
            (
                "1",
                {
                    "current-context": "a",
                    "contexts": [{"name": "a", "context": {"namespace": "shop"}}],
                },
            ),
            ("2", {"current-context": "b", "contexts": [{"name": "b", "context": {}}]}),
        ]
    )
    assert choose_context(docs, None).namespace == "shop"  # the first file's current-context
    assert choose_context(docs, "b").namespace == "default"
    with pytest.raises(ConfigError, match="no current-context"):
        choose_context(merge_kubeconfigs([("1", {"contexts": []})]), None)


def test_malformed_yaml_is_a_config_error_with_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.write_text("clusters:\n  - name: [oops\n")
    with pytest.raises(ConfigError, match="is not valid YAML \\(line"):
        connect(str(bad))


def test_connect_uses_context_namespace_and_keeps_tls_verification(tmp_path: Path) -> None:
    path = _kubeconfig(tmp_path / "k", contexts={"dev": "shop", "other": None}, current="dev")
    client = connect(path)
    assert client.namespace == "shop"
    assert client.context == "dev"
    assert client.server == "https://10.0.0.1:6443"
    assert client._api.configuration.verify_ssl is True
    assert (client.connect_timeout, client.request_timeout) == (10.0, 30.0)
    assert connect(path, "other", "ns2", 5).namespace == "ns2"
    # --request-timeout bounds connecting too when it is shorter (a server that never answers
    # the TLS handshake), never lengthens it.
    short = connect(path, request_timeout=2)
    assert (short.connect_timeout, short.request_timeout) == (2, 2)
    long = connect(path, request_timeout=60)
    assert (long.connect_timeout, long.request_timeout) == (10.0, 60)


def test_insecure_only_when_the_kubeconfig_says_so(tmp_path: Path) -> None:
    path = _kubeconfig(
        tmp_path / "k", contexts={"dev": None}, current="dev", **{"insecure-skip-tls-verify": True}
    )
    assert connect(path)._api.configuration.verify_ssl is False


def test_errors_never_show_the_token(tmp_path: Path) -> None:
    path = _kubeconfig(tmp_path / "k", contexts={"dev": None}, current="dev")
    with pytest.raises(ConfigError) as info:
        connect(path, "nope")
    assert TOKEN not in info.value.message


def _write(path: Path, document: dict[str, object]) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))
    return str(path)


def test_files_are_merged_once_with_kubectls_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """First file wins per name, current-context from the first file that sets it, relative
    paths against the directory of the file that names them."""
    first = _write(
        tmp_path / "one" / "config",
        {
            "clusters": [
                {
                    "name": "c",
                    "cluster": {"server": "https://first:6443", "certificate-authority": "ca.crt"},
                }
            ],
            "users": [{"name": "u", "user": {"tokenFile": "../tok", "exec": {"command": "./p"}}}],
            "contexts": [{"name": "a", "context": {"cluster": "c", "user": "u"}}],
        },
    )
    second = _write(
        tmp_path / "two" / "config",
        {
            "current-context": "a",
            "clusters": [
                {"name": "c", "cluster": {"server": "https://second:6443"}},
                {
                    "name": "d",
                    "cluster": {"server": "https://d:6443", "certificate-authority": "ca.crt"},
                },
            ],
            "users": [{"name": "v", "user": {"exec": {"command": "plugin"}}}],
            "contexts": [{"name": "a", "context": {"cluster": "d"}}],
        },
    )
    third = _write(tmp_path / "three", {"current-context": "later"})
    monkeypatch.chdir(tmp_path)
    merged = read_kubeconfig(kubeconfig_files(None, {"KUBECONFIG": f"{first}:{second}:{third}"}))
    clusters = {c["name"]: c["cluster"] for c in merged["clusters"]}
    assert clusters["c"]["server"] == "https://first:6443"
    assert clusters["c"]["certificate-authority"] == str(tmp_path / "one" / "ca.crt")
    assert clusters["d"]["certificate-authority"] == str(tmp_path / "two" / "ca.crt")
    users = {u["name"]: u["user"] for u in merged["users"]}
    assert users["u"]["tokenFile"] == str(tmp_path / "tok")
    assert users["u"]["exec"]["command"] == str(tmp_path / "one" / "p")
    assert users["v"]["exec"]["command"] == "plugin"  # looked up on $PATH
    assert merged["current-context"] == "a"
    assert choose_context(merged, None).cluster == "c"  # the first file's context "a"


def test_connect_uses_the_merged_kubeconfig(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca = tmp_path / "one" / "ca.crt"
    ca.parent.mkdir()
    ca.write_text("not checked before connecting")
    first = _write(
        tmp_path / "one" / "config",
        {
            "clusters": [
                {
                    "name": "c",
                    "cluster": {"server": "https://first:6443", "certificate-authority": "ca.crt"},
                }
            ],
            "users": [{"name": "u", "user": {"token": TOKEN}}],
            "contexts": [{"name": "a", "context": {"cluster": "c", "user": "u"}}],
        },
    )
    second = _write(
        tmp_path / "config2",
        {
            "current-context": "a",
            "clusters": [{"name": "c", "cluster": {"server": "https://second:6443"}}],
            "contexts": [{"name": "a", "context": {"cluster": "c", "user": "u"}}],
        },
    )
    monkeypatch.setenv("KUBECONFIG", f"{first}:{second}")
    monkeypatch.chdir(tmp_path)
    client = connect()
    assert client.server == "https://first:6443"
    assert client._api.configuration.ssl_ca_cert == str(ca)


def test_kubeconfig_booleans_are_read_as_kubectl_reads_them(tmp_path: Path) -> None:
    # YAML 1.1, as kubectl: "no" is false (YAML 1.2 would make it the string "no").
    text = (
        "clusters:\n- name: c\n  cluster:\n    server: https://10.0.0.1:6443\n"
        "    insecure-skip-tls-verify: no\n"
        "users:\n- name: u\n  user: {token: x}\n"
        "contexts:\n- name: a\n  context: {cluster: c, user: u}\ncurrent-context: a\n"
    )
    path = tmp_path / "k"
    path.write_text(text)
    assert connect(str(path))._api.configuration.verify_ssl is True
    path.write_text(text.replace("insecure-skip-tls-verify: no", "insecure-skip-tls-verify: yes"))
    assert connect(str(path))._api.configuration.verify_ssl is False


def _certificate(path: Path, not_before: datetime.datetime, not_after: datetime.datetime) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "someone")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return str(path)


def test_client_certificate_dates_are_checked(tmp_path: Path) -> None:
    utc = datetime.timezone.utc
    start = datetime.datetime(2020, 1, 1, tzinfo=utc)
    end = datetime.datetime(2021, 1, 1, tzinfo=utc)
    path = _certificate(tmp_path / "c.crt", start, end)
    check_client_certificate(path, "dev", now=datetime.datetime(2020, 6, 1, tzinfo=utc).timestamp())
    with pytest.raises(ConfigError, match="expired on 2021-01-01 00:00:00 UTC"):
        check_client_certificate(path, "dev", now=end.timestamp() + 1)
    with pytest.raises(ConfigError, match="not valid before 2020-01-01"):
        check_client_certificate(path, "dev", now=start.timestamp() - 1)
    (tmp_path / "junk").write_text("not a certificate")
    check_client_certificate(str(tmp_path / "junk"), "dev", now=0)  # the server decides


def test_a_json_kubeconfig_keeps_characters_outside_the_bmp(tmp_path: Path) -> None:
    path = tmp_path / "config"
    # json.dumps writes U+10000 as the escaped surrogate pair \ud800\udc00.
    path.write_text(json.dumps({"clusters": [{"name": "c\U00010000", "cluster": {}}]}))
    merged = read_kubeconfig(kubeconfig_files(str(path)))
    assert merged["clusters"][0]["name"] == "c\U00010000"


def test_an_unpaired_surrogate_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text('clusters:\n- name: c\n  cluster: {certificate-authority: "~\\ud800"}\n')
    with pytest.raises(ConfigError, match="unpaired surrogate"):
        read_kubeconfig(kubeconfig_files(str(path)))


def test_a_malformed_json_kubeconfig_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text('{\n"clusters": [,]\n}')
    with pytest.raises(ConfigError, match=r"not valid JSON \(line 2\)"):
        read_kubeconfig(kubeconfig_files(str(path)))
