"""Build the copy of a Pod for ``podscope debug POD --copy-to NEW`` (pure, no I/O).

Semantics are kubectl's copy mode: the new Pod takes the original's spec (without its
ephemeral containers, and without its node unless ``same_node``), and only its name,
namespace, labels and annotations from the metadata, so owner references, finalizers and
everything the server filled in stay behind; the profile then strips labels, probes and so
on (``spec.profiles.apply_copy_profile``). podscope's labels are added last, so even a copy
that keeps the original's labels can be found by ``podscope cleanup``.

Which container gets what:
  - ``image`` adds a new container (``debugger-xxxxx`` unless ``container`` names it);
  - ``command_override`` names an existing app container whose command is replaced;
  - the command words go to the overridden container when there is one, else to the new one;
  - env, pull policy, stdin/tty, profile and custom go to the new container when there is
    one, else to the overridden one. That container is the one to attach to.
"""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from podscope.errors import NotFoundError, UsageError, ValidationError
from podscope.rules._fmt import names, quote
from podscope.rules._pod import INIT, REGULAR, all_names, metadata_of, names_of, spec_of
from podscope.rules.custom import merge_custom
from podscope.rules.env import parse_env
from podscope.rules.managed import COPY_OF_KEY, managed_labels
from podscope.rules.names import generate_name, validate_container_name, validate_resource_name
from podscope.rules.profiles import KeepFlags, apply_copy_profile, check_profile

ALL_CONTAINERS = "*"
_KUBELET_CONFIG_ANNOTATION = "kubernetes.io/config."
PULL_POLICIES = ("Always", "IfNotPresent", "Never")

# The image reference grammar of the container runtimes (distribution's reference package):
# [domain[:port]/]path[/path...][:tag][@digest], path components lowercase.
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|-+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*(?::[0-9]+)?"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(rf"(?P<name>{_NAME})(?::{_TAG})?(?:@{_DIGEST})?")
_NAME_MAX = 255


def is_image_reference(image: str) -> bool:
    match = _REFERENCE.fullmatch(image)
    return match is not None and len(match.group("name")) <= _NAME_MAX


def check_image_reference(image: str, flag: str) -> str:
    """Return ``image`` if it is a valid reference, else raise ``UsageError`` naming ``flag``."""
    if not isinstance(image, str) or not is_image_reference(image):
        hint = (
            " (repository names are lowercase)"
            if isinstance(image, str)
            and (image.lower() != image and is_image_reference(image.lower()))
            else ""
        )
        raise UsageError(
            f"{flag}: invalid image name {quote(image)}: not a valid image reference{hint}",
            remedy="use the form [REGISTRY/]REPOSITORY[:TAG][@DIGEST], e.g. busybox:1.36",
        )
    return image


def parse_set_images(items: Iterable[str]) -> dict[str, str]:
    """``--set-image`` values (``C=IMAGE`` or ``*=IMAGE``, also comma-separated) as a dict.

    Raises ``UsageError`` for a missing '=', an empty or invalid container name, or an invalid
    image. A container named twice takes the last image, as kubectl does.
    """
    result: dict[str, str] = {}
    for item in items:
        if not isinstance(item, str):
            raise UsageError(f"--set-image: expected CONTAINER=IMAGE, not {quote(item)}")
        # Image references cannot contain commas, so kubectl's list form splits safely.
        for part in item.split(","):
            name, sep, image = part.partition("=")
            name, image = name.strip(), image.strip()
            if not sep or not name or not image:
                raise UsageError(
                    f"--set-image: expected CONTAINER=IMAGE or *=IMAGE, not {quote(part)}",
                    remedy="e.g. --set-image app=busybox:1.36, or --set-image '*=busybox:1.36'",
                )
            if name != ALL_CONTAINERS:
                try:
                    validate_container_name(name, "--set-image")
                except ValidationError as exc:
                    raise UsageError(exc.message, remedy=exc.remedy) from None
            result[name] = check_image_reference(image, f"--set-image {name}")
    return result


@dataclass(frozen=True)
class CopySpec:
    """What the copy should look like (the CLI's copy-mode flags, as plain data).

    ``name`` is the copy's name (``--copy-to``). ``image=None`` adds no container. ``keep``
    holds the ``--keep-*`` flags, ``share_processes=None`` leaves the original's setting
    (the profile may still set it), ``set_images`` maps a container name or ``*`` to an image.
    """

    name: str
    image: str | None = None
    container: str | None = None
    command_override: str | None = None
    command: tuple[str, ...] | list[str] = ()
    arguments_only: bool = False
    set_images: Mapping[str, str] = field(default_factory=dict)
    share_processes: bool | None = None
    same_node: bool = False
    keep: KeepFlags = field(default_factory=KeepFlags)
    profile: str = "legacy"
    env: tuple[str, ...] | list[str] = ()
    image_pull_policy: str | None = None
    stdin: bool = False
    tty: bool = False
    custom: dict[str, Any] | None = None


