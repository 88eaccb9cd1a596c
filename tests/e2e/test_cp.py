"""`podscope cp` against the real cluster: a distroless target (no tar, no shell)."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.e2e.conftest import APP_IMAGE, Kubectl
from tests.e2e.helpers import podscope, podscope_started


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def helpers(kubectl: Kubectl, namespace: str, pod: str) -> list[str]:
    spec = kubectl.pod(namespace, pod)["spec"]
    return [c["name"] for c in spec.get("ephemeralContainers") or []]


def test_100mib_round_trip_through_a_distroless_pod(
    make_pod: Callable[..., dict[str, Any]],
    kubectl: Kubectl,
    namespace: str,
    podscope_env: dict[str, str],
    tmp_path: Path,
) -> None:
    make_pod("app", APP_IMAGE)
    original = tmp_path / "random.bin"
    with original.open("wb") as f:
        for _ in range(100):
            f.write(os.urandom(1 << 20))
    result = podscope(podscope_env, "cp", "-n", namespace, str(original), "app:/tmp/random.bin")
    assert result.returncode == 0, result.stderr
    assert "sha256 verified" in result.stderr
    back = tmp_path / "back.bin"
    result = podscope(podscope_env, "cp", f"{namespace}/app:/tmp/random.bin", str(back))
    assert result.returncode == 0, result.stderr
    assert sha256(back) == sha256(original)
    # One debugger served both copies (ephemeral containers cannot be removed).
    assert len(helpers(kubectl, namespace, "app")) == 1
    # Written as the target's user, so the application can use it.
    owner = podscope(
        podscope_env,
        "debug",
        "app",
        "-n",
        namespace,
        "-q",
        "--image-pull-policy",
        "IfNotPresent",
        "--cd",
        "/tmp",
        "--",
        "stat",
        "-c",
        "%u:%g",
        "random.bin",
    )
    assert owner.stdout.strip() == "65532:65532", owner.stderr


def test_copies_and_debug_sessions_share_one_debugger(
    make_pod: Callable[..., dict[str, Any]],
    kubectl: Kubectl,
    namespace: str,
    podscope_env: dict[str, str],
    tmp_path: Path,
) -> None:
    make_pod("app", APP_IMAGE)
    general = ["--profile", "general", "--image-pull-policy", "IfNotPresent"]
    made = podscope(podscope_env, "debug", "app", "-n", namespace, *general, "--", "true")
    assert made.returncode == 0, made.stderr
    [debugger] = helpers(kubectl, namespace, "app")
    # A copy runs in the debugger that debug made...
    copied = podscope(podscope_env, "cp", f"{namespace}/app:/etc/passwd", str(tmp_path / "a"))
    assert copied.returncode == 0, copied.stderr
    assert f"using debugger {debugger}" in copied.stderr
    assert helpers(kubectl, namespace, "app") == [debugger]
    # ...and stop ends it like any debugger; the next copy makes a new one, which a later
    # debug session with the same image, target, profile and pull policy reuses.
    stopped = podscope(podscope_env, "stop", "app", "-n", namespace, "-c", debugger)
    assert stopped.returncode == 0, stopped.stderr
    again = podscope(podscope_env, "cp", f"{namespace}/app:/etc/passwd", str(tmp_path / "b"))
    assert again.returncode == 0, again.stderr
    [second] = [n for n in helpers(kubectl, namespace, "app") if n != debugger]
    assert f"created debugger {second} for copies" in again.stderr
    listed = podscope(podscope_env, "ls", "app", "-n", namespace, "-o", "json")
    [row] = [r for r in json.loads(listed.stdout) if r["name"] == second]
    assert row["debugger"].startswith("idle, expires in") and row["expires_in"] > 0, row
    reused = podscope(podscope_env, "debug", "app", "-n", namespace, *general, "--", "true")
    assert reused.returncode == 0, reused.stderr
    assert f"using debugger {second}" in reused.stderr
    assert len(helpers(kubectl, namespace, "app")) == 2


def test_directory_with_symlink_and_modes(
    make_pod: Callable[..., dict[str, Any]],
    kubectl: Kubectl,
    namespace: str,
    podscope_env: dict[str, str],
    tmp_path: Path,
) -> None:
    make_pod("app", APP_IMAGE)
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (tree / "run.sh").chmod(0o750)
    (tree / "secret").write_text("s3cret\n")
    (tree / "secret").chmod(0o600)
    (tree / "sub" / "data.txt").write_text("data\n")
    (tree / "link").symlink_to("sub/data.txt")
    (tree / "abs").symlink_to("/etc/os-release")
    result = podscope(podscope_env, "cp", "-n", namespace, str(tree), "app:/tmp")
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    result = podscope(podscope_env, "cp", "-n", namespace, "app:/tmp/tree", str(out))
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE((out / "run.sh").stat().st_mode) == 0o750
    assert stat.S_IMODE((out / "secret").stat().st_mode) == 0o600
    assert (out / "sub" / "data.txt").read_text() == "data\n"
    assert os.readlink(out / "link") == "sub/data.txt"
    assert os.readlink(out / "abs") == "/etc/os-release"  # a link, never followed


def test_absolute_symlink_resolves_inside_the_target(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    tmp_path: Path,
) -> None:
    make_pod("app", APP_IMAGE)
    link_dir = tmp_path / "d"
    link_dir.mkdir()
    (link_dir / "etc-link").symlink_to("/etc")
    result = podscope(
        podscope_env, "cp", "-n", namespace, str(link_dir / "etc-link"), "app:/tmp/etc-link"
    )
    assert result.returncode == 0, result.stderr
    # Reading through the link gets the target's /etc, not the helper's (busybox) /etc.
    got = tmp_path / "conf"
    result = podscope(
        podscope_env, "cp", "-n", namespace, "app:/tmp/etc-link/podscope-app.conf", str(got)
    )
    assert result.returncode == 0, result.stderr
    assert "port = 8080" in got.read_text()


def test_missing_remote_file_is_not_found(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    tmp_path: Path,
) -> None:
    make_pod("app", APP_IMAGE)
    result = podscope(podscope_env, "cp", "-n", namespace, "app:/nope", str(tmp_path / "x"))
    assert result.returncode == 5, result.stderr
    assert "/nope: no such file or directory in the target" in result.stderr


def test_a_missing_local_side_adds_no_debugger_to_the_pod(
    make_pod: Callable[..., dict[str, Any]],
    kubectl: Kubectl,
    namespace: str,
    podscope_env: dict[str, str],
    tmp_path: Path,
) -> None:
    make_pod("app", APP_IMAGE)
    out = podscope(
        podscope_env,
        "cp",
        "-n",
        namespace,
        "app:/etc/podscope-app.conf",
        str(tmp_path / "no" / "x"),
    )
    assert out.returncode == 5, out.stderr
    assert f"{tmp_path / 'no'}: no such local directory" in out.stderr
    back = podscope(podscope_env, "cp", "-n", namespace, str(tmp_path / "none"), "app:/tmp/")
    assert back.returncode == 5, back.stderr
    assert "no such local file or directory" in back.stderr
    assert helpers(kubectl, namespace, "app") == []


def _in_target(env: dict[str, str], namespace: str, *command: str) -> str:
    """What ``command`` prints in the app container's /tmp (read through the debugger)."""
    out = podscope(
        env,
        "debug",
        "app",
        "-n",
        namespace,
        "-q",
        "--image-pull-policy",
        "IfNotPresent",
        "--cd",
        "/tmp",
        "--",
        *command,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_a_local_destination_ending_in_a_slash_must_be_a_directory(
    make_pod: Callable[..., dict[str, Any]],
    kubectl: Kubectl,
    namespace: str,
    podscope_env: dict[str, str],
    tmp_path: Path,
) -> None:
    make_pod("app", APP_IMAGE)
    here = tmp_path / "here"
    here.mkdir()
    (here / "podscope-app.conf").write_text("mine\n")
    # A file there: refused before a debugger is added to the Pod.
    out = podscope(
        podscope_env,
        "cp",
        "-n",
        namespace,
        "app:/etc/podscope-app.conf",
        f"{here}/podscope-app.conf/",
    )
    assert out.returncode == 2, out.stderr
    assert "podscope-app.conf/ is not a directory (a file is there)" in out.stderr
    assert helpers(kubectl, namespace, "app") == []
    # A file source and nothing there: refused, nothing written (the old copy wrote
    # ./podscope-app.conf over the local file of that name).
    out = podscope(
        podscope_env, "cp", "-n", namespace, "app:/etc/podscope-app.conf", f"{here}/newfile.txt/"
    )
    assert out.returncode == 2, out.stderr
    assert f"{here}/newfile.txt/ is not a directory" in out.stderr
    assert sorted(os.listdir(here)) == ["podscope-app.conf"]
    assert (here / "podscope-app.conf").read_text() == "mine\n"
    # A directory source and nothing there: it becomes that directory.
    tree = tmp_path / "data"
    tree.mkdir()
    (tree / "one.txt").write_text("1\n")
    assert podscope(podscope_env, "cp", "-n", namespace, str(tree), "app:/tmp").returncode == 0
    out = podscope(podscope_env, "cp", "-n", namespace, "app:/tmp/data/", f"{here}/newdir/")
    assert out.returncode == 0, out.stderr
    assert (here / "newdir" / "one.txt").read_text() == "1\n"
    assert sorted(os.listdir(here)) == ["newdir", "podscope-app.conf"]
    # An existing directory: the copy goes inside it.
    out = podscope(podscope_env, "cp", "-n", namespace, "app:/tmp/data/one.txt", f"{here}/newdir/")
    assert out.returncode == 0, out.stderr
    assert sorted(os.listdir(here / "newdir")) == ["one.txt"]


def test_a_remote_destination_ending_in_a_slash_must_be_a_directory(
    make_pod: Callable[..., dict[str, Any]],
    namespace: str,
    podscope_env: dict[str, str],
    tmp_path: Path,
) -> None:
    make_pod("app", APP_IMAGE)
    hello = tmp_path / "hello.txt"
    hello.write_text("hello\n")
    up = tmp_path / "up.txt"
    up.write_text("up\n")
    assert podscope(podscope_env, "cp", "-n", namespace, str(hello), "app:/tmp/").returncode == 0
    # A file source and nothing there: refused, no file named nd made.
    out = podscope(podscope_env, "cp", "-n", namespace, str(up), "app:/tmp/nd/")
    assert out.returncode == 2, out.stderr
    assert "app:/tmp/nd/ is not a directory" in out.stderr
    # A file there: refused, the file is left as it was.
    out = podscope(podscope_env, "cp", "-n", namespace, str(up), "app:/tmp/hello.txt/")
    assert out.returncode == 2, out.stderr
    assert "app:/tmp/hello.txt/ is not a directory (a file is there)" in out.stderr
    assert _in_target(podscope_env, namespace, "cat", "hello.txt") == "hello\n"
    assert _in_target(podscope_env, namespace, "ls", "-a").split() == [".", "..", "hello.txt"]
    # A directory source and nothing there: it becomes that directory; then a file goes in.
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "one.txt").write_text("1\n")
    out = podscope(podscope_env, "cp", "-n", namespace, str(tree), "app:/tmp/nd/")
    assert out.returncode == 0, out.stderr
    out = podscope(podscope_env, "cp", "-n", namespace, str(up), "app:/tmp/nd/")
    assert out.returncode == 0, out.stderr
    assert _in_target(podscope_env, namespace, "ls", "nd").split() == ["one.txt", "up.txt"]


