"""Client-side checks for an ephemeral container, worded like the API server's.

The server validates ephemeral containers in ``validateEphemeralContainers`` (k8s.io/kubernetes
pkg/apis/core/validation): an allow-list of fields ("cannot be set for an Ephemeral
Container"), no subPath/subPathExpr mounts, a name unique across every container of the Pod,
a ``targetContainerName`` naming a regular or init container. Checking here means a bad spec
fails before anything is written (an ephemeral container can never be removed), and we also
catch what the server would silently drop: unknown keys such as ``imagePullPolicyy``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from podscope.errors import PodStateError, ValidationError
from podscope.rules import _fields as F
from podscope.rules._fmt import (
    child,
    duplicate,
    forbidden,
    index,
    invalid,
    names,
    not_found,
    not_supported,
    quote,
    required,
    type_name,
    wrong_type,
)
from podscope.rules._pod import (
    EPHEMERAL,
    INIT,
    REGULAR,
    annotations_of,
    metadata_of,
    names_of,
    pod_name,
    spec_of,
    volume_names,
)
from podscope.rules.env import validate_env_name
from podscope.rules.names import validate_container_name

MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
_INT32_MAX = 2_147_483_647
_EPHEMERAL_DETAIL = "cannot be set for an Ephemeral Container"
_VOLUME_DEVICE_FIELDS = frozenset({"name", "devicePath"})


def _unknown_key(path: str, key: object, valid: frozenset[str], what: str) -> ValidationError:
    import difflib  # only for the error: ~4 ms of every command's start-up otherwise

    close = difflib.get_close_matches(str(key), sorted(valid), n=1)
    guess = f" (did you mean {close[0]!r}?)" if close else ""
    listed = ", ".join(sorted(valid))
    return ValidationError(
        f"{child(path, key)}: unknown {what} field{guess}; valid fields: {listed}",
        field=child(path, key),
    )


def _check_keys(value: dict[str, Any], path: str, valid: frozenset[str], what: str) -> None:
    for key in value:
        if key not in valid:
            raise _unknown_key(path, key, valid, what)


def _check_mapping(value: Any, path: str, valid: frozenset[str], what: str) -> None:
    """A mapping (``what``, at ``path``) whose every key is one of ``valid``."""
    if not isinstance(value, dict):
        raise wrong_type(path, value, "a mapping")
    _check_keys(value, path, valid, what)


def _check_string(value: Any, path: str) -> None:
    if not isinstance(value, str):
        raise wrong_type(path, value, "a string")


def _check_bool(value: Any, path: str) -> None:
    if not isinstance(value, bool):
        raise invalid(path, value, f"must be true or false, not a {type_name(value)}")


def _check_string_list(value: Any, path: str) -> None:
    if not isinstance(value, list):
        raise wrong_type(path, value, "a list of strings")
    for i, item in enumerate(value):
        _check_string(item, index(path, i))


def _check_mapping_list(value: Any, path: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise wrong_type(path, value, "a list")
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise wrong_type(index(path, i), item, "a mapping")
    return value


def _each_set(obj: dict[str, Any], path: str, *keys: str) -> Iterator[tuple[Any, str]]:
    """``(value, its path)`` for each of ``keys`` that ``obj`` sets: a null is unset, as the
    API server decodes it."""
    for key in keys:
        value = obj.get(key)
        if value is not None:
            yield value, child(path, key)


def _check_enum(value: Any, path: str, supported: tuple[str, ...], allow_empty: bool) -> None:
    if allow_empty and value == "":
        return
    if not isinstance(value, str) or value not in supported:
        raise not_supported(path, value, supported)


def _is_set(value: Any) -> bool:
    # The API server forbids a field when its Go value is not the zero value; an empty
    # mapping or list is what the server itself returns for an unset struct (resources: {}).
    if value is None or value is False or value == "" or value == 0:
        return False
    if isinstance(value, dict):
        return any(_is_set(v) for v in value.values())
    if isinstance(value, list):
        return bool(value)
    return True


def _check_int(value: Any, path: str, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise wrong_type(path, value, "an integer")
    if not low <= value <= high:
        raise invalid(path, value, f"must be between {low} and {high}, inclusive")


def _check_env(env: Any, path: str) -> None:
    for i, entry in enumerate(_check_mapping_list(env, path)):
        item = index(path, i)
        if "name" not in entry or entry["name"] in (None, ""):
            raise required(child(item, "name"))
        validate_env_name(entry["name"], child(item, "name"))
        _check_keys(entry, item, frozenset({"name", "value", "valueFrom"}), "env var")
        for value, vpath in _each_set(entry, item, "value"):
            _check_string(value, vpath)
        value_from = entry.get("valueFrom")
        if value_from is not None:
            if not isinstance(value_from, dict):
                raise wrong_type(child(item, "valueFrom"), value_from, "a mapping")
            if entry.get("value"):
                raise invalid(
                    child(item, "valueFrom"),
                    "",
                    "may not be specified when `value` is not empty",
                )


def _check_security_context(sc: Any, path: str) -> None:
    _check_mapping(sc, path, F.SECURITY_CONTEXT_FIELDS, "securityContext")
    flags = ("allowPrivilegeEscalation", "privileged", "readOnlyRootFilesystem", "runAsNonRoot")
    for value, vpath in _each_set(sc, path, *flags):
        _check_bool(value, vpath)
    for value, vpath in _each_set(sc, path, "runAsUser", "runAsGroup"):
        _check_int(value, vpath, 0, _INT32_MAX)
    caps = sc.get("capabilities")
    if caps is not None:
        cpath = child(path, "capabilities")
        _check_mapping(caps, cpath, frozenset({"add", "drop"}), "capabilities")
        for value, vpath in _each_set(caps, cpath, "add", "drop"):
            _check_string_list(value, vpath)
    seccomp = sc.get("seccompProfile")
    if seccomp is not None:
        spath = child(path, "seccompProfile")
        _check_mapping(seccomp, spath, frozenset({"type", "localhostProfile"}), "seccompProfile")
        _check_enum(seccomp.get("type"), child(spath, "type"), F.SECCOMP_TYPES, False)
        if seccomp["type"] == "Localhost" and not seccomp.get("localhostProfile"):
            raise required(
                child(spath, "localhostProfile"), "must be set when seccomp type is Localhost"
            )
    if sc.get("privileged") is True and sc.get("allowPrivilegeEscalation") is False:
        raise invalid(
            path, "", "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"
        )
    added = caps.get("add") if isinstance(caps, dict) else None
    sys_admin = isinstance(added, list) and any(c in ("SYS_ADMIN", "CAP_SYS_ADMIN") for c in added)
    if sc.get("allowPrivilegeEscalation") is False and sys_admin:
        raise invalid(
            path,
            "",
            "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN",
        )
    # Not an API-server rule but the kubelet's: it refuses to start such a container
    # ("container's runAsUser breaks non-root policy"), which is only seen after creation.
    if sc.get("runAsNonRoot") is True and sc.get("runAsUser") == 0:
        raise invalid(
            child(path, "runAsUser"),
            0,
            "runAsNonRoot is true, so the kubelet would refuse to start the container as root",
            remedy="choose a non-zero user, or a profile other than restricted",
        )


def _check_volume_mounts(mounts: Any, path: str, pod: dict[str, Any], sc: Any) -> None:
    volumes = volume_names(pod)
    seen: set[str] = set()
    for i, mount in enumerate(_check_mapping_list(mounts, path)):
        item = index(path, i)
        _check_keys(mount, item, F.VOLUME_MOUNT_FIELDS, "volumeMount")
        for sub in ("subPath", "subPathExpr"):
            if mount.get(sub):
                raise forbidden(child(item, sub), _EPHEMERAL_DETAIL)
        name = mount.get("name")
        if not name:
            raise required(child(item, "name"))
        _check_string(name, child(item, "name"))
        if name not in volumes:
            raise not_found(
                child(item, "name"),
                name,
                remedy="an ephemeral container can mount only the Pod's volumes: "
                f"{names(sorted(volumes))}",
            )
        mount_path = mount.get("mountPath")
        if not mount_path:
            raise required(child(item, "mountPath"))
        _check_string(mount_path, child(item, "mountPath"))
        if mount_path in seen:
            raise invalid(child(item, "mountPath"), mount_path, "must be unique")
        seen.add(mount_path)
        for value, vpath in _each_set(mount, item, "readOnly"):
            _check_bool(value, vpath)
        for value, vpath in _each_set(mount, item, "recursiveReadOnly"):
            _check_enum(value, vpath, F.RECURSIVE_READ_ONLY, True)
        propagation = mount.get("mountPropagation")
        if propagation is not None:
            ppath = child(item, "mountPropagation")
            _check_enum(propagation, ppath, F.MOUNT_PROPAGATIONS, False)
            privileged = isinstance(sc, dict) and sc.get("privileged") is True
            if propagation == "Bidirectional" and not privileged:
                raise forbidden(
                    ppath,
                    "Bidirectional mount propagation is available only to privileged containers",
                )


def _block_volumes(pod: dict[str, Any]) -> set[str]:
    """The Pod's volumes that can back a block device: a PVC or a generic ephemeral volume."""
    volumes = spec_of(pod).get("volumes")
    return {
        v["name"]
        for v in (volumes if isinstance(volumes, list) else [])
        if isinstance(v, dict)
        and isinstance(v.get("name"), str)
        and (v.get("persistentVolumeClaim") is not None or v.get("ephemeral") is not None)
    }


