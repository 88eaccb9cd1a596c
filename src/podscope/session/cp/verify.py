"""The end-to-end check of a copy: the sha256 of each file on both sides must agree.

This side's sums are computed while the data streams; the target's come from
``sha256sum`` run there afterwards (for a single file copied out, while it streams). A
mismatch means the data changed on the way or the file changed during the copy: either way
the copy is not what the source was, and the command fails with :class:`ChecksumError`.
"""

from __future__ import annotations

from podscope.errors import ChecksumError
from podscope.session.cp.remote import Remote, remote_sums

__all__ = ["ChecksumError", "checkable", "compare_sums", "verify"]


def checkable(digests: dict[str, str]) -> list[str]:
    """The entry names the target can be asked about (one name per line on its stdin)."""
    return [n for n in digests if "\n" not in n]


def compare_sums(
    digests: dict[str, str], names: list[str], theirs: list[str], direction: str
) -> None:
    """Raise :class:`ChecksumError` unless the target's sums (``theirs``, in the order of
    ``names``) equal ``digests``. ``direction`` says where the copy is: "in" the Pod or
    "out" here."""
    if len(theirs) != len(names):
        raise ChecksumError(
            f"checksum check failed: expected {len(names)} sums from the target, got {len(theirs)}",
            remedy="copy again; use --no-checksum to skip the check",
        )
    for name, their in zip(names, theirs, strict=True):
        if digests[name] != their:
            where = "in the Pod" if direction == "in" else "here"
            raise ChecksumError(
                f"checksum mismatch for {name}: the copy {where} differs from the source "
                f"(sha256 {digests[name][:12]}... vs {their[:12]}...)",
                remedy="the file may have changed during the copy; copy it again",
            )


def verify(
    remote: Remote,
    directory: str,
    digests: dict[str, str],
    direction: str,
    theirs: list[str] | None = None,
) -> None:
    """Compare ``digests`` with the target's sums of the same files under ``directory``
    (asked for now unless ``theirs`` holds them already)."""
    names = checkable(digests)
    if not names:
        return
    if theirs is None:
        theirs = remote_sums(remote, directory, names)
    compare_sums(digests, names, theirs, direction)
