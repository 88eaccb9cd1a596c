"""The shipped forms of podscope work when installed the way a user installs them.

The wheel through pipx into a throwaway home, the single-file kubectl-podscope on several
CPythons and through kubectl's plugin mechanism against the real cluster, and the krew
manifest through krew's own validator and krew's own installer.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from ruamel.yaml import YAML

import podscope
from tests.packaging.conftest import PLATFORMS, REPO, Built

# The first test builds every single file (the `built` fixture): after a source change, four
# platforms x five CPythons take well over the suite's default 600 s on 2 busy cores.
pytestmark = pytest.mark.timeout(2400)

KREW_BIN = Path.home() / ".cache" / "podscope-krew" / "v0.4.3" / "bin"
EXPECTED_VERSION = f"podscope {podscope.__version__}"


def run(*args: str | Path, env: dict[str, str] | None = None, timeout: float = 120) -> str:
    result = subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, (
        f"{' '.join(map(str, args))} exited {result.returncode}:\n{result.stdout}{result.stderr}"
    )
    return result.stdout


def test_wheel_ships_every_tracked_file_under_src_podscope(built: Built) -> None:
    tracked = run("git", "-C", REPO, "ls-files", "src/podscope").split()
    with zipfile.ZipFile(built.wheel) as wheel:
        names = set(wheel.namelist())
    missing = [p for p in tracked if p.removeprefix("src/") not in names]
    assert not missing
    assert "podscope/py.typed" in names
    with tarfile.open(built.sdist) as sdist:
        sdist_names = sdist.getnames()
    top = built.sdist.name.removesuffix(".tar.gz")
    assert not [p for p in tracked if f"{top}/{p}" not in sdist_names]


def test_pipx_installs_the_wheel_and_both_scripts_run(built: Built, tmp_path: Path) -> None:
    env = {
        "PIPX_HOME": str(tmp_path / "pipx"),
        "PIPX_BIN_DIR": str(tmp_path / "bin"),
        "PIPX_MAN_DIR": str(tmp_path / "man"),
    }
    run(
        sys.executable,
        "-m",
        "pipx",
        "install",
        "--python",
        sys.executable,
        built.wheel,
        env=env,
        timeout=600,
    )
    for script in ("podscope", "kubectl-podscope"):
        assert run(tmp_path / "bin" / script, "--version").strip() == EXPECTED_VERSION


def _cpythons() -> list[str]:
    """The CPython 3.10+ interpreters on this machine (pyenv's, then PATH's)."""
    found: dict[str, str] = {}
    roots = sorted(Path.home().glob(".pyenv/versions/3.*/bin/python3"))
    for python in [*map(str, roots), *filter(None, map(shutil.which, ["python3"]))]:
        out = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        if out and tuple(map(int, out.split("."))) >= (3, 10):
            found.setdefault(out, python)
    return sorted(found.values())


def test_zipapp_runs_alone_on_every_cpython_here(built: Built, tmp_path: Path) -> None:
    pythons = _cpythons()
    assert len(pythons) >= 2, f"want two or more CPython 3.10+ here, found {pythons}"
    for python in pythons:
        # Its own PEX_ROOT: a clean first run, as on a user's machine.
        out = run(
            python,
            built.zipapp(),
            "--version",
            env={"PEX_ROOT": str(tmp_path / "pex"), "PYTHONPATH": ""},
            timeout=300,
        )
        assert out.strip() == EXPECTED_VERSION, python
    assert run(built.zipapp(), "--version").strip() == EXPECTED_VERSION


def test_zipapp_holds_its_dependencies_for_each_cpython(built: Built) -> None:
    for platform in PLATFORMS:
        with zipfile.ZipFile(built.zipapp(platform)) as zipapp:
            names = zipapp.namelist()
        wheels = {n.split("/")[1] for n in names if n.startswith(".deps/") and n.count("/") > 1}
        assert any(w.startswith("podscope-") for w in wheels)
        for dep in ("kubernetes-", "ruamel_yaml-", "websocket_client-"):
            assert any(w.startswith(dep) for w in wheels), (platform, dep)
        compiled = {w for w in wheels if w.startswith("pydantic_core-")}
        for cp in ("cp310", "cp311", "cp312", "cp313", "cp314"):
            assert any(f"-{cp}-" in w for w in compiled), (platform, cp, compiled)


def test_kubectl_finds_the_single_file_as_a_plugin(built: Built, kubeconfig: str) -> None:
    path = f"{built.zipapp().parent}{os.pathsep}{os.environ['PATH']}"
    assert run("kubectl", "podscope", "--version", env={"PATH": path}).strip() == EXPECTED_VERSION
    listed = run("kubectl", "plugin", "list", env={"PATH": path})
    assert str(built.zipapp()) in listed
    rows = json.loads(
        run(
            "kubectl",
            "podscope",
            "ls",
            "-A",
            "-o",
            "json",
            "--kubeconfig",
            kubeconfig,
            env={"PATH": path},
        )
    )
    assert isinstance(rows, (list, dict))


def test_single_file_lists_the_real_cluster_like_the_installed_cli(
    built: Built, kubeconfig: str
) -> None:
    namespace = "pk-" + hashlib.sha256(str(built.out).encode()).hexdigest()[:8]
    run("kubectl", "--kubeconfig", kubeconfig, "create", "namespace", namespace)
    try:
        out = run(built.zipapp(), "ls", "-n", namespace, "--kubeconfig", kubeconfig)
        installed = run(
            sys.executable, "-m", "podscope", "ls", "-n", namespace, "--kubeconfig", kubeconfig
        )
        assert out == installed
        everything = run(built.zipapp(), "ls", "-A", "--kubeconfig", kubeconfig)
        # An empty cluster-wide list prints nothing (like kubectl's "No resources found").
        assert not everything or everything.splitlines()[0].split()[:2] == ["NAMESPACE", "POD"]
    finally:
        run("kubectl", "--kubeconfig", kubeconfig, "delete", "namespace", namespace, "--wait=false")


def _manifest(path: Path) -> dict:  # type: ignore[type-arg]
    return YAML(typ="safe").load(path.read_text())


def test_manifest_passes_krews_validator_and_matches_the_archives(built: Built) -> None:
    run(KREW_BIN / "validate-krew-manifest", "-manifest", built.manifest, "-skip-install")
    spec = _manifest(built.manifest)["spec"]
    assert spec["version"] == f"v{podscope.__version__}"
    seen = set()
    for platform in spec["platforms"]:
        labels = platform["selector"]["matchLabels"]
        name = f"{labels['os']}-{labels['arch']}"
        seen.add(name)
        digest = hashlib.sha256(built.archive(name).read_bytes()).hexdigest()
        assert platform["sha256"] == digest, name
        assert platform["uri"].endswith(f"/{built.archive(name).name}")
        assert "PLACEHOLDER" in platform["uri"]
    assert seen == set(PLATFORMS)


def test_the_repos_manifest_passes_krews_validator(built: Built) -> None:
    repo_manifest = REPO / "plugins" / "podscope.yaml"
    run(KREW_BIN / "validate-krew-manifest", "-manifest", repo_manifest, "-skip-install")
    shas = {p["sha256"] for p in _manifest(repo_manifest)["spec"]["platforms"]}
    assert all(re.fullmatch(r"[0-9a-f]{64}", s) for s in shas)


def test_krew_installs_the_archive_and_kubectl_runs_it(built: Built, tmp_path: Path) -> None:
    root = tmp_path / "krew"
    env = {"KREW_ROOT": str(root), "PATH": f"{KREW_BIN}{os.pathsep}{os.environ['PATH']}"}
    run(
        "kubectl",
        "krew",
        "install",
        "--manifest",
        built.manifest,
        "--archive",
        built.archive("linux-amd64"),
        env=env,
        timeout=300,
    )
    installed = root / "bin" / "kubectl-podscope"
    assert installed.exists()
    env["PATH"] = f"{root / 'bin'}{os.pathsep}{env['PATH']}"
    assert run("kubectl", "podscope", "--version", env=env).strip() == EXPECTED_VERSION


@pytest.mark.parametrize("platform", ["linux-arm64"])
def test_krew_refuses_an_archive_whose_sha256_differs(
    built: Built, tmp_path: Path, platform: str
) -> None:
    # The check the manifest's sha256 exists for: the linux-amd64 archive is not linux-arm64's.
    env = {
        "KREW_ROOT": str(tmp_path / "krew"),
        "KREW_ARCH": "arm64",
        "PATH": f"{KREW_BIN}{os.pathsep}{os.environ['PATH']}",
    }
    result = subprocess.run(
        [
            "kubectl",
            "krew",
            "install",
            "--manifest",
            str(built.manifest),
            "--archive",
            str(built.archive("linux-amd64")),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode != 0
    # krew names the digest the manifest wants and the one the file has.
    wanted = hashlib.sha256(built.archive(platform).read_bytes()).hexdigest()
    got = hashlib.sha256(built.archive("linux-amd64").read_bytes()).hexdigest()
    assert wanted in result.stderr
    assert got in result.stderr
