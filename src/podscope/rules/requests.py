"""What each command is asked to do, as frozen plain data, with every cross-field rule.

One request type per mode. The CLI builds them from its flag table (``podscope.cli.flags``),
Python callers build them directly, and :class:`podscope.Client` runs them. ``validate()``
holds every rule that needs no cluster: it runs before a connection is opened, so a bad
request never leaves anything half-made. A field's default here is the flag's default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields
from typing import Any, Literal, get_args

from podscope.errors import UsageError, ValidationError

PullPolicy = Literal["Always", "IfNotPresent", "Never"]
ProfileName = Literal["legacy", "general", "baseline", "restricted", "netadmin", "sysadmin"]
DryRun = Literal["client", "server"]
PULL_POLICIES: tuple[str, ...] = get_args(PullPolicy)
PROFILE_NAMES: tuple[str, ...] = get_args(ProfileName)
DRY_RUN_MODES: tuple[str, ...] = get_args(DryRun)

# Seconds to wait for a container to start: generous, never infinite.
DEFAULT_TIMEOUT = 300.0
_INFINITY = float("inf")


def check_timeout(value: object, flag: str = "--timeout") -> float:
    # A list arrives here, unconverted, for `--timeout=--`: check the type too.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"{flag} must be a positive number of seconds, not {value!r}")
    if not 0 < value < _INFINITY:  # NaN fails both comparisons
        raise UsageError(f"{flag} must be a positive number of seconds, not {value!r}")
    return float(value)


def _check_choice(value: str | None, choices: tuple[str, ...], flag: str) -> None:
    if value is not None and value not in choices:
        raise UsageError(f"{flag}: unsupported value {value!r}; use one of {', '.join(choices)}")


def _check_not_empty(value: object, flag: str) -> None:
    # An empty value where a value is required would otherwise silently mean "the default".
    if isinstance(value, str) and not value.strip():
        raise ValidationError(
            f"{flag} needs a value; it was given an empty one",
            field=flag,
            remedy=f"give {flag} a value, or leave the flag out for its default",
        )


def _tupled(obj: object, *names: str) -> None:
    # Frozen requests hold tuples, so a caller may pass lists and still share the request.
    for name in names:
        value = getattr(obj, name)
        if isinstance(value, str):
            raise UsageError(f"{name} must be a list of words, not the string {value!r}")
        if not isinstance(value, tuple):
            object.__setattr__(obj, name, tuple(value))


def _check_namespace(namespace: str | None) -> None:
    from podscope.rules.names import validate_namespace_name

    if namespace is not None:
        validate_namespace_name(namespace, "--namespace")


def _check_container(container: str | None) -> None:
    from podscope.rules.names import validate_container_name

    _check_not_empty(container, "--container")
    if container is not None:
        validate_container_name(container, "--container")


# What a field's annotation allows at run time; a part not listed here (Mapping[...]) is
# left to validate().
_RUNTIME_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "bool": (bool,),
    "int": (int,),
    "float": (int, float),
    "None": (type(None),),
    "PullPolicy": (str,),
    "ProfileName": (str,),
    "DryRun": (str,),
    "tuple[str, ...]": (tuple,),
}
_ALLOWED: dict[str, tuple[type, ...] | None] = {}


def _allowed(annotation: str) -> tuple[type, ...] | None:
    if annotation not in _ALLOWED:
        parts = [_RUNTIME_TYPES.get(part.strip()) for part in annotation.split("|")]
        known = [t for part in parts if part is not None for t in part]
        _ALLOWED[annotation] = tuple(known) if all(p is not None for p in parts) else None
    return _ALLOWED[annotation]


def check_field_types(request: object) -> None:
    """Raise TypeError, naming the field, when a Python caller passed a value of the wrong
    type (``DebugRequest(pod=None)``): it would otherwise fail deep inside as an
    AttributeError. The CLI's values always have the right types."""
    for item in fields(request):  # type: ignore[arg-type]
        allowed = _allowed(str(item.type))
        if allowed is None:
            continue
        value = getattr(request, item.name)
        wrong = not isinstance(value, allowed) or (
            isinstance(value, bool) and bool not in allowed  # True is an int too
        )
        if not wrong and isinstance(value, tuple):
            wrong = not all(isinstance(word, str) for word in value)
        if wrong:
            raise TypeError(
                f"{type(request).__name__}.{item.name} must be {item.type}, "
                f"not {type(value).__name__} ({value!r})"
            )


