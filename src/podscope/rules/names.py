"""Container and resource names: generation and DNS-1123 validation.

The rules are the API server's (``IsDNS1123Label`` / ``IsDNS1123Subdomain``) so a name that
passes here is not refused later; ``re.fullmatch`` is used because ``$`` would accept a
trailing newline, and a name ends up in a URL path.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import TYPE_CHECKING

from podscope.errors import ConflictError, ValidationError
from podscope.rules._fmt import invalid, quote, required, wrong_type

if TYPE_CHECKING:
    import random

# kubectl's utilrand.String alphabet: no vowels (no accidental words) and no 0/1/3
# (no confusion with o/l/e).
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
SUFFIX_LENGTH = 5
LABEL_MAX = 63
SUBDOMAIN_MAX = 253
_MAX_ATTEMPTS = 1000

_LABEL_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_SUBDOMAIN_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")

LABEL_RULE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc')"
)
SUBDOMAIN_RULE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'example.com')"
)


def is_label(name: object) -> bool:
    return isinstance(name, str) and len(name) <= LABEL_MAX and bool(_LABEL_RE.fullmatch(name))


def is_subdomain(name: object) -> bool:
    return (
        isinstance(name, str) and len(name) <= SUBDOMAIN_MAX and bool(_SUBDOMAIN_RE.fullmatch(name))
    )


def generate_name(
    taken: Collection[str], prefix: str = "debugger", rng: random.Random | None = None
) -> str:
    """``prefix-xxxxx`` with kubectl's alphabet, regenerated until it is not in ``taken``."""
    if not is_label(f"{prefix}-{'b' * SUFFIX_LENGTH}"):
        raise ValidationError(
            f"name prefix {quote(prefix)} cannot make a valid container name: {LABEL_RULE}",
            field="prefix",
        )
    if rng is None:
        import random  # only when a name is made, not on every start

        rng = random.SystemRandom()
    chooser = rng
    for _ in range(_MAX_ATTEMPTS):
        suffix = "".join(chooser.choice(NAME_ALPHABET) for _ in range(SUFFIX_LENGTH))
        candidate = f"{prefix}-{suffix}"
        if candidate not in taken:
            return candidate
    raise ConflictError(
        f"could not find a free container name {prefix}-xxxxx after {_MAX_ATTEMPTS} attempts",
        remedy="name the container yourself with --container",
    )


def suggest(name: str, *, allow_dots: bool = False, max_length: int = LABEL_MAX) -> str | None:
    """A valid name close to ``name`` (lowercased, odd characters turned into '-'), if any."""
    allowed = "a-z0-9." if allow_dots else "a-z0-9"
    text = re.sub(f"[^{allowed}]+", "-", name.lower())
    if allow_dots:
        text = re.sub(r"-*\.[-.]*", ".", text)
    text = text.strip("-.")[:max_length].strip("-.")
    valid = is_subdomain(text) if allow_dots else is_label(text)
    return text if valid else None


def _check(name: object, field: str, *, subdomain: bool, what: str) -> None:
    if not isinstance(name, str):
        raise wrong_type(field, name, "a string")
    if not name:
        raise required(field, f"a {what} is required")
    max_length = SUBDOMAIN_MAX if subdomain else LABEL_MAX
    rule = SUBDOMAIN_RULE if subdomain else LABEL_RULE
    valid = is_subdomain(name) if subdomain else is_label(name)
    if valid:
        return
    fix = suggest(name, allow_dots=subdomain, max_length=max_length)
    hint = f"; try {fix!r}" if fix and fix != name else ""
    if len(name) > max_length:
        raise invalid(field, name, f"must be no more than {max_length} characters{hint}")
    raise invalid(field, name, f"{rule}{hint}")


def validate_container_name(name: str, field: str) -> None:
    """Raise ``ValidationError`` unless ``name`` is a DNS-1123 label (a container name)."""
    _check(name, field, subdomain=False, what="container name")


def validate_resource_name(name: str, field: str) -> None:
    """Raise ``ValidationError`` unless ``name`` is a DNS-1123 subdomain (a Pod or Node name).

    Called on every name before it is put into a URL, so ``;``, ``$()``, ``../``, newlines
    and over-long strings never reach the API client.
    """
    _check(name, field, subdomain=True, what="name")


def validate_namespace_name(name: str, field: str) -> None:
    """Raise ``ValidationError`` unless ``name`` is a DNS-1123 label (a namespace name)."""
    _check(name, field, subdomain=False, what="namespace name")
