"""``podscope doctor``: can debugging work here, and if not, what to do about it.

Each check is a small function returning a :class:`Finding` (ok / warn / fail, with the
evidence and a remedy). The pure checks (``versions``, ``podsecurity``, ``rbac``, ``pod``,
``profiles``) take plain API dicts; :mod:`podscope.doctor.run` gathers those from the cluster.
"""

from __future__ import annotations

from podscope.doctor.findings import Finding, exit_code, ready, worst
from podscope.doctor.run import DoctorOptions, DoctorReport, run_doctor

__all__ = [
    "DoctorOptions",
    "DoctorReport",
    "Finding",
    "doctor",
    "exit_code",
    "ready",
    "run_doctor",
    "worst",
]


def doctor(
    pod: str | None = None,
    *,
    namespace: str | None = None,
    context: str | None = None,
    kubeconfig: str | None = None,
    request_timeout: float | None = None,
    image: str | None = None,
    profile: str | None = None,
    target: str | None = None,
    image_pull_policy: str | None = None,
) -> DoctorReport:
    """Check whether ``podscope debug`` can work (against ``pod``, when given).

    Never changes the cluster: admission of each profile is proven with a ``dryRun=All``
    PATCH. ``image`` defaults as for ``debug``; ``profile=None`` judges the default profile
    leniently (a refusal is a warning when another profile is admitted). The report's
    ``exit_code`` is 0 when ``ready``, else ``ExitCode.DOCTOR_FAILED``.
    """
    from podscope.kube.config import connect
    from podscope.rules.names import validate_namespace_name, validate_resource_name
    from podscope.session.settings import resolve_image

    # Names go into URLs: refuse a malformed one before anything is sent.
    if pod is not None:
        validate_resource_name(pod, "POD")
    if namespace is not None:
        validate_namespace_name(namespace, "--namespace")
    chosen_image, _ = resolve_image(image)
    client = connect(kubeconfig, context, namespace, request_timeout)
    try:
        options = DoctorOptions(
            pod=pod,
            namespace=namespace or client.namespace,
            image=chosen_image,
            profile=profile,
            target=target,
            image_pull_policy=image_pull_policy,
        )
        return run_doctor(client, options)
    finally:
        client.close()
