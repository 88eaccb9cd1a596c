"""Which model ``podscope debug`` will use here (exec into a debugger, or attach), and why.

Self-contained: it asks its own questions (access reviews, the Pod) so that it can be added
to the checklist with one line.
"""

from __future__ import annotations

from podscope.checks.findings import Finding, ok, warn
from podscope.errors import PodscopeError
from podscope.kube.client import KubeClient
from podscope.kube.queries import AccessQuestion

CHECK = "debug-model"


def _allowed(client: KubeClient, verb: str, namespace: str, pod: str | None) -> bool | None:
    try:
        allowed, _ = client.access_review(AccessQuestion(verb, "pods", "exec", namespace, pod))
    except PodscopeError:
        return None
    return allowed


def _minor(client: KubeClient) -> int | None:
    from podscope.checks.versions import server_version_of

    try:
        version = server_version_of(client.server_version())
    except PodscopeError:
        return None
    return version.minor if version is not None and version.major == 1 else None


def check_exec_model(client: KubeClient, namespace: str, pod: str | None, image: str) -> Finding:
    """ok: commands will be exec'd into reusable debuggers; warn: the attach model, and why."""
    from podscope.session.debugger import failed_holder_for_image

    get = _allowed(client, "get", namespace, pod)
    minor = _minor(client)
    needs_create = minor is not None and minor >= 35
    create = _allowed(client, "create", namespace, pod) if needs_create else True
    fallback = "--attach-mode uses it on purpose"
    if get is False or create is False:
        verbs = "get" if get is False else "create"
        return warn(
            CHECK,
            f"attach model: RBAC does not allow {verbs} on pods/exec (a WebSocket exec is "
            "authorized as get" + (", and create from 1.35" if needs_create else "") + ")",
            "grant get and create on pods/exec for the exec model (reused debuggers, no "
            f"output in the container's log); podscope falls back to attach meanwhile; {fallback}",
        )
    if pod is not None:
        try:
            found = failed_holder_for_image(client.get_pod(namespace, pod), image)
        except PodscopeError:
            found = None
        if found is not None:
            return warn(
                CHECK,
                f"attach model for image {image}: debugger {found} could not start with it "
                "(no sh to hold the container open)",
                "use a debug image with sh (busybox); podscope falls back to attach meanwhile",
            )
    unknown = " (RBAC could not be asked)" if get is None else ""
    return ok(
        CHECK,
        f"exec model: commands run in reusable debuggers (get pods/exec allowed{unknown}); "
        "images without sh fall back to the attach model",
    )
