"""What every command's ``run`` shares: the client, the event printer, documents."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from podscope.client import Client
    from podscope.events import EventHandler
    from podscope.rules.output import PagedTable


def event_printer(quiet: bool) -> EventHandler:
    """Render the library's events on stderr (``podscope: ...`` lines, a status line)."""
    from podscope.cli.progress import EventPrinter

    return EventPrinter(quiet)


@contextmanager
def open_client(args: argparse.Namespace) -> Iterator[Client]:
    """The connection the cluster flags (``--kubeconfig``, ``--context``, ``-n``,
    ``--request-timeout``) describe; events go to stderr unless ``-q``."""
    from podscope.cli.progress import EventPrinter
    from podscope.client import Client

    printer = EventPrinter(getattr(args, "quiet", False))
    client = Client(
        kubeconfig=getattr(args, "kubeconfig", None),
        context=getattr(args, "context", None),
        namespace=getattr(args, "namespace", None),
        request_timeout=getattr(args, "request_timeout", None),
        on_event=printer,
    )
    try:
        yield client
    finally:
        client.close()
        printer.close()


def say(args: argparse.Namespace, message: str) -> None:
    """One progress line from the CLI itself, as the library's events are shown."""
    if not getattr(args, "quiet", False):
        sys.stderr.write(f"podscope: {message}\n")
        sys.stderr.flush()


def machine_output(args: argparse.Namespace) -> str | None:
    """``json`` or ``yaml`` when ``-o`` asks for a document; None for a table."""
    output = getattr(args, "output", None)
    return output if output in ("json", "yaml") else None


def terminal_columns() -> int:
    """The terminal's width as :func:`shutil.get_terminal_size` gives it ($COLUMNS, else the
    size of stdout's terminal, else 80), without importing :mod:`shutil`."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


def _table_width(args: argparse.Namespace, stream: Any) -> int | None:
    if getattr(args, "output", None) == "wide":
        return None
    if os.environ.get("COLUMNS", "").isdigit():
        return int(os.environ["COLUMNS"])
    if stream.isatty():
        return terminal_columns()
    return None


def print_table(
    args: argparse.Namespace,
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    out: Any = None,
    keep: Sequence[str] = ("NAMESPACE", "POD", "NAME", "CHECK"),
) -> None:
    """A table that fits the terminal: ``COLUMNS``, else the terminal's width when stdout is
    one; full width with ``-o wide`` or into a pipe (stable, plain output for scripts)."""
    from podscope.rules.output import render_table

    stream = out or sys.stdout
    width = _table_width(args, stream)
    shown = not getattr(args, "no_headers", False)
    stream.write(render_table(headers, rows, width=width, headers_shown=shown, keep=keep))


def paged_table(
    args: argparse.Namespace,
    headers: Sequence[str],
    out: Any = None,
    keep: Sequence[str] = ("NAMESPACE", "POD", "NAME", "CHECK"),
) -> PagedTable:
    """A :class:`PagedTable` sized as :func:`print_table` sizes a table."""
    from podscope.rules.output import PagedTable

    shown = not getattr(args, "no_headers", False)
    return PagedTable(
        headers, width=_table_width(args, out or sys.stdout), headers_shown=shown, keep=keep
    )


def print_document(document: Any, output: str) -> None:
    """Write ``document`` to stdout as JSON or YAML (``-o json|yaml``)."""
    from podscope.rules.output import dump_json, dump_yaml

    sys.stdout.write(dump_json(document) if output == "json" else dump_yaml(document))