class RequestValue:
    """Equality, hash and repr over a request's fields, written once for all requests.

    A frozen dataclass generates these three for each class, which is most of what importing
    this module costs (every command's start-up pays it, ``--help`` too); these behave the
    same: equal when the class and every field are equal, hashable, and shown field by field.
    """

    __slots__ = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, item.name) for item in fields(self))  # type: ignore[arg-type]

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, RequestValue)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{item.name}={getattr(self, item.name)!r}"
            for item in fields(self)  # type: ignore[arg-type]
        )
        return f"{type(self).__qualname__}({shown})"


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class ContainerRequest(RequestValue):
    """What every mode that adds a container asks about it.

    ``command`` holds the words after ``--``: the container's command, or its args with
    ``arguments_only``. ``env`` holds ``NAME=VALUE`` strings. ``custom`` is a partial
    container spec to merge: a mapping, or the path of a JSON/YAML file. ``image=None``
    means the configured default (``$PODSCOPE_IMAGE``, the config file, else busybox).
    """

    namespace: str | None = None
    image: str | None = None
    container: str | None = None
    command: tuple[str, ...] = ()
    arguments_only: bool = False
    profile: ProfileName | None = None
    custom: Mapping[str, Any] | str | None = None
    env: tuple[str, ...] = ()
    image_pull_policy: PullPolicy | None = None
    stdin: bool = False
    tty: bool = False
    attach: bool = True
    timeout: float = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        _tupled(self, "command", "env")

    def validate(self) -> None:
        from podscope.rules.env import parse_env

        check_timeout(self.timeout)
        _check_not_empty(self.image, "--image")
        _check_container(self.container)
        if isinstance(self.custom, str):
            _check_not_empty(self.custom, "--custom")
        if self.profile is not None:
            from podscope.rules.profiles import check_profile

            check_profile(self.profile)
        _check_choice(self.image_pull_policy, PULL_POLICIES, "--image-pull-policy")
        if self.tty and not self.stdin:
            raise UsageError("-t/--tty needs -i/--stdin")
        if self.arguments_only and not self.command:
            raise UsageError("--arguments-only needs arguments after --")
        if self.command and not self.arguments_only and not self.command[0].strip():
            # The runtime would fail to run it only after the container is added.
            raise ValidationError(
                "the command after -- is empty: its first word names no program",
                field="command",
                remedy="give a program after --, e.g. -- ps, or leave out -- and the command",
            )
        _check_namespace(self.namespace)
        if self.image is not None:
            from podscope.rules.images import check_image_reference

            check_image_reference(self.image, "--image")
        parse_env(self.env)

    def _check_command_unwrapped(self, flag: str, why: str) -> None:
        # --arguments-only hands the words to the image's entrypoint: nothing can wrap them.
        if self.arguments_only:
            raise UsageError(f"{flag} cannot be combined with --arguments-only: {why}")


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class DebugRequest(ContainerRequest):
    """``podscope debug POD``: an ephemeral container in a running Pod.

    ``pod`` is ``NAME``, ``pod/NAME`` or a workload (``deploy/NAME``...). ``target`` is the
    container whose process namespace to share. ``reuse`` attaches to a running debugger with
    the same image and target instead of adding one. ``cd``/``chroot`` start in the target's
    file system; ``copy_env``/``copy_mounts``/``as_target_user`` copy its env, volumes and
    identity; ``user`` is ``UID[:GID]``.

    By default the command is exec'd into a debugger (an idle ephemeral container that
    stays): a live one with the same container is reused unless ``new``; ``ttl`` (a duration
    such as ``15m``; None: the config file's, else 15m) ends it after that long without a
    session. ``attach_mode`` keeps kubectl's model: the container runs the command itself.
    """

    pod: str
    target: str | None = None
    reuse: bool = False
    reconnect: bool = True
    new: bool = False
    ttl: str | None = None
    attach_mode: bool = False
    cd: str | None = None
    chroot: bool = False
    copy_env: bool = False
    copy_mounts: bool = False
    as_target_user: bool = False
    user: str | None = None
    # The session's record, as for AttachRequest.
    record: str | None = None
    record_input: bool = False
    record_required: bool = False

    def validate(self) -> None:
        from podscope.rules.inherit import parse_user
        from podscope.rules.names import validate_container_name, validate_resource_name
        from podscope.rules.targetfs import normalize_target_path
        from podscope.rules.workloads import parse_pod_ref

        super().validate()
        if self.pod.partition("/")[0].lower() in ("node", "nodes"):
            raise UsageError(f"{self.pod} names a node, not a Pod", remedy="use a NodeDebugRequest")
        validate_resource_name(parse_pod_ref(self.pod).name, "POD")
        # An empty --target is meaningful: no target (no shared process namespace).
        if self.target:
            validate_container_name(self.target, "--target")
        if self.cd is not None and self.chroot:
            raise UsageError("give --cd or --chroot, not both (chroot starts at the target's /)")
        if self.cd is not None:
            normalize_target_path(self.cd)
        if self.cd is not None or self.chroot:
            self._check_command_unwrapped(
                "--cd" if self.cd is not None else "--chroot",
                "the command has to be wrapped to enter the target's root",
            )
        if self.user is not None and self.as_target_user:
            raise UsageError("give --as-target-user or --user, not both")
        if self.ttl is not None:
            from podscope.rules.debugger import parse_duration

            parse_duration(self.ttl, "--ttl")
        if self.attach_mode and (self.new or self.ttl is not None):
            flag = "--new" if self.new else "--ttl"
            raise UsageError(
                f"{flag} is about debuggers (the exec model); --attach-mode adds a container "
                "that runs the command itself"
            )
        if self.new and self.reuse:
            raise UsageError("give --new or --reuse, not both")
        _check_not_empty(self.user, "--user")
        if self.user is not None:
            parse_user(self.user)
        _check_not_empty(self.record, "--record")

    def exec_model(self) -> tuple[bool, str | None]:
        """Whether the request runs in the exec model, and a note when it cannot although it
        asked for a command (decided before anything is sent)."""
        if self.attach_mode or not self.attach:
            return False, None  # --no-attach: the container runs the command by itself
        if not self.command and not self.stdin:
            return False, None  # the image's own entrypoint is the container's process
        if self.arguments_only:
            return False, (
                "--arguments-only keeps the image's entrypoint, which only the container's "
                "own process runs: using the attach model"
            )
        return True, None


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class PodCopyRequest(ContainerRequest):
    """``podscope debug POD --copy-to NEW``: debug a copy of the Pod (e.g. one that crashes).

    ``set_image`` holds ``C=IMAGE`` items (``*=IMAGE`` for all); ``command_override`` names the
    container whose command ``command`` replaces. The ``keep_*`` fields say what the copy keeps
    of the original (kubectl's defaults). ``pull_secret`` names Secrets added to the copy's
    ``spec.imagePullSecrets`` (a running Pod cannot gain one; its copy can).
    """

    pod: str
    copy_to: str
    command_override: str | None = None
    set_image: tuple[str, ...] = ()
    share_processes: bool | None = None
    same_node: bool = False
    replace: bool = False
    keep_labels: bool = False
    keep_annotations: bool = False
    keep_liveness: bool = False
    keep_readiness: bool = False
    keep_startup: bool = False
    keep_init_containers: bool | None = None
    pull_secret: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        _tupled(self, "set_image")
        _tupled(self, "pull_secret")

    def validate(self) -> None:
        from podscope.rules.images import parse_set_images
        from podscope.rules.names import validate_resource_name
        from podscope.rules.workloads import parse_pod_ref

        super().validate()
        validate_resource_name(parse_pod_ref(self.pod).name, "POD")
        _check_not_empty(self.copy_to, "--copy-to")
        validate_resource_name(self.copy_to, "--copy-to")
        _check_not_empty(self.command_override, "--command-override")
        parse_set_images(self.set_image)
        for secret in self.pull_secret:
            validate_resource_name(secret, "--pull-secret")


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class NodeDebugRequest(ContainerRequest):
    """``podscope debug node/NAME``: a Pod on the node with the host's namespaces.

    ``chroot`` runs the command in the node's file system; ``keep`` keeps the Pod after the
    session (it is deleted otherwise).
    """

    node: str
    chroot: bool = False
    keep: bool = False

    def validate(self) -> None:
        from podscope.rules.names import validate_resource_name

        super().validate()
        from podscope.rules.workloads import node_name_of

        validate_resource_name(node_name_of(self.node) or self.node, "node name")
        if self.chroot:
            self._check_command_unwrapped("--chroot", "chroot replaces the image's entrypoint")


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class AttachRequest(RequestValue):
    """``podscope attach POD -c NAME``. ``stdin``/``tty`` of None: whether stdin is a terminal."""

    pod: str
    container: str
    namespace: str | None = None
    stdin: bool | None = None
    tty: bool | None = None
    timeout: float = DEFAULT_TIMEOUT
    reconnect: bool = True
    # ``record``: a directory for the session's recording and receipt (None: $PODSCOPE_RECORD,
    # else ``record:`` in the config file, else none); ``record_input`` keeps what is typed
    # too; ``record_required`` refuses a session that cannot be recorded.
    record: str | None = None
    record_input: bool = False
    record_required: bool = False

    def validate(self) -> None:
        from podscope.rules.names import validate_resource_name
        from podscope.rules.workloads import parse_pod_ref

        check_timeout(self.timeout)
        validate_resource_name(parse_pod_ref(self.pod).name, "POD")
        _check_container(self.container)
        _check_namespace(self.namespace)
        _check_not_empty(self.record, "--record")


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class ListRequest(RequestValue):
    """``podscope ls [POD] [-A]``: the ephemeral containers of a Pod, namespace or cluster."""

    pod: str | None = None
    namespace: str | None = None
    all_namespaces: bool = False
    # Filters: a container is listed when it passes every one given.
    privileged: bool = False
    running: bool = False
    older_than: str | None = None  # a duration: 30m, 12h, 7d
    image: str | None = None  # a shell glob on the image
    created_by: str | None = None  # a shell glob on the field manager's name
    # Pods per list request (the API's `limit`); 0 reads them all in one request.
    chunk_size: int = 500

    def validate(self) -> None:
        from podscope.rules.inventory import parse_age
        from podscope.rules.names import validate_resource_name

        if self.all_namespaces and self.pod is not None:
            raise UsageError("name a Pod or use --all-namespaces, not both")
        if self.pod is not None:
            validate_resource_name(self.pod, "POD")
        _check_namespace(self.namespace)
        if self.older_than is not None:
            parse_age(self.older_than)
        _check_not_empty(self.image, "--image")
        _check_not_empty(self.created_by, "--created-by")
        if (
            isinstance(self.chunk_size, bool)
            or not isinstance(self.chunk_size, int)
            or self.chunk_size < 0
        ):
            raise UsageError(
                f"--chunk-size must be a whole number of Pods, 0 or more, not {self.chunk_size!r}"
            )


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class StopRequest(RequestValue):
    """``podscope stop POD [-c NAME | --all] [--force]``: end debuggers' main processes.

    Without ``container`` or ``all_debuggers`` the Pod's one running debugger is stopped.
    One in which a session runs is left alone unless ``force``.
    The containers stay in the Pod as terminated: Kubernetes cannot remove them.
    """

    pod: str
    namespace: str | None = None
    container: str | None = None
    all_debuggers: bool = False
    timeout: float = 30.0
    # Stop a debugger even while a session runs in it (the session is killed).
    force: bool = False

    def validate(self) -> None:
        from podscope.rules.names import validate_resource_name

        check_timeout(self.timeout)
        validate_resource_name(self.pod, "POD")
        _check_container(self.container)
        if self.container is not None and self.all_debuggers:
            raise UsageError("give -c NAME or --all, not both")
        _check_namespace(self.namespace)


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class CpCommon(RequestValue):
    """What a copy asks besides its paths: the same for one Pod (:class:`CpRequest`) and for
    each Pod a selector matches (``ManyCpRequest``). ``container`` is the one copied from or
    into; ``image`` and ``image_pull_policy`` are those of the debugger it copies through."""

    namespace: str | None = None
    container: str | None = None
    image: str | None = None
    image_pull_policy: PullPolicy | None = None
    checksum: bool = True
    timeout: float = DEFAULT_TIMEOUT


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class CpRequest(CpCommon):
    """``podscope cp SRC DEST``: ``POD:/path`` (or ``NS/POD:/path``) to a local path or back."""

    source: str
    dest: str

    def validate(self) -> None:
        check_timeout(self.timeout)
        _check_not_empty(self.source, "SRC")
        _check_not_empty(self.dest, "DEST")
        _check_not_empty(self.image, "--image")
        _check_container(self.container)
        _check_choice(self.image_pull_policy, PULL_POLICIES, "--image-pull-policy")
        _check_namespace(self.namespace)


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class ApplyRequest(RequestValue):
    """``podscope apply FILE``: the ephemeral containers a document describes.

    The document is read from ``file`` (``-`` for stdin) or given as ``text``.
    ``dry_run="client"`` sends nothing; ``"server"`` sends with ``dryRun=All``.
    """

    file: str | None = None
    text: str | None = None
    pod: str | None = None
    namespace: str | None = None
    dry_run: DryRun | None = None
    diff: bool = False
    wait: bool = True
    attach: bool = False
    stdin: bool | None = None
    tty: bool | None = None
    timeout: float = DEFAULT_TIMEOUT

    def validate(self) -> None:
        from podscope.rules.names import validate_resource_name

        check_timeout(self.timeout)
        if (self.file is None) == (self.text is None):
            raise UsageError("give the document as a file or as text (one of them)")
        _check_not_empty(self.file, "FILE")
        _check_choice(self.dry_run, DRY_RUN_MODES, "--dry-run")
        if self.attach and self.dry_run:
            raise UsageError("--attach cannot be combined with --dry-run")
        if (self.stdin or self.tty) and not self.attach:
            raise UsageError("-i/-t apply to --attach; add --attach")
        if self.tty and self.stdin is False:
            raise UsageError("-t/--tty needs -i/--stdin")
        if self.pod is not None:
            validate_resource_name(self.pod, "--pod")
        _check_namespace(self.namespace)


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class CleanupRequest(RequestValue):
    """``podscope cleanup``: delete the Pods podscope made (copies, node Pods)."""

    pods: tuple[str, ...] = ()
    namespace: str | None = None
    all_namespaces: bool = False
    dry_run: bool = False

    def __post_init__(self) -> None:
        _tupled(self, "pods")

    def validate(self) -> None:
        from podscope.rules.names import validate_resource_name

        if self.all_namespaces and self.pods:
            raise UsageError("name Pods in one namespace (-n), not with --all-namespaces")
        if self.all_namespaces and self.namespace:
            raise UsageError("give -n NAMESPACE or -A, not both")
        for pod in self.pods:
            validate_resource_name(pod, "POD")
        _check_namespace(self.namespace)


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class DoctorRequest(RequestValue):
    """``podscope doctor [POD]``: what stands in the way of debugging, with the intended flags."""

    pod: str | None = None
    namespace: str | None = None
    image: str | None = None
    profile: ProfileName | None = None
    target: str | None = None
    image_pull_policy: PullPolicy | None = None

    def validate(self) -> None:
        from podscope.rules.names import validate_resource_name

        if self.pod is not None:
            validate_resource_name(self.pod, "POD")
        _check_not_empty(self.image, "--image")
        _check_choice(self.profile, PROFILE_NAMES, "--profile")
        _check_choice(self.image_pull_policy, PULL_POLICIES, "--image-pull-policy")
        _check_namespace(self.namespace)


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class EnableGateRequest(RequestValue):
    """``podscope node enable-gate``: offline edits on a 1.16-1.22 node (no cluster needed).

    ``root`` prefixes the default paths only, not the ones given. ``only`` limits the edits
    to some of kubelet, apiserver, scheduler. ``force`` turns an explicit ``false`` on.
    """

    root: str = "/"
    kubelet_config: str | None = None
    kubelet_env: str | None = None
    manifests_dir: str | None = None
    only: tuple[str, ...] = ()
    dry_run: bool = False
    force: bool = False
    version: str | None = None
    kubelet_version: str | None = None

    def __post_init__(self) -> None:
        _tupled(self, "only")
        object.__setattr__(self, "root", str(self.root))
        for name in ("kubelet_config", "kubelet_env", "manifests_dir"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, str(value))

    def validate(self) -> None:
        for flag, value in (
            ("--root", self.root),
            ("--kubelet-config", self.kubelet_config),
            ("--kubelet-env", self.kubelet_env),
            ("--manifests-dir", self.manifests_dir),
            ("--version", self.version),
            ("--kubelet-version", self.kubelet_version),
        ):
            _check_not_empty(value, flag)


