"""Build the ephemeral container dict for one ``podscope debug`` request.

The order is kubectl's: base container from the flags, then the profile, then the custom
partial spec, and finally the same validation the API server would apply, so that nothing
invalid is ever sent (an ephemeral container cannot be removed once added).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from podscope.errors import ValidationError
from podscope.rules._pod import EPHEMERAL, all_names, containers_of
from podscope.rules.env import parse_env
from podscope.rules.inherit import merge_env
from podscope.rules.names import generate_name
from podscope.rules.profiles import apply_ephemeral_profile, check_profile
from podscope.rules.validate import validate_ephemeral_container

if TYPE_CHECKING:
    from podscope.rules.requests import ContainerRequest


@dataclass
class DebugSpec:
    """What the user asked for, as plain data (the CLI and the Python API both fill it).

    ``command`` + ``args`` are the words after ``--``: they become the container's
    ``command`` (replacing the image's ENTRYPOINT), or its ``args`` when ``arguments_only``
    (kubectl's ``--arguments-only``). ``env`` holds ``NAME=VALUE`` strings. ``user`` is
    ``(uid, gid or None)`` for ``securityContext.runAsUser/runAsGroup``. ``name=None``
    generates ``debugger-xxxxx``; ``target=None`` leaves ``targetContainerName`` unset (use
    ``spec.target.choose_target`` first to pick the default).
    """

    image: str
    name: str | None = None
    target: str | None = None
    command: list[str] = field(default_factory=list)
    args: list[str] = field(default_factory=list)
    arguments_only: bool = False
    env: list[str] = field(default_factory=list)
    image_pull_policy: str | None = None
    stdin: bool = False
    tty: bool = False
    profile: str = "legacy"
    custom: dict[str, Any] | None = None
    user: tuple[int, int | None] | None = None
    # Fields taken over from the target (env, envFrom, volumeMounts), applied before the
    # flags so that --env and --custom win over them.
    inherited: dict[str, Any] | None = None

    @classmethod
    def of(
        cls,
        request: ContainerRequest,
        *,
        image: str,
        target: str | None,
        custom: dict[str, Any] | None,
    ) -> DebugSpec:
        """The spec of ``request``'s container, with what the session resolved: the image,
        the target and the custom partial spec as a mapping."""
        return cls(
            image=image,
            name=request.container,
            target=target,
            command=list(request.command),
            arguments_only=request.arguments_only,
            env=list(request.env),
            image_pull_policy=request.image_pull_policy,
            stdin=request.stdin,
            tty=request.tty,
            profile=request.profile or "legacy",
            custom=custom,
        )


class ContainerFlags(Protocol):
    """What the three builders (ephemeral, Pod copy, node Pod) take from the request."""

    @property
    def arguments_only(self) -> bool: ...
    @property
    def env(self) -> Sequence[str]: ...
    @property
    def image_pull_policy(self) -> str | None: ...
    @property
    def stdin(self) -> bool: ...
    @property
    def tty(self) -> bool: ...


def words_field(flags: ContainerFlags) -> str:
    """The container field the words after ``--`` go to: ``args`` with ``--arguments-only``
    (the image's entrypoint runs them), else ``command``."""
    return "args" if flags.arguments_only else "command"


def apply_container_flags(
    container: dict[str, Any], flags: ContainerFlags, words: Sequence[str] | None
) -> dict[str, Any]:
    """Set the fields every mode's flags give a container, in place: ``words`` as its
    command or args (see :func:`words_field`; None leaves both alone; a new command drops the
    args that belonged to the old one), ``--env`` merged over what it has,
    ``--image-pull-policy``, ``-i`` and ``-t``."""
    if words:
        key = words_field(flags)
        if key == "command":
            container.pop("args", None)
        container[key] = list(words)
    if flags.env:
        container["env"] = merge_env(container.get("env"), parse_env(flags.env))
    if flags.image_pull_policy:
        container["imagePullPolicy"] = flags.image_pull_policy
    # false stdin/tty are left out, as the API server leaves them out of what it returns:
    # a rebuilt spec then compares equal to the stored one.
    if flags.stdin:
        container["stdin"] = True
    if flags.tty:
        container["tty"] = True
    return container


def _apply_user(container: dict[str, Any], user: tuple[int, int | None]) -> None:
    if not isinstance(user, tuple) or len(user) != 2:
        raise ValidationError("user must be a (uid, gid or None) pair", field="user")
    uid, gid = user
    sc = container.setdefault("securityContext", {})
    sc["runAsUser"] = uid
    if gid is not None:
        sc["runAsGroup"] = gid


def build_ephemeral_container(pod: dict[str, Any], spec: DebugSpec) -> dict[str, Any]:
    """The validated container dict to add to ``pod`` for ``spec``."""
    check_profile(spec.profile)
    for label, words in (("command", spec.command), ("args", spec.args), ("env", spec.env)):
        # A bare string would otherwise be spread into one-letter words.
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise ValidationError(f"{label} must be a list of strings", field=label)
    name = spec.name if spec.name is not None else generate_name(all_names(pod))
    container: dict[str, Any] = {"name": name, "image": spec.image}
    for key, value in (spec.inherited or {}).items():
        if key in ("env", "envFrom", "volumeMounts") and value:
            container[key] = copy.deepcopy(value)
    apply_container_flags(container, spec, [*spec.command, *spec.args])
    if spec.target:
        container["targetContainerName"] = spec.target
    container["terminationMessagePolicy"] = "File"

    container = apply_ephemeral_profile(spec.profile, container, pod, spec.target)
    if spec.user is not None:
        _apply_user(container, spec.user)
    if spec.custom:
        from podscope.rules.custom import merge_custom  # difflib: only with --custom

        container = merge_custom(container, spec.custom)

    position = len(containers_of(pod, EPHEMERAL))
    validate_ephemeral_container(container, pod, f"spec.ephemeralContainers[{position}]")
    return container
