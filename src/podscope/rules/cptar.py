"""Which tar entries ``podscope cp`` accepts when it copies out of a Pod (pure).

The tar stream comes from the target container, which the person copying does not control:
a crafted stream must not write anywhere but under the destination. Every entry's name, and
every hard link's target, must therefore be a relative path without ``..`` inside the one
top-level name that was asked for. (Writes through symlinks are the other half of the
containment; that check needs the local file system and lives with the extraction.)
"""

from __future__ import annotations

from podscope.errors import ValidationError
from podscope.rules._fmt import quote


def member_parts(name: str) -> list[str]:
    """The path components of a tar entry name; absolute names and ``..`` are refused."""
    if name.startswith("/"):
        raise ValidationError(f"refusing tar entry with an absolute path: {quote(name)}")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        raise ValidationError(f"refusing tar entry that leaves the destination: {quote(name)}")
    return parts


def local_parts(name: str, top: str, rename: str | None) -> list[str]:
    """Where entry ``name`` goes, relative to the destination directory: under ``top``
    (written as ``rename`` when given), or refused."""
    parts = member_parts(name)
    if parts[0] != top:
        raise ValidationError(f"unexpected tar entry {quote(name)} (expected {quote(top)}/...)")
    return [rename or top, *parts[1:]]


def hard_link_parts(name: str, linkname: str, top: str, rename: str | None) -> list[str]:
    """Where the file that hard link ``name`` points to is, relative to the destination
    directory; a link to anything outside the copy is refused (it would make a file outside
    the destination writable through the copy, or leak one into it)."""
    refusal = ValidationError(
        f"refusing hard link {quote(name)} to {quote(linkname)}: it points outside the copy"
    )
    try:
        parts = member_parts(linkname)
    except ValidationError:
        raise refusal from None
    if parts[0] != top:
        raise refusal
    return [rename or top, *parts[1:]]
