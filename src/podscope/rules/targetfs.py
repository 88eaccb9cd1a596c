"""Reach the target container's file system from a debug container (``--cd``, ``--chroot``, cp).

A debug container that targets a container shares its PID namespace, so the target's main
process is visible, and ``/proc/<pid>/root`` is the target's root file system as the
application sees it. The debugger finds that process itself with a small POSIX shell script
(kept here as data): the lowest PID that is neither in the debugger's own mount namespace nor
the Pod's pause process, preferring one whose cgroup names the target's container ID (in a
Pod with ``shareProcessNamespace`` other containers' processes are visible too).

User values (paths, commands) are never interpolated into the script: they are passed as
positional parameters after it and only ever expanded inside double quotes, so a path such
as ``/x"; rm -rf /; "`` is just an odd directory name.

Reading ``/proc/<pid>/root`` of a process owned by another user needs CAP_SYS_PTRACE (the
``general`` profile) or the same user (``--as-target-user``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from podscope.errors import UsageError, ValidationError
from podscope.rules._fmt import quote

Mode = Literal["cd", "chroot"]

# Exit code of the wrapper when it cannot reach the target (126: "cannot execute").
WRAPPER_FAILED = 126

# $0 of the wrapper: shows up in `ps` inside the Pod, so it says what it is.
SCRIPT_NAME = "podscope-target-root"

# Sets $pid to the target's main process. $1: the target's container ID (may be empty).
# Variables are prefixed: the script is sourced into the wrappers below.
FIND_TARGET = r"""
P=/proc
podscope_find_target() {
  _self=$(readlink "$P/self/ns/mnt" 2>/dev/null)
  _best= _hinted=
  for _d in "$P"/[0-9]*; do
    _p=${_d##*/}
    case $_p in *[!0-9]*|'') continue ;; esac
    [ -d "$_d" ] || continue
    if [ -n "$_self" ] && [ "$(readlink "$_d/ns/mnt" 2>/dev/null)" = "$_self" ]; then
      continue
    fi
    _c=
    read -r _c 2>/dev/null <"$_d/comm"
    if [ "$_p" = 1 ] && [ "$_c" = pause ]; then
      continue
    fi
    if [ -n "$1" ] && grep -qF -- "$1" "$_d/cgroup" 2>/dev/null; then
      if [ -z "$_hinted" ] || [ "$_p" -lt "$_hinted" ]; then _hinted=$_p; fi
    fi
    if [ -z "$_best" ] || [ "$_p" -lt "$_best" ]; then _best=$_p; fi
  done
  pid=${_hinted:-$_best}
}
podscope_fail() {
  printf 'podscope: %s\n' "$*" >&2
  exit 126
}
podscope_busybox() {
  # This shell's own binary, when it is busybox: static, so it also runs inside the
  # target's root, reached through /proc/$$/root of this (still unchrooted) shell.
  _bb=$(readlink "$P/$$/exe" 2>/dev/null)
  [ "${_bb##*/}" = busybox ] || _bb=
}
podscope_enter() {
  podscope_find_target "$1"
  [ -n "$pid" ] || podscope_fail "cannot find the target container's process from the debug \
container (it must target the container and share its process namespace)"
  root=$P/$pid/root
  if ! (cd "$root/") 2>/dev/null; then
    _them=$(stat -c '%u:%g' "$P/$pid" 2>/dev/null)
    podscope_fail "cannot open the target's root file system ($root): permission denied; \
the target runs as ${_them:-another user}, the debugger as $(id -u):$(id -g): use --profile \
general (adds SYS_PTRACE), or run as the same user and group (--user ${_them:-UID:GID})"
  fi
}
"""

# argv after the script: MODE PATH CONTAINER_ID [COMMAND...]
DEBUG_WRAPPER = (
    FIND_TARGET
    + r"""
mode=$1 path=$2
podscope_enter "$3"
shift 3
export PODSCOPE_TARGET_ROOT="$root"
[ $# -gt 0 ] || set -- sh
case $mode in
cd)
  # Resolve the path as the target would (its absolute symlinks point into its own root,
  # not the debug image's) when chroot is allowed; else take it as it is.
  podscope_busybox
  [ -n "$_bb" ] &&
    _r=$(chroot "$root" "$P/$$/root$_bb" readlink -f "${path:-/}" 2>/dev/null) &&
    [ -n "$_r" ] && path=$_r
  cd "$root$path" 2>/dev/null || podscope_fail "the target has no directory ${path:-/}"
  # The directory is outside the debugger's own root, so getcwd() fails there; programs
  # such as pwd fall back on $PWD.
  export PWD="$root$path"
  exec "$@"
  ;;
