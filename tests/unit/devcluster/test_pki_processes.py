"""devcluster's certificates and process handling, on real files and real processes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from cryptography import x509
from devcluster import cluster, pki, processes
from devcluster.errors import ClusterError


def _san(path: Path) -> set[str]:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {str(v) for v in san.get_values_for_type(x509.IPAddress)} | set(
        san.get_values_for_type(x509.DNSName)
    )


def _subject(path: Path) -> tuple[str, list[str]]:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    cn = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    orgs = [a.value for a in cert.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)]
    return str(cn), [str(o) for o in orgs]


def test_pki_identities_and_reissue_on_new_ip(tmp_path: Path) -> None:
    pki.ensure(tmp_path, "node-a", "192.0.2.10", "10.96.0.1")
    assert {"127.0.0.1", "192.0.2.10", "10.96.0.1", "kubernetes.default.svc"} <= _san(
        tmp_path / "apiserver.crt"
    )
    assert _subject(tmp_path / "kubelet-client.crt") == ("system:node:node-a", ["system:nodes"])
    assert _subject(tmp_path / "admin.crt")[1] == ["system:masters"]
    assert oct((tmp_path / "admin.key").stat().st_mode & 0o777) == "0o600"
    ca_before = (tmp_path / "ca.crt").read_bytes()
    admin_before = (tmp_path / "admin.crt").read_bytes()
    pki.ensure(tmp_path, "node-a", "192.0.2.99", "10.96.0.1")
    assert "192.0.2.99" in _san(tmp_path / "apiserver.crt")
    assert (tmp_path / "ca.crt").read_bytes() == ca_before  # the CA survives
    assert (tmp_path / "admin.crt").read_bytes() == admin_before  # unaffected certs too


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(processes.paths, "LOGS", tmp_path / "logs")
    monkeypatch.setattr(processes.paths, "RUN", tmp_path / "run")
    return tmp_path


def test_dead_component_fails_loudly_with_command_and_log(state: Path) -> None:
    processes.start("broken", ["sh", "-c", "echo 'fatal: port in use'; exit 3"])
    time.sleep(0.3)
    with pytest.raises(ClusterError) as err:
        processes.ensure_alive("broken")
    text = err.value.render()
    assert "broken exited" in text
    assert "sh -c echo 'fatal: port in use'; exit 3" in text
    assert "fatal: port in use" in text


def test_wait_for_times_out_with_the_blamed_log(state: Path) -> None:
    processes.start("slow", ["sh", "-c", "echo still starting; sleep 30"])
    try:
        with pytest.raises(ClusterError) as err:
            cluster.wait_for("something", lambda: False, ("slow",), 0.5, "slow")
        assert "timed out" in err.value.message and "something" in err.value.message
        assert "still starting" in err.value.log_tail
    finally:
        assert processes.stop("slow", timeout=2)
    assert processes.pid_of("slow") is None


def test_stop_uses_the_pid_file_and_guards_against_reuse(state: Path) -> None:
    pid = processes.start("sleeper", ["sleep", "30"])
    assert processes.pid_of("sleeper") == pid
    # A PID file whose start time does not match is not ours: never signal that process.
    (state / "run" / "sleeper.pid").write_text(f"{pid} 1\n")
    assert processes.pid_of("sleeper") is None
    assert processes.stop("sleeper") is False
    assert Path(f"/proc/{pid}").exists()
    (state / "run" / "sleeper.pid").write_text(f"{pid} {processes._start_time(pid)}\n")
    assert processes.stop("sleeper", timeout=2) is True