def test_cp_in_a_baseline_namespace_says_why_it_cannot_and_what_can(
    make_pod: Callable[..., dict[str, Any]],
    kubectl: Kubectl,
    namespace: str,
    podscope_env: dict[str, str],
    tmp_path: Path,
) -> None:
    make_pod("app", APP_IMAGE)
    kubectl.run("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=baseline")
    out = podscope(
        podscope_env, "cp", "-n", namespace, "app:/etc/podscope-app.conf", str(tmp_path / "a")
    )
    assert out.returncode == 10, out.stderr
    assert "retry with --profile" not in out.stderr
    assert f"hint: cp cannot work in namespace {namespace}" in out.stderr
    assert "SYS_PTRACE" in out.stderr
    assert f"podscope debug app -n {namespace} --profile baseline --user UID:GID" in out.stderr
    assert helpers(kubectl, namespace, "app") == []
    assert not (tmp_path / "a").exists()
    # What the hint offers works at this level: the target's user needs no capability.
    read = podscope(
        podscope_env,
        "debug",
        "app",
        "-n",
        namespace,
        "-q",
        "--image-pull-policy",
        "IfNotPresent",
        "--profile",
        "baseline",
        "--user",
        "65532:65532",  # the distroless image's user (the Pod does not say it)
        "--cd",
        "/etc",
        "--",
        "cat",
        "podscope-app.conf",
    )
    assert read.returncode == 0, read.stderr
    assert "port = 8080" in read.stdout


