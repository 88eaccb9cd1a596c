"""Round-trip YAML editing that leaves every line we did not mean to touch byte-identical.

ruamel.yaml's round-trip mode keeps comments, key order and quoting, but it still normalises
a few things on the way out (``key:   value`` spacing, a comment before ``---``, a ``...``
end marker, inline-comment columns near an edit). Node config files are hand-maintained, so
after dumping we keep ruamel's output only in the diff hunks that concern the gate and take
the original text everywhere else; the result is re-parsed and must equal ruamel's output,
otherwise ruamel's full output is used (correct, merely noisier).
"""

from __future__ import annotations

import difflib
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from podscope.errors import NodeEditError

# A line that opens a block: "key:" (optionally after "- " markers), nothing but a comment after.
_OPENER = re.compile(
    r"""^(?P<lead>[ ]*(?:-[ ]+)*)(?:"[^"]*"|'[^']*'|[^\s#'"-][^#]*?)[ ]*:[ ]*(?:#.*)?$"""
)


@dataclass(frozen=True)
class Indent:
    """ruamel's three indentation knobs, as detected in the input."""

    mapping: int = 2
    offset: int = 0  # columns between the parent key and a list item's "-"

    @property
    def sequence(self) -> int:
        return self.offset + 2


def _content_lines(text: str) -> list[str]:
    return [ln for ln in text.split("\n") if ln.strip() and not ln.lstrip().startswith("#")]


def detect_indent(text: str) -> Indent:
    """Guess the mapping indent and the list-dash offset from the first blocks in ``text``.

    The default is what kubeadm (go-yaml) writes: 2 spaces, ``-`` level with its key.
    """
    lines = _content_lines(text)
    mapping: int | None = None
    offset: int | None = None
    for here, below in zip(lines, lines[1:], strict=False):
        match = _OPENER.match(here)
        if match is None:
            continue
        key_col = len(match.group("lead"))
        col = len(below) - len(below.lstrip(" "))
        if below.lstrip(" ").startswith("-") and offset is None and col >= key_col:
            offset = col - key_col
        elif not below.lstrip(" ").startswith("-") and mapping is None and col > key_col:
            mapping = col - key_col
        if mapping is not None and offset is not None:
            break
    return Indent(mapping=mapping or 2, offset=offset if offset is not None else 0)


def _new_yaml(indent: Indent | None = None) -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    # Never re-wrap long lines (a kube-apiserver flag list has very long lines).
    yaml.width = 1 << 20
    if indent is not None:
        yaml.indent(mapping=indent.mapping, sequence=indent.sequence, offset=indent.offset)
    return yaml


@dataclass
class YamlDoc:
    """One parsed document plus what is needed to write it back the way it was."""

    data: Any
    text: str  # the input with "\n" line ends
    crlf: bool
    indent: Indent


def load(text: str, source: str, *, what: str) -> YamlDoc:
    """Parse ``text`` as exactly one YAML document; refuse anything else."""
    crlf = "\r\n" in text
    norm = text.replace("\r\n", "\n") if crlf else text
    try:
        docs = list(_new_yaml().load_all(norm))
    except YAMLError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise NodeEditError(
            f"{source}: not valid YAML ({first})",
            remedy=f"this does not look like a {what}; fix or restore the file, then run again",
        ) from exc
    if len(docs) != 1:
        raise NodeEditError(
            f"{source}: expected one YAML document, found {len(docs)}",
            remedy=f"a {what} holds a single document; edit this file by hand",
        )
    return YamlDoc(data=docs[0], text=norm, crlf=crlf, indent=detect_indent(norm))


def plain(node: Any) -> Any:
    """Comparable form of a round-trip tree: mappings keep their key order."""
    if isinstance(node, dict):
        return [("map", [(str(k), plain(v)) for k, v in node.items()])]
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


def parse_plain(text: str) -> Any:
    """Parse and flatten; used to check that two texts mean the same."""
    return plain(_new_yaml().load(text))


def _keep_comment_gap(old: str, new: str) -> str:
    """Give an edited line back the spacing before its end-of-line comment.

    ruamel re-places a comment one space after a value that grew past its column.
    """
    for i, char in enumerate(old):
        if char != "#" or i == 0 or not old[i - 1].isspace():
            continue
        tail = old[i:]
        head = new[: len(new) - len(tail)]
        if new.endswith(tail) and head[-1:].isspace():
            gap = old[len(old[:i].rstrip()) : i]
            return head.rstrip() + gap + tail
        return new
    return new


def _only_relevant_hunks(old: str, new: str, markers: Sequence[str]) -> str:
    a = old.splitlines(keepends=True)
    b = new.splitlines(keepends=True)
    out: list[str] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.extend(a[i1:i2])
            continue
        touched = a[i1:i2] + b[j1:j2]
        if not any(m in line for line in touched for m in markers):
            out.extend(a[i1:i2])
        elif tag == "replace" and i2 - i1 == j2 - j1:
            out.extend(_keep_comment_gap(x, y) for x, y in zip(a[i1:i2], b[j1:j2], strict=True))
        else:
            out.extend(b[j1:j2])
    return "".join(out)


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _lift_insertions(old: str, new: str) -> str:
    """Put inserted lines above the full-line comments that were written for the next line.

    ruamel attaches "# about the next item" comments to the previous item, so anything
    inserted before that next item would land between the comment and the line it explains.
    """
    a = old.splitlines(keepends=True)
    b = new.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, _i1, _i2, j1, j2 in reversed(matcher.get_opcodes()):
        if tag != "insert":
            continue
        column = _indent_of(b[j1])
        k = j1
        while k > 0 and _is_comment(b[k - 1]) and _indent_of(b[k - 1]) == column:
            k -= 1
        if k < j1:
            b[k:j2] = b[j1:j2] + b[k:j1]
    return "".join(b)


def _same(text: str, reference: str) -> bool:
    try:
        return bool(parse_plain(text) == parse_plain(reference))
    except YAMLError:
        return False


def dump(doc: YamlDoc, markers: Sequence[str]) -> str:
    """Serialise ``doc.data`` and keep only the changes on lines that mention ``markers``."""
    stream = io.StringIO()
    _new_yaml(doc.indent).dump(doc.data, stream)
    full = stream.getvalue()
    result = full
    minimal = _only_relevant_hunks(doc.text, full, markers)
    if minimal == full or _same(minimal, full):
        result = minimal
        lifted = _lift_insertions(doc.text, minimal)
        if lifted != minimal and _same(lifted, full):
            result = lifted
    return result.replace("\n", "\r\n") if doc.crlf else result
