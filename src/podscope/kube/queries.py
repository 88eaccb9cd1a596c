"""Questions put to the API server that take more than a name, each as one frozen value.

A session builds one and hands it to :class:`podscope.kube.protocol.KubeAPI`; being frozen,
the same value also serves as the key under which an answer is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class AccessQuestion:
    """May the current user ``verb`` the ``resource`` (its ``subresource``) of API ``group``
    in ``namespace``, the object ``name`` or (``None``) any of them? A SelfSubjectAccessReview.
    """

    verb: str
    resource: str
    subresource: str | None = None
    namespace: str | None = None
    name: str | None = None
    group: str = ""

    def for_any_name(self) -> AccessQuestion:
        """The same question for every object of the resource, not only ``name``."""
        return replace(self, name=None)

    def attributes(self) -> dict[str, str]:
        """The review's ``resourceAttributes``; an unset field is left out (any)."""
        narrowing = {
            "subresource": self.subresource,
            "namespace": self.namespace,
            "name": self.name,
        }
        return {
            "verb": self.verb,
            "resource": self.resource,
            "group": self.group,
            **{key: value for key, value in narrowing.items() if value},
        }


@dataclass(frozen=True)
class LogQuery:
    """Which part of a container's log to read: both streams interleaved unless ``stream``
    is "Stdout" or "Stderr" (servers without split log streams refuse that)."""

    namespace: str
    pod: str
    container: str
    tail_lines: int | None = None
    limit_bytes: int | None = None
    previous: bool = False  # the log of the container's previous run
    stream: str | None = None

    def query(self) -> list[tuple[str, str]]:
        """The ``pods/log`` query parameters."""
        query = [("container", self.container)]
        if self.tail_lines is not None:
            query.append(("tailLines", str(self.tail_lines)))
        if self.limit_bytes is not None:
            query.append(("limitBytes", str(self.limit_bytes)))
        if self.previous:
            query.append(("previous", "true"))
        if self.stream:
            query.append(("stream", self.stream))
        return query


@dataclass(frozen=True)
class StreamQuery:
    """The container an attach or exec stream opens to, and whether it carries stdin and a
    TTY (with a TTY the kubelet sends stderr merged into stdout, so it is not asked for)."""

    namespace: str
    pod: str
    container: str
    stdin: bool = False
    tty: bool = False

    def query(self) -> list[tuple[str, str]]:
        """The ``pods/attach`` and ``pods/exec`` query parameters (exec adds the command)."""
        return [
            ("container", self.container),
            ("stdin", _bool(self.stdin)),
            ("stdout", "true"),
            ("stderr", _bool(not self.tty)),
            ("tty", _bool(self.tty)),
        ]


def _bool(value: bool) -> str:
    return "true" if value else "false"