def test_a_debugger_ended_just_before_a_copy_is_replaced(
    make_pod: Callable[..., dict[str, Any]], namespace: str, kubeconfig: str, tmp_path: Path
) -> None:
    import time

    import podscope
    from podscope.rules.debugger import stop_command
    from podscope.session.debugger import run_quiet

    make_pod("app", APP_IMAGE)
    with podscope.Client(kubeconfig=kubeconfig, namespace=namespace) as client:
        first = client.cp(podscope.CpRequest(source="app:/server", dest=str(tmp_path / "a")))
        used = first.helper
        # In one process, the copy follows the holder's end by milliseconds: the Pod still
        # says the debugger runs and the runtime refuses the exec (as at a TTL's end).
        for round_ in range(3):
            time.sleep(1.5)  # the kubelet has reported the last one running
            _, code, _ = run_quiet(client.kube, namespace, "app", used, stop_command(used))
            assert code == 0
            dest = tmp_path / f"b{round_}"
            result = client.cp(podscope.CpRequest(source="app:/server", dest=str(dest)))
            assert result.helper != used and result.checksum == "verified"
            assert sha256(dest) == sha256(tmp_path / "a")
            used = result.helper


def test_a_copy_killed_midway_leaves_no_tar_in_the_debugger(
    make_pod: Callable[..., dict[str, Any]],
    kubectl: Kubectl,
    namespace: str,
    podscope_env: dict[str, str],
    tmp_path: Path,
) -> None:
    # The client stops reading (SIGSTOP), so the tar in the debugger fills its pipe and
    # blocks; then it dies without a word (SIGKILL). Unwatched, that tar would wait forever
    # and, as a session, keep the debugger from expiring; the end of the exec's stdin ends it.
    make_pod("app", APP_IMAGE)
    general = ["--profile", "general", "--image-pull-policy", "IfNotPresent"]
    made = podscope(
        podscope_env,
        "debug", "app", "-n", namespace, "-q", *general, "--",
        "sh", "-c", "head -c 67108864 /dev/zero >/proc/1/root/tmp/big",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    (debugger,) = helpers(kubectl, namespace, "app")
    local = tmp_path / "big"
    with podscope_started(podscope_env, "cp", f"{namespace}/app:/tmp/big", str(local)) as process:
        deadline = time.monotonic() + 60
        while not any(p.stat().st_size > 0 for p in tmp_path.iterdir()):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        process.send_signal(signal.SIGSTOP)
        time.sleep(1)  # the pipes fill
        process.kill()
        process.wait(timeout=10)
    assert len(helpers(kubectl, namespace, "app")) == 1, "the copy used the debugger"

    def running() -> str:
        ps = kubectl.run("exec", "-n", namespace, "app", "-c", debugger, "--", "ps", "-o", "args")
        return "\n".join(line[:120] for line in ps.stdout.splitlines() if "tar" in line)

    deadline = time.monotonic() + 15
    while left := running():
        assert time.monotonic() < deadline, left
        time.sleep(0.5)
