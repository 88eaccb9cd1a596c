"""``--custom FILE``: a partial container spec merged over the generated debug container.

Follows kubectl: the file is JSON or YAML for a core/v1 Container, merged with strategic-merge
semantics, and may not set ``name``, ``image``, ``command``, ``lifecycle`` or ``volumeDevices``
(kubectl's list; those belong to podscope's own flags or are not for debug containers).
Unlike kubectl, unknown keys are refused with the list of valid ones instead of being
silently dropped, and ``targetContainerName`` points at ``--target``.

Merge rules (strategic merge patch for a Container): mappings merge recursively; a ``null``
value deletes the key; ``env`` (by ``name``), ``volumeMounts`` (by ``mountPath``) and
``ports`` (by ``containerPort``) merge element by element; every other list is replaced.
"""

from __future__ import annotations

import copy
import difflib
from typing import Any

from podscope.errors import ValidationError
from podscope.rules._fields import CONTAINER_FIELDS
from podscope.rules._fmt import child, clean, index, quote, type_name
from podscope.rules._parse import load_text

CUSTOM_FORBIDDEN: tuple[str, ...] = ("name", "image", "command", "lifecycle", "volumeDevices")
CUSTOM_FIELDS: frozenset[str] = CONTAINER_FIELDS - set(CUSTOM_FORBIDDEN)

_MERGE_KEYS: dict[str, str] = {"env": "name", "volumeMounts": "mountPath", "ports": "containerPort"}

_FLAG_FOR = {"name": "--container", "image": "--image", "command": "the command after --"}


def _check_keys(custom: dict[str, Any], source: str) -> None:
    where = clean(source, 120)
    for key in custom:
        if key in CUSTOM_FORBIDDEN:
            flag = _FLAG_FOR.get(key)
            remedy = f"set it with {flag} instead" if flag else None
            raise ValidationError(
                f"{where}: {key} is not modifiable via a custom profile "
                f"(name, command, image, lifecycle and volumeDevices are not)",
                field=key,
                remedy=remedy,
            )
        if key == "targetContainerName":
            raise ValidationError(
                f"{where}: targetContainerName cannot be set in a custom profile",
                field=key,
                remedy="use --target",
            )
        if key not in CUSTOM_FIELDS:
            close = difflib.get_close_matches(str(key), sorted(CUSTOM_FIELDS), n=1)
            guess = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValidationError(
                f"{where}: unknown container field {quote(key, 40)}{guess}; valid fields: "
                f"{', '.join(sorted(CUSTOM_FIELDS))}",
                field=child("", key),
            )
    _refuse_directives(custom, where, "")


def _refuse_directives(value: Any, where: str, path: str) -> None:
    # Strategic-merge directives ($patch, $retainKeys, ...) would be passed to the server
    # verbatim and mean something else there; podscope does the merge itself.
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and key.startswith("$"):
                raise ValidationError(
                    f"{where}: {child(path, key)}: strategic-merge directives are not supported",
                    field=child(path, key),
                )
            _refuse_directives(item, where, child(path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _refuse_directives(item, where, index(path, i))


def load_custom(text: str, source: str) -> dict[str, Any]:
    """Parse a partial container spec (JSON or YAML) and check its top-level keys."""
    data = load_text(text, source)
    if not isinstance(data, dict):
        raise ValidationError(
            f"{clean(source, 120)}: a custom profile must be a mapping of container fields, "
            f"not a {type_name(data)}",
            remedy='e.g. {"securityContext": {"runAsUser": 1000}}',
        )
    _check_keys(data, source)
    return data


def _merge_list(key: str, base: list[Any], patch: list[Any]) -> list[Any]:
    merge_key = _MERGE_KEYS.get(key)
    if merge_key is None:
        return copy.deepcopy(patch)
    result = copy.deepcopy(base)
    for item in patch:
        if isinstance(item, dict) and merge_key in item:
            for i, existing in enumerate(result):
                if isinstance(existing, dict) and existing.get(merge_key) == item[merge_key]:
                    result[i] = _merge_map(existing, item)
                    break
            else:
                result.append(_merge_map({}, item))
        else:
            result.append(copy.deepcopy(item))
    return result


def _merge_map(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(base)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _merge_map(result[key], value)
        elif isinstance(value, dict):
            result[key] = _merge_map({}, value)
        elif isinstance(value, list) and isinstance(result.get(key), list):
            result[key] = _merge_list(key, result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def merge_custom(container: dict[str, Any], custom: dict[str, Any]) -> dict[str, Any]:
    """``container`` with ``custom`` merged over it; neither argument is modified."""
    if not isinstance(custom, dict):
        raise ValidationError(
            f"a custom profile must be a mapping of container fields, not a {type_name(custom)}"
        )
    _check_keys(custom, "custom profile")
    return _merge_map(container, custom)