def _check_volume_devices(devices: Any, path: str, pod: dict[str, Any], mounts: Any) -> None:
    # The server's ValidateVolumeDevices, which 1.34 applies to ephemeral containers too (they
    # may have volumeDevices; 1.16-1.21 refused the field as not allowed for them).
    volumes, block = volume_names(pod), _block_volumes(pod)
    mounted = {
        str(m.get("name")): str(m.get("mountPath"))
        for m in (mounts if isinstance(mounts, list) else [])
        if isinstance(m, dict)
    }
    names: set[str] = set()
    paths: set[str] = set()
    for i, device in enumerate(_check_mapping_list(devices, path)):
        item = index(path, i)
        _check_keys(device, item, _VOLUME_DEVICE_FIELDS, "volumeDevice")
        name, device_path = device.get("name"), device.get("devicePath")
        if name is None or name == "":
            raise required(child(item, "name"))
        _check_string(name, child(item, "name"))
        if name in names:
            raise invalid(child(item, "name"), name, "must be unique")
        if name in volumes and name not in block:
            raise invalid(
                child(item, "name"),
                name,
                "can only use volume source type of PersistentVolumeClaim or Ephemeral for "
                "block mode",
            )
        if name not in volumes:
            raise not_found(child(item, "name"), name)
        if device_path is None or device_path == "":
            raise required(child(item, "devicePath"))
        _check_string(device_path, child(item, "devicePath"))
        if device_path in paths:
            raise invalid(child(item, "devicePath"), device_path, "must be unique")
        if ".." in device_path.split("/"):
            raise invalid(
                child(item, "devicePath"), device_path, "can not contain backsteps ('..')"
            )
        if name in mounted:
            raise invalid(child(item, "name"), name, "must not already exist in volumeMounts")
        if device_path in mounted.values():
            raise invalid(
                child(item, "devicePath"),
                device_path,
                "must not already exist as a path in volumeMounts",
            )
        names.add(name)
        paths.add(device_path)


