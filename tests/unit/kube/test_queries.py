"""The questions of kube.queries as the API server reads them (query strings, attributes)."""

from __future__ import annotations

from podscope.kube.queries import AccessQuestion, StreamQuery


def test_a_stream_asks_for_stderr_only_without_a_tty() -> None:
    plain = StreamQuery("ns", "web", "dbg", stdin=True)
    assert plain.query() == [
        ("container", "dbg"),
        ("stdin", "true"),
        ("stdout", "true"),
        ("stderr", "true"),
        ("tty", "false"),
    ]
    # With a TTY the kubelet merges stderr into stdout and refuses a separate stderr.
    assert dict(StreamQuery("ns", "web", "dbg", tty=True).query()) == {
        "container": "dbg",
        "stdin": "false",
        "stdout": "true",
        "stderr": "false",
        "tty": "true",
    }


def test_an_access_question_leaves_unset_narrowing_out() -> None:
    question = AccessQuestion("list", "pods")
    assert question.attributes() == {"verb": "list", "resource": "pods", "group": ""}
    named = AccessQuestion("get", "pods", "exec", "ns", "web")
    assert named.for_any_name() == AccessQuestion("get", "pods", "exec", "ns")
