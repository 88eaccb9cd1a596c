"""The ``--feature-gates`` value (``A=true,B=false``) and its merge rules.

Kubernetes components parse the value with component-base's feature gate ``Set``: entries are
split on ``,``, trimmed, empty ones ignored, each is ``Name=<Go bool>``; a flag given twice is
applied in order, so the last mention of a gate wins. We mirror that so "is it already on?"
gives the component's own answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from podscope.errors import NodeEditError

GATE = "EphemeralContainers"
GATE_ENTRY = f"{GATE}=true"
FLAG = "--feature-gates"

# strconv.ParseBool: anything else makes the component exit at start-up.
_GO_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_GO_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


class GateState(Enum):
    """What a file said about the gate before podscope touched it."""

    ABSENT = "absent"
    ON = "on"
    OFF = "off"


def parse_go_bool(text: str) -> bool | None:
    """Go's ``strconv.ParseBool``; ``None`` when Go would reject it."""
    if text in _GO_TRUE:
        return True
    if text in _GO_FALSE:
        return False
    return None


@dataclass(frozen=True)
class _Mention:
    """One ``EphemeralContainers=<bool>`` entry: where its value sits in the gate list."""

    value_start: int
    value_end: int
    on: bool


def _mentions(value: str, where: str) -> list[_Mention]:
    found: list[_Mention] = []
    pos = 0
    for entry in value.split(","):
        start, end = pos, pos + len(entry)
        pos = end + 1
        if not entry.strip():
            continue
        if "=" not in entry:
            raise NodeEditError(
                f"{where}: feature gate entry {entry.strip()!r} has no '=<bool>'",
                remedy="fix the --feature-gates value by hand (NAME=true|false, comma-separated)",
            )
        key, _, raw = entry.partition("=")
        if key.strip() != GATE:
            continue
        # Keep the user's spacing around the value; only the word itself is replaced.
        lead = len(raw) - len(raw.lstrip())
        word = raw.strip()
        on = parse_go_bool(word)
        if on is None:
            raise NodeEditError(
                f"{where}: {GATE}={word!r} is not a boolean",
                remedy=f"fix it by hand to {GATE}=true",
            )
        vstart = start + len(key) + 1 + lead
        found.append(_Mention(vstart, vstart + len(word), on))
    return found


def gate_state(values: list[str], where: str) -> GateState:
    """The gate's effective state over every ``--feature-gates`` occurrence, in order."""
    state = GateState.ABSENT
    for value in values:
        for mention in _mentions(value, where):
            state = GateState.ON if mention.on else GateState.OFF
    return state


def merge_gate(values: list[str], where: str) -> tuple[GateState, list[str] | None]:
    """Switch the gate on across ``values`` (each one ``--feature-gates`` occurrence).

    Returns the state before and the new values, or ``None`` when nothing needs to change.
    With no occurrence at all the result is ``[GATE_ENTRY]``: the value of a flag the caller
    has to add. Every ``false`` mention becomes ``true`` so a later reader never sees a
    contradiction; a missing gate is appended to the last occurrence because that one wins.
    """
    before = gate_state(values, where)
    if before is GateState.ON:
        return before, None
    if not values:
        return before, [GATE_ENTRY]
    new = list(values)
    if before is GateState.OFF:
        for i, value in enumerate(new):
            for mention in reversed(_mentions(value, where)):
                if not mention.on:
                    value = value[: mention.value_start] + "true" + value[mention.value_end :]
            new[i] = value
        return before, new
    last = new[-1]
    body = last.rstrip()
    tail = last[len(body) :]
    if not body.strip():
        new[-1] = GATE_ENTRY + tail
    elif body.endswith(","):
        new[-1] = body + GATE_ENTRY + tail
    else:
        new[-1] = body + "," + GATE_ENTRY + tail
    return before, new


_FLAG_EQ = re.compile(r"^--feature-gates=")


def unquote(text: str) -> tuple[str, str]:
    """Split a possibly quoted shell/YAML word into (quote char or '', content)."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[0], text[1:-1]
    return "", text


@dataclass(frozen=True)
class ArgsEdit:
    """How to switch the gate on in an argument vector; empty when it is already on."""

    before: GateState
    replace: dict[int, str]  # index in the vector -> new argument
    add: str | None  # a new ``--feature-gates=...`` argument, when there was none
    description: str

    @property
    def changed(self) -> bool:
        return bool(self.replace) or self.add is not None


def merge_into_args(args: list[str], where: str) -> ArgsEdit:
    """Merge the gate into an argument vector (a static Pod's ``command``).

    Handles ``--feature-gates=V`` and ``--feature-gates V`` (value in the next argument).
    """
    slots: list[int] = []  # indexes in ``args`` that hold a gate list
    i = 0
    while i < len(args):
        arg = args[i]
        if _FLAG_EQ.match(arg):
            slots.append(i)
        elif arg == FLAG:
            if i + 1 >= len(args):
                raise NodeEditError(
                    f"{where}: {FLAG} is the last argument and has no value",
                    remedy=f"fix it by hand (for example {FLAG}={GATE_ENTRY})",
                )
            slots.append(i + 1)
            i += 1
        i += 1

    def value_of(idx: int) -> str:
        arg = args[idx]
        return arg[len(FLAG) + 1 :] if _FLAG_EQ.match(arg) else arg

    before, merged = merge_gate([value_of(idx) for idx in slots], where)
    if merged is None:
        return ArgsEdit(before, {}, None, f"{GATE}=true is already set")
    if not slots:
        return ArgsEdit(before, {}, f"{FLAG}={GATE_ENTRY}", f"added {FLAG}={GATE_ENTRY}")
    replace = {}
    for idx, value in zip(slots, merged, strict=True):
        new = f"{FLAG}={value}" if _FLAG_EQ.match(args[idx]) else value
        if new != args[idx]:
            replace[idx] = new
    if before is GateState.OFF:
        return ArgsEdit(before, replace, None, f"switched {GATE}=false to true in {FLAG}")
    return ArgsEdit(before, replace, None, f"merged {GATE_ENTRY} into {FLAG}")


@dataclass(frozen=True)
class Edit:
    """The outcome of editing one file's text. ``text`` is ``None`` when nothing changes."""

    before: GateState
    text: str | None
    description: str

    @property
    def changed(self) -> bool:
        return self.text is not None
