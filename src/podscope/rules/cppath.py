"""``podscope cp`` operands: ``POD:/path``, ``NAMESPACE/POD:/path`` or a local path (pure).

An operand is remote when the part before the first ``:`` is a Pod name (optionally with a
namespace): a local path with a colon can always be written ``./a:b``. Remote paths are
absolute paths as the application sees them; ``..`` is refused.

A destination written with a trailing ``/`` must be a directory, as GNU cp has it: an
existing directory takes the copy inside it, an absent one can only be made from a directory
source (which becomes it), and anything else is refused rather than written under another
name. :func:`check_directory_destination` is that rule.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass

from podscope.errors import UsageError
from podscope.rules._fmt import quote
from podscope.rules.targetfs import container_path

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_POD_RE = re.compile(rf"(?:(?P<ns>{_LABEL})/)?(?P<pod>{_LABEL}(\.{_LABEL})*)")


@dataclass(frozen=True)
class RemotePath:
    pod: str
    path: str  # absolute, normalized, never "/.." anything
    namespace: str | None = None
    # Written with a trailing "/": the path must be a directory (normalizing drops the slash).
    directory: bool = False

    def __str__(self) -> str:
        prefix = f"{self.namespace}/" if self.namespace else ""
        slash = "/" if self.directory and self.path != "/" else ""
        return f"{prefix}{self.pod}:{self.path}{slash}"


def parse_operand(text: str) -> RemotePath | str:
    """A :class:`RemotePath`, or the local path (unchanged) when ``text`` is not remote."""
    if not isinstance(text, str) or text == "":
        raise UsageError("cp needs a source and a destination, e.g. mypod:/tmp/file ./file")
    head, colon, tail = text.partition(":")
    if not colon or text.startswith(("/", ".", "~")):
        return text
    match = _POD_RE.fullmatch(head)
    if match is None or len(match.group("pod")) > 253:
        return text
    return RemotePath(
        pod=match.group("pod"),
        path=normalize_remote(tail, text),
        namespace=match.group("ns"),
        directory=names_directory(tail),
    )


def names_directory(path: str) -> bool:
    """Whether ``path`` is written as a directory (with a trailing ``/``)."""
    return path.endswith("/")


def check_directory_destination(shown: str, kind: str, source_is_dir: bool | None) -> None:
    """Refuse a destination written with a trailing ``/`` that cannot be the directory it
    says it is. ``kind`` is what is there (``dir``, ``file``, ``other`` or ``none``);
    ``source_is_dir`` is None while the source is not known yet (only what is certain is
    refused then). A directory there takes the copy inside it; nothing there is fine for a
    directory source, which becomes it."""
    if kind == "dir" or (kind == "none" and source_is_dir is not False):
        return
    if kind == "none":
        raise UsageError(
            f"{shown} is not a directory (there is nothing there, and a file copied there "
            "would not be one)",
            remedy="make the directory first, or leave out the trailing '/' to copy to that name",
        )
    there = "a file is there" if kind == "file" else "something that is not one is there"
    raise UsageError(
        f"{shown} is not a directory ({there})",
        remedy="leave out the trailing '/' to replace it, or name a directory",
    )


def normalize_remote(path: str, operand: str) -> str:
    if not path:
        raise UsageError(f"{quote(operand)}: give the path after ':', e.g. mypod:/tmp/file")
    return container_path(
        path,
        quote(operand),
        where=" in the Pod",
        remedy=f"write {shlex.quote(operand.replace(':', ':/', 1))}",
    )


def split_remote(path: str) -> tuple[str, str]:
    """``(directory, name)`` of a normalized remote path; ``/`` has no name."""
    if path == "/":
        return "/", ""
    directory, name = posixpath.split(path)
    return directory or "/", name


def plan_copy(source: str, dest: str) -> tuple[str, RemotePath, str]:
    """``("out" | "in", the remote operand, the local path)``; exactly one side is remote."""
    src, dst = parse_operand(source), parse_operand(dest)
    if isinstance(src, RemotePath) and isinstance(dst, RemotePath):
        raise UsageError(
            "copying from one Pod to another is not supported; copy through a local file"
        )
    if isinstance(src, RemotePath):
        assert isinstance(dst, str)
        if src.path == "/":
            raise UsageError(f"{quote(source)}: name a file or directory, not the whole root")
        return "out", src, dst
    if isinstance(dst, RemotePath):
        return "in", dst, src
    raise UsageError(
        "one of source and destination must be in a Pod (POD:/path or NAMESPACE/POD:/path)",
        remedy="e.g. podscope cp mypod:/etc/app.conf ./app.conf",
    )