chroot)
  case $1 in
  */*) exec chroot "$root" "$@" ;;
  esac
  podscope_busybox
  if [ -z "$_bb" ] || chroot "$root" "$P/$$/root$_bb" which "$1" >/dev/null 2>&1; then
    exec chroot "$root" "$@"
  fi
  # Not in the target: run the debug image's own program with the target's root. It is
  # reached through this shell's /proc entry, so this shell must outlive it (no exec).
  _own=
  if [ -n "$_bb" ] && "$_bb" --list 2>/dev/null | grep -qxF -- "$1"; then
    _own=$_bb
  else
    _IFS=$IFS IFS=:
    for _d in $PATH; do
      if [ -f "$_d/$1" ] && [ -x "$_d/$1" ]; then _own=$(readlink -f "$_d/$1"); break; fi
    done
    IFS=$_IFS
  fi
  [ -n "$_own" ] || podscope_fail "$1: not found in the target nor in the debug image"
  printf 'podscope: %s is not in the target; running the debug image'"'"'s %s\n' "$1" "$_own" >&2
  if [ "${_own##*/}" = busybox ]; then
    set -- "$P/$$/root$_own" "$@"
  else
    shift
    set -- "$P/$$/root$_own" "$@"
  fi
  trap : INT QUIT
  chroot "$root" "$@"
  exit
  ;;
esac
podscope_fail "unknown mode $mode"
"""
)


@dataclass(frozen=True)
class TargetRoot:
    """Where the debug command starts: ``cd`` into ``path`` of the target, or ``chroot``."""

    mode: Mode
    path: str = "/"


def container_path(path: str, label: str, *, where: str = "", remedy: str | None = None) -> str:
    """``path`` (not empty) as an absolute, normalized path in a container's file system.

    Refused, ``label`` first, when it holds control characters, is relative (with
    ``remedy``), or has a ``..``: through ``/proc/PID/root`` that would leave the target's
    root, so it is refused rather than guessed. ``where`` follows "the path" (`` in the Pod``).
    """
    if any(not ch.isprintable() for ch in path):
        raise UsageError(f"{label}: the path contains control characters")
    if not path.startswith("/"):
        raise UsageError(f"{label}: the path{where} must be absolute", remedy=remedy)
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UsageError(f"{label}: the path{where} must not contain '..'")
    return "/" + "/".join(parts)


def normalize_target_path(path: str, flag: str = "--cd") -> str:
    """``path`` as an absolute, normalized path inside the target (no ``..`` left over)."""
    if not isinstance(path, str) or not path:
        raise UsageError(f"{flag} needs a path inside the target, such as /etc")
    return container_path(
        path, f"{flag} {quote(path)}", remedy="give it as the application in the target sees it"
    )


def wrap_command(
    target_root: TargetRoot,
    command: list[str],
    container_id: str | None = None,
) -> list[str]:
    """The debug container's ``command``: the wrapper script, then ``command`` as its words.

    ``container_id`` (the target's ``containerID`` from the Pod status, runtime prefix
    allowed) helps find the right process when several containers share the namespace.
    """
    if target_root.mode not in ("cd", "chroot"):
        raise ValidationError(f"unknown target root mode {quote(target_root.mode)}")
    path = normalize_target_path(target_root.path)
    if target_root.mode == "cd" and path == "/":
        # "$root$path" would be /proc/PID/root/, which is fine, but keep it tidy.
        path = ""
    if not all(isinstance(word, str) for word in command):
        raise ValidationError("command must be a list of strings", field="command")
    return [
        "sh",
        "-c",
        kube_escape(DEBUG_WRAPPER),
        SCRIPT_NAME,
        target_root.mode,
        kube_escape(path),
        container_id_of(container_id),
        *command,
    ]


def kube_escape(word: str) -> str:
    """``word`` as a container command word that the kubelet gives back unchanged.

    The kubelet expands ``$(VAR)`` in ``command``/``args`` and reduces ``$$`` to ``$``;
    doubling every ``$`` makes both a no-op. (The user's own words after ``--`` are left as
    they are: there, ``$(VAR)`` is a documented Kubernetes feature.)
    """
    return word.replace("$", "$$")


def kube_unescape(word: str) -> str:
    """What the kubelet makes of a word without ``$(VAR)`` references (for tests)."""
    out, i = [], 0
    while i < len(word):
        if word.startswith("$$", i):
            out.append("$")
            i += 2
        else:
            out.append(word[i])
            i += 1
    return "".join(out)


def container_id_of(container_id: str | None) -> str:
    """The bare ID of ``containerd://abc...`` (what appears in /proc/PID/cgroup)."""
    if not container_id or not isinstance(container_id, str):
        return ""
    bare = container_id.split("://", 1)[-1]
    # Only hex IDs are trusted as a hint; anything else cannot match a cgroup path anyway.
    return bare if bare and all(ch in "0123456789abcdef" for ch in bare) else ""


