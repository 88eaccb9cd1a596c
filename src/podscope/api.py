"""The public Python API. Each function mirrors a CLI command; keyword names mirror its flags.

    import podscope
    result = podscope.debug("web-7d4b9", ["ps"], namespace="shop", image_pull_policy="IfNotPresent")
    print(result.container, result.exit_code)

Progress messages go to ``reporter`` (default: dropped); container output goes to ``stdout`` /
``stderr`` (default: this process's). Errors are ``podscope.errors.PodscopeError`` subclasses.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

from podscope.errors import UsageError
from podscope.kube.client import KubeClient
from podscope.kube.config import connect
from podscope.session.attach import AttachResult, run_attach
from podscope.session.ephemeral import DEFAULT_TIMEOUT, DebugOptions, DebugResult, run_debug
from podscope.session.listing import EphemeralRow
from podscope.session.listing import list_ephemeral as _list_ephemeral
from podscope.session.reporter import Reporter, silent
from podscope.session.settings import resolve_image
from podscope.terminal.pump import LocalIO

__all__ = [
    "AttachResult",
    "DebugResult",
    "EphemeralRow",
    "attach",
    "debug",
    "list_ephemeral",
]


def _check_timeout(timeout: float) -> float:
    if not (timeout > 0 and math.isfinite(timeout)):
        raise UsageError(f"--timeout must be a positive number of seconds, not {timeout!r}")
    return float(timeout)


def _local_io(
    stdin: bool, stdin_fd: int | None, stdout: BinaryIO | None, stderr: BinaryIO | None
) -> LocalIO:
    if stdin and stdin_fd is None:
        stdin_fd = sys.stdin.fileno()
    return LocalIO(
        stdin=stdin_fd if stdin else None,
        stdout=stdout or sys.stdout.buffer,
        stderr=stderr or sys.stderr.buffer,
    )


def _load_custom(custom: str | os.PathLike[str] | dict[str, Any] | None) -> dict[str, Any] | None:
    if custom is None or isinstance(custom, dict):
        return custom
    from podscope.errors import ConfigError
    from podscope.spec.custom import load_custom

    path = Path(custom)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read --custom file {path}: {exc.strerror}") from None
    return load_custom(text, str(path))


def _connect(
    kubeconfig: str | None,
    context: str | None,
    namespace: str | None,
    request_timeout: float | None,
) -> KubeClient:
    return connect(kubeconfig, context, namespace, request_timeout)


def debug(
    pod: str,
    command: Sequence[str] = (),
    *,
    namespace: str | None = None,
    context: str | None = None,
    kubeconfig: str | None = None,
    request_timeout: float | None = None,
    image: str | None = None,
    container: str | None = None,
    target: str | None = None,
    profile: str = "legacy",
    custom: str | os.PathLike[str] | dict[str, Any] | None = None,
    env: Sequence[str] = (),
    image_pull_policy: str | None = None,
    stdin: bool = False,
    tty: bool = False,
    attach: bool = True,
    arguments_only: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    reuse: bool = False,
    reporter: Reporter | None = None,
    stdin_fd: int | None = None,
    stdout: BinaryIO | None = None,
    stderr: BinaryIO | None = None,
) -> DebugResult:
    """Add an ephemeral container to ``pod`` (``NAME`` or ``deploy/NAME``...), wait, attach.

    ``command`` replaces the image's entrypoint (its arguments with ``arguments_only``).
    ``image`` defaults to ``$PODSCOPE_IMAGE``, then ``image`` in
    ``~/.config/podscope/config.yaml``, then ``docker.io/library/busybox:latest``.
    ``custom`` is a partial container spec: a dict, or the path of a JSON/YAML file.
    With ``attach=False`` the call returns once the container runs.
    ``reuse`` attaches to a running ephemeral container with the same image and target.
    The result's ``exit_code`` is the container's, once it has exited.
    """
    report = reporter or silent
    chosen_image, source = resolve_image(image)
    if source != "--image":
        report(f"using image {chosen_image} (from {source})")
    options = DebugOptions(
        pod=pod,
        image=chosen_image,
        namespace=namespace,
        container=container,
        target=target,
        profile=profile,
        custom=_load_custom(custom),
        env=list(env),
        image_pull_policy=image_pull_policy,
        stdin=stdin,
        tty=tty,
        attach=attach,
        command=list(command),
        arguments_only=arguments_only,
        timeout=_check_timeout(timeout),
        reuse=reuse,
    )
    client = _connect(kubeconfig, context, namespace, request_timeout)
    try:
        return run_debug(client, options, _local_io(stdin, stdin_fd, stdout, stderr), report)
    finally:
        client.close()


def attach(
    pod: str,
    container: str,
    *,
    namespace: str | None = None,
    context: str | None = None,
    kubeconfig: str | None = None,
    request_timeout: float | None = None,
    stdin: bool | None = None,
    tty: bool | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    reporter: Reporter | None = None,
    stdin_fd: int | None = None,
    stdout: BinaryIO | None = None,
    stderr: BinaryIO | None = None,
) -> AttachResult:
    """Attach to ``container`` of ``pod`` (e.g. a debug container left by ``debug``).

    ``stdin`` and ``tty`` default to whether this process's stdin is a terminal, and are
    dropped (with a message) when the container was not created with them. A finished
    container's log is shown instead.
    """
    report = reporter or silent
    interactive = sys.stdin.isatty() if stdin_fd is None else os.isatty(stdin_fd)
    use_stdin = interactive if stdin is None else stdin
    use_tty = interactive if tty is None else tty
    client = _connect(kubeconfig, context, namespace, request_timeout)
    try:
        return run_attach(
            client,
            namespace or client.namespace,
            pod,
            container,
            stdin=use_stdin,
            tty=use_tty,
            io=_local_io(use_stdin, stdin_fd, stdout, stderr),
            report=report,
            timeout=_check_timeout(timeout),
        )
    finally:
        client.close()


def list_ephemeral(
    pod: str | None = None,
    *,
    namespace: str | None = None,
    all_namespaces: bool = False,
    context: str | None = None,
    kubeconfig: str | None = None,
    request_timeout: float | None = None,
) -> list[EphemeralRow]:
    """The ephemeral containers of ``pod``, or of every Pod in the namespace (or cluster)."""
    if all_namespaces and pod is not None:
        raise UsageError("name a Pod or use --all-namespaces, not both")
    client = _connect(kubeconfig, context, namespace, request_timeout)
    try:
        scope = None if all_namespaces else (namespace or client.namespace)
        return _list_ephemeral(client, scope, pod)
    finally:
        client.close()


# --- apply and doctor (issue 4) -------------------------------------------------------------

from podscope.doctor import DoctorReport, doctor  # noqa: E402  (re-export)
from podscope.session.apply import ApplyResult  # noqa: E402

__all__ += ["ApplyResult", "DoctorReport", "apply", "doctor"]


def apply(
    file: str | os.PathLike[str] | None = None,
    *,
    text: str | None = None,
    pod: str | None = None,
    namespace: str | None = None,
    context: str | None = None,
    kubeconfig: str | None = None,
    request_timeout: float | None = None,
    dry_run: str | None = None,
    diff: bool = False,
    wait: bool = True,
    attach: bool = False,
    stdin: bool | None = None,
    tty: bool | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    reporter: Reporter | None = None,
    stdin_fd: int | None = None,
    stdout: BinaryIO | None = None,
    stderr: BinaryIO | None = None,
) -> ApplyResult:
    """Add the ephemeral containers of a document (``file``, or ``text``) that the Pod lacks.

    The document is the seed's ``EphemeralContainers`` object, a Pod-shaped object, or a bare
    list of containers (then ``pod`` names the Pod). Containers the Pod already has unchanged
    are skipped; a changed one raises ``ConflictError``. ``dry_run="client"`` sends nothing
    (the result's ``request`` is what would be sent); ``"server"`` sends with ``dryRun=All``.
    ``diff`` fills ``result.diff``. ``attach`` attaches to the single new container;
    ``stdin``/``tty`` default to the container's own fields when this process has a terminal.
    """
    from podscope.session.apply import ApplyOptions, attach_target, run_apply

    if (file is None) == (text is None):
        raise UsageError("give the document as a file or as text (one of them)")
    if file is not None:
        try:
            text = Path(file).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read {file}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise UsageError(f"{file} is not UTF-8 text") from None
    if attach and dry_run:
        raise UsageError("--attach cannot be combined with --dry-run")
    report = reporter or silent
    options = ApplyOptions(
        text=str(text),
        source=str(file) if file is not None else "<document>",
        pod=pod,
        namespace=namespace,
        dry_run=dry_run,  # type: ignore[arg-type]  # checked by run_apply
        diff=diff,
        wait=wait or attach,
        timeout=_check_timeout(timeout),
        single=attach,
    )
    client = _connect(kubeconfig, context, namespace, request_timeout)
    try:
        result = run_apply(client, options, report)
        if not attach:
            return result
        name = attach_target(result)
        spec = result.specs[name]
        interactive = sys.stdin.isatty() if stdin_fd is None else os.isatty(stdin_fd)
        use_stdin = bool(spec.get("stdin")) and interactive if stdin is None else stdin
        use_tty = bool(spec.get("tty")) and use_stdin and interactive if tty is None else tty
        outcome = run_attach(
            client,
            result.namespace,
            result.pod,
            name,
            stdin=use_stdin,
            tty=use_tty,
            io=_local_io(use_stdin, stdin_fd, stdout, stderr),
            report=report,
            timeout=options.timeout,
        )
        result.attached = name
        result.exit_code = outcome.exit_code
        result.states[name] = outcome.state
        return result
    finally:
        client.close()
