"""Hostile and malformed input at the CLI, in-process (property-based, hypothesis).

Every command runs against a kubeconfig whose server is a closed local port, so nothing can
ever be written to a cluster. Whatever the input: no traceback (no exception escapes
``main``), error lines are single lines prefixed ``podscope: error:``, and the exit code is a
documented one. Inputs that are invalid on their face are refused before any connection is
attempted, each with its one exit code (USAGE for a command line argparse or the KIND/NAME
syntax cannot read, INVALID for a value the API server would refuse, CONFIG for a kubeconfig
that cannot be used), with the offending field named; valid inputs get as far as connecting
(UNREACHABLE). The expected code is worked out here from the input, independently of
podscope's own validators.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import socket
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from podscope.cli.main import main
from podscope.errors import ExitCode

DOCUMENTED = {int(code) for code in ExitCode}
UNREACHABLE = int(ExitCode.UNREACHABLE)
USAGE = int(ExitCode.USAGE)
CONFIG = int(ExitCode.CONFIG)
INVALID = int(ExitCode.INVALID)
FAST = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# Text with shell and path metacharacters, control characters and undecodable bytes (as
# Python hands them over in argv: surrogate escapes).
NASTY = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            ";",
            "$(touch /tmp/pwned)",
            "`id`",
            "../x",
            "../../etc/passwd",
            "a/b",
            "a\nb",
            "x" * 300,
            "%2e%2e",
            "a?b=c",
            "a#b",
            "-",
            "--",
            "",
            " ",
        ]
    ),
    st.binary(max_size=20).map(os.fsdecode),
)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def kubeconfig_document(server: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": server}}],
        "users": [{"name": "u", "user": {"token": "not-a-real-token"}}],
        "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "ctx",
    }


@pytest.fixture(scope="module")
def closed_kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("kc") / "config"
    path.write_text(json.dumps(kubeconfig_document(f"https://127.0.0.1:{_closed_port()}")))
    return str(path)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("PODSCOPE_NO_CONFIG", "1")
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("PODSCOPE_IMAGE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    yield


def run(*argv: str) -> tuple[int, str, str]:
    """``main(argv)`` in-process: (exit code, stdout, stderr). Any escaping exception fails."""
    # Text streams with a binary buffer underneath, as sys.stdout/sys.stderr have.
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="backslashreplace")
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="backslashreplace")
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 2
    texts = []
    for stream in (out, err):
        stream.flush()
        texts.append(stream.buffer.getvalue().decode("utf-8", "replace"))  # type: ignore[attr-defined]
    return code, texts[0], texts[1]


def check_clean(code: int, stderr: str) -> list[str]:
    assert code in DOCUMENTED, (code, stderr)
    assert "Traceback" not in stderr
    assert "unexpected failure" not in stderr, stderr  # main()'s safety net: a bug
    errors = [line for line in stderr.splitlines() if line.startswith("podscope: error:")]
    if code not in (0, 2):
        assert len(errors) == 1, stderr
    return errors


def debug(kubeconfig: str, *args: str) -> tuple[int, str, str]:
    return run("debug", "web", "--kubeconfig", kubeconfig, "--request-timeout", "2", *args)


# --- what each input should get, from the rules themselves -----------------------------------

_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_NEGATIVE_NUMBER = re.compile(r"^-\d+$|^-\d*\.\d+$")
_POD_KINDS = {"po", "pod", "pods"}
_WORKLOAD_KINDS = {
    *("deploy", "deployment", "deployments", "sts", "statefulset", "statefulsets"),
    *("ds", "daemonset", "daemonsets", "rs", "replicaset", "replicasets", "job", "jobs"),
}
_NODE_PREFIXES = ("node/", "nodes/", "no/")


def is_label(text: str) -> bool:
    """RFC 1123 label: what namespaces and container names must be."""
    return len(text) <= 63 and _LABEL.fullmatch(text) is not None


def is_subdomain(text: str) -> bool:
    """RFC 1123 subdomain: what Pod and node names must be."""
    return len(text) <= 253 and all(_LABEL.fullmatch(part) for part in text.split("."))


def reads_as_option(text: str) -> bool:
    """Whether argparse takes ``text`` for an option rather than a value (Python 3.11 rules)."""
    if not text.startswith("-") or text == "-":
        return False
    return text == "--" or not (_NEGATIVE_NUMBER.match(text) or " " in text)


def reads_as_option_after_a_flag(text: str) -> bool:
    """Whether ``text``, after a flag that takes a value, is taken for an option: podscope's
    parser gives such a flag a word that starts with a dash and a digit as its value, as
    kubectl's pflag does (``Parser._negative_values_joined`` in cli/main.py)."""
    return reads_as_option(text) and not (text[:1] == "-" and text[1:2].isdigit())


