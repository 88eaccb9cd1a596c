"""Image references and ``--set-image`` items: what container runtimes accept (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from podscope.errors import UsageError, ValidationError
from podscope.rules._fmt import quote
from podscope.rules.names import validate_container_name

ALL_CONTAINERS = "*"

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
