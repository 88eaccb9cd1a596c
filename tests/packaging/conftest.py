"""One run of scripts/package.sh per test session; every packaging test reads its output."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.conftest import kubeconfig  # noqa: F401  (the real cluster, never skipped)

REPO = Path(__file__).resolve().parents[2]
PLATFORMS = ("linux-amd64", "linux-arm64")  # darwin: see scripts/package.sh


@dataclass(frozen=True)
class Built:
    out: Path
    manifest: Path
    log: str

    @property
    def wheel(self) -> Path:
        return next(self.out.glob("podscope-*.whl"))

    @property
    def sdist(self) -> Path:
        return next(self.out.glob("podscope-*.tar.gz"))

    def zipapp(self, platform: str = "linux-amd64") -> Path:
        return self.out / platform / "kubectl-podscope"

    def archive(self, platform: str) -> Path:
        return self.out / f"kubectl-podscope-{platform}.tar.gz"


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    out = tmp_path_factory.mktemp("dist")
    manifest = out / "manifest" / "podscope.yaml"
    manifest.parent.mkdir()
    manifest.write_text((REPO / "plugins" / "podscope.yaml").read_text())
    env = {**os.environ, "PODSCOPE_PYTHON": sys.executable, "PODSCOPE_PIPX_CHECK": "0"}
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / "package.sh"), str(out), "--manifest", str(manifest)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=2300,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"scripts/package.sh failed ({result.returncode}):\n{log}"
    return Built(out=out, manifest=manifest, log=log)
