"""``KUBELET_EXTRA_ARGS`` in the kubelet's environment file (/etc/default/kubelet, ...).

systemd reads the file (``EnvironmentFile=``) and the kubeadm drop-in expands
``$KUBELET_EXTRA_ARGS`` into the kubelet's argv. Only that one assignment is edited, and within
it only the ``--feature-gates`` value, so every other flag keeps its bytes.
"""

from __future__ import annotations

import re

from podscope.errors import NodeEditError
from podscope.gate.gates import FLAG, GATE_ENTRY, Edit, GateState, merge_gate, unquote

VAR = "KUBELET_EXTRA_ARGS"
_ASSIGN = re.compile(rf"^(?P<pre>[ \t]*(?:export[ \t]+)?{VAR}[ \t]*=)(?P<val>.*?)(?P<eol>\r?\n)?$")
_QUOTES = "'\""


def _words(text: str, where: str) -> list[tuple[int, int]]:
    """Spans of whitespace-separated words; quotes group (``--x="a b"`` is one word)."""
    spans: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start, quote = i, ""
        while i < n:
            char = text[i]
            if quote:
                if char == quote:
                    quote = ""
            elif char in _QUOTES:
                quote = char
            elif char.isspace():
                break
            i += 1
        if quote:
            raise NodeEditError(
                f"{where}: unterminated {quote} quote in {VAR}",
                remedy=f"fix the quoting of {VAR} by hand",
            )
        spans.append((start, i))
    return spans


def _gate_slots(args: str, where: str) -> list[tuple[int, int]]:
    """Spans (inside ``args``) of each ``--feature-gates`` value, without its quotes."""
    words = _words(args, where)
    slots: list[tuple[int, int]] = []
    k = 0
    while k < len(words):
        start, end = words[k]
        word = args[start:end]
        region: tuple[int, int] | None = None
        if word.startswith(FLAG + "="):
            region = (start + len(FLAG) + 1, end)
        elif word == FLAG:
            if k + 1 >= len(words):
                raise NodeEditError(
                    f"{where}: {FLAG} ends {VAR} without a value",
                    remedy=f"fix it by hand (for example {FLAG}={GATE_ENTRY})",
                )
            k += 1
            region = words[k]
        if region is not None:
            quote, _ = unquote(args[region[0] : region[1]])
            if quote:
                region = (region[0] + 1, region[1] - 1)
            slots.append(region)
        k += 1
    return slots


def _edit_args(args: str, where: str) -> tuple[GateState, str | None, str]:
    slots = _gate_slots(args, where)
    before, merged = merge_gate([args[s:e] for s, e in slots], where)
    if merged is None:
        return before, None, f"{GATE_ENTRY} is already in {VAR}"
    if not slots:
        body = args.rstrip()
        sep = " " if body.strip() else ""
        return (
            before,
            body + sep + f"{FLAG}={GATE_ENTRY}" + args[len(body) :],
            (f"added {FLAG}={GATE_ENTRY} to {VAR}"),
        )
    new = args
    for (start, end), value in sorted(zip(slots, merged, strict=True), reverse=True):
        new = new[:start] + value + new[end:]
    if before is GateState.OFF:
        return before, new, f"switched EphemeralContainers=false to true in {VAR}"
    return before, new, f"merged {GATE_ENTRY} into {FLAG} in {VAR}"


def _split_value(val: str, where: str) -> tuple[str, str, str]:
    """(text before the args, the args, text after) for a possibly quoted value."""
    body = val.strip()
    lead = val[: len(val) - len(val.lstrip())]
    trail = val[len(val.rstrip()) :]
    if body[:1] in _QUOTES and body:
        quote = body[0]
        if len(body) < 2 or body[-1] != quote or quote in body[1:-1]:
            raise NodeEditError(
                f"{where}: cannot follow the quoting of {VAR}",
                remedy=f"use one pair of quotes around the whole value of {VAR}, or none",
            )
        return lead + quote, body[1:-1], quote + trail
    return lead, body, trail


def edit_env_text(text: str, source: str) -> Edit:
    """Switch the gate on in the last ``KUBELET_EXTRA_ARGS=`` line (the one systemd uses)."""
    lines = text.splitlines(keepends=True)
    found: tuple[int, re.Match[str]] | None = None
    for idx, line in enumerate(lines):
        match = _ASSIGN.match(line)
        if match is not None:
            found = (idx, match)
    if found is None:
        prefix = "" if not text or text.endswith("\n") else "\n"
        addition = f"{VAR}={FLAG}={GATE_ENTRY}\n"
        return Edit(GateState.ABSENT, text + prefix + addition, f"added {VAR}={FLAG}={GATE_ENTRY}")
    idx, match = found
    val = match.group("val")
    if val.rstrip().endswith("\\"):
        raise NodeEditError(
            f"{source}: {VAR} continues on the next line (trailing backslash)",
            remedy=f"join {VAR} into one line, then run again",
        )
    head, args, tail = _split_value(val, source)
    state, new_args, description = _edit_args(args, source)
    if new_args is None:
        return Edit(state, None, description)
    lines[idx] = match.group("pre") + head + new_args + tail + (match.group("eol") or "")
    return Edit(state, "".join(lines), description)
