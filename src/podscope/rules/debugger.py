"""Debuggers: long-lived, idle ephemeral containers that every command is exec'd into.

A debugger's main process (the *holder*, a small POSIX shell script kept here as data) only
holds the container open. It ends when ``podscope stop`` signals it, or once it has gone
``ttl`` seconds without a session. Sessions are exec'd through :func:`session_command`, which
puts a marker naming the debugger into the session's environment; the holder looks for that
marker in ``/proc/*/environ`` to tell whether a session runs (so a session is never cut).
The holder looks only every few seconds, which a short command falls between; so each
session also writes the uptime it started at into a file of the container (shell builtins
only: any image with ``sh`` can), and the holder counts from the later of the two.

An ephemeral container cannot carry labels, so a debugger is recognised by its env:
``PODSCOPE_DEBUGGER`` holds a key, a hash of everything in the container that a session could
notice (image, target, profile, user, env, mounts, ...). A later request that builds the same
container finds the live debugger by that key and execs into it.

Everything here is pure.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from podscope.errors import UsageError
from podscope.rules._duration import parse_seconds

DEBUGGER_ENV = "PODSCOPE_DEBUGGER"
SESSION_ENV = "PODSCOPE_SESSION"
HOLDER_NAME = "podscope-holder"
SESSION_NAME = "podscope-session"
# Where the holder keeps "PID LAST-SESSION-UPTIME TTL", for `ls` to show the time left.
STATE_FILE = "/tmp/.podscope-holder"
# Where each session writes the uptime (whole seconds) it started at, followed by the
# debugger's name: the name keeps two debuggers apart should they share a /tmp (a volume
# mounted there with --copy-mounts).
SESSION_MARK = "/tmp/.podscope-session-"
# The holder's exit codes: expired (no session for ttl seconds), stopped (SIGTERM).
EXPIRED_EXIT = 0
STOPPED_EXIT = 143
# The holder looks for sessions this often (seconds); it bounds how late a TTL ends it.
CHECK_SECONDS = 5
DEFAULT_TTL = "15m"
# Exit code of the stop command when no holder was found (it had already ended).
NO_HOLDER_EXIT = 3

# The holder's script travels in this variable of the debugger's env, so that its command
# line (what `ps` in a session shows) is one short line: sh -c 'eval "$VAR"' podscope-holder
# TTL NAME/. Sessions unset it before running the user's command.
HOLDER_ENV = "PODSCOPE_HOLDER_SCRIPT"
# $1: ttl in seconds, $2: "NAME/". $$ and $! are escaped for the kubelet by make_debugger().
HOLDER_SCRIPT = r"""stopped() {
  kill $! 2>/dev/null
  echo stopped >/dev/termination-log 2>/dev/null
  exit 143
}
trap stopped TERM INT HUP
ttl=$1 me=$2
read -r up _ </proc/uptime
last=${up%.*}
while :; do
  read -r up _ </proc/uptime
  now=${up%.*}
  if grep -qs "PODSCOPE_SESSION=$me" /proc/[0-9]*/environ; then last=$now; fi
  mark=
  { read -r mark <"/tmp/.podscope-session-${me%/}"; } 2>/dev/null
  s=${mark%% *}
  case $s in ''|*[!0-9]*) ;; *) [ "$s" -gt "$last" ] && last=$s ;; esac
  left=$((ttl - now + last))
  echo "$$ $last $ttl" >/tmp/.podscope-holder 2>/dev/null
  if [ "$left" -le 0 ]; then
    said="expired unguarded"
    if true 2>/dev/null >"/tmp/.podscope-ending-${me%/}"; then
      said=expired
      again=
      { read -r again <"/tmp/.podscope-session-${me%/}"; } 2>/dev/null
      if [ "$again" != "$mark" ]; then
        rm -f "/tmp/.podscope-ending-${me%/}"
        last=$now
        continue
      fi
    fi
    echo "$said" >/dev/termination-log 2>/dev/null
    exit 0
  fi
  [ "$left" -gt 5 ] && left=5
  sleep "$left" &
  wait $!
