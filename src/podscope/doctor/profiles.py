"""Which debug profiles PodSecurity admits: outcomes and their finding (pure)."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from podscope.doctor.findings import Finding, fail, ok, warn
from podscope.doctor.podsecurity import container_violations
from podscope.errors import PodscopeError
from podscope.rules.container import DebugSpec, build_ephemeral_container
from podscope.rules.profiles import PROFILES

# When several profiles work, suggest the least powerful one that does.
_PREFERENCE = ("legacy", "baseline", "restricted", "general", "netadmin", "sysadmin")


@dataclass(frozen=True)
class ProfileOutcome:
    profile: str
    admitted: bool | None  # None: could not tell (the dry-run itself failed)
    detail: str = ""  # the rules broken, or why it could not be told
    blamed: tuple[str, ...] = field(default=())  # existing containers the server blamed


def rule_names(rules: Sequence[str]) -> list[str]:
    """``["a != b (containers ...; ...)", "c (...)"]`` -> ``["a != b", "c"]``.

    ``rules`` are a PodSecurity refusal's ``PolicyError.rules``: the server explains each rule
    in parentheses, naming every container; the checklist needs only the rules (the
    containers are reported separately, from ``PolicyError.containers``).
    """
    names = (re.sub(r"\([^()]*(?:\([^()]*\)[^()]*)*\)", "", rule).strip() for rule in rules)
    return [name for name in names if name]


def candidate(
    pod: Mapping[str, Any], image: str, profile: str, target: str | None, pull_policy: str | None
) -> dict[str, Any]:
    """The container ``podscope debug -it --profile PROFILE`` would add to ``pod``."""
    spec = DebugSpec(
        image=image,
        target=target,
        profile=profile,
        image_pull_policy=pull_policy,
        stdin=True,
        tty=True,
    )
    return build_ephemeral_container(dict(pod), spec)


def predict(
    level: str, image: str, pull_policy: str | None, pod: Mapping[str, Any] | None = None
) -> list[ProfileOutcome]:
    """Each profile's fate under ``level``, without asking the server (no Pod given)."""
    base: dict[str, Any] = (
        dict(pod)
        if pod
        else {
            "metadata": {"name": "pod"},
            "spec": {"containers": [{"name": "app", "image": "app"}]},
        }
    )
    outcomes = []
    for profile in PROFILES:
        try:
            container = candidate(base, image, profile, None, pull_policy)
        except PodscopeError as exc:
            outcomes.append(ProfileOutcome(profile, False, exc.message))
            continue
        problems = container_violations(container, base, level)
        outcomes.append(ProfileOutcome(profile, not problems, ", ".join(problems)))
    return outcomes


def _best(admitted: Sequence[str]) -> str:
    return next(p for p in _PREFERENCE if p in admitted)


def check_profiles(
    outcomes: Sequence[ProfileOutcome],
    requested: str,
    explicit: bool,
    level: str,
    proven: bool,
    pod_name: str | None,
    ephemeral_names: Collection[str] = (),
) -> Finding:
    """The PodSecurity finding: which profiles are admitted, and whether ``requested`` is.

    ``explicit``: the user chose ``requested`` (--profile); otherwise it is the default, and a
    refusal is only a warning when another profile works. ``proven``: outcomes come from a
    server-side dry-run, not a prediction. ``ephemeral_names``: the Pod's existing ephemeral
    containers, to tell an old debug container from the Pod's own containers in the blame.
    """
    how = "server-side dry-run" if proven else f"predicted for enforce={level}"
    admitted = [o.profile for o in outcomes if o.admitted]
    refused = [o for o in outcomes if o.admitted is False]
    unknown = [o for o in outcomes if o.admitted is None]
    parts = [f"admitted: {', '.join(admitted) or 'none'}"]
    if refused:
        shown = [f"{o.profile} ({o.detail})" if o.detail else o.profile for o in refused]
        parts.append("refused: " + "; ".join(shown))
    if unknown:
        parts.append("unknown: " + "; ".join(f"{o.profile} ({o.detail})" for o in unknown))
    evidence = f"{how}: " + " | ".join(parts)
    if not proven:
        evidence += " (name a POD to prove it with a dry-run)"
    mine = next((o for o in outcomes if o.profile == requested), None)
    flag = f"--profile {requested}" if explicit else f"the default profile ({requested})"
    if mine is not None and mine.admitted:
        return ok("podsecurity-profiles", evidence)
    if mine is None or mine.admitted is None:
        return warn(
            "podsecurity-profiles",
            evidence,
            "could not check admission; re-run doctor with rights to patch "
            "pods/ephemeralcontainers",
        )
    blamed = {name for o in refused for name in o.blamed}
    old_debuggers = sorted(blamed & set(ephemeral_names))
    own = sorted(blamed - set(ephemeral_names))
    pod_text = pod_name or "POD"
    if not admitted:
        if old_debuggers:
            remedy = (
                f"existing ephemeral container(s) {', '.join(old_debuggers)} violate the level and "
                f"cannot be removed: debug a copy instead: podscope debug {pod_text} "
                "--copy-to NEW --profile restricted"
            )
        elif own:
            remedy = (
                f"the Pod's own container(s) {', '.join(own)} violate the enforced level {level!r} "
                "(the Pod predates the label), so no ephemeral container can be added: relax "
                "the namespace's pod-security.kubernetes.io/enforce label, or debug a replica "
                "that complies"
            )
        else:
            remedy = (
                "no profile is admitted: ask for a less strict PodSecurity level on the "
                "namespace, or debug a copy: podscope debug POD --copy-to NEW"
            )
        return fail("podsecurity-profiles", f"{flag} is refused; {evidence}", remedy)
    best = _best(admitted)
    remedy = f"use --profile {best}"
    if best == "restricted":
        remedy += (
            " (it sets runAsNonRoot: true: use an image that runs as non-root, or set "
            'securityContext.runAsUser with --custom FILE, e.g. {"securityContext": '
            '{"runAsUser": 65532}})'
        )
    if explicit:
        return fail("podsecurity-profiles", f"{flag} is refused; {evidence}", remedy)
    return warn("podsecurity-profiles", f"{flag} is refused; {evidence}", remedy)
