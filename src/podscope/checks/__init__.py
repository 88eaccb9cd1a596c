"""``podscope doctor``: can debugging work here, and if not, what to do about it.

Each check is a small function returning a :class:`Finding` (ok / warn / fail, with the
evidence and a remedy). The pure checks (``versions``, ``podsecurity``, ``rbac``, ``pod``,
``profiles``) take plain API dicts; :mod:`podscope.checks.run` gathers those from the cluster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from podscope.checks.findings import Finding, exit_code, ready, worst

if TYPE_CHECKING:
    from podscope.checks.run import DoctorOptions, DoctorReport, run_doctor

_FROM_RUN = ("DoctorOptions", "DoctorReport", "run_doctor")


def __getattr__(name: str) -> Any:
    # The runner imports every check (and the gate's file editors): a debug session that only
    # needs ``kubeletgate`` does not pay for them.
    if name in _FROM_RUN:
        from podscope.checks import run

        return getattr(run, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DoctorOptions",
    "DoctorReport",
    "Finding",
    "exit_code",
    "ready",
    "run_doctor",
    "worst",
]