def expected_for_pod_argument(arg: str) -> int:
    if reads_as_option(arg):
        return USAGE
    lowered = arg.lower()
    for prefix in _NODE_PREFIXES:
        if lowered.startswith(prefix):
            return UNREACHABLE if is_subdomain(arg[len(prefix) :]) else INVALID
    if "/" in arg:
        kind, _, name = arg.partition("/")
        if not name or "/" in name or kind.lower() not in _POD_KINDS | _WORKLOAD_KINDS:
            return USAGE  # not KIND/NAME
        arg = name
    if not arg:
        return USAGE  # no Pod named at all
    return UNREACHABLE if is_subdomain(arg) else INVALID


def expected_for_env(items: list[str]) -> int:
    for item in items:
        name, sep, _ = item.partition("=")
        if not sep or not name:
            return USAGE  # not NAME=VALUE
        if any(not " " <= ch <= "~" or ch == "=" for ch in name):
            return INVALID  # the API server's (relaxed, 1.34) name rule
    return UNREACHABLE


def expected_for_timeout(value: str) -> int:
    try:
        seconds = float(value)
    except ValueError:
        return USAGE
    return UNREACHABLE if math.isfinite(seconds) and seconds > 0 else USAGE


# --- names that go into URLs ----------------------------------------------------------------


@FAST
@given(name=NASTY)
def test_pod_names_are_refused_before_any_request_or_pass(
    closed_kubeconfig: str, name: str
) -> None:
    code, _, err = run("debug", name, "--kubeconfig", closed_kubeconfig, "--", "true")
    errors = check_clean(code, err)
    assert code == expected_for_pod_argument(name), err
    if code == INVALID:
        assert "POD" in errors[0] or "name" in errors[0], err


@FAST
@given(namespace=NASTY)
@example(namespace="-0:")
def test_namespaces_are_refused_before_any_request(closed_kubeconfig: str, namespace: str) -> None:
    code, _, err = debug(closed_kubeconfig, "-n", namespace, "--", "true")
    errors = check_clean(code, err)
    if reads_as_option_after_a_flag(namespace):
        assert code == USAGE, err  # argparse: -n has no value
    elif not is_label(namespace):
        assert code == INVALID, err
        assert "--namespace" in errors[0], err
    else:
        assert code == UNREACHABLE, err


@FAST
@given(name=NASTY)
@example(name="-0:")
def test_container_names(closed_kubeconfig: str, name: str) -> None:
    code, _, err = debug(closed_kubeconfig, "-c", name, "--", "true")
    errors = check_clean(code, err)
    if reads_as_option_after_a_flag(name):
        assert code == USAGE, err
    elif not is_label(name):
        assert code == INVALID, err
        assert "--container" in errors[0]
    else:
        assert code == UNREACHABLE, err


def test_attach_refuses_a_path_as_pod_name(closed_kubeconfig: str) -> None:
    code, _, err = run("attach", "../x", "-c", "debugger", "--kubeconfig", closed_kubeconfig)
    assert code == USAGE and "Traceback" not in err  # not KIND/NAME
    code, _, err = run("attach", "a;b", "-c", "x", "--kubeconfig", closed_kubeconfig)
    assert code == 7 and "POD: Invalid value" in err


# --- --env ----------------------------------------------------------------------------------


@FAST
@given(items=st.lists(NASTY | st.tuples(NASTY, NASTY).map("=".join), min_size=1, max_size=4))
def test_env_items(closed_kubeconfig: str, items: list[str]) -> None:
    args = [f"--env={item}" for item in items]
    code, _, err = debug(closed_kubeconfig, *args, "--", "true")
    errors = check_clean(code, err)
    assert code == expected_for_env(items), err
    if code != UNREACHABLE:
        assert "--env" in errors[0], err


def test_env_value_with_shell_syntax_is_data(closed_kubeconfig: str) -> None:
    from podscope.rules.env import parse_env

    value = "$(touch /tmp/pwned); `id` && rm -rf /"
    assert parse_env([f"X={value}"]) == [{"name": "X", "value": value}]
    code, _, err = debug(closed_kubeconfig, f"--env=X={value}", "--", "true")
    assert code == UNREACHABLE, err  # valid: it got as far as connecting
    assert not Path("/tmp/pwned").exists() or Path("/tmp/pwned").stat().st_mtime < 0


