"""The inventory rules of ``ls``: writers from managedFields, posture, command, state, filters."""

from __future__ import annotations

from typing import Any

import pytest

from podscope.errors import ExitCode, PodscopeError, UsageError
from podscope.rules.debugger import holder_command, make_debugger
from podscope.rules.inventory import (
    Filters,
    describe_command,
    matches,
    parse_age,
    parse_time,
    posture_of,
    status_word,
    writers_by_container,
)
from podscope.rules.output import PagedTable, render_table
from podscope.rules.profiles import PROFILES, apply_ephemeral_profile
from podscope.rules.requests import ListRequest


def _entry(
    manager: str, time: str, *names: str, subresource: str | None = "ephemeralcontainers"
) -> dict[str, Any]:
    items: dict[str, Any] = {".": {}}
    for name in names:
        items[f'k:{{"name":"{name}"}}'] = {".": {}, "f:image": {}, "f:name": {}}
    entry: dict[str, Any] = {
        "manager": manager,
        "operation": "Update",
        "time": time,
        "fieldsType": "FieldsV1",
        "fieldsV1": {"f:spec": {"f:ephemeralContainers": items}},
    }
    if subresource:
        entry["subresource"] = subresource
    return entry


def _pod(*entries: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "web", "managedFields": list(entries)}, "spec": spec}


# -- writers -----------------------------------------------------------------------------------


def test_each_container_gets_the_manager_whose_entry_names_it() -> None:
    pod = _pod(
        _entry("kubectl", "2026-01-01T10:00:00Z", "kd1"),
        _entry("podscope", "2026-01-01T11:00:00Z", "debugger-1", "custom"),
    )
    found = writers_by_container(pod)
    assert {name: [w.manager for w in ws] for name, ws in found.items()} == {
        "kd1": ["kubectl"],
        "debugger-1": ["podscope"],
        "custom": ["podscope"],
    }
    assert found["kd1"][0].time == "2026-01-01T10:00:00Z"
    assert found["kd1"][0].to_dict() == {
        "manager": "kubectl",
        "time": "2026-01-01T10:00:00Z",
        "operation": "Update",
    }


def test_entries_of_other_subresources_and_the_main_resource_are_not_writers() -> None:
    pod = _pod(
        _entry("kubectl-run", "2026-01-01T09:00:00Z", "kd1", subresource=None),
        _entry("kubelet", "2026-01-01T09:00:00Z", "kd1", subresource="status"),
        _entry("kubectl", "2026-01-01T10:00:00Z", "kd1"),
    )
    assert [w.manager for w in writers_by_container(pod)["kd1"]] == ["kubectl"]


def test_the_manager_that_added_the_container_comes_first() -> None:
    late_adder = _entry("podscope", "2026-01-01T12:00:00Z", "x")
    # An entry owning only a field of the container, not the list item itself.
    toucher = _entry("other", "2026-01-01T08:00:00Z")
    toucher["fieldsV1"]["f:spec"]["f:ephemeralContainers"]['k:{"name":"x"}'] = {"f:tty": {}}
    found = writers_by_container(_pod(toucher, late_adder))["x"]
    assert [(w.manager, w.added) for w in found] == [("podscope", True), ("other", False)]


@pytest.mark.parametrize(
    "fields",
    [
        None,
        "text",
        {"f:spec": "x"},
        {"f:spec": {"f:ephemeralContainers": []}},
        {"f:spec": {"f:ephemeralContainers": {"k:not json": {}, "f:x": {}, 'k:["a"]': {}}}},
        {"f:spec": {"f:ephemeralContainers": {'k:{"name":7}': {}}}},
    ],
)
def test_malformed_fields_give_no_writers(fields: object) -> None:
    entry = _entry("m", "2026-01-01T00:00:00Z")
    entry["fieldsV1"] = fields
    assert writers_by_container(_pod(entry)) == {}


