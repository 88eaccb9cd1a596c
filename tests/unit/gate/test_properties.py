"""Property tests: on generated kubeadm-like files the edit parses, sets the gate exactly once
and differs from the input only where the gate is."""

from __future__ import annotations

import difflib
import shlex
from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from podscope.gate import edit_env_text, edit_kubelet_config_text, edit_manifest_text
from podscope.gate.yamlio import parse_plain

GATE = "EphemeralContainers"
LOWER = "abcdefghijklmnopqrstuvwxyz"
SETTINGS = settings(max_examples=150, deadline=None)

word = st.text(LOWER, min_size=1, max_size=8)
comment_text = st.lists(word, min_size=1, max_size=4).map(" ".join)
gate_name = word.map(lambda w: "Gate" + w.capitalize())
bool_word = st.sampled_from(["true", "false"])
state = st.sampled_from(["absent", "true", "false"])


def _quoted(text: str, style: str) -> str:
    return {"plain": text, "single": f"'{text}'", "double": f'"{text}"'}[style]


quote_style = st.sampled_from(["plain", "single", "double"])
scalar = st.one_of(
    st.integers(0, 9999).map(str),
    word.map(lambda w: "v" + w),
    st.tuples(word, st.sampled_from(["single", "double"])).map(lambda t: _quoted(t[0], t[1])),
    bool_word,
)
eol = st.one_of(st.just(""), comment_text.map(lambda c: "   # " + c))


def _diff_lines(old: str, new: str) -> tuple[list[str], list[str]]:
    removed: list[str] = []
    added: list[str] = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0):
        if line.startswith(("---", "+++", "@@")):
            continue
        (removed if line.startswith("-") else added).append(line[1:])
    return removed, added


def _gates(others: list[tuple[str, str]], ours: str, pos: int) -> list[tuple[str, str]]:
    gates = list(dict(others).items())  # unique names
    if ours != "absent":
        gates.insert(min(pos, len(gates)), (GATE, ours))
    return gates


# ---------------------------------------------------------------- kubelet config


@dataclass
class KubeletCase:
    text: str
    ours: str


@st.composite
def kubelet_configs(draw: st.DrawFn) -> KubeletCase:
    mapping = draw(st.sampled_from([2, 4]))
    offset = draw(st.sampled_from([0, 2]))
    pad, dash = " " * mapping, " " * offset
    blocks: dict[str, list[str]] = {
        "apiVersion": ["apiVersion: kubelet.config.k8s.io/v1beta1"],
        "kind": ["kind: KubeletConfiguration" + draw(eol)],
    }
    for key in draw(st.lists(word.map(lambda w: "x" + w), max_size=6, unique=True)):
        shape = draw(st.sampled_from(["scalar", "map", "list"]))
        if shape == "scalar":
            lines = [f"{key}: {draw(scalar)}{draw(eol)}"]
        elif shape == "map":
            subs = draw(st.lists(word, min_size=1, max_size=3, unique=True))
            lines = [f"{key}:{draw(eol)}"] + [f"{pad}{s}: {draw(scalar)}{draw(eol)}" for s in subs]
        else:
            items = draw(st.lists(scalar, min_size=1, max_size=3))
            lines = [f"{key}:"] + [f"{dash}- {i}{draw(eol)}" for i in items]
        if draw(st.booleans()):
            lines.insert(0, "# " + draw(comment_text))
        blocks[key] = lines
    ours = draw(state)
    others = draw(st.lists(st.tuples(gate_name, bool_word), max_size=3))
    gates = _gates(others, ours, draw(st.integers(0, 3)))
    if gates:
        blocks["featureGates"] = ["featureGates:"] + [
            f"{pad}{name}: {value}{draw(eol)}" for name, value in gates
        ]
    keys = sorted(blocks) if draw(st.booleans()) else draw(st.permutations(sorted(blocks)))
    lines = [line for key in keys for line in blocks[key]]
    if draw(st.booleans()):
        lines.append("# " + draw(comment_text))
    return KubeletCase("\n".join(lines) + "\n", ours)


def _without_gate(tree: Any) -> Any:
    """parse_plain() output with our gate (and a featureGates map it alone made) removed."""
    ((_, items),) = tree
    out = []
    for key, value in items:
        if key == "featureGates":
            ((_, gates),) = value
            gates = [(k, v) for k, v in gates if k != GATE]
            if not gates:
                continue
            value = [("map", gates)]
        out.append((key, value))
    return [("map", out)]


