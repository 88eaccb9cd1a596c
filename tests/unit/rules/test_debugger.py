"""The pure parts of debuggers: durations, the holder's command, keys and reuse matching."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from podscope.errors import ConfigError, UsageError
from podscope.rules import debugger as d
from podscope.rules.requests import DebugRequest
from podscope.rules.targetfs import kube_unescape
from podscope.session.settings import resolve_ttl


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("15m", 900),
        ("1h30m", 5400),
        ("2d", 172800),
        ("600", 600),
        ("1.5m", 90),
        (" 2H ", 7200),
        (45, 45),
    ],
)
def test_durations_parse_to_whole_seconds(text: Any, seconds: int) -> None:
    assert d.parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("0", "shorter than a second"),
        ("0s", "shorter than a second"),
        ("500ms", "shorter"),
        ("-5m", "negative"),
        ("soon", "not a duration"),
        ("5 m", "not a duration"),
        ("m", "not a duration"),
        ("5m3", "not a duration"),
        ("", "empty"),
        ("31d", "30 days"),
        (True, "must be a duration"),
        (1.5, "must be a duration"),
    ],
)
def test_bad_durations_are_refused_with_the_flag_named(text: Any, says: str) -> None:
    with pytest.raises(UsageError) as caught:
        d.parse_duration(text)
    assert says in caught.value.message and "--ttl" in caught.value.message


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0s"), (42, "42s"), (900, "15m"), (3725, "1h2m5s"), (90000, "1d1h")]
)
def test_durations_format_largest_units_first(seconds: int, text: str) -> None:
    assert d.format_duration(seconds) == text


def test_debug_request_validates_ttl_and_its_combinations() -> None:
    DebugRequest(pod="web", ttl="10m").validate()
    with pytest.raises(UsageError, match="--ttl"):
        DebugRequest(pod="web", ttl="0").validate()
    with pytest.raises(UsageError, match="--attach-mode"):
        DebugRequest(pod="web", ttl="10m", attach_mode=True).validate()
    with pytest.raises(UsageError, match="--new"):
        DebugRequest(pod="web", new=True, attach_mode=True).validate()
    with pytest.raises(UsageError, match="--new or --reuse"):
        DebugRequest(pod="web", new=True, reuse=True).validate()


def test_ttl_comes_from_the_flag_then_the_config_file_then_the_default(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("ttl: 2h\n")
    assert resolve_ttl("5m", {}, config) == (300, "--ttl")
    assert resolve_ttl(None, {}, config) == (7200, str(config))
    assert resolve_ttl(None, {}, tmp_path / "absent.yaml") == (900, "default")
    config.write_text("ttl: -1m\n")
    with pytest.raises(ConfigError, match="config.yaml: ttl"):
        resolve_ttl(None, {}, config)


def test_holder_command_is_one_short_line_that_names_itself() -> None:
    command = d.holder_command(900, "debugger-abc")
    assert command[:2] == ["sh", "-c"]
    assert kube_unescape(command[2]) == f'eval "${d.HOLDER_ENV}"'
    assert "\n" not in " ".join(command)  # what `ps` shows in a session
    assert command[3:] == [d.HOLDER_NAME, "900", "debugger-abc/"]


def test_the_holder_script_is_in_the_env_escaped_for_the_kubelet() -> None:
    debugger = d.make_debugger({"name": "debugger-abc", "image": "busybox"}, 900, "n1")
    script = next(e["value"] for e in debugger["env"] if e["name"] == d.HOLDER_ENV)
    assert kube_unescape(script) == d.HOLDER_SCRIPT
    assert "$$$$" in script and "$$!" in script  # $$ and $! survive the kubelet
    # Sessions do not carry the script into the user's command.
    assert f"unset {d.HOLDER_ENV}" in d.SESSION_SCRIPT


def test_session_command_marks_the_session_with_the_debugger_name_unescaped() -> None:
    command = d.session_command("debugger-abc", ["echo", "$HOME"])
    assert command == [
        "sh",
        "-c",
        d.SESSION_SCRIPT,
        d.SESSION_NAME,
        "debugger-abc/",
        "echo",
        "$HOME",
    ]
    # The holder's and the status command's pattern matches exactly this marker.
    assert 'PODSCOPE_SESSION="$1"' not in d.SESSION_SCRIPT
    assert "PODSCOPE_SESSION=$me" in d.HOLDER_SCRIPT
    assert "PODSCOPE_SESSION=$1" in d.STATUS_SCRIPT


def test_a_session_id_makes_the_marker_its_own_and_ending_one_needs_it() -> None:
    session = d.new_session_id(bytes([0, 1, 2, 255]))
    assert session == "000102ff"
    command = d.session_command("debugger-abc", ["true"], session)
    assert command[4] == "debugger-abc/000102ff"
    assert d.end_session_command("debugger-abc", session)[-1] == "debugger-abc/000102ff"
    with pytest.raises(ValueError):
        d.end_session_command("debugger-abc", "")
    with pytest.raises(ValueError):
        d.new_session_id(b"\x00")


def _container(**extra: Any) -> dict[str, Any]:
    return {
        "name": "debugger-xyz",
        "image": "busybox",
        "command": ["ps"],
        "stdin": True,
        "tty": True,
        **extra,
    }


def test_key_ignores_name_command_and_terminal_but_not_what_a_session_sees() -> None:
    base = d.debugger_key(_container())
    assert d.debugger_key(_container(name="other", command=["true"], stdin=False)) == base
    assert d.debugger_key(_container(image="alpine")) != base
    assert d.debugger_key(_container(targetContainerName="app")) != base
    assert d.debugger_key(_container(securityContext={"runAsUser": 1000})) != base
    assert d.debugger_key(_container(env=[{"name": "A", "value": "1"}])) != base
    assert (
        d.debugger_key(_container(securityContext={"capabilities": {"add": ["NET_ADMIN"]}})) != base
    )


def test_a_debugger_is_recognised_by_its_key_and_holder() -> None:
    debugger = d.make_debugger(_container(), 60, "n1")
    assert "stdin" not in debugger and "tty" not in debugger
    assert d.key_of(debugger) == d.debugger_key(_container())
    assert d.ttl_of(debugger) == 60
    # The same env without the holder, or a holder-looking command without the env: no.
    assert d.key_of({**debugger, "command": ["sleep", "3600"]}) is None
    assert d.key_of({k: v for k, v in debugger.items() if k != "env"}) is None
    # Two creators' debuggers differ (by their nonce) but share the key.
    other = d.make_debugger(_container(), 60, "n2")
    assert other != debugger and d.key_of(other) == d.key_of(debugger)


def _pod(*debuggers: dict[str, Any]) -> dict[str, Any]:
    return {"spec": {"ephemeralContainers": list(debuggers)}}


def test_reuse_matches_key_and_state_newest_first() -> None:
    key = d.debugger_key(_container())
    a = d.make_debugger(_container(name="a"), 60, "1")
    b = d.make_debugger(_container(name="b"), 60, "2")
    c = d.make_debugger(_container(name="c", image="alpine"), 60, "3")
    plain = {"name": "p", "image": "busybox"}
    pod = _pod(a, b, c, plain)
    states = {"a": "running", "b": "running", "c": "running", "p": "running"}
    assert d.reusable(pod, key, states) == ["b", "a"]
    assert d.reusable(pod, key, {**states, "b": "terminated"}) == ["a"]
    assert d.reusable(pod, key, {**states, "b": "failed"}) == ["a"]
    # Just added by someone else, not yet reported: it is about to run.
    assert d.reusable(pod, key, {"a": "absent", "b": "waiting"}) == ["b", "a"]
    assert d.reusable(pod, key, states, name="a") == ["a"]
    assert d.reusable(pod, key, states, name="p") == []


def test_new_debugger_names_are_the_same_for_concurrent_creators() -> None:
    key = "0123456789abcdef"
    assert d.name_for(key, set()) == "debugger-012345"
    assert d.name_for(key, {"debugger-012345"}) == "debugger-012345-2"
    assert d.name_for(key, {"debugger-012345", "debugger-012345-2"}) == "debugger-012345-3"


@pytest.mark.parametrize(
    ("code", "message", "state", "detail"),
    [
        (0, "expired\n", "expired", None),
        (143, "stopped\n", "stopped", None),
        (137, None, "stopped", "killed, exit code 137"),
        (0, None, "expired", None),
    ],
)
def test_how_a_debugger_ended(
    code: int, message: str | None, state: str, detail: str | None
) -> None:
    assert d.terminated_state(code, message) == d.Liveness(state, detail=detail)  # type: ignore[arg-type]


def test_status_output_is_read_as_live_or_idle_with_time_left() -> None:
    assert d.parse_status_output("live\n") == d.Liveness("live")
    assert d.parse_status_output("idle 125\n") == d.Liveness("idle", 125)
    assert d.parse_status_output("idle -3\n") == d.Liveness("idle", 0)
    assert d.parse_status_output("idle -\n") == d.Liveness("idle", None)
    assert d.parse_status_output("idle 125").describe() == "idle, expires in 2m5s"
    assert d.parse_status_output("garbage").state == "running"


def test_key_differences_name_what_keeps_a_debugger_from_serving() -> None:
    container: dict[str, Any] = {
        "name": "debugger-a",
        "image": "busybox:1",
        "targetContainerName": "app",
        "env": [{"name": "A", "value": "1"}],
    }
    made = d.make_debugger(container, 900, "n0nce")
    # The name, holder command, TTL and podscope's own env entries do not count.
    assert d.key_differences(made, {**container, "name": "other", "tty": True}) == []
    assert d.key_differences(made, {**container, "image": "busybox:2"}) == ["image"]
    changed = {**container, "env": [], "securityContext": {"runAsUser": 0}}
    assert d.key_differences(made, changed) == ["env", "securityContext"]
    assert d.debugger_key({**container, "name": "x"}) == d.debugger_key(container)
    # What the API server filled in is no difference unless the request gives it.
    stored = {**made, "terminationMessagePolicy": "File", "resources": {}}
    assert d.key_differences(stored, container) == []
    assert d.key_differences(stored, {**container, "resources": {"limits": {}}}) == ["resources"]