done
"""

# Runs the session's words with the marker in their environment, after writing the uptime
# it starts at and its own marker where the holder reads them (a failed write, on a
# read-only /tmp, is silent: the holder's scan still sees sessions that last). $1: "NAME/ID".
#
# The guard against a TTL running out as a session begins: a holder whose time is up first
# makes the "ending" file, then reads the session file again; a session first writes the
# session file, then looks for the "ending" file. Whichever comes second sees the other: the
# holder goes on (and removes the file), or the session waits while the file is there (the
# holder that made it either goes on or ends, and the container with it), so a command
# never starts in a debugger that is ending. After 3 s it runs anyway (no holder wrote it).
#
# Its PID (the command's once exec'd) goes into the file too, and it gives up if its own
# marker is in the debugger's cancel file: so END_SESSION_SCRIPT also ends a session whose
# command had not started yet (its process does not show the marker until the exec).
_SESSION_START = (
    f"PODSCOPE_SESSION=$1; export PODSCOPE_SESSION; unset {HOLDER_ENV}; n=${{1%%/*}}; "
    '{ read -r up _ </proc/uptime && echo "${up%.*} $1 $$" >"/tmp/.podscope-session-$n"; } '
    '2>/dev/null; { while read -r c; do [ "$c" = "$1" ] && exit 130; done '
    '<"/tmp/.podscope-cancel-$n"; } 2>/dev/null; i=0; '
    'while [ -e "/tmp/.podscope-ending-$n" ] && [ "$i" -lt 30 ]; do '
    "sleep 0.1 2>/dev/null || sleep 1; i=$((i + 1)); done; shift; "
)
SESSION_SCRIPT = _SESSION_START + 'exec "$@"'


# Ends the processes of session $e ("NAME/ID": a session's own marker): TERM, then KILL for
# those still there after two seconds. A process whose environ no longer shows the marker
# has ended (a zombie's reads empty: in a PID namespace whose init is the target's app,
# nothing may ever reap it). It looks again every tenth of a second and TERMs what it had
# not seen: a process a session forks shows the marker only once it has exec'd, and a TERM
# that reaches it before then may be lost (seen with busybox sh, one time in about twenty
# in a tight loop here). ``also`` adds PIDs of the session's own that show no marker.
# Exits 0, whether or not anything was left to end.
def _ending(also: str) -> str:
    return (
        "sent= i=0\n"
        "while :; do\n"
        "  left=\n"
        '  for f in $(grep -ls "PODSCOPE_SESSION=$e" /proc/[0-9]*/environ); do\n'
        '    p=${f#/proc/}; left="$left ${p%/environ}"\n'
        "  done\n"
        f"  {also}\n"
        '  [ -n "$left" ] || exit 0\n'
        '  [ "$i" -lt 20 ] || break\n'
        "  new=\n"
        '  for p in $left; do case " $sent " in *" $p "*) ;; *) new="$new $p" ;; esac; done\n'
        '  [ -n "$new" ] && kill -TERM $new 2>/dev/null\n'
        '  sent="$sent$new"\n'
        "  sleep 0.1 2>/dev/null || sleep 1\n"
        "  i=$((i + 1))\n"
        "done\n"
        "kill -KILL $left 2>/dev/null\n"
        "exit 0\n"
    )


# A session with no input of its own: its stdin is the exec's stdin stream, which the client
# keeps open and never writes to. Nothing on the server ends an exec'd command when its
# client goes (SIGKILL, a crash): the stream's end reaches the container only as the end of
# that stdin. So the command runs in the background (stdin /dev/null, as without a stream)
# and a watcher waits for that end, then ends the session's processes (see ``_ending``; the
# command's PID counts while it is there), ignoring the TERM the wrapper sends it once the
# command has ended. The wrapper passes a TERM on to the command (END_SESSION_SCRIPT sends
# it there) and waits for the command whatever comes. The wrapper and the watcher do not
# show the marker (it was exported after their exec; the watcher unsets it for what it
# runs), so they are not among the session's processes. The watcher's output goes
# nowhere: the exec ends as soon as the command does, with the command's exit code (128+N
# when a signal ended it). A background command ignores SIGINT and SIGQUIT (POSIX);
# nothing here sends them.
WATCHED_SESSION_SCRIPT = (
    _SESSION_START
    + 'exec 3<&0; t= c=; trap \'t=1; [ -n "$c" ] && kill -TERM "$c" 2>/dev/null\' TERM; '
    + '"$@" </dev/null & c=$!; [ -n "$t" ] && kill -TERM "$c" 2>/dev/null\n'
    + "{ while read -r _; do :; done; trap '' TERM; e=$PODSCOPE_SESSION; unset PODSCOPE_SESSION\n"
    + _ending('kill -0 "$c" 2>/dev/null && left="$left $c"')
    + "} <&3 3<&- >/dev/null 2>&1 & w=$!; exec 3<&-\n"
    + 'while :; do wait "$c"; s=$?; kill -0 "$c" 2>/dev/null || break; done\n'
    + 'kill "$w" 2>/dev/null; exit "$s"\n'
)
# In the holder's script only when it has that guard: an older holder does not.
GUARD_SIGN = "/tmp/.podscope-ending-"

# Ends one session's processes, $1 ("NAME/ID"), as ``_ending`` says. It first puts the
# marker in the debugger's cancel file, then looks for the session: a session first writes
# its PID, then reads that file; whichever comes second sees the other. That PID counts for
# as long as its command line still names the session: a session still in its script, or
# a watched session's wrapper, which waits for its command (while it is there, the command
# may still be on its way to its exec).
END_SESSION_SCRIPT = (
    "n=${1%%/*} e=$1\n"
    'echo "$1" >>"/tmp/.podscope-cancel-$n" 2>/dev/null\n'
    "m= w=\n"
    '{ read -r _ m w _ <"/tmp/.podscope-session-$n"; } 2>/dev/null\n'
    '[ "$m" = "$1" ] || w=\n'
    + _ending('[ -n "$w" ] && grep -qs "$e" "/proc/$w/cmdline" && left="$left $w"')
)

# Keeps watch over a session that has input of its own (a shell, ``-i``), from a second
# exec: its stdin carries only the client's heartbeats (empty lines, so that a kubelet's
# streaming idle timeout, as short as 5 minutes on hardened nodes, does not end it) and a
# last "done" when the session ended as it should. Any other end of that stdin means the
# client has gone without a word, which an exec'd shell never learns (its TTY stays open):
# the session $1 ("NAME/ID") is then ended as END_SESSION_SCRIPT ends it. Its own process
# shows no marker, so it is not one of the session's processes, nor a session of its own.
SESSION_KEEPER_NAME = "podscope-keeper"
SESSION_KEEPER_DONE = b"done\n"
SESSION_KEEPER_SCRIPT = 'while read -r l; do [ "$l" = done ] && exit 0; done\n' + END_SESSION_SCRIPT

# Ends the holder of debugger $1 ("NAME/"): found by its command line, which the pattern
# (with its bracket) cannot match in grep's own command line. The pattern spans the NULs
# between the command line's words: GNU grep matches across them only with -a (busybox's
# either way).
STOP_SCRIPT = r"""for f in $(grep -als "podscope-holde[r].[0-9]*.$1" /proc/[0-9]*/cmdline); do
  p=${f#/proc/}; p=${p%/cmdline}
  kill -TERM "$p" && found=1
done
[ -n "$found" ] || exit 3
"""

# Exits 0 while the holder of debugger $1 ("NAME/") runs, 1 once it has ended. Asked after a
# session was killed: the container's other processes can die a moment before the runtime
# calls the container stopped, so an exec that still goes through proves nothing by itself.
ALIVE_SCRIPT = 'grep -aqs "podscope-holde[r].[0-9]*.$1" /proc/[0-9]*/cmdline'

# Prints "live N" (N sessions run: processes with the marker whose parent has none) or
# "idle SECONDS-LEFT" ("idle -" when unknown), counting from the later of the holder's last
# sighting and the last session's start, as the holder does. $1: "NAME/".
STATUS_SCRIPT = r"""n=0
for f in $(grep -ls "PODSCOPE_SESSION=$1" /proc/[0-9]*/environ); do
  p=${f#/proc/}; p=${p%/environ}; pp=0
  { while read -r k v; do [ "$k" = PPid: ] && pp=$v && break; done </proc/$p/status; } 2>/dev/null
  grep -qs "PODSCOPE_SESSION=$1" /proc/$pp/environ || n=$((n + 1))
done
if [ "$n" -gt 0 ]; then
  echo live $n
  exit 0
fi
read -r up _ </proc/uptime
now=${up%.*}
s=
{ read -r s _ <"/tmp/.podscope-session-${1%/}"; } 2>/dev/null
if { read -r pid last ttl </tmp/.podscope-holder; } 2>/dev/null; then
  case $s in ''|*[!0-9]*) ;; *) [ "$s" -gt "$last" ] && last=$s ;; esac
  echo idle $((ttl - now + last))