@SETTINGS
@given(kubelet_configs())
def test_kubelet_config_edit_is_minimal(case: KubeletCase) -> None:
    edit = edit_kubelet_config_text(case.text, "config.yaml")
    new = case.text if edit.text is None else edit.text
    assert (edit.text is None) == (case.ours == "true")
    tree = parse_plain(new)
    assert new.count(GATE) == 1
    ((_, items),) = tree
    ((_, gates),) = dict(items)["featureGates"]
    assert dict(gates)[GATE] is True
    assert _without_gate(tree) == _without_gate(parse_plain(case.text))
    removed, added = _diff_lines(case.text, new)
    if case.ours == "true":
        assert new == case.text
    elif case.ours == "false":
        assert len(removed) == 1 and GATE in removed[0]
        assert added == [removed[0].replace("false", "true", 1)]
    else:
        assert removed == []
        assert all(GATE in line or line == "featureGates:" for line in added)
        assert len(added) <= 2


# ---------------------------------------------------------------- static Pod manifests


@dataclass
class ManifestCase:
    text: str
    ours: str
    form: str


# ":" inside a value is fine in a plain YAML scalar, at the end it would make a mapping.
flag_value = st.text(LOWER + "0123456789./:", min_size=1, max_size=12).map(lambda v: f"x{v}0")
flag = st.tuples(word, flag_value).map(lambda t: f"--{t[0]}={t[1]}")


@st.composite
def manifests(draw: st.DrawFn) -> ManifestCase:
    mapping = draw(st.sampled_from([2, 4]))
    offset = draw(st.sampled_from([0, 2]))
    flags = draw(st.lists(flag, max_size=6, unique=True))
    flags = [f for f in flags if not f.startswith("--feature-gates")]
    ours = draw(state)
    form = draw(st.sampled_from(["none", "eq", "split"]))
    others = draw(st.lists(st.tuples(gate_name, bool_word), min_size=1, max_size=3))
    gate_list = ",".join(f"{k}={v}" for k, v in _gates(others, ours, draw(st.integers(0, 3))))
    if form == "none":
        ours = "absent"
    args: list[list[str]] = [[f] for f in flags]
    if form == "eq":
        args.append([f"--feature-gates={gate_list}"])
    elif form == "split":
        args.append(["--feature-gates", gate_list])  # kept together when shuffled
    if draw(st.booleans()):
        args.sort()
    else:
        args = draw(st.permutations(args))
    command = ["kube-apiserver"] + [a for group in args for a in group]

    p1, dash = " " * mapping, " " * offset
    # "- command:" sits ``offset`` columns right of "containers:", and the command items
    # ``offset`` columns right of "command:" (which is 2 right of its "-").
    list_pad = f"{p1}{dash}  {dash}"
    lines = [
        "apiVersion: v1",
        "kind: Pod",
        "metadata:",
        f"{p1}name: kube-apiserver",
        f"{p1}namespace: kube-system{draw(eol)}",
        "spec:",
        f"{p1}containers:",
        f"{p1}{dash}- command:",
    ]
    for arg in command:
        if draw(st.integers(0, 4)) == 0:
            lines.append(f"{list_pad}# {draw(comment_text)}")
        lines.append(f"{list_pad}- {_quoted(arg, draw(quote_style))}{draw(eol)}")
    lines += [
        f"{p1}{dash}  image: k8s.gcr.io/kube-apiserver:v1.21.3",
        f"{p1}{dash}  name: kube-apiserver",
        f"{p1}hostNetwork: true",
    ]
    return ManifestCase("\n".join(lines) + "\n", ours, form)


def _strip_gate_list(value: str) -> str:
    return ",".join(e for e in value.split(",") if e.split("=")[0] != GATE)


def _normal_command(command: list[str]) -> list[str]:
    out: list[str] = []
    after_flag = False
    for arg in command:
        if after_flag:
            out.append(_strip_gate_list(arg))
            after_flag = False
        elif arg.startswith("--feature-gates="):
            rest = _strip_gate_list(arg[len("--feature-gates=") :])
            if rest:
                out.append("--feature-gates=" + rest)
        else:
            after_flag = arg == "--feature-gates"
            out.append(arg)
    return out


def _command_of(tree: Any) -> list[str]:
    ((_, top),) = tree
    ((_, spec),) = dict(top)["spec"]
    container = dict(spec)["containers"][0]
    ((_, fields),) = container
    return list(dict(fields)["command"])


