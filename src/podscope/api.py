"""The public Python API. Each function mirrors a CLI command; keyword names mirror its flags.

    import podscope
    result = podscope.debug("web-7d4b9", ["ps"], namespace="shop", image_pull_policy="IfNotPresent")
    print(result.container, result.exit_code)

Progress messages go to ``reporter`` (default: dropped); container output goes to ``stdout`` /
``stderr`` (default: this process's). Errors are ``podscope.errors.PodscopeError`` subclasses.
"""

from __future__ import annotations

import importlib
import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from podscope.errors import UsageError
from podscope.kube.client import KubeClient
from podscope.kube.config import connect
from podscope.session.attach import AttachResult, run_attach
from podscope.session.ephemeral import DebugOptions, DebugResult, run_debug
from podscope.session.listing import EphemeralRow
from podscope.session.listing import list_ephemeral as _list_ephemeral
from podscope.session.reporter import Reporter, silent
from podscope.session.request import DEFAULT_TIMEOUT
from podscope.session.settings import resolve_image
from podscope.session.targetctx import TargetAccess
from podscope.terminal.pump import LocalIO

if TYPE_CHECKING:
    from podscope.doctor import DoctorReport, doctor
    from podscope.rules.profiles import KeepFlags
    from podscope.session.apply import ApplyResult
    from podscope.session.cleanup import CleanupResult, ManagedPod
    from podscope.session.cp import CpResult, TransferProgress
    from podscope.session.node_debug import NodeResult
    from podscope.session.pod_copy import CopyResult

# The other commands' modules load when first used, so that `podscope debug` (and
# `import podscope.api`) does not pay for doctor, apply, copy mode, node mode, cleanup and cp.
_LAZY = {
    "doctor": "podscope.doctor",
    "DoctorReport": "podscope.doctor",
    "ApplyResult": "podscope.session.apply",
    "CleanupResult": "podscope.session.cleanup",
    "ManagedPod": "podscope.session.cleanup",
    "CopyResult": "podscope.session.pod_copy",
    "CpResult": "podscope.session.cp",
    "NodeResult": "podscope.session.node_debug",
    "KeepFlags": "podscope.rules.profiles",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'podscope.api' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "ApplyResult",
    "AttachResult",
    "CleanupResult",
    "CopyResult",
    "CpResult",
    "DebugResult",
    "DoctorReport",
    "EphemeralRow",
    "KeepFlags",
    "ManagedPod",
    "NodeResult",
    "apply",
    "attach",
    "cleanup",
    "cp",
    "debug",
    "debug_copy",
    "debug_node",
    "doctor",
    "list_ephemeral",
]


def _check_timeout(timeout: float, flag: str = "--timeout") -> float:
    # argparse hands over a list, unconverted, for `--timeout=--`: check the type too.
    number = isinstance(timeout, (int, float)) and not isinstance(timeout, bool)
    if not (number and timeout > 0 and math.isfinite(timeout)):
        raise UsageError(f"{flag} must be a positive number of seconds, not {timeout!r}")
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
    from podscope.rules.custom import load_custom

    path = Path(custom)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read --custom file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        from podscope.errors import ValidationError

        raise ValidationError(
            f"--custom file {path} is not UTF-8 text (expected JSON or YAML)", field="--custom"
        ) from None
    return load_custom(text, str(path))


def _preflight(
    pod: str, namespace: str | None, *, container: str | None = None, env: Sequence[str] = ()
) -> None:
    """Check what needs no cluster before connecting, naming the flag at fault.

    Names go into URLs and the spec: a bad one is refused here, before any request, with
    the same error whether or not the cluster is reachable.
    """
    from podscope.kube.workloads import parse_pod_ref
    from podscope.rules.env import parse_env
    from podscope.rules.names import (
        validate_container_name,
        validate_namespace_name,
        validate_resource_name,
    )

    validate_resource_name(parse_pod_ref(pod).name, "POD")
    if namespace is not None:
        validate_namespace_name(namespace, "--namespace")
    if container is not None:
        validate_container_name(container, "--container")
    parse_env(env)