def test_a_pod_without_managed_fields_has_no_writers() -> None:
    assert writers_by_container({"metadata": {}}) == {}
    assert writers_by_container({}) == {}
    assert writers_by_container({"metadata": {"managedFields": "x"}}) == {}


def test_an_entry_without_a_manager_name_says_so() -> None:
    entry = _entry("", "2026-01-01T00:00:00Z", "x")
    assert writers_by_container(_pod(entry))["x"][0].manager == "(no manager name)"


# -- posture -----------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_each_profiles_container_is_recognised_as_that_profile(profile: str) -> None:
    made = apply_ephemeral_profile(profile, {"name": "d", "image": "busybox"}, {}, None)
    posture = posture_of(made, {})
    assert profile in posture.profiles
    if profile in ("legacy", "baseline"):
        # Neither sets a security context: the two cannot be told apart.
        assert posture.profile == "legacy/baseline"
    else:
        assert posture.profiles == (profile,)


def test_a_profile_with_a_user_of_its_own_still_matches_and_shows_the_user() -> None:
    made = apply_ephemeral_profile(
        "general", {"name": "d", "securityContext": {"runAsUser": 1000}}, {}, None
    )
    posture = posture_of(made, {})
    assert (posture.profile, posture.user, posture.capabilities) == (
        "general",
        "1000",
        ("SYS_PTRACE",),
    )


def test_privileged_added_capabilities_and_custom() -> None:
    sc = {"privileged": True, "capabilities": {"add": ["SYS_ADMIN"], "drop": ["NET_RAW"]}}
    posture = posture_of({"securityContext": sc}, {})
    assert posture.privileged
    assert posture.capabilities == ("SYS_ADMIN",)
    assert posture.dropped == ("NET_RAW",)
    assert posture.profile == "custom"
    assert posture.to_dict()["privileged"] is True
    assert posture_of({"securityContext": {"privileged": False}}, {}).privileged is False


@pytest.mark.parametrize(
    ("container_sc", "pod_sc", "user"),
    [
        ({}, {}, "image"),
        ({"runAsUser": 0}, {}, "root"),
        ({}, {"runAsUser": 0}, "root"),
        ({}, {"runAsUser": 2000}, "2000"),
        ({"runAsUser": 1000}, {"runAsUser": 0}, "1000"),  # the container's wins
        ({"runAsUser": 0}, {"runAsUser": 1000}, "root"),
        ({"runAsNonRoot": True}, {}, "non-root"),
        ({}, {"runAsNonRoot": True}, "non-root"),
        ({"runAsNonRoot": False}, {"runAsNonRoot": True}, "image"),
        ({"runAsUser": "0"}, {}, "image"),  # not a uid: nothing known
        ({"runAsUser": True}, {}, "image"),
    ],
)
def test_the_user_it_runs_as(
    container_sc: dict[str, Any], pod_sc: dict[str, Any], user: str
) -> None:
    pod = {"spec": {"securityContext": pod_sc}}
    assert posture_of({"securityContext": container_sc}, pod).user == user


def test_a_malformed_security_context_is_no_privilege() -> None:
    posture = posture_of({"securityContext": "x"}, {"spec": "y"})
    assert not posture.privileged and posture.capabilities == () and posture.user == "image"
    weird = posture_of({"securityContext": {"capabilities": {"add": "SYS_ADMIN"}}}, {})
    assert weird.capabilities == ()


# -- command and state -------------------------------------------------------------------------


def test_a_debuggers_holder_is_shown_by_what_it_is() -> None:
    debugger = make_debugger({"name": "debugger-1", "image": "busybox"}, 900, "n1")
    assert describe_command(debugger) == "(podscope-holder, ttl 15m)"
    # The holder's command without podscope's key is just a command.
    plain = {"command": holder_command(900, "x")}
    assert describe_command(plain).startswith("sh -c ")