@SETTINGS
@given(manifests())
def test_manifest_edit_is_minimal(case: ManifestCase) -> None:
    edit = edit_manifest_text(case.text, "kube-apiserver.yaml")
    new = case.text if edit.text is None else edit.text
    assert (edit.text is None) == (case.ours == "true")
    assert new.count(GATE) == 1
    old_tree, new_tree = parse_plain(case.text), parse_plain(new)
    new_command = _command_of(new_tree)
    assert f"{GATE}=true" in ",".join(new_command)
    assert _normal_command(new_command) == _normal_command(_command_of(old_tree))
    # outside the command list nothing changed
    assert str(old_tree).replace(str(_command_of(old_tree)), "") == str(new_tree).replace(
        str(new_command), ""
    )
    removed, added = _diff_lines(case.text, new)
    if case.ours == "true":
        assert new == case.text
        return
    assert len(added) == 1 and GATE in added[0]
    if case.ours == "false":
        assert removed == [added[0].replace(f"{GATE}=true", f"{GATE}=false")]
    elif case.form == "none":
        assert removed == []
        item = added[0].strip()
        assert item.startswith("- ")
        assert item[2:].strip("'\"") == f"--feature-gates={GATE}=true"
    else:
        assert removed == [added[0].replace(f",{GATE}=true", "").replace(f"{GATE}=true,", "")]


# ---------------------------------------------------------------- env file


@dataclass
class EnvCase:
    text: str
    ours: str
    has_var: bool


@st.composite
def env_files(draw: st.DrawFn) -> EnvCase:
    outer = draw(st.sampled_from(["none", "double", "single"]))
    inner_choices = {
        "none": ["none", "double", "single"],
        "double": ["none", "single"],
        "single": ["none", "double"],
    }[outer]
    inner = draw(st.sampled_from(inner_choices))
    ours = draw(state)
    form = draw(st.sampled_from(["none", "eq", "split"]))
    others = draw(st.lists(st.tuples(gate_name, bool_word), min_size=1, max_size=3))
    gate_list = ",".join(f"{k}={v}" for k, v in _gates(others, ours, draw(st.integers(0, 3))))
    if form == "none":
        ours = "absent"
    quoted_value = _quoted(gate_list, "plain" if inner == "none" else inner)
    words = draw(st.lists(flag, max_size=5, unique=True))
    if form != "none":
        gate_word = (
            f"--feature-gates={quoted_value}" if form == "eq" else f"--feature-gates {quoted_value}"
        )
        words.insert(draw(st.integers(0, len(words))), gate_word)
    value = " ".join(words)
    value = _quoted(value, "plain" if outer == "none" else outer)
    has_var = draw(st.booleans()) or form != "none"
    lines = draw(
        st.lists(
            st.one_of(
                comment_text.map(lambda c: "# " + c),
                st.just(""),
                st.tuples(word, word).map(lambda t: f"{t[0].upper()}={t[1]}"),
            ),
            max_size=5,
        )
    )
    if has_var:
        lines.insert(draw(st.integers(0, len(lines))), f"KUBELET_EXTRA_ARGS={value}")
    return EnvCase("".join(line + "\n" for line in lines), ours, has_var)


def _normal_words(value: str) -> list[str]:
    return _normal_command(shlex.split(value))


def _var_value(text: str) -> str:
    values = [
        ln.split("=", 1)[1] for ln in text.splitlines() if ln.startswith("KUBELET_EXTRA_ARGS=")
    ]
    return values[-1] if values else ""


@SETTINGS
@given(env_files())
def test_env_edit_is_minimal(case: EnvCase) -> None:
    edit = edit_env_text(case.text, "/etc/default/kubelet")
    new = case.text if edit.text is None else edit.text
    assert (edit.text is None) == (case.ours == "true")
    assert new.count(GATE) == 1
    old_value, new_value = _var_value(case.text), _var_value(new)
    # what the kubelet receives once systemd/the shell have removed the quotes
    (new_args,) = [shlex.split(new_value)] if new_value else [[]]
    assert f"{GATE}=true" in " ".join(new_args)
    assert _normal_words(" ".join(shlex.split(new_value))) == _normal_words(
        " ".join(shlex.split(old_value))
    )
    removed, added = _diff_lines(case.text, new)
    if case.ours == "true":
        assert new == case.text
        return
    assert len(added) == 1 and added[0].startswith("KUBELET_EXTRA_ARGS=")
    assert len(removed) == (1 if case.has_var else 0)
    if removed:
        assert removed[0].startswith("KUBELET_EXTRA_ARGS=")
