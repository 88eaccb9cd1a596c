"""Least privilege, no leaked credentials, no silent elevation (docs/security.md)."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from devcluster import paths, registry

from tests.e2e.conftest import Kubectl
from tests.e2e.helpers import PULL, SLEEPER, ephemeral, podscope, service_account_kubeconfig
from tests.e2e.test_registry import PRIVATE, PULL_SECRET, make_pull_secret

# Exactly the rules docs/security.md gives for `podscope debug` (and attach).
DEBUG_RULES = [
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "watch"]},
    {"apiGroups": [""], "resources": ["pods/ephemeralcontainers"], "verbs": ["patch"]},
    # WebSocket attach is an HTTP GET: 1.34 authorizes the upgrade as `get pods/attach`
    # (1.35+ also checks `create`). podscope speaks WebSocket only, so it needs both.
    {"apiGroups": [""], "resources": ["pods/attach"], "verbs": ["get", "create"]},
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
]


def test_minimal_role_runs_debug_and_attach_end_to_end(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
    kubeconfig: str,
    tmp_path: Path,
) -> None:
    make_pod("web", command=SLEEPER)
    config, _ = service_account_kubeconfig(kubectl, namespace, DEBUG_RULES, tmp_path / "sa")
    env = {**podscope_env, "KUBECONFIG": str(config)}
    result = podscope(env, "debug", "web", *PULL, "--", "sh", "-c", "sleep 2; echo as-sa; exit 3")
    assert result.returncode == 3, result.stderr
    assert result.stdout == "as-sa\n"
    # A fast command's output comes from the log (get pods/log).
    fast = podscope(env, "debug", "web", *PULL, "-q", "--", "sh", "-c", "echo quick")
    assert fast.returncode == 0, fast.stderr
    assert fast.stdout == "quick\n"
    # attach to a container left running (interactive shell kept alive by stdin).
    kept = podscope(env, "debug", "web", *PULL, "-i", "--no-attach", "-c", "keep", "--", "sh")
    assert kept.returncode == 0, kept.stderr
    attached = podscope(env, "attach", "web", "-c", "keep", "-i", input="echo hi; exit 4\n")
    assert attached.returncode == 4, attached.stderr
    assert attached.stdout == "hi\n"
    # ls of one Pod needs only get.
    listed = podscope(env, "ls", "web", "-o", "json")
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == 3
    # Listing a whole namespace needs `list pods`: a clear RBAC error naming the rule.
    every = podscope(env, "ls")
    assert every.returncode == 6
    assert "not allowed to list pods" in every.stderr
    assert 'resources: ["pods"], verbs: ["list"]' in every.stderr


@pytest.mark.parametrize("missing", ["watch", "pods/ephemeralcontainers", "get pods/attach"])
def test_each_missing_permission_is_named(
    missing: str,
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
    kubeconfig: str,
    tmp_path: Path,
) -> None:
    make_pod("web", command=SLEEPER)
    rules = json.loads(json.dumps(DEBUG_RULES))
    if missing == "watch":
        rules[0]["verbs"] = ["get"]
    elif missing == "get pods/attach":
        rules[2]["verbs"] = ["create"]  # the Role kubectl's SPDY attach would need
    else:
        rules = [r for r in rules if r["resources"] != [missing]]
    config, _ = service_account_kubeconfig(kubectl, namespace, rules, tmp_path / "sa")
    env = {**podscope_env, "KUBECONFIG": str(config)}
    result = podscope(env, "debug", "web", *PULL, "--", "sh", "-c", "sleep 2; echo x")
    assert result.returncode == 6, result.stderr
    verb, resource = {
        "watch": ("watch", "pods"),
        "pods/ephemeralcontainers": ("patch", "pods/ephemeralcontainers"),
        "get pods/attach": ("get", "pods/attach"),
    }[missing]
    assert f"not allowed to {verb} {resource}" in result.stderr
    assert "Traceback" not in result.stderr
    if missing == "pods/ephemeralcontainers":
        assert ephemeral(kubectl.pod(namespace, "web")) == []


def _secrets(kubeconfig: str, token: str) -> list[str]:
    """Every credential of the test cluster in the forms it could leak in."""
    doc = json.loads(Path(kubeconfig).read_text())
    user = doc["users"][0]["user"]
    found = [token]
    for field in ("client-key-data", "client-certificate-data"):
        data = user.get(field)
        if data:
            found.append(data)
            pem = base64.b64decode(data).decode()
            # The base64 body lines of the PEM, as they would appear in a dump of the file.
            found += [line for line in pem.splitlines() if len(line) > 40]
    key_pem = Path("/var/lib/podscope-devcluster/pki/admin.key").read_text()
    found += [line for line in key_pem.splitlines() if len(line) > 40]
    # Token parts (a JWT's signature alone is enough to matter).
    found += [part for part in token.split(".") if len(part) > 20]
    # The private registry's password: as typed, as a pull secret's auth field, as htpasswd.
    password = registry.password_file().read_text().strip()
    found += [password, base64.b64encode(f"{registry.PRIVATE_USER}:{password}".encode()).decode()]
    found += [
        line.split(":", 1)[1]
        for line in (paths.STATE / "registry" / "htpasswd").read_text().splitlines()
    ]
    return found


def test_no_credential_appears_in_any_output(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    kubectl: Kubectl,
    kubeconfig: str,
    tmp_path: Path,
) -> None:
    make_pod("web", command=SLEEPER)
    make_pull_secret(kubectl, namespace)
    make_pod("api", command=SLEEPER, imagePullSecrets=[{"name": PULL_SECRET}])
    sa_config, token = service_account_kubeconfig(kubectl, namespace, DEBUG_RULES, tmp_path / "sa")
    admin = {**podscope_env, "KUBECONFIG": kubeconfig}
    sa = {**podscope_env, "KUBECONFIG": str(sa_config)}
    record = ["--record", str(tmp_path / "recorded")]
    closed = tmp_path / "closed"
    closed_doc = json.loads(Path(kubeconfig).read_text())
    closed_doc["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:1"
    closed.write_text(json.dumps(closed_doc))
    runs = [
        (admin, ["debug", "web", "-n", namespace, *PULL, "--", "sh", "-c", "sleep 2; env"]),
        (
            admin,
            [
                "debug",
                "web",
                "-n",
                namespace,
                *PULL,
                "--no-attach",
                "-o",
                "json",
                "--",
                "sleep",
                "60",
            ],
        ),
        (
            admin,
            [
                "debug",
                "web",
                "-n",
                namespace,
                *PULL,
                "--no-attach",
                "-o",
                "yaml",
                "--",
                "sleep",
                "60",
            ],
        ),
        (admin, ["debug", "nope", "-n", namespace, "--", "true"]),
        (admin, ["ls", "-A", "-o", "json"]),
        (admin, ["ls", "web", "-n", namespace]),
        (admin, ["attach", "web", "-n", namespace, "-c", "nope"]),
        (admin, ["doctor", "web", "-n", namespace]),
        (admin, ["doctor", "-n", namespace, "-o", "json"]),
        (sa, ["debug", "web", *PULL, "--", "sh", "-c", "sleep 2; echo ok"]),
        (sa, ["debug", "web", *PULL, "--no-attach", "-o", "json", "--", "sleep", "60"]),
        (sa, ["ls"]),
        (sa, ["ls", "-A"]),
        (sa, ["doctor", "web"]),
        (sa, ["doctor", "-o", "json"]),
        ({**admin, "KUBECONFIG": str(closed)}, ["debug", "web", "--", "true"]),
        ({**admin, "KUBECONFIG": str(closed)}, ["doctor"]),
        ({**admin, "PODSCOPE_TRACEBACK": "1"}, ["debug", "web", "-n", "nope", "--", "true"]),
        # Private images: refused, accepted with a pull secret, copy mode, doctor's check.
        (admin, ["debug", "web", "-n", namespace, "--image", PRIVATE, "--", "true"]),
        (admin, ["debug", "api", "-n", namespace, "--image", PRIVATE, "-o", "json", "--", "env"]),
        (
            admin,
            [
                "debug",
                "web",
                "-n",
                namespace,
                "--copy-to",
                "web-copy",
                "--pull-secret",
                PULL_SECRET,
                "--image",
                PRIVATE,
                "--",
                "true",
            ],
        ),
        (admin, ["doctor", "api", "-n", namespace, "--image", PRIVATE, "-o", "json"]),
        (admin, ["doctor", "web", "-n", namespace, "--image", PRIVATE]),
        (sa, ["doctor", "api", "--image", PRIVATE, "-o", "json"]),
        # Recorded sessions: the recordings and receipts are read below too.
        (admin, ["debug", "web", "-n", namespace, *PULL, *record, "--", "sh", "-c", "env"]),
        (sa, ["debug", "web", *PULL, *record, "--record-input", "--", "sh", "-c", "env"]),
    ]
    outputs = []
    for env, args in runs:
        result = podscope(env, *args, timeout=120)
        outputs.append(f"$ podscope {' '.join(args)}\n{result.stdout}\n{result.stderr}")
        assert "Traceback" not in result.stderr, result.stderr
    # The devcluster's own registry commands (they make and use the password).
    for args in (["registry"], ["status"]):
        run = subprocess.run(
            [sys.executable, "-m", "devcluster", *args], capture_output=True, text=True
        )
        outputs.append(f"$ devcluster {' '.join(args)}\n{run.stdout}\n{run.stderr}")
    kept = sorted((tmp_path / "recorded").iterdir())
    assert len(kept) == 4, kept  # a recording and a receipt per recorded session
    outputs += [f"{path.name}\n{path.read_text()}" for path in kept]
    everything = "\n".join(outputs)
    leaked = [s[:12] + "..." for s in _secrets(kubeconfig, token) if s in everything]
    assert not leaked, f"credentials in podscope's output: {leaked}"
    # Headers podscope never prints, whatever the path.
    assert not re.search(r"(?i)authorization:|bearer [a-z0-9]", everything)


def test_default_profile_is_not_privileged_and_elevated_ones_say_what_they_grant(
    make_pod: Callable[..., dict[str, Any]], namespace: str, podscope_env: dict[str, str]
) -> None:
    make_pod("web", command=SLEEPER)
    plain = podscope(
        podscope_env,
        "debug",
        "web",
        "-n",
        namespace,
        *PULL,
        "--no-attach",
        "-o",
        "json",
        "--",
        "sleep",
        "60",
    )
    assert plain.returncode == 0, plain.stderr
    context = json.loads(plain.stdout)["spec"].get("securityContext") or {}
    assert not context.get("privileged")
    assert not (context.get("capabilities") or {}).get("add")
    assert not [x for x in plain.stderr.splitlines() if x.startswith("podscope: the ")]
    for profile, words in (
        ("sysadmin", "makes the container privileged"),
        ("netadmin", "adds the NET_ADMIN and NET_RAW capabilities"),
    ):
        elevated = podscope(
            podscope_env,
            *("debug", "web", "-n", namespace, *PULL, "--profile", profile, "--no-attach"),
            *("-o", "json"),
            *("--", "sleep", "60"),
        )
        assert elevated.returncode == 0, elevated.stderr
        assert f"podscope: the {profile} profile {words}" in elevated.stderr
