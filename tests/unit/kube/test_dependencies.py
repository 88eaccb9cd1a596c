"""What podscope relies on in its dependencies: declared, in range, and still shaped as used.

podscope's own HTTP client keeps the shape of the kubernetes package's ``ApiClient``, and a
kubeconfig with a legacy auth provider is still loaded by its ``KubeConfigLoader``; those are
generated or internal interfaces that change between major versions. These tests fail when an
upgrade changes what podscope calls, before a user sees it.
"""

from __future__ import annotations

import ast
import inspect
import io
import json
import re
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import tomllib
from packaging.requirements import Requirement
from packaging.version import Version

REPO = Path(__file__).resolve().parents[3]
SRC = REPO / "src" / "podscope"


def _pyproject() -> dict:  # type: ignore[type-arg]
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def _requirements() -> dict[str, Requirement]:
    reqs = [Requirement(r) for r in _pyproject()["project"]["dependencies"]]
    return {r.name.lower().replace("_", "-").replace(".", "-"): r for r in reqs}


def _imported_modules() -> dict[str, set[str]]:
    """Top-level module -> files of src/podscope that import it."""
    found: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(REPO)))
    return found


def test_every_direct_import_is_declared() -> None:
    declared = _requirements()
    owners = metadata.packages_distributions()
    missing: list[str] = []
    for module, files in sorted(_imported_modules().items()):
        if module in sys.stdlib_module_names or module in ("podscope", "__future__"):
            continue
        distributions = owners.get(module) or [module]
        names = {d.lower().replace("_", "-").replace(".", "-") for d in distributions}
        if not names & set(declared):
            missing.append(f"{module} ({', '.join(sorted(files))})")
    assert not missing, "imported but not in [project.dependencies]: " + "; ".join(missing)


def test_installed_versions_are_in_the_declared_ranges() -> None:
    for name, requirement in _requirements().items():
        installed = Version(metadata.version(name))
        assert requirement.specifier.contains(installed, prereleases=True), (name, installed)
    # The kubernetes package's internals are used: the range must have an upper bound.
    assert any(s.operator == "<" for s in _requirements()["kubernetes"].specifier)


def test_one_yaml_library_and_no_private_cpython_helpers() -> None:
    modules = _imported_modules()
    assert "yaml" not in modules, modules.get("yaml")  # ruamel.yaml only
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\bssl\._ssl\b|_test_decode_cert", text), path


def test_api_client_request_building() -> None:
    """``param_serialize`` returns (method, url, headers, body, post_params) with the bearer
    token and the default headers; ``call_api`` takes the timeout as ``_request_timeout``."""
    from kubernetes.client import ApiClient, Configuration

    params = inspect.signature(ApiClient.param_serialize).parameters
    for name in ("method", "resource_path", "query_params", "header_params", "body"):
        assert name in params
    assert "auth_settings" in params
    call = inspect.signature(ApiClient.call_api).parameters
    assert list(call)[1:5] == ["method", "url", "header_params", "body"]
    assert "_request_timeout" in call

    configuration = Configuration()
    configuration.host = "https://example.invalid:6443"
    configuration.api_key["BearerToken"] = "Bearer abc"
    calls: list[str] = []
    configuration.refresh_api_key_hook = lambda c: calls.append("refresh")
    client = ApiClient(configuration)
    client.user_agent = "podscope/test"
    method, url, headers, body, _ = client.param_serialize(
        method="PATCH",
        resource_path="/api/v1/namespaces/a/pods/b",
        query_params=[("fieldManager", "podscope"), ("command", "ls"), ("command", "-l")],
        header_params={"Content-Type": "application/json"},
        body={"x": 1},
        auth_settings=["BearerToken"],
    )
    client.close()
    assert method == "PATCH"
    assert url == (
        "https://example.invalid:6443/api/v1/namespaces/a/pods/b"
        "?fieldManager=podscope&command=ls&command=-l"
    )
    lowered = {k.lower(): v for k, v in headers.items()}
    assert lowered["authorization"] == "Bearer abc"
    assert lowered["user-agent"] == "podscope/test"
    assert json.loads(json.dumps(body)) == {"x": 1}
    assert calls  # the hook runs on every request: renewed credentials reach each one