Request = (
    DebugRequest
    | PodCopyRequest
    | NodeDebugRequest
    | AttachRequest
    | ListRequest
    | StopRequest
    | CpRequest
    | ApplyRequest
    | CleanupRequest
    | DoctorRequest
    | EnableGateRequest
)


def field_names(request_type: type) -> frozenset[str]:
    """The fields of a request type: the flags (by dest) that may be given for it."""
    return frozenset(f.name for f in fields(request_type))


def field_default(request_type: type, name: str) -> Any:
    """The default of one field: what a flag means when it is not given."""
    for item in fields(request_type):
        if item.name == name:
            if item.default_factory is not MISSING:
                return item.default_factory()
            return None if item.default is MISSING else item.default
    raise KeyError(name)


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class ReplayRequest(RequestValue):
    """``podscope replay FILE``: play a recording back, at ``speed`` times its pace, or at
    once (``instant``)."""

    file: str
    speed: float = 1.0
    instant: bool = False

    def validate(self) -> None:
        _check_not_empty(self.file, "FILE")
        if isinstance(self.speed, bool) or not isinstance(self.speed, (int, float)):
            raise UsageError("--speed must be a number, e.g. 2 or 0.5")
        if not 0 < self.speed < _INFINITY:
            raise UsageError(
                f"--speed must be a finite number above 0, e.g. 2 (it was given {self.speed:g})"
            )