def test_a_command_is_quoted_joined_and_shortened() -> None:
    assert describe_command({"command": ["sh", "-c", "echo a b"]}) == "sh -c 'echo a b'"
    assert describe_command({"command": ["sleep"], "args": ["60"]}) == "sleep 60"
    assert describe_command({"args": ["--serve"]}) == "--serve"
    assert describe_command({}) == "(image default)"
    long = describe_command({"command": ["echo", "x" * 100]}, limit=20)
    assert len(long) == 20 and long.endswith("...")


@pytest.mark.parametrize(
    ("state", "debugger", "word"),
    [
        ("running", None, "running"),
        ("terminated", None, "stopped"),
        ("waiting", None, "waiting"),
        ("unknown", None, "unknown"),
        ("running", "live", "live"),
        ("running", "idle", "idle"),
        ("terminated", "expired", "expired"),
        ("terminated", "stopped", "stopped"),
    ],
)
def test_the_one_word_state(state: str, debugger: str | None, word: str) -> None:
    assert status_word(state, debugger) == word


# -- durations ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("15m", 900),
        ("1h30m", 5400),
        ("2d", 172800),
        ("1w", 604800),
        ("600", 600),
        (600, 600),
        ("0", 0),
        (" 7D ", 604800),
        ("1d2h3m4s", 93784),
    ],
)
def test_durations(text: object, seconds: int) -> None:
    assert parse_age(text) == seconds


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "needs a duration"),
        ("  ", "needs a duration"),
        ("-5m", "is negative"),
        ("2x", "is not a duration"),
        ("1h 30m", "is not a duration"),
        ("m", "is not a duration"),
        ("1.5h", "is not a duration"),
        ("h1", "is not a duration"),
        ("101000000w", "longer than 100 years"),
        (True, "must be a duration"),
        (1.5, "must be a duration"),
        (None, "must be a duration"),
    ],
)
def test_bad_durations_are_one_usage_error(text: object, says: str) -> None:
    with pytest.raises(UsageError, match=says) as caught:
        parse_age(text)
    assert caught.value.exit_code == ExitCode.USAGE
    assert "\n" not in caught.value.message
    assert "--older-than" in caught.value.message


def test_parse_time() -> None:
    assert parse_time("1970-01-01T00:01:00Z") == 60.0
    assert parse_time(None) is None
    assert parse_time("yesterday") is None


# -- filters -----------------------------------------------------------------------------------

NOW = parse_time("2026-01-02T00:00:00Z") or 0.0


def _passes(filters: Filters, **row: Any) -> bool:
    values: dict[str, Any] = {
        "privileged": False,
        "state": "running",
        "image": "docker.io/library/busybox:1.36",
        "managers": ["podscope"],
        "created": "2026-01-01T00:00:00Z",
        "now": NOW,
    }
    values.update(row)
    return matches(filters, **values)


def test_no_filter_keeps_everything() -> None:
    assert not Filters().active()
    assert _passes(Filters(), state="terminated", created=None, managers=[])


def test_privileged_filter() -> None:
    assert Filters(privileged=True).active()
    assert _passes(Filters(privileged=True), privileged=True)
    assert not _passes(Filters(privileged=True), privileged=False)


def test_running_filter() -> None:
    assert _passes(Filters(running=True), state="running")
    for state in ("terminated", "waiting", "unknown"):
        assert not _passes(Filters(running=True), state=state)


def test_older_than_filter() -> None:
    day = Filters(older_than=86400)
    assert _passes(day, created="2026-01-01T00:00:00Z")  # exactly a day
    assert not _passes(day, created="2026-01-01T00:00:01Z")
    assert not _passes(day, created=None)  # not known to be old
    assert not _passes(day, created="garbage")
    assert _passes(Filters(older_than=0), created="2026-01-01T23:59:59Z")


