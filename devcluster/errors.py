"""The one way devcluster fails: loudly, with the command and the log tail that explain it."""

from __future__ import annotations


class ClusterError(Exception):
    def __init__(
        self, message: str, *, command: list[str] | None = None, log_tail: str = ""
    ) -> None:
        super().__init__(message)
        self.message = message
        self.command = command
        self.log_tail = log_tail

    def render(self) -> str:
        lines = [f"devcluster: error: {self.message}"]
        if self.command:
            lines.append("devcluster: command: " + " ".join(self.command))
        if self.log_tail:
            lines.append("devcluster: last log lines:")
            lines.extend("    " + line for line in self.log_tail.rstrip("\n").splitlines())
        return "\n".join(lines)
