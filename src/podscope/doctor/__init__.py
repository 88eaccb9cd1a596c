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
    "exit_code",
    "ready",
    "run_doctor",
    "worst",
]