def test_image_filter_is_a_glob_on_the_whole_name_or_the_short_one() -> None:
    assert _passes(Filters(image="*busybox*"))
    assert _passes(Filters(image="docker.io/library/busybox:1.3?"))
    assert _passes(Filters(image="busybox*"))  # as `docker images` names it
    assert _passes(Filters(image="busybox:1.36"))
    assert not _passes(Filters(image="library/busybox*"))  # half a prefix is neither
    assert not _passes(Filters(image="*BUSYBOX*"))  # case-sensitive
    team = "registry.example:5000/team/tool:2"
    assert _passes(Filters(image="tool*"), image=team)
    assert _passes(Filters(image="registry.example:5000/*"), image=team)
    assert not _passes(Filters(image="team"), image=team)
    assert not _passes(Filters(image="busybox*"), image="registry.example/busybox-fork/x:1")


def test_created_by_filter_is_a_glob_on_any_writer() -> None:
    assert _passes(Filters(created_by="podscope"))
    assert _passes(Filters(created_by="kube*"), managers=["podscope", "kubectl"])
    assert not _passes(Filters(created_by="kubectl"))
    assert not _passes(Filters(created_by="podscope"), managers=[])


def test_filters_combine() -> None:
    both = Filters(privileged=True, running=True)
    assert _passes(both, privileged=True)
    assert not _passes(both, privileged=True, state="terminated")
    assert not _passes(both, privileged=False)


# -- the request -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"older_than": "soon"}, "--older-than 'soon' is not a duration"),
        ({"image": " "}, "--image needs a value"),
        ({"created_by": ""}, "--created-by needs a value"),
        ({"chunk_size": -1}, "--chunk-size must be"),
        ({"chunk_size": True}, "--chunk-size must be"),
    ],
)
def test_list_request_refuses_bad_filters(fields: dict[str, Any], says: str) -> None:
    with pytest.raises(PodscopeError) as caught:
        ListRequest(**fields).validate()
    assert says in caught.value.message
    # An empty value is an invalid value (7), as for every other flag; the rest are usage.
    wanted = ExitCode.INVALID if "needs a value" in says else ExitCode.USAGE
    assert caught.value.exit_code == wanted


def test_list_request_takes_good_filters() -> None:
    ListRequest(
        all_namespaces=True,
        privileged=True,
        running=True,
        older_than="1h",
        image="*busybox*",
        created_by="kubectl",
        chunk_size=0,
    ).validate()


# -- a table a page at a time ------------------------------------------------------------------


def test_a_single_page_prints_as_the_whole_table() -> None:
    rows = [["web", "debugger-1"], ["api-long-name", "x"]]
    table = PagedTable(["POD", "NAME"])
    assert table.page(rows) == render_table(["POD", "NAME"], rows)


def test_pages_share_the_header_and_widths_only_grow() -> None:
    table = PagedTable(["POD", "NAME"])
    assert table.page([]) == ""  # no header before there is a row under it
    first = table.page([["a", "b"]])
    assert first.splitlines() == ["POD   NAME", "a     b"]
    assert table.page([]) == ""
    # Narrower cells keep the widths seen so far: aligned with the header.
    assert table.page([["c", "d"]]).splitlines() == ["c     d"]
    # A wider cell widens its column from here on.
    assert table.page([["longer", "e"]]).splitlines() == ["longer   e"]
    assert table.page([["f", "g"]]).splitlines() == ["f        g"]


def test_a_paged_table_without_headers_and_with_a_width() -> None:
    table = PagedTable(["POD", "NAME"], headers_shown=False)
    assert table.page([]) == ""
    assert table.page([["a", "b"]]) == "a     b\n"
    narrow = PagedTable(["POD", "COMMAND"], width=20)
    lines = narrow.page([["web", "sleep 1000 and more words here"]]).splitlines()
    assert all(len(line) <= 20 for line in lines) and len(lines) > 2
    # Cells are escaped, and short rows are padded.
    escaped = PagedTable(["A", "B"]).page([["x\x1b[2J"]])
    assert "\x1b" not in escaped