# --- --custom files -------------------------------------------------------------------------

JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                ["env", "securityContext", "name", "image", "ports", "stdin", "resources", "x", ""]
            ),
            inner,
            max_size=3,
        )
    ),
    max_leaves=8,
)


@FAST
@given(document=JSONISH)
def test_custom_documents(closed_kubeconfig: str, tmp_path: Path, document: object) -> None:
    path = tmp_path / "custom.json"
    path.write_text(json.dumps(document))
    code, _, err = debug(closed_kubeconfig, "--custom", str(path), "--", "true")
    errors = check_clean(code, err)
    # Whether the document is acceptable depends on the Pod (fetched first), so both outcomes
    # are possible; a refusal is always INVALID.
    if code != UNREACHABLE:
        assert code == INVALID, err
        assert "custom.json" in errors[0] or "--custom" in errors[0], err


@FAST
@given(raw=st.binary(max_size=200))
def test_custom_files_with_arbitrary_bytes(
    closed_kubeconfig: str, tmp_path: Path, raw: bytes
) -> None:
    path = tmp_path / "custom.yaml"
    path.write_bytes(raw)
    code, _, err = debug(closed_kubeconfig, "--custom", str(path), "--", "true")
    check_clean(code, err)
    assert code in (UNREACHABLE, INVALID), err  # undecodable, unparsable, not a mapping: 7


def test_custom_file_missing_or_a_directory(closed_kubeconfig: str, tmp_path: Path) -> None:
    for target in (tmp_path / "nope.yaml", tmp_path):
        code, _, err = debug(closed_kubeconfig, "--custom", str(target), "--", "true")
        errors = check_clean(code, err)
        assert code == 2 and "--custom" in errors[0], err  # a bad path: a bad command line


# --- -o and other choices -------------------------------------------------------------------


@FAST
@given(value=NASTY)
def test_output_values(closed_kubeconfig: str, value: str) -> None:
    code, out, err = debug(closed_kubeconfig, "-o", value, "--", "true")
    check_clean(code, err)
    if value in ("json", "yaml"):
        assert code == UNREACHABLE, err
    else:
        assert code == USAGE and out == ""


@FAST
@given(value=st.one_of(NASTY, st.sampled_from(["nan", "inf", "-1", "0", "1e309"])))
def test_timeout_values(closed_kubeconfig: str, value: str) -> None:
    code, _, err = debug(closed_kubeconfig, f"--timeout={value}", "--", "true")
    check_clean(code, err)
    assert code == expected_for_timeout(value), err


# --- kubeconfig paths and contents ----------------------------------------------------------


@FAST
@given(path=NASTY)
@example(path="-0:")
def test_kubeconfig_paths(path: str) -> None:
    code, _, err = run("debug", "web", "--kubeconfig", path, "--", "true")
    errors = check_clean(code, err)
    if reads_as_option_after_a_flag(path):
        assert code == USAGE, err
    else:
        assert code == CONFIG, err  # no such file ("" falls back to ~/.kube/config: none)
        assert "kubeconfig" in errors[0]


KUBECONFIG_VALUES = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=20),
    st.lists(st.text(max_size=5), max_size=2),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
)


@FAST
@given(
    field=st.sampled_from(
        [
            ("clusters",),
            ("contexts",),
            ("users",),
            ("current-context",),
            ("clusters", 0, "cluster", "server"),
            ("clusters", 0, "cluster", "certificate-authority-data"),
            ("clusters", 0, "cluster", "certificate-authority"),
            ("users", 0, "user"),
            ("users", 0, "user", "client-certificate-data"),
            ("users", 0, "user", "client-key"),
            ("users", 0, "user", "exec"),
            ("contexts", 0, "context", "cluster"),
            ("contexts", 0, "context", "namespace"),
        ]
    ),
    value=KUBECONFIG_VALUES,
)
def test_kubeconfig_contents(tmp_path: Path, field: tuple[object, ...], value: object) -> None:
    document: object = kubeconfig_document(f"https://127.0.0.1:{_closed_port()}")
    parent = document
    for key in field[:-1]:
        parent = parent[key]  # type: ignore[index]
    parent[field[-1]] = value  # type: ignore[index]
    path = tmp_path / "config"
    path.write_text(json.dumps(document))
    code, _, err = run("debug", "web", "--kubeconfig", str(path), "--", "true")
    check_clean(code, err)
    # A kubeconfig that cannot be used is CONFIG; the context's namespace is checked as a
    # name, like --namespace, so a bad one is INVALID.
    refusal = INVALID if field[-1] == "namespace" else CONFIG
    assert code in (UNREACHABLE, refusal), err


