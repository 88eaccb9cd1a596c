"""Kubeconfig selection and loading (no network: connect() only builds the client)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from podscope.errors import ConfigError
from podscope.kube.config import choose_context, connect, kubeconfig_files

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
    docs = [{"contexts": [{"name": "dev", "context": {}}, {"name": "prod", "context": {}}]}]
    with pytest.raises(ConfigError) as info:
        choose_context(docs, "staging")
    assert "context 'staging' (--context) not found" in info.value.message
    assert "available: dev, prod" in info.value.message


def test_context_namespace_defaults_to_default() -> None:
    docs = [
        {"current-context": "a", "contexts": [{"name": "a", "context": {"namespace": "shop"}}]},
        {"current-context": "b", "contexts": [{"name": "b", "context": {}}]},
    ]
    assert choose_context(docs, None).namespace == "shop"  # the first file's current-context
    assert choose_context(docs, "b").namespace == "default"
    with pytest.raises(ConfigError, match="no current-context"):
        choose_context([{"contexts": []}], None)


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
