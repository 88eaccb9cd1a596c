"""What every command's ``run`` shares: the client, the event printer, documents."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from podscope.client import Client
    from podscope.events import Event, EventHandler


def event_printer(quiet: bool) -> EventHandler:
    """Render the library's events on stderr, one ``podscope: ...`` line each."""
    # Messages can arrive while the terminal is in raw mode (a Pod watch runs during the
    # session), where "\n" alone does not return the cursor to the first column.
    end = "\r\n" if sys.stderr.isatty() else "\n"

    def show(event: Event) -> None:
        # Phases mark timings for a status line; the plain sentences already say the same.
        if quiet or event.kind == "phase":
            return
        prefix = "warning: " if event.kind == "warning" else ""
        sys.stderr.write(f"podscope: {prefix}{event.message}{end}")
        sys.stderr.flush()

    return show


def open_client(args: argparse.Namespace) -> Client:
    """The connection the cluster flags (``--kubeconfig``, ``--context``, ``-n``,
    ``--request-timeout``) describe; events go to stderr unless ``-q``."""
    from podscope.client import Client

    return Client(
        kubeconfig=getattr(args, "kubeconfig", None),
        context=getattr(args, "context", None),
        namespace=getattr(args, "namespace", None),
        request_timeout=getattr(args, "request_timeout", None),
        on_event=event_printer(getattr(args, "quiet", False)),
    )


def say(args: argparse.Namespace, message: str) -> None:
    """One progress line from the CLI itself, as the library's events are shown."""
    if not getattr(args, "quiet", False):
        sys.stderr.write(f"podscope: {message}\n")
        sys.stderr.flush()


def print_document(document: Any, output: str) -> None:
    """Write ``document`` to stdout as JSON or YAML (``-o json|yaml``)."""
    from podscope.rules.output import dump_json, dump_yaml

    sys.stdout.write(dump_json(document) if output == "json" else dump_yaml(document))