def check_target_root_profile(target_root: TargetRoot, profile: str) -> None:
    """Refuse combinations that cannot work, before a container that cannot be removed exists."""
    if target_root.mode == "chroot" and profile == "restricted":
        raise UsageError(
            "--chroot needs the CAP_SYS_CHROOT capability, which --profile restricted drops",
            remedy="use --cd PATH instead (it needs no capability with --as-target-user)",
        )


# The script `podscope cp` runs (by exec) in the debugger it copies through. argv after the script:
# OP CONTAINER_ID ARGS... Every file access happens inside the target's root (chroot with
# the helper's static busybox), so the target's symlinks, absolute ones included, resolve
# inside the target and never into the helper's file system.
#   probe PATH        -> "owner UID GID", then "dir SIZE_KIB" | "file BYTES" | "other" | "none",
#                        then "parent dir" | "parent none" (the directory holding PATH)
#   out DIR NAME      -> tar of DIR/NAME on stdout
#   in DIR            -> extract the tar on stdin into DIR
#   sum DIR BUSYBOX   -> for each name read on stdin, its sha256 (or "?") on stdout
CP_SCRIPT = (
    FIND_TARGET
    + r"""
op=$1
podscope_enter "$2"
shift 2
podscope_busybox
[ -n "$_bb" ] || podscope_fail "the helper image's sh is not busybox; podscope cp needs a \
static busybox image (such as busybox) for --image"
in_root() { chroot "$root" "$P/$$/root$_bb" "$@"; }
case $op in
probe)
  echo "owner $(stat -c '%u %g' "$P/$pid")"
  if in_root test -d "$1"; then
    echo "dir $(in_root du -s -k "$1" 2>/dev/null | { read -r k _; echo "${k:-0}"; })"
  elif in_root test -f "$1"; then
    echo "file $(in_root stat -c %s "$1")"
  elif in_root test -e "$1" || in_root test -L "$1"; then
    echo other
  else
    echo none
  fi
  if in_root test -d "$(dirname -- "$1")"; then echo "parent dir"; else echo "parent none"; fi
  ;;
out)
  in_root tar -C "$1" -cf - -- "$2"
  ;;
in)
  in_root tar -C "$1" -xf -
  ;;
sum)
  in_root sh -c '
    cd "$1" || exit 1
    while IFS= read -r f; do
      if [ -f "$f" ] && h=$("$2" sha256sum <"$f"); then echo "${h%% *}"; else echo "?"; fi
    done' podscope-sum "$1" "$P/$$/root$_bb"
  ;;
*)
  podscope_fail "unknown operation $op"
  ;;
esac
"""
)

CP_SCRIPT_NAME = "podscope-cp"
# The helper's own process: it only has to stay alive for the execs.
HELPER_COMMAND: tuple[str, ...] = ("sleep", "2147483647")


def cp_command(op: str, container_id: str | None, *args: str) -> list[str]:
    """The exec command for one ``podscope cp`` step (exec words are not expanded)."""
    if op not in ("probe", "out", "in", "sum"):
        raise ValidationError(f"unknown cp operation {quote(op)}")
    return ["sh", "-c", CP_SCRIPT, CP_SCRIPT_NAME, op, container_id_of(container_id), *args]