@contextmanager
def _client(
    kubeconfig: str | None,
    context: str | None,
    namespace: str | None,
    request_timeout: float | None,
) -> Iterator[KubeClient]:
    """A connected client for the length of one call; its connections are closed after."""
    if request_timeout is not None:
        request_timeout = _check_timeout(request_timeout, "--request-timeout")
    client = connect(kubeconfig, context, namespace, request_timeout)
    try:
        yield client
    finally:
        client.close()


def _image(image: str | None, report: Reporter, purpose: str = "") -> str:
    """The image to use, saying where it came from when the caller did not name it."""
    chosen, source = resolve_image(image)
    if source != "--image":
        report(f"using image {chosen}{purpose} (from {source})")
    return chosen


def _target_access(
    cd: str | None,
    chroot: bool,
    copy_env: bool,
    copy_mounts: bool,
    as_target_user: bool,
    user: str | tuple[int, int | None] | None,
    profile_chosen: bool,
) -> TargetAccess:
    from podscope.rules.inherit import Inherit, parse_user
    from podscope.rules.targetfs import TargetRoot, normalize_target_path

    if cd is not None and chroot:
        raise UsageError("give --cd or --chroot, not both (chroot starts at the target's /)")
    root = None
    if cd is not None:
        root = TargetRoot("cd", normalize_target_path(cd))
    elif chroot:
        root = TargetRoot("chroot")
    parsed = parse_user(user) if isinstance(user, str) else user
    inherit = Inherit(env=copy_env, mounts=copy_mounts, user=as_target_user)
    # Returned even when no flag is set: it also checks runAsNonRoot against the user.
    return TargetAccess(root=root, inherit=inherit, user=parsed, profile_chosen=profile_chosen)


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
    profile: str | None = None,
    custom: str | os.PathLike[str] | dict[str, Any] | None = None,
    env: Sequence[str] = (),
    image_pull_policy: str | None = None,
    stdin: bool = False,
    tty: bool = False,
    attach: bool = True,
    arguments_only: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    reuse: bool = False,
    reconnect: bool = True,
    cd: str | None = None,
    chroot: bool = False,
    copy_env: bool = False,
    copy_mounts: bool = False,
    as_target_user: bool = False,
    user: str | tuple[int, int | None] | None = None,
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
    ``reconnect=False`` raises StreamLostError on a dropped connection instead of re-attaching.
    The result's ``exit_code`` is the container's, once it has exited.
    ``profile`` defaults to ``legacy`` (kubectl's default), or ``general`` with ``cd``/``chroot``.
    ``cd`` starts the command in that directory of the target's file system (debug image's
    tools); ``chroot`` runs it with the target's root (target's tools first). ``copy_env`` /
    ``copy_mounts`` copy the target's env/envFrom and volume mounts; ``as_target_user`` runs
    as its runAsUser/runAsGroup; ``user`` is ``"UID[:GID]"`` or ``(uid, gid or None)``.
    """
    if pod.partition("/")[0].lower() in ("node", "nodes"):
        raise UsageError(
            f"{pod} names a node, not a Pod", remedy=f"call podscope.debug_node({pod!r}, ...)"
        )
    report = reporter or silent
    chosen_image = _image(image, report)
    options = DebugOptions(
        pod=pod,
        image=chosen_image,
        namespace=namespace,
        container=container,
        target=target,
        profile=profile or "legacy",
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
        reconnect=reconnect,
        target_access=_target_access(
            cd, chroot, copy_env, copy_mounts, as_target_user, user, profile is not None
        ),
    )
    _preflight(pod, namespace, container=container, env=options.env)
    with _client(kubeconfig, context, namespace, request_timeout) as client:
        return run_debug(client, options, _local_io(stdin, stdin_fd, stdout, stderr), report)


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
    reconnect: bool = True,
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
    _preflight(pod, namespace, container=container)
    with _client(kubeconfig, context, namespace, request_timeout) as client:
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
            reconnect=reconnect,
        )


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
    with _client(kubeconfig, context, namespace, request_timeout) as client:
        scope = None if all_namespaces else (namespace or client.namespace)
        return _list_ephemeral(client, scope, pod)


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

    The document is an ``EphemeralContainers`` object (1.16-1.21), a Pod-shaped object, or a bare
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
    with _client(kubeconfig, context, namespace, request_timeout) as client:
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


def debug_copy(
    pod: str,
    copy_to: str,
    command: Sequence[str] = (),
    *,
    namespace: str | None = None,
    context: str | None = None,
    kubeconfig: str | None = None,
    request_timeout: float | None = None,
    image: str | None = None,
    container: str | None = None,
    command_override: str | None = None,
    set_image: Sequence[str] | dict[str, str] = (),
    share_processes: bool | None = None,
    same_node: bool = False,
    replace: bool = False,
    keep: KeepFlags | None = None,
    profile: str = "legacy",
    custom: str | os.PathLike[str] | dict[str, Any] | None = None,
    env: Sequence[str] = (),
    image_pull_policy: str | None = None,
    stdin: bool = False,
    tty: bool = False,
    attach: bool = True,
    arguments_only: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    reporter: Reporter | None = None,
    stdin_fd: int | None = None,
    stdout: BinaryIO | None = None,
    stderr: BinaryIO | None = None,
) -> CopyResult:
    """Create ``copy_to``, a copy of ``pod`` to debug, wait for it to run, and attach.

    For Pods that crash: ``command_override="app", command=["sleep", "infinity"]`` keeps
    container ``app`` up so that its file system can be inspected; ``set_image`` swaps images
    (``["app=busybox:1.36"]``, ``["*=busybox"]`` or a dict); ``image`` adds a debug container
    (``container`` names it) that ``command`` runs in unless ``command_override`` is given.
    With neither ``image``, ``set_image`` nor ``command_override``, a debug container with the
    default image (as for :func:`debug`) is added. ``keep`` says what the copy keeps of the
    original (labels, annotations, probes, init containers; kubectl's defaults). ``same_node``
    pins it to the original's node; ``replace`` deletes the original once the copy runs. The
    copy is labelled ``app.kubernetes.io/managed-by=podscope`` and stays after the session:
    remove it with :func:`cleanup` (``result.removal`` is the CLI command).
    """
    from podscope.rules.pod_copy import parse_set_images
    from podscope.rules.profiles import KeepFlags
    from podscope.session.pod_copy import CopyOptions, run_copy

    report = reporter or silent
    items = [f"{k}={v}" for k, v in set_image.items()] if isinstance(set_image, dict) else set_image
    images = parse_set_images(items)
    chosen_image = image
    if image is None and not images and command_override is None:
        chosen_image = _image(None, report, " for the debug container")
    options = CopyOptions(
        pod=pod,
        copy_to=copy_to,
        namespace=namespace,
        image=chosen_image,
        container=container,
        command_override=command_override,
        command=list(command),
        arguments_only=arguments_only,
        set_images=images,
        share_processes=share_processes,
        same_node=same_node,
        replace=replace,
        keep=keep if keep is not None else KeepFlags(),
        profile=profile,
        custom=_load_custom(custom),
        env=list(env),
        image_pull_policy=image_pull_policy,
        stdin=stdin,
        tty=tty,
        attach=attach,
        timeout=_check_timeout(timeout),
    )
    with _client(kubeconfig, context, namespace, request_timeout) as client:
        return run_copy(client, options, _local_io(stdin, stdin_fd, stdout, stderr), report)


def debug_node(
    node: str,
    command: Sequence[str] = (),
    *,
    namespace: str | None = None,
    context: str | None = None,
    kubeconfig: str | None = None,
    request_timeout: float | None = None,
    image: str | None = None,
    container: str | None = None,
    profile: str = "legacy",
    chroot: bool = False,
    keep: bool = False,
    custom: str | os.PathLike[str] | dict[str, Any] | None = None,
    env: Sequence[str] = (),
    image_pull_policy: str | None = None,
    stdin: bool = False,
    tty: bool = False,
    attach: bool = True,
    arguments_only: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    reporter: Reporter | None = None,
    stdin_fd: int | None = None,
    stdout: BinaryIO | None = None,
    stderr: BinaryIO | None = None,
) -> NodeResult:
    """Run ``command`` in a Pod on ``node`` (``NAME`` or ``node/NAME``) and attach to it.

    The Pod uses the host's namespaces and has the node's ``/`` at ``/host`` (per
    ``profile``); ``chroot`` runs the command, or a shell, inside it. The Pod is deleted when
    the session ends, unless ``keep`` (or ``attach=False``); :func:`cleanup` removes kept ones.
    """
    from podscope.session.node_debug import NodeOptions, node_name_of, run_node

    report = reporter or silent
    chosen_image = _image(image, report)
    options = NodeOptions(
        node=node_name_of(node) or node,
        image=chosen_image,
        namespace=namespace,
        container=container,
        command=list(command),
        arguments_only=arguments_only,
        chroot=chroot,
        profile=profile,
        custom=_load_custom(custom),
        env=list(env),
        image_pull_policy=image_pull_policy,
        stdin=stdin,
        tty=tty,
        keep=keep,
        attach=attach,
        timeout=_check_timeout(timeout),
    )
    with _client(kubeconfig, context, namespace, request_timeout) as client:
        return run_node(client, options, _local_io(stdin, stdin_fd, stdout, stderr), report)


def cleanup(
    pods: Sequence[str] = (),
    *,
    namespace: str | None = None,
    all_namespaces: bool = False,
    context: str | None = None,
    kubeconfig: str | None = None,
    request_timeout: float | None = None,
    dry_run: bool = False,
    confirm: Callable[[list[ManagedPod]], bool] | None = None,
    reporter: Reporter | None = None,
) -> CleanupResult:
    """Delete the Pods podscope created (copies and node Pods) in ``namespace`` (or in all
    namespaces), or only ``pods``, which must be podscope's.

    ``confirm(found)`` is asked first when given (return False to delete nothing);
    ``dry_run`` only lists. Failed deletions are in ``result.failed``. Ephemeral containers
    cannot be removed and are not touched (see :func:`list_ephemeral`).
    """
    from podscope.session.cleanup import run_cleanup

    if all_namespaces and pods:
        raise UsageError("name Pods in one namespace (-n), not with --all-namespaces")
    with _client(kubeconfig, context, namespace, request_timeout) as client:
        scope = None if all_namespaces else (namespace or client.namespace)
        return run_cleanup(
            client,
            scope,
            list(pods),
            dry_run=dry_run,
            confirm=confirm,
            report=reporter or silent,
        )


def cp(
    source: str,
    dest: str,
    *,
    namespace: str | None = None,
    context: str | None = None,
    kubeconfig: str | None = None,
    request_timeout: float | None = None,
    container: str | None = None,
    image: str | None = None,
    image_pull_policy: str | None = None,
    checksum: bool = True,
    on_progress: Callable[[TransferProgress], None] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    reporter: Reporter | None = None,
) -> CpResult:
    """Copy ``POD:/path`` (or ``NAMESPACE/POD:/path``) to a local path, or a local path into one.

    Works on containers without tar or a shell: a helper ephemeral container (``image``,
    default as for :func:`debug`; it must be a static busybox) targeting ``container`` reads
    and writes the container's file system through ``/proc/PID/root``, and is reused by later
    copies. Files stream (memory stays flat); each regular file's sha256 is checked unless
    ``checksum=False`` (a mismatch raises ``podscope.session.cp.ChecksumError``).
    ``on_progress`` hears how the transfer advances (``TransferProgress`` events; the CLI
    draws them as a progress line).
    """
    from podscope.session.cp import CpOptions, run_cp

    report = reporter or silent
    chosen_image = _image(image, report, " for the helper")
    options = CpOptions(
        source=source,
        dest=dest,
        namespace=namespace,
        container=container,
        image=chosen_image,
        image_pull_policy=image_pull_policy,
        checksum=checksum,
        on_progress=on_progress,
        timeout=_check_timeout(timeout),
    )
    with _client(kubeconfig, context, namespace, request_timeout) as client:
        return run_cp(client, options, report)