else
  echo idle -
fi
"""

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
# Longer than anyone debugs; keeps the holder's arithmetic far from any overflow.
MAX_TTL_SECONDS = 30 * 86400


def parse_duration(text: object, flag: str = "--ttl") -> int:
    """Whole seconds of a duration such as ``90s``, ``15m``, ``1h30m``, ``2d`` or ``600``.

    Zero, negative, fractional-second and unparsable values are refused: a debugger that
    expires at once, or never, is not what anyone asks for.
    """
    fix = f"give {flag} a positive duration such as 90s, 15m or 1h30m"
    seconds = parse_seconds(
        text, flag, part=_DURATION_PART, units=_UNITS, example="15m", fix=fix, fix_wrong_type=False
    )
    if seconds < 1:
        raise UsageError(f"{flag} {text!r} is shorter than a second", remedy=fix)
    if seconds > MAX_TTL_SECONDS:
        raise UsageError(f"{flag} {text!r} is longer than 30 days", remedy=fix)
    return int(seconds)


def format_duration(seconds: float) -> str:
    """``seconds`` as ``1h5m``, ``15m``, ``42s`` (whole seconds, largest units first)."""
    left = max(0, int(seconds))
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if left >= size:
            parts.append(f"{left // size}{unit}")
            left %= size
    if left or not parts:
        parts.append(f"{left}s")
    return "".join(parts)


def _kube_escape(word: str) -> str:
    # The kubelet expands $(VAR) and turns $$ into $ in a container's command.
    return word.replace("$", "$$")


def holder_command(ttl_seconds: int, name: str) -> list[str]:
    """The debugger's ``command``: the holder (its script is in ``HOLDER_ENV``), with its TTL
    and its own name."""
    run = _kube_escape(f'eval "${HOLDER_ENV}"')
    return ["sh", "-c", run, HOLDER_NAME, str(int(ttl_seconds)), f"{name}/"]


def session_command(
    name: str, words: list[str], session: str = "", *, watched: bool = False
) -> list[str]:
    """What to exec for a session running ``words`` in debugger ``name`` (not escaped: an
    exec's command is not expanded by the kubelet). ``session`` (see ``new_session_id``)
    makes the session's marker its own, so that :func:`end_session_command` can end it
    alone; the holder and ``ls`` match the ``NAME/`` it starts with. ``watched``: the
    command ends with the exec's stdin (see ``WATCHED_SESSION_SCRIPT``), for an exec made
    with a stdin stream that carries nothing."""
    if watched and not session:
        raise ValueError("only a session with its own id can be watched")
    script = WATCHED_SESSION_SCRIPT if watched else SESSION_SCRIPT
    return ["sh", "-c", script, SESSION_NAME, f"{name}/{session}", *words]


def new_session_id(random_bytes: bytes) -> str:
    """A session's own part of its marker, from 4 random bytes: always 8 characters, so
    that one session's marker never starts another's."""
    if len(random_bytes) != 4:
        raise ValueError("a session id is made of 4 random bytes")
    return random_bytes.hex()


def end_session_command(name: str, session: str) -> list[str]:
    """What to exec to end the processes of one session of debugger ``name``: a command a
    client left behind (Ctrl-C, a terminating signal) would otherwise keep the debugger
    from expiring, as a session that runs."""
    return _for_one_session(END_SESSION_SCRIPT, "podscope-end-session", name, session, "ended")


def session_keeper_command(name: str, session: str) -> list[str]:
    """What to exec beside session ``session`` of debugger ``name`` so that the session ends
    when its client goes without a word (see ``SESSION_KEEPER_SCRIPT``)."""
    return _for_one_session(SESSION_KEEPER_SCRIPT, SESSION_KEEPER_NAME, name, session, "kept")


def _for_one_session(script: str, role: str, name: str, session: str, done: str) -> list[str]:
    if not session:
        raise ValueError(f"only a session with its own id can be {done} alone")
    return ["sh", "-c", script, role, f"{name}/{session}"]


def stop_command(name: str) -> list[str]:
    return ["sh", "-c", STOP_SCRIPT, "podscope-stop", f"{name}/"]


def alive_command(name: str) -> list[str]:
    return ["sh", "-c", ALIVE_SCRIPT, "podscope-alive", f"{name}/"]


def status_command(name: str) -> list[str]:
    return ["sh", "-c", STATUS_SCRIPT, "podscope-status", f"{name}/"]


def _key_fields(container: dict[str, Any]) -> dict[str, Any]:
    # What makes two debuggers interchangeable: not the name, command, TTL or streams.
    ignored = {"name", "command", "args", "stdin", "stdinOnce", "tty"}
    env = [e for e in container.get("env") or [] if e.get("name") not in (DEBUGGER_ENV, HOLDER_ENV)]
    body = {k: v for k, v in container.items() if k not in ignored and k != "env"}
    if env:
        body["env"] = env
    return body


def debugger_key(container: dict[str, Any]) -> str:
    """What identifies a debugger's container, whatever its name, command and TTL."""
    text = json.dumps(_key_fields(container), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# Fields the API server fills in when a container leaves them out.
_SERVER_DEFAULTED = frozenset(
    {"imagePullPolicy", "resources", "terminationMessagePath", "terminationMessagePolicy"}
)


def key_differences(debugger: dict[str, Any], container: dict[str, Any]) -> list[str]:
    """The fields in which a debugger's spec (as the Pod holds it) and ``container`` (as
    built for a request) differ, by the rules of ``debugger_key``: why one cannot serve for
    the other. A field the server filled in counts only when the request gives it."""
    stored, wanted = _key_fields(debugger), _key_fields(container)
    return sorted(
        k
        for k in set(stored) | set(wanted)
        if stored.get(k) != wanted.get(k) and (k in wanted or k not in _SERVER_DEFAULTED)
    )


def make_debugger(container: dict[str, Any], ttl_seconds: int, nonce: str) -> dict[str, Any]:
    """``container`` (as built for the request) turned into a debugger: the holder as its
    command, its key in its env, no stdin or TTY (sessions bring their own).

    ``nonce`` (unique per creator) makes two creators' containers differ, so that when both
    add one under the same name the API server refuses the second instead of merging the
    two identical patches, and the loser knows it did not create the debugger.
    """
    key = debugger_key(container)
    debugger = {
        k: v
        for k, v in container.items()
        if k not in ("command", "args", "stdin", "stdinOnce", "tty")
    }
    debugger["command"] = holder_command(ttl_seconds, str(container["name"]))
    marker = {"name": DEBUGGER_ENV, "value": f"{key}/{nonce}"}
    script = {"name": HOLDER_ENV, "value": _kube_escape(HOLDER_SCRIPT)}
    debugger["env"] = [*(container.get("env") or []), marker, script]
    return debugger


def key_of(spec: dict[str, Any]) -> str | None:
    """The debugger key of a container spec from a Pod, or None when it is no debugger."""
    for item in spec.get("env") or []:
        if item.get("name") == DEBUGGER_ENV and item.get("value"):
            command = spec.get("command") or []
            if len(command) >= 4 and command[3] == HOLDER_NAME:
                return str(item["value"]).split("/", 1)[0]
    return None


def ttl_of(spec: dict[str, Any]) -> int | None:
    command = spec.get("command") or []
    try:
        return int(command[4])
    except (IndexError, ValueError):
        return None


def name_for(key: str, taken: set[str]) -> str:
    """The name of a new debugger with ``key``: the same for everyone who asks at once, so
    concurrent creators collide on the name (and use the one that won) instead of each
    adding a container. A stopped one keeps its name for good: the next takes ``-2``..."""
    base = f"debugger-{key[:6]}"
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


DebuggerState = Literal["starting", "live", "idle", "running", "stopped", "expired", "failed"]


@dataclass(frozen=True)
class Liveness:
    """A debugger's state for ``ls``: ``left`` (seconds) when idle and known, ``sessions``
    (how many run) when live and known."""

    state: DebuggerState
    left: int | None = None
    detail: str | None = None
    sessions: int | None = None

    def describe(self) -> str:
        if self.state == "idle":
            return "idle, " + (
                "expiry unknown"
                if self.left is None
                else f"expires in {format_duration(self.left)}"
            )
        return self.state + (f" ({self.detail})" if self.detail else "")


def guards_expiry(spec: dict[str, Any]) -> bool:
    """Whether a debugger's holder (its container spec, from the Pod) has the guard by which
    no command starts as its TTL runs out (see ``SESSION_SCRIPT``)."""
    for item in spec.get("env") or []:
        if item.get("name") == HOLDER_ENV:
            return GUARD_SIGN in str(item.get("value") or "")
    return False


def expired_guarded(message: str | None) -> bool:
    """Whether a holder said it expired with its guard on: no session's command started
    after its last look (an ``unguarded`` one could not write its file)."""
    return (message or "").strip() == "expired"


def terminated_state(exit_code: int | None, message: str | None) -> Liveness:
    """How a debugger whose container terminated ended (from its holder's exit)."""
    said = (message or "").strip()
    if said.startswith("expired") or (exit_code == EXPIRED_EXIT and not said):
        return Liveness("expired")
    if said == "stopped" or exit_code == STOPPED_EXIT:
        return Liveness("stopped")
    return Liveness("stopped", detail=f"killed, exit code {exit_code}")


def parse_status_output(text: str) -> Liveness:
    """The answer of :func:`status_command` for a running debugger."""
    words = text.split()
    if words[:1] == ["live"]:
        count = int(words[1]) if len(words) > 1 and words[1].isdigit() else None
        return Liveness("live", sessions=count)
    if words[:1] == ["idle"]:
        left = int(words[1]) if len(words) > 1 and words[1].lstrip("-").isdigit() else None
        return Liveness("idle", max(0, left) if left is not None else None)
    return Liveness("running", detail="state unknown")


def reusable(
    pod: dict[str, Any],
    key: str,
    states: dict[str, str],
    name: str | None = None,
) -> list[str]:
    """Debuggers of ``pod`` with ``key`` that are (or are about to be) running, newest first.

    ``states`` maps container names to running/waiting/terminated/absent.
    """
    found = []
    for spec in reversed((pod.get("spec") or {}).get("ephemeralContainers") or []):
        cname = str(spec.get("name"))
        if name is not None and cname != name:
            continue
        if key_of(spec) != key:
            continue
        if states.get(cname, "absent") in ("running", "waiting", "absent"):
            found.append(cname)
    return found
