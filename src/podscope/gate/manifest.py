"""``--feature-gates=...EphemeralContainers=true`` in a kubeadm static Pod manifest."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import ScalarString

from podscope.errors import NodeEditError
from podscope.gate import yamlio
from podscope.gate.gates import FLAG, GATE, Edit, merge_into_args

_WHAT = "static Pod manifest"
_MARKERS = (GATE, FLAG)


@dataclass(frozen=True)
class ManifestEdit(Edit):
    image: str | None = None


def _refuse(source: str, problem: str) -> NodeEditError:
    return NodeEditError(
        f"{source}: {problem}; this is not the static Pod layout kubeadm writes",
        remedy=f"add {FLAG}={GATE}=true to the component's flags by hand",
    )


def _command(data: object, source: str) -> tuple[CommentedMap, CommentedSeq]:
    if not isinstance(data, CommentedMap):
        raise _refuse(source, "not a YAML mapping")
    if data.get("kind") != "Pod":
        raise _refuse(source, f"kind is {data.get('kind')!r}, not 'Pod'")
    spec = data.get("spec")
    if not isinstance(spec, CommentedMap):
        raise _refuse(source, "no spec mapping")
    containers = spec.get("containers")
    if not isinstance(containers, CommentedSeq) or not containers:
        raise _refuse(source, "no spec.containers list")
    container = containers[0]
    if not isinstance(container, CommentedMap):
        raise _refuse(source, "spec.containers[0] is not a mapping")
    command = container.get("command")
    if not isinstance(command, CommentedSeq) or not command:
        raise _refuse(source, "no spec.containers[0].command list")
    if not all(isinstance(arg, str) for arg in command):
        raise _refuse(source, "spec.containers[0].command holds non-string items")
    return container, command


def manifest_image(text: str, source: str) -> str | None:
    """``spec.containers[0].image`` of a manifest (validated like :func:`edit_manifest_text`)."""
    container, _ = _command(yamlio.load(text, source, what=_WHAT).data, source)
    image = container.get("image")
    return str(image) if isinstance(image, str) else None


def _insert_position(command: CommentedSeq, new: str) -> int:
    flags = [str(arg) for arg in command[1:]]
    # kubeadm writes the binary then flags in sorted order; slot in where kubeadm would.
    if flags and all(f.startswith("--") for f in flags) and flags == sorted(flags):
        return 1 + bisect.bisect(flags, new)
    return len(command)


def _styled_like(neighbours: list[object], value: str) -> str:
    """Quote a new item like its neighbours when they all share one quoting style."""
    kinds = {type(n) for n in neighbours}
    if len(kinds) == 1:
        kind = kinds.pop()
        if issubclass(kind, ScalarString):
            styled: str = kind(value)
            return styled
    return value


def edit_manifest_text(text: str, source: str) -> ManifestEdit:
    """Switch the gate on in ``spec.containers[0].command``; refuse other layouts."""
    doc = yamlio.load(text, source, what=_WHAT)
    container, command = _command(doc.data, source)
    image = container.get("image")
    image_text = str(image) if isinstance(image, str) else None
    args = [str(arg) for arg in command]
    plan = merge_into_args(args, source)
    if not plan.changed:
        return ManifestEdit(plan.before, None, plan.description, image=image_text)
    for idx, value in plan.replace.items():
        old = command[idx]
        # ruamel 0.19 keeps an item's quoting on assignment by itself; older releases that
        # pyproject still allows do not, so say it explicitly.
        command[idx] = type(old)(value) if isinstance(old, ScalarString) else value
    if plan.add is not None:
        pos = _insert_position(command, plan.add)
        command.insert(pos, _styled_like(list(command[1:]), plan.add))
    return ManifestEdit(plan.before, yamlio.dump(doc, _MARKERS), plan.description, image=image_text)
