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
from dataclasses import dataclass, replace
from typing import Any

from podscope.errors import NotFoundError, UsageError, ValidationError
from podscope.rules._fmt import names, quote
from podscope.rules._pod import INIT, REGULAR, all_names, metadata_of, names_of, spec_of
from podscope.rules.container import apply_container_flags
from podscope.rules.custom import merge_custom
from podscope.rules.images import ALL_CONTAINERS, parse_set_images
from podscope.rules.managed import COPY_OF_KEY, managed_labels
from podscope.rules.names import generate_name
from podscope.rules.profiles import apply_copy_profile
from podscope.rules.requests import PodCopyRequest

_KUBELET_CONFIG_ANNOTATION = "kubernetes.io/config."


def _words_only(spec: PodCopyRequest) -> PodCopyRequest:
    # The command words alone: env, pull policy, -i and -t go to the container to attach to.
    return replace(spec, env=(), image_pull_policy=None, stdin=False, tty=False)


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


def _check_request(pod: dict[str, Any], spec: PodCopyRequest, images: dict[str, str]) -> None:
    """The rules that need the original Pod (or several fields) on top of ``validate()``."""
    spec.validate()
    original = metadata_of(pod).get("name")
    if spec.copy_to == original:
        raise UsageError(
            f"--copy-to {quote(spec.copy_to)} is the original Pod's name; the copy needs another",
            remedy=f"e.g. --copy-to {original}-debug",
        )
    if spec.image is None and not images and spec.command_override is None:
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
    if spec.image is None and spec.command_override is None and (spec.stdin or spec.tty):
        raise UsageError(
            "-i/-t need a container to attach to: add --image or --command-override CONTAINER"
        )

    regular, init = names_of(pod, REGULAR), names_of(pod, INIT)
    for name in images:
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
    if spec.container is not None and spec.container in (set(regular) | set(init)):
        raise ValidationError(
            f"spec.containers[{len(regular)}].name: Duplicate value: {quote(spec.container, 63)}",
            field=f"spec.containers[{len(regular)}].name",
            remedy="choose another --container name, or change that container with "
            "--command-override",
        )


def _base_copy(pod: dict[str, Any], spec: PodCopyRequest, images: dict[str, str]) -> dict[str, Any]:
    meta = metadata_of(pod)
    # Only these four fields of the metadata, as kubectl: uid, ownerReferences, finalizers,
    # resourceVersion and the rest belong to the original object.
    new_meta: dict[str, Any] = {"name": spec.copy_to}
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
    if spec.pull_secret:
        # The kubelet offers every listed secret for every image: the original's stay.
        have = [ref for ref in new_spec.get("imagePullSecrets") or [] if isinstance(ref, dict)]
        known = {ref.get("name") for ref in have}
        new_spec["imagePullSecrets"] = have + [
            {"name": name} for name in dict.fromkeys(spec.pull_secret) if name not in known
        ]
    for kind in (REGULAR, INIT):
        for container in new_spec.get(kind) or []:
            if not isinstance(container, dict):
                continue
            name = container.get("name")
            image = images.get(str(name))
            if image is None and kind == REGULAR:
                image = images.get(ALL_CONTAINERS)
            if image is not None:
                container["image"] = image
    return {"apiVersion": "v1", "kind": "Pod", "metadata": new_meta, "spec": new_spec}


def _find(pod: dict[str, Any], name: str) -> dict[str, Any]:
    for container in pod["spec"].get(REGULAR) or []:
        if isinstance(container, dict) and container.get("name") == name:
            return container
    raise NotFoundError(f"container {quote(name, 63)} not found in the copy")


def _apply_profile(
    new: dict[str, Any], spec: PodCopyRequest, container: str | None
) -> dict[str, Any]:
    profile = spec.profile or "legacy"
    if container is not None:
        return apply_copy_profile(profile, new, container, spec)
    # Only images change, so no container is the debug one; the profile's Pod-level edits
    # (labels, probes, shareProcessNamespace) still apply. A throwaway container takes the
    # container-level edits and is removed again.
    placeholder = generate_name(all_names(new), prefix="profile")
    new["spec"].setdefault(REGULAR, []).append({"name": placeholder})
    result = apply_copy_profile(profile, new, placeholder, spec)
    result["spec"][REGULAR] = [
        c for c in result["spec"][REGULAR] if not (isinstance(c, dict) and c["name"] == placeholder)
    ]
    return result


def build_pod_copy(
    pod: dict[str, Any], spec: PodCopyRequest, rng: random.Random | None = None
) -> PodCopy:
    """The Pod to create for ``spec``; raises ``PodscopeError`` subclasses before anything is
    created, and leaves ``pod`` untouched. ``spec.custom`` must be a mapping (or None)."""
    images = parse_set_images(spec.set_image)
    _check_request(pod, spec, images)
    new = _base_copy(pod, spec, images)
    words = list(spec.command)

    if spec.command_override is not None:
        overridden = _find(new, spec.command_override)
        # As kubectl, a new command drops the old args: they belonged to the old command.
        apply_container_flags(overridden, _words_only(spec), words)

    added: str | None = None
    if spec.image is not None:
        added = spec.container or generate_name(all_names(new), rng=rng)
        debug: dict[str, Any] = {
            "name": added,
            "image": spec.image,
            "terminationMessagePolicy": "File",
        }
        if spec.command_override is None:
            apply_container_flags(debug, _words_only(spec), words)
        new["spec"].setdefault(REGULAR, []).append(debug)

    target = added if added is not None else spec.command_override
    if target is not None:
        apply_container_flags(_find(new, target), spec, None)

    new = _apply_profile(new, spec, target)
    custom = spec.custom
    if target is not None and custom:
        assert not isinstance(custom, str), "custom is loaded before the copy is built"
        containers = new["spec"][REGULAR]
        for i, item in enumerate(containers):
            if isinstance(item, dict) and item.get("name") == target:
                containers[i] = merge_custom(item, dict(custom))

    original = str(metadata_of(pod).get("name") or "")
    labels = new["metadata"].get("labels")
    if spec.keep_labels:
        # --keep-labels wins over every profile (legacy drops labels unconditionally).
        labels = {**(metadata_of(pod).get("labels") or {}), **(labels or {})}
    new["metadata"]["labels"] = {
        **(labels if isinstance(labels, dict) else {}),
        **managed_labels(COPY_OF_KEY, original),
    }
    return PodCopy(pod=new, container=target, added=added, overridden=spec.command_override)