def _check_image(image: Any, path: str) -> None:
    if image is None or image == "":
        raise required(path, "the debug container needs an image (e.g. busybox)")
    _check_string(image, path)
    if any(ch.isspace() or not ch.isprintable() for ch in image):
        raise invalid(path, image, "must not contain whitespace or control characters")


def _check_target(target: Any, path: str, pod: dict[str, Any]) -> None:
    _check_string(target, path)
    regular, init = names_of(pod, REGULAR), names_of(pod, INIT)
    if target in regular or target in init:
        return
    what = "an ephemeral container" if target in names_of(pod, EPHEMERAL) else "not in the Pod"
    raise not_found(
        path,
        target,
        remedy=f"{quote(target, 63)} is {what}; "
        f"target one of the Pod's containers: {names(regular)}",
    )


def find_problem(container: Any, pod: dict[str, Any], field: str) -> ValidationError | None:
    """The first problem with ``container`` as a new ephemeral container of ``pod``, or None."""
    try:
        validate_ephemeral_container(container, pod, field)
    except ValidationError as exc:
        return exc
    return None


def validate_ephemeral_container(
    container: dict[str, Any], pod: dict[str, Any], field: str = "spec.ephemeralContainers[0]"
) -> None:
    """Raise ``ValidationError`` (field = JSON path) for the first problem found.

    ``field`` should be the path the server would use: ``spec.ephemeralContainers[N]`` with N
    the index the container will have (the number of existing ephemeral containers).
    """
    if not isinstance(container, dict):
        raise wrong_type(field, container, "a mapping (a container spec)")
    _check_keys(container, field, F.EPHEMERAL_FIELDS, "container")

    name = container.get("name")
    if name is None or name == "":
        raise required(child(field, "name"))
    validate_container_name(name, child(field, "name"))
    others = {n for kind in (REGULAR, INIT, EPHEMERAL) for n in names_of(pod, kind)}
    if name in others:
        raise duplicate(
            child(field, "name"),
            name,
            remedy="container names are unique across a Pod's containers, init containers and "
            "ephemeral containers; choose another name or let podscope generate one",
        )

    _check_image(container.get("image"), child(field, "image"))

    for key in F.EPHEMERAL_FORBIDDEN_POINTERS:
        if container.get(key) is not None:
            raise forbidden(child(field, key), _EPHEMERAL_DETAIL)
    for key in F.EPHEMERAL_FORBIDDEN_VALUES:
        if _is_set(container.get(key)):
            raise forbidden(child(field, key), _EPHEMERAL_DETAIL)

    for value, path in _each_set(container, field, "command", "args"):
        _check_string_list(value, path)
    for value, path in _each_set(container, field, "workingDir", "terminationMessagePath"):
        _check_string(value, path)
    for value, path in _each_set(container, field, "stdin", "stdinOnce", "tty"):
        _check_bool(value, path)
    for value, path in _each_set(container, field, "imagePullPolicy"):
        _check_enum(value, path, F.PULL_POLICIES, True)
    for value, path in _each_set(container, field, "terminationMessagePolicy"):
        _check_enum(value, path, F.TERMINATION_MESSAGE_POLICIES, True)
    for value, path in _each_set(container, field, "env"):
        _check_env(value, path)
    for value, path in _each_set(container, field, "envFrom"):
        _check_mapping_list(value, path)
    for value, path in _each_set(container, field, "securityContext"):
        _check_security_context(value, path)
    for value, path in _each_set(container, field, "volumeMounts"):
        _check_volume_mounts(value, path, pod, container.get("securityContext"))
    for value, path in _each_set(container, field, "volumeDevices"):
        _check_volume_devices(value, path, pod, container.get("volumeMounts"))
    if container.get("targetContainerName") not in (None, ""):
        _check_target(container["targetContainerName"], child(field, "targetContainerName"), pod)