def test_configuration_fields_podscope_reads_and_sets() -> None:
    from kubernetes.client import Configuration

    configuration = Configuration()
    for field in (
        "host",
        "verify_ssl",
        "ssl_ca_cert",
        "cert_file",
        "key_file",
        "assert_hostname",
        "tls_server_name",
        "proxy",
        "no_proxy",
        "proxy_headers",
        "api_key",
        "refresh_api_key_hook",
        "retries",
    ):
        assert hasattr(configuration, field), field


def test_kubeconfig_loader_takes_a_merged_dict() -> None:
    from kubernetes.client import Configuration
    from kubernetes.config.kube_config import KubeConfigLoader

    params = inspect.signature(KubeConfigLoader.__init__).parameters
    for name in ("config_dict", "active_context", "config_base_path"):
        assert name in params
    document = {
        "clusters": [
            {
                "name": "c",
                "cluster": {
                    "server": "https://10.1.2.3:6443",
                    "tls-server-name": "api.example",
                    "proxy-url": "http://127.0.0.1:3128",
                    "insecure-skip-tls-verify": True,
                },
            }
        ],
        "users": [{"name": "u", "user": {"token": "t0k"}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
    }
    configuration = Configuration()
    KubeConfigLoader(config_dict=document, active_context="x", config_base_path=None).load_and_set(
        configuration
    )
    assert configuration.host == "https://10.1.2.3:6443"
    assert configuration.tls_server_name == "api.example"
    assert configuration.proxy == "http://127.0.0.1:3128"
    assert configuration.verify_ssl is False
    assert configuration.api_key["BearerToken"] == "Bearer t0k"


def test_watch_lines_are_read_from_a_urllib3_response_across_chunks() -> None:
    """``KubeClient.watch_pod`` reads urllib3's ``stream(amt=None, decode_content=False)``;
    an event split over two reads is put back together, an ERROR event raises."""
    import urllib3

    from podscope.kube.client import _watch_events, _WatchFailed

    first = b'{"type": "ADDED", "object": {"metadata": {"resourceVersion": "7"}}}\n{"type": "MOD'
    rest = b'IFIED", "object": {}}\n\n{"type": "ERROR", "object": {"code": 410}}\n'

    class Chunks(io.RawIOBase):
        def __init__(self) -> None:
            self.parts = [first, rest]

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            if not self.parts:
                return 0
            part = self.parts.pop(0)
            buffer[: len(part)] = part
            return len(part)

    response = urllib3.HTTPResponse(body=Chunks(), status=200, preload_content=False)
    events = _watch_events(lambda: response)
    assert next(events)["object"]["metadata"]["resourceVersion"] == "7"
    assert next(events)["type"] == "MODIFIED"
    with pytest.raises(_WatchFailed) as failed:
        next(events)
    assert failed.value.code == 410


def test_exception_types_podscope_catches() -> None:
    """Where the errors podscope maps live, and the fields it reads from them."""
    from kubernetes.client.exceptions import ApiException
    from kubernetes.config.config_exception import ConfigException

    error = ApiException(status=0, reason="SSL: CERTIFICATE_VERIFY_FAILED")
    assert (error.status, error.reason, error.body) == (0, "SSL: CERTIFICATE_VERIFY_FAILED", None)
    assert issubclass(ConfigException, Exception)
    names = {
        node.module
        for path in SRC.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("kubernetes")
    }
    # Each module of the package podscope imports is exercised by a test in this file.
    assert names <= {
        "kubernetes.client",
        "kubernetes.client.exceptions",
        "kubernetes.config.config_exception",
        "kubernetes.config.kube_config",
    }, names