@FAST
@given(raw=st.binary(max_size=300))
def test_kubeconfig_arbitrary_bytes(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "config"
    path.write_bytes(raw)
    code, _, err = run("ls", "--kubeconfig", str(path))
    check_clean(code, err)
    assert code == 3, err


def test_missing_context_names_the_available_ones(closed_kubeconfig: str) -> None:
    code, _, err = debug(closed_kubeconfig, "--context", "nope", "--", "true")
    assert code == 3
    assert "context 'nope' (--context) not found in the kubeconfig; available: ctx" in err


@pytest.mark.parametrize("command", ["debug", "attach", "ls"])
def test_closed_port_is_unreachable_for_each_command(closed_kubeconfig: str, command: str) -> None:
    argv = {"debug": ["web"], "attach": ["web", "-c", "x"], "ls": []}[command]
    code, _, err = run(command, *argv, "--kubeconfig", closed_kubeconfig)
    errors = check_clean(code, err)
    assert code == UNREACHABLE
    assert "refused" in errors[0]


def test_printable_names_only_in_errors(closed_kubeconfig: str) -> None:
    # A newline in a name must not start a second (forged) line on stderr.
    code, _, err = debug(closed_kubeconfig, "-n", "x\npodscope: error: forged", "--", "true")
    assert code == 7
    assert not any(line == "podscope: error: forged" for line in err.splitlines())
    assert all(c in string.printable for c in err)


def test_a_server_that_never_answers_is_given_up_on_after_request_timeout(
    tmp_path: Path,
) -> None:
    # It accepts the connection and then says nothing, not even the TLS handshake.
    silent = socket.create_server(("127.0.0.1", 0))
    try:
        path = tmp_path / "config"
        port = silent.getsockname()[1]
        path.write_text(json.dumps(kubeconfig_document(f"https://127.0.0.1:{port}")))
        code, _, err = run("ls", "--kubeconfig", str(path), "--request-timeout", "1")
    finally:
        silent.close()
    errors = check_clean(code, err)
    assert code == 4, err
    # No TLS handshake was ever answered: the time ran out while connecting.
    assert errors[0] == (
        f"podscope: error: no answer from https://127.0.0.1:{port} within 1 s (connecting)"
    ), err


def test_a_bad_image_from_the_environment_names_the_variable(
    closed_kubeconfig: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PODSCOPE_IMAGE", "Bad Image!")
    code, _, err = debug(closed_kubeconfig, "--", "true")
    errors = check_clean(code, err)
    assert code == 3, err  # a setting, not the command line
    assert errors[0].startswith('podscope: error: $PODSCOPE_IMAGE: invalid image name "Bad'), err


def test_a_bad_flag_is_one_line_and_where_to_read_more() -> None:
    code, out, err = run("debug", "web", "--bogus")
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "podscope: error: unrecognized arguments: --bogus",
        "podscope: hint: see 'podscope debug --help'",
    ]
    code, _, err = run("ls", "-o", "xml")
    assert code == 2 and err.splitlines()[1] == "podscope: hint: see 'podscope ls --help'", err
    # debug's own parser (the words before and after `--`) reports the same way.
    for words in (("--ttl",), ("--profile", "nope")):
        code, _, err = run("debug", "web", *words)
        assert code == 2 and len(err.splitlines()) == 2, err
        assert err.splitlines()[1] == "podscope: hint: see 'podscope debug --help'", err


def test_a_value_that_starts_with_a_dash_and_a_digit_is_the_flags_value(
    closed_kubeconfig: str,
) -> None:
    # As with kubectl, the flag's own check says what is wrong, not "expected one argument".
    code, _, err = debug(closed_kubeconfig, "--ttl", "-5m", "--", "true")
    assert code == 2
    assert err.splitlines()[0] == "podscope: error: --ttl '-5m' is negative", err
    # After `--`, such words belong to the command.
    from podscope.cli.main import build_parser

    args = build_parser("debug").parse_args(["debug", "web", "--", "x", "--ttl", "-5m"])
    assert args.command == ["x", "--ttl", "-5m"] and getattr(args, "ttl", None) is None