def check_pod_can_debug(pod: dict[str, Any]) -> None:
    """Raise ``PodStateError`` if ``pod`` cannot take an ephemeral container now."""
    name = quote(pod_name(pod), 253)
    node = spec_of(pod).get("nodeName")
    if MIRROR_ANNOTATION in annotations_of(pod):
        on_node = f" on node {quote(node, 253)}" if isinstance(node, str) and node else ""
        raise PodStateError(
            f"Pod {name} is a static Pod (the API only mirrors a manifest the kubelet{on_node} "
            "runs), and static Pods cannot have ephemeral containers",
            remedy="debug the node instead (podscope debug node/NODE), or copy the Pod with "
            "--copy-to NEW",
        )
    if metadata_of(pod).get("deletionTimestamp"):
        raise PodStateError(
            f"Pod {name} is being deleted; an ephemeral container would die with it",
            remedy="debug the Pod that replaces it, or copy this one with --copy-to NEW",
        )
    status = pod.get("status") if isinstance(pod, dict) else None
    phase = status.get("phase") if isinstance(status, dict) else None
    if phase == "Running":
        return
    shown = quote(phase, 40) if isinstance(phase, str) and phase else "unknown"
    if phase == "Pending":
        raise PodStateError(
            f"Pod {name} is Pending (phase {shown}): its containers have not started, and an "
            "ephemeral container starts only in a running Pod",
            remedy=f"wait for it to run, or debug a copy: podscope debug {pod_name(pod)} "
            "--copy-to NEW",
        )
    raise PodStateError(
        f"Pod {name} is not running (phase {shown}): an ephemeral container cannot start in it",
        remedy=f"debug a copy of the crashed Pod instead: podscope debug {pod_name(pod)} "
        "--copy-to NEW",
    )
