"""Shell completion: ``podscope completion bash|zsh|fish`` and the ``__complete`` protocol.

One engine answers every shell and kubectl: the shell scripts and kubectl's plugin completion
(``kubectl_complete-podscope``) all call ``podscope __complete WORD... PARTIAL`` and read one
candidate a line, then a ``:N`` line (cobra's directive: 4 means "no file names"), which is
the format kubectl expects of a plugin. Candidates come from the flag table (commands, flags,
choices) and, for names, from the cluster: one API call at most, with short timeouts, and
nothing at all (no error) when there is no cluster.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from podscope.cli import flags

NO_FILES = 4
FILES = 0
WORKLOAD_PREFIXES = ("deploy/", "sts/", "ds/", "rs/", "job/", "node/")
SHELLS = ("bash", "zsh", "fish")
# Commands with their own flags outside the table.
OTHER_COMMANDS = {"node": ("enable-gate",), "completion": SHELLS, "version": ()}

_BASH = """\
# podscope completion for bash: source <(podscope completion bash)
_podscope_complete() {
    local IFS=$'\\n' out directive
    out=$("${COMP_WORDS[0]}" __complete "${COMP_WORDS[@]:1:$COMP_CWORD}" 2>/dev/null)
    directive=${out##*:}
    COMPREPLY=($(printf '%s\\n' "$out" | sed '$d'))
    if [[ ${#COMPREPLY[@]} -eq 0 && $directive != 4 ]]; then
        COMPREPLY=($(compgen -f -- "${COMP_WORDS[COMP_CWORD]}"))
    fi
}
complete -o nosort -F _podscope_complete podscope kubectl-podscope 2>/dev/null \\
    || complete -F _podscope_complete podscope kubectl-podscope
"""

_ZSH = """\
#compdef podscope kubectl-podscope
# podscope completion for zsh: source <(podscope completion zsh)
_podscope() {
    local -a lines
    lines=("${(@f)$(${words[1]} __complete "${(@)words[2,$CURRENT]}" 2>/dev/null)}")
    local directive=${lines[-1]#:}
    lines=("${(@)lines[1,-2]}")
    if (( ${#lines} )); then
        compadd -Q -- "${lines[@]}"
    elif [[ $directive != 4 ]]; then
        _files
    fi
}
compdef _podscope podscope kubectl-podscope
"""

_FISH = """\
# podscope completion for fish: podscope completion fish | source
function __podscope_complete
    set -l words (commandline -opc) (commandline -ct)
    $words[1] __complete $words[2..-1] 2>/dev/null | string match -v -r '^:[0-9]+$'
end
complete -c podscope -f -a '(__podscope_complete)'
complete -c kubectl-podscope -f -a '(__podscope_complete)'
"""

SCRIPTS = {"bash": _BASH, "zsh": _ZSH, "fish": _FISH}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "completion",
        help="print the shell completion script for bash, zsh or fish",
        description=(
            "Print a completion script. bash: source <(podscope completion bash); zsh: source "
            "<(podscope completion zsh); fish: podscope completion fish | source. kubectl "
            "podscope <Tab> works through the kubectl_complete-podscope command."
        ),
    )
    parser.add_argument("shell", choices=SHELLS, help="the shell")
    parser.set_defaults(func=_print_script)


def _print_script(args: argparse.Namespace) -> int:
    sys.stdout.write(SCRIPTS[args.shell])
    return 0


def _value_flags(command: str) -> dict[str, flags.Flag]:
    """Flag name -> flag, for the flags of ``command`` that take a value."""
    named: dict[str, flags.Flag] = {}
    for key in flags.COMMAND_FLAGS.get(command, ()):
        flag = flags.FLAGS[key]
        if flag.kind in ("value", "repeat"):
            for name in flag.names:
                named[name] = flag
    return named


def _flag_names(command: str) -> list[str]:
    names: list[str] = []
    for key in flags.COMMAND_FLAGS.get(command, ()):
        flag = flags.FLAGS[key]
        for name in flag.names:
            if not name.startswith("--") and len(flag.names) > 1:
                continue  # offer the long form; short forms are for typing
            names.append(name)
            if flag.kind == "negatable":
                names.append("--no-" + name[2:])
    return names


def _given(command: str, words: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """The values of value flags, and the positional words, typed so far."""
    values: dict[str, str] = {}
    positionals: list[str] = []
    takes = _value_flags(command)
    skip = False
    for index, word in enumerate(words):
        if skip:
            skip = False
            continue
        if word == "--":
            break
        if word.startswith("-"):
            name, eq, value = word.partition("=")
            if name in takes:
                if eq:
                    values[takes[name].dest] = value
                elif index + 1 < len(words):
                    values[takes[name].dest] = words[index + 1]
                    skip = True
            continue
        positionals.append(word)
    return values, positionals


LiveLookup = Callable[[str, dict[str, str], str], list[str]]


def complete(words: Sequence[str], live: LiveLookup | None = None) -> tuple[list[str], int]:
    """Candidates for the last of ``words`` (the partial word; ``""`` for a new one).

    ``words`` are the command line after the program's name. ``live(kind, given, partial)``
    looks names up in the cluster; it is never called for flags or fixed choices.
    """
    lookup = live or live_names
    *before, partial = list(words) or [""]
    if not before:
        commands = [*flags.COMMAND_FLAGS, *OTHER_COMMANDS]
        return sorted(c for c in commands if c.startswith(partial)), NO_FILES
    command, rest = before[0], before[1:]
    if command in OTHER_COMMANDS:
        options = OTHER_COMMANDS[command] if not rest else ()
        return [o for o in options if o.startswith(partial)], NO_FILES
    if command not in flags.COMMAND_FLAGS or "--" in rest:
        return [], FILES
    given, positionals = _given(command, rest)
    if positionals:
        given["pod"] = positionals[0]  # the Pod whose containers -c/--target complete
    takes = _value_flags(command)
    if partial.startswith("-") and "=" in partial:
        name, _, value = partial.partition("=")
        flag = takes.get(name)
        found = _values(flag, given, value, lookup) if flag else []
        return [f"{name}={v}" for v in found], NO_FILES
    if partial.startswith("-"):
        return [n for n in _flag_names(command) if n.startswith(partial)], NO_FILES
    if rest and rest[-1] in takes:
        flag = takes[rest[-1]]
        if flag.complete == "files" or (flag.complete is None and flag.choices is None):
            return [], FILES if flag.complete == "files" else NO_FILES
        return _values(flag, given, partial, lookup), NO_FILES
    slots = [
        flags.FLAGS[k]
        for k in flags.COMMAND_FLAGS[command]
        if flags.FLAGS[k].kind in ("positional", "optional", "many")
    ]
    index = min(len(positionals), len(slots) - 1) if slots else -1
    if index < 0 or (slots[index].kind != "many" and len(positionals) >= len(slots)):
        return [], NO_FILES
    slot = slots[index]
    if slot.complete in (None, "files"):
        return [], FILES
    return _values(slot, given, partial, lookup), NO_FILES


def _values(flag: flags.Flag, given: dict[str, str], partial: str, lookup: LiveLookup) -> list[str]:
    if flag.choices is not None:
        return [c for c in flag.choices if c.startswith(partial)]
    kind = flag.complete
    if kind is None or kind == "files":
        return []
    if kind == "workloads" and "/" not in partial:
        prefixes = [p for p in WORKLOAD_PREFIXES if p.startswith(partial)]
        return prefixes + lookup("pods", given, partial)
    if kind == "pod-paths":
        if ":" in partial:
            return []
        return [f"{name}:" for name in lookup("pods", given, partial)]
    return lookup(kind, given, partial)


def live_names(kind: str, given: dict[str, str], partial: str) -> list[str]:
    """Names from the cluster (one request), or none when it cannot be asked."""
    try:
        return [n for n in _ask_cluster(kind, given, partial) if n.startswith(partial)]
    except Exception:  # noqa: BLE001 - completion never fails loudly
        return []


def _ask_cluster(kind: str, given: dict[str, str], partial: str) -> list[str]:
    if kind == "contexts":
        from podscope.kube.config import context_names

        return context_names(given.get("kubeconfig"))
    from podscope.kube.quick import NotQuick, get_json

    def fetch(path_of: Callable[[str], str | None]) -> Any:
        """One GET: the quick path, else the full client (exec plugins, proxies...)."""
        try:
            namespace = given.get("namespace")
            if namespace is None:
                from podscope.kube.config import choose_context, kubeconfig_files, read_kubeconfig

                merged = read_kubeconfig(kubeconfig_files(options["kubeconfig"]))
                namespace = choose_context(merged, options["context"]).namespace
            path = path_of(namespace)
            if path is None:
                return None
            return get_json(path, **options)[0]
        except NotQuick:
            return _full_client_get(given, path_of)

    options: dict[str, Any] = {
        "kubeconfig": given.get("kubeconfig"),
        "context": given.get("context"),
    }
    if kind in ("containers", "ephemeral-containers"):
        pod = given.get("pod", "").split("/")[-1]
        found = fetch(lambda ns: f"/api/v1/namespaces/{ns}/pods/{pod}" if pod else None) or {}
        spec = found.get("spec") or {}
        keys = ("containers", "initContainers", "ephemeralContainers")
        return [
            str(c.get("name"))
            for key in (keys[2:] if kind == "ephemeral-containers" else keys)
            for c in spec.get(key) or []
        ]
    if kind == "workloads" and "/" in partial:
        from podscope.rules.workloads import WORKLOAD_KINDS

        prefix = partial.partition("/")[0]
        workload = WORKLOAD_KINDS.get(prefix.lower())
        if workload is None:
            return []
        found = (
            fetch(lambda ns: f"/apis/{workload.group}/v1/namespaces/{ns}/{workload.plural}") or {}
        )
        return [f"{prefix}/{_name(i)}" for i in found.get("items") or []]
    paths: dict[str, Callable[[str], str | None]] = {
        "namespaces": lambda ns: "/api/v1/namespaces",
        "nodes": lambda ns: "/api/v1/nodes",
    }
    found = fetch(paths.get(kind, lambda ns: f"/api/v1/namespaces/{ns}/pods")) or {}
    return sorted(_name(i) for i in found.get("items") or [])


def _name(item: dict[str, Any]) -> str:
    return str((item.get("metadata") or {}).get("name"))


def _full_client_get(given: dict[str, str], path_of: Callable[[str], str | None]) -> Any:
    from podscope.kube.config import connect

    client = connect(
        given.get("kubeconfig"),
        given.get("context"),
        given.get("namespace"),
        request_timeout=2.0,
        connect_timeout=1.0,
    )
    try:
        path = path_of(client.namespace)
        if path is None:
            return None
        return client.get_path(path)
    finally:
        client.close()


def main(argv: Sequence[str] | None = None) -> int:
    """``podscope __complete WORDS...`` and the ``kubectl_complete-podscope`` command."""
    words = list(sys.argv[1:] if argv is None else argv)
    if words and words[0] == "__complete":
        words = words[1:]
    candidates, directive = complete(words)
    for candidate in candidates:
        sys.stdout.write(candidate + "\n")
    sys.stdout.write(f":{directive}\n")
    return 0