@dataclass(frozen=True)
class PodCopy:
    """The Pod to create, and its containers of interest.

    ``container`` is the one to attach to (the new or the overridden one; None when the copy
    only changes images). ``added`` is the new container's name, if one was added.
    """

    pod: dict[str, Any]
    container: str | None
    added: str | None
    overridden: str | None


def _check_request(pod: dict[str, Any], spec: CopySpec) -> None:
    original = metadata_of(pod).get("name")
    validate_resource_name(spec.name, "--copy-to")
    if spec.name == original:
        raise UsageError(
            f"--copy-to {quote(spec.name)} is the original Pod's name; the copy needs another",
            remedy=f"e.g. --copy-to {original}-debug",
        )
    check_profile(spec.profile)
    if not isinstance(spec.command, (list, tuple)) or not all(
        isinstance(w, str) for w in spec.command
    ):
        raise ValidationError("command must be a list of strings", field="command")
    if spec.image is None and not spec.set_images and spec.command_override is None:
        raise UsageError(
            "--copy-to needs something to change: --image (adds a debug container), "
            "--set-image or --command-override",
            remedy="e.g. --copy-to NEW --command-override APP -- sleep infinity",
        )
    if spec.command and spec.image is None and spec.command_override is None:
        raise UsageError(
            "a command after -- needs a container to run it: --image (a new debug container) "
            "or --command-override CONTAINER (replace that container's command)"
        )
    if spec.command_override is not None and not spec.command:
        raise UsageError(
            f"--command-override {quote(spec.command_override, 63)} needs the new command after --",
            remedy=f"e.g. --command-override {spec.command_override} -- sleep infinity",
        )
    if spec.container is not None and spec.image is None:
        raise UsageError(
            "-c/--container names the new debug container, which needs --image; to change an "
            "existing container use --command-override CONTAINER"
        )
    if spec.image is not None:
        check_image_reference(spec.image, "--image")
    if spec.image is None and spec.command_override is None and (spec.stdin or spec.tty):
        raise UsageError(
            "-i/-t need a container to attach to: add --image or --command-override CONTAINER"
        )
    if spec.image_pull_policy is not None and spec.image_pull_policy not in PULL_POLICIES:
        raise UsageError(
            f"--image-pull-policy: unsupported value {quote(spec.image_pull_policy)}; "
            f"use one of {', '.join(PULL_POLICIES)}"
        )

    regular, init = names_of(pod, REGULAR), names_of(pod, INIT)
    for name in spec.set_images:
        if name != ALL_CONTAINERS and name not in regular and name not in init:
            raise NotFoundError(
                f"--set-image: container {quote(name, 63)} not found in Pod {original} "
                f"(its containers: {names(regular + init)})"
            )
    if spec.command_override is not None and spec.command_override not in regular:
        if spec.command_override in init:
            raise UsageError(
                f"--command-override: {quote(spec.command_override, 63)} is an init "
                "container; only app containers can be overridden",
                remedy="to skip failing init containers, add --no-keep-init-containers",
            )
        raise NotFoundError(
            f"--command-override: container {quote(spec.command_override, 63)} not found in "
            f"Pod {original} (its containers: {names(regular)})"
        )
    if spec.container is not None:
        validate_container_name(spec.container, "--container")
        if spec.container in (set(regular) | set(init)):
            raise ValidationError(
                f"spec.containers[{len(regular)}].name: Duplicate value: "
                f"{quote(spec.container, 63)}",
                field=f"spec.containers[{len(regular)}].name",
                remedy="choose another --container name, or change that container with "
                "--command-override",
            )


