"""The receipt of a recorded session and the Events it leaves on the Pod."""

from __future__ import annotations

from typing import Any

from podscope.rules.receipt import (
    EVENT_MESSAGE_LIMIT,
    Outcome,
    RecordingRef,
    build_receipt,
    debugger_message,
    facts_from_pod,
    identity_from_review,
    kubeconfig_identity,
    pod_event,
    session_message,
)

# What a 1.34 API server answers for an X.509 user.
REVIEW = {
    "kind": "SelfSubjectReview",
    "apiVersion": "authentication.k8s.io/v1",
    "status": {
        "userInfo": {
            "username": "alice",
            "uid": "u-1",
            "groups": ["devs", "system:authenticated"],
            "extra": {"authentication.kubernetes.io/credential-id": ["X509SHA256=ab12"]},
        }
    },
}


def _pod() -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "namespace": "shop", "uid": "pod-uid"},
        "spec": {
            "containers": [{"name": "app", "image": "app:1"}],
            "ephemeralContainers": [
                {
                    "name": "debugger-abc",
                    "image": "busybox:1.36",
                    "command": ["sh", "-c", "hold"],
                    "args": ["x"],
                    "securityContext": {"capabilities": {"add": ["NET_ADMIN"]}},
                }
            ],
        },
    }


def test_the_identity_is_what_the_server_authenticated() -> None:
    who = identity_from_review(REVIEW)
    assert who is not None
    assert who.to_dict() == {
        "username": "alice",
        "source": "selfsubjectreview",
        "uid": "u-1",
        "groups": ["devs", "system:authenticated"],
        "extra": {"authentication.kubernetes.io/credential-id": ["X509SHA256=ab12"]},
    }
    assert who.describe() == "alice"
    assert identity_from_review({"status": {"userInfo": {}}}) is None


def test_the_kubeconfig_fallback_is_marked_and_claims_nothing_more() -> None:
    who = kubeconfig_identity("admin@prod")
    assert who.to_dict() == {"username": "admin@prod", "source": "kubeconfig"}
    assert "kubeconfig user" in who.describe()


def test_facts_come_from_the_named_container_as_the_pod_holds_it() -> None:
    facts = facts_from_pod(
        _pod(), "debugger-abc", command=("ps",), model="exec", created=True, profile="netadmin"
    )
    assert (facts.pod, facts.pod_uid, facts.namespace) == ("web", "pod-uid", "shop")
    assert (facts.image, facts.command, facts.profile) == ("busybox:1.36", ("ps",), "netadmin")
    assert facts.security_context == {"capabilities": {"add": ["NET_ADMIN"]}}
    attached = facts_from_pod(
        _pod(), "debugger-abc", command=None, model="attach", created=False, profile=None
    )
    assert attached.command == ("sh", "-c", "hold", "x")


def test_the_receipt_names_everything_and_times_in_utc() -> None:
    facts = facts_from_pod(
        _pod(), "debugger-abc", command=("ps",), model="exec", created=True, profile="legacy"
    )
    who = identity_from_review(REVIEW)
    assert who is not None
    receipt = build_receipt(
        who=who,
        cluster="https://10.0.0.1:6443",
        context="prod",
        facts=facts,
        outcome=Outcome(start=1796128809.25, end=1796128812.5, exit_code=3),
        recording=RecordingRef("x.cast", "f" * 64, input_recorded=True),
        tool_version="0.1.0",
    )
    assert receipt["who"]["username"] == "alice"
    assert (receipt["cluster"], receipt["context"], receipt["namespace"]) == (
        "https://10.0.0.1:6443",
        "prod",
        "shop",
    )
    assert (receipt["pod"], receipt["container"], receipt["image"]) == (
        "web",
        "debugger-abc",
        "busybox:1.36",
    )
    assert receipt["security_context"] == {"capabilities": {"add": ["NET_ADMIN"]}}
    assert receipt["start"] == "2026-12-01T12:40:09.250Z"
    assert receipt["end"] == "2026-12-01T12:40:12.500Z"
    assert (receipt["duration_seconds"], receipt["exit_code"]) == (3.25, 3)
    assert (receipt["recording_sha256"], receipt["input_recorded"]) == ("f" * 64, True)


def test_the_events_are_about_the_pod_and_its_container_and_say_who_and_what() -> None:
    facts = facts_from_pod(
        _pod(),
        "debugger-abc",
        command=("cat", "/etc/passwd"),
        model="exec",
        created=True,
        profile=None,
    )
    who = kubeconfig_identity("admin")
    event = pod_event(_pod(), "debugger-abc", "PodscopeSession", "m", 1796128809.0)
    assert event["involvedObject"] == {
        "apiVersion": "v1",
        "kind": "Pod",
        "namespace": "shop",
        "name": "web",
        "uid": "pod-uid",
        "fieldPath": "spec.ephemeralContainers{debugger-abc}",
    }
    assert event["metadata"] == {"generateName": "web.podscope-", "namespace": "shop"}
    assert event["firstTimestamp"] == "2026-12-01T12:40:09Z" and event["type"] == "Normal"
    created = debugger_message(who, facts)
    assert "admin" in created and "debugger-abc" in created and "busybox:1.36" in created
    session = session_message(who, facts, "rec.cast")
    assert "cat /etc/passwd" in session and "rec.cast" in session
    long = facts_from_pod(
        _pod(), "debugger-abc", command=("x" * 5000,), model="exec", created=False, profile=None
    )
    assert len(session_message(who, long, None)) == EVENT_MESSAGE_LIMIT
