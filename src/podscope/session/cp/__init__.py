"""``podscope cp``: copy files out of and into a container, even one without tar or a shell.

The transfer goes through the Pod's debugger (busybox, ``general`` profile for
CAP_SYS_PTRACE), which targets the container and reaches its root file system through
``/proc/<pid>/root``; each step is an **exec** into it, so one debugger serves every later
copy and debug session (ephemeral containers cannot be removed: they must not pile up).

Data streams: tar on the exec's stdout/stdin, parsed or produced here chunk by chunk, so memory
stays flat whatever the size. Each regular file's sha256 is computed here while streaming and
compared with ``sha256sum`` run in the target afterwards. Progress reaches the caller as
:class:`TransferProgress` events; nothing here prints.

One concern per module: ``helper`` (the container that copies), ``remote`` (execs into it),
``archive`` and ``extract`` (the local tar halves), ``verify`` (the checksums), ``copy_out``
and ``copy_in`` (the two directions), ``run`` (the entry point), ``result`` (what it did).
"""

from podscope.session.cp.archive import write_archive
from podscope.session.cp.extract import Extracted, extract_stream
from podscope.session.cp.helper import HELPER_PREFIX, Helper, ensure_helper, find_helper
from podscope.session.cp.progress import ProgressCallback, TransferProgress
from podscope.session.cp.result import CpResult
from podscope.session.cp.run import run_cp
from podscope.session.cp.verify import ChecksumError

__all__ = [
    "HELPER_PREFIX",
    "ChecksumError",
    "CpResult",
    "Helper",
    "Extracted",
    "ProgressCallback",
    "TransferProgress",
    "ensure_helper",
    "extract_stream",
    "find_helper",
    "run_cp",
    "write_archive",
]