def _base_copy(pod: dict[str, Any], spec: CopySpec) -> dict[str, Any]:
    meta = metadata_of(pod)
    # Only these four fields of the metadata, as kubectl: uid, ownerReferences, finalizers,
    # resourceVersion and the rest belong to the original object.
    new_meta: dict[str, Any] = {"name": spec.name}
    if meta.get("namespace"):
        new_meta["namespace"] = meta["namespace"]
    for key in ("labels", "annotations"):
        if isinstance(meta.get(key), dict) and meta[key]:
            new_meta[key] = dict(meta[key])
    annotations = new_meta.get("annotations")
    if annotations:
        # A static Pod's mirror carries kubelet bookkeeping (config.mirror/hash/source/seen);
        # the API server refuses to create a Pod with the mirror annotation.
        for name in [n for n in annotations if str(n).startswith(_KUBELET_CONFIG_ANNOTATION)]:
            del annotations[name]
        if not annotations:
            del new_meta["annotations"]
    new_spec = copy.deepcopy(spec_of(pod))
    # A new Pod cannot be created with ephemeral containers.
    new_spec.pop("ephemeralContainers", None)
    if not spec.same_node:
        new_spec.pop("nodeName", None)
    if spec.share_processes is not None:
        new_spec["shareProcessNamespace"] = spec.share_processes
    for kind in (REGULAR, INIT):
        for container in new_spec.get(kind) or []:
            if not isinstance(container, dict):
                continue
            name = container.get("name")
            image = spec.set_images.get(str(name))
            if image is None and kind == REGULAR:
                image = spec.set_images.get(ALL_CONTAINERS)
            if image is not None:
                container["image"] = image
    return {"apiVersion": "v1", "kind": "Pod", "metadata": new_meta, "spec": new_spec}


def _merge_env(existing: Any, extra: list[dict[str, str]]) -> list[Any]:
    env = list(existing) if isinstance(existing, list) else []
    positions = {item.get("name"): i for i, item in enumerate(env) if isinstance(item, dict)}
    for item in extra:
        if item["name"] in positions:
            env[positions[item["name"]]] = item
        else:
            positions[item["name"]] = len(env)
            env.append(item)
    return env


def _find(pod: dict[str, Any], name: str) -> dict[str, Any]:
    for container in pod["spec"].get(REGULAR) or []:
        if isinstance(container, dict) and container.get("name") == name:
            return container
    raise NotFoundError(f"container {quote(name, 63)} not found in the copy")


def _apply_profile(new: dict[str, Any], spec: CopySpec, container: str | None) -> dict[str, Any]:
    if container is not None:
        return apply_copy_profile(spec.profile, new, container, spec.keep)
    # Only images change, so no container is the debug one; the profile's Pod-level edits
    # (labels, probes, shareProcessNamespace) still apply. A throwaway container takes the
    # container-level edits and is removed again.
    placeholder = generate_name(all_names(new), prefix="profile")
    new["spec"].setdefault(REGULAR, []).append({"name": placeholder})
    result = apply_copy_profile(spec.profile, new, placeholder, spec.keep)
    result["spec"][REGULAR] = [
        c for c in result["spec"][REGULAR] if not (isinstance(c, dict) and c["name"] == placeholder)
    ]
    return result


def build_pod_copy(
    pod: dict[str, Any], spec: CopySpec, rng: random.Random | None = None
) -> PodCopy:
    """The Pod to create for ``spec``; raises ``PodscopeError`` subclasses before anything is
    created, and leaves ``pod`` untouched."""
    _check_request(pod, spec)
    env = parse_env(spec.env) if spec.env else []
    new = _base_copy(pod, spec)
    words = list(spec.command)

    if spec.command_override is not None:
        overridden = _find(new, spec.command_override)
        if spec.arguments_only:
            overridden["args"] = words
        else:
            overridden["command"] = words
            # kubectl drops the old args too: they belonged to the old command.
            overridden.pop("args", None)

    added: str | None = None
    if spec.image is not None:
        added = spec.container or generate_name(all_names(new), rng=rng)
        debug: dict[str, Any] = {
            "name": added,
            "image": spec.image,
            "terminationMessagePolicy": "File",
        }
        if words and spec.command_override is None:
            debug["args" if spec.arguments_only else "command"] = words
        new["spec"].setdefault(REGULAR, []).append(debug)

    target = added if added is not None else spec.command_override
    if target is not None:
        container = _find(new, target)
        if env:
            container["env"] = _merge_env(container.get("env"), env)
        if spec.image_pull_policy:
            container["imagePullPolicy"] = spec.image_pull_policy
        if spec.stdin:
            container["stdin"] = True
        if spec.tty:
            container["tty"] = True

    new = _apply_profile(new, spec, target)
    if target is not None and spec.custom:
        containers = new["spec"][REGULAR]
        for i, item in enumerate(containers):
            if isinstance(item, dict) and item.get("name") == target:
                containers[i] = merge_custom(item, spec.custom)

    original = str(metadata_of(pod).get("name") or "")
    labels = new["metadata"].get("labels")
    if spec.keep.labels:
        # --keep-labels wins over every profile (legacy drops labels unconditionally).
        labels = {**(metadata_of(pod).get("labels") or {}), **(labels or {})}
    new["metadata"]["labels"] = {
        **(labels if isinstance(labels, dict) else {}),
        **managed_labels(COPY_OF_KEY, original),
    }
    return PodCopy(pod=new, container=target, added=added, overridden=spec.command_override)
