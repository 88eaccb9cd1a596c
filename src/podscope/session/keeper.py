"""A second exec beside an interactive session that ends the session if the client goes.

An exec'd shell runs on when its client is killed (SIGKILL, a crash, a laptop's lid): its
TTY is the runtime's and stays open, and nothing else in the container learns of the loss.
The keeper's exec has a stdin stream and no TTY, so the end of the client's connection
reaches it as the end of its stdin; it then ends the session (``SESSION_KEEPER_SCRIPT``).
The client tells it "done" when the session ended as it should, so that what the session
left running on purpose (``nohup ... &``) is not ended with it.

It is best effort: a keeper that cannot be opened (refused, RBAC) costs the session
nothing but this protection, and is not reported.
"""

from __future__ import annotations

import threading

from podscope.kube.protocol import KubeAPI
from podscope.kube.queries import StreamQuery
from podscope.kube.streams import ChannelStream
from podscope.rules.debugger import SESSION_KEEPER_DONE, session_keeper_command

# Below any streaming idle timeout a kubelet is given (CIS benchmarks suggest 5 minutes).
HEARTBEAT_SECONDS = 60.0
# How long a session's end waits for its keeper to be told (it may still be connecting).
RELEASE_WAIT_SECONDS = 2.0


class SessionKeeper:
    """Keeps watch over session ``session`` of debugger ``name`` from its own exec, opened
    in a thread so that the session's first output does not wait for it."""

    def __init__(
        self,
        client: KubeAPI,
        namespace: str,
        pod: str,
        name: str,
        session: str,
        *,
        heartbeat: float = HEARTBEAT_SECONDS,
    ) -> None:
        self._client = client
        self._query = StreamQuery(namespace, pod, name, stdin=True, tty=False)
        self._command = session_keeper_command(name, session)
        self._heartbeat = heartbeat
        self._finished = threading.Event()
        self._done = False
        self._thread = threading.Thread(target=self._keep, name="podscope-keeper", daemon=True)

    def start(self) -> SessionKeeper:
        self._thread.start()
        return self

    def end(self, done: bool) -> None:
        """``done``: the session ended as it should, and the keeper ends without ending
        anything (this waits a moment for the word to be sent: a client that exits first
        would drop it). Otherwise its connection closes as a client that went would close
        it, and the session is ended."""
        self._done = done
        self._finished.set()
        if done and self._thread.ident is not None:
            self._thread.join(RELEASE_WAIT_SECONDS)

    def _keep(self) -> None:
        if self._finished.is_set():
            return  # the session was over before its keeper was needed
        try:
            stream = self._client.exec(self._query, self._command)
        except Exception:  # noqa: BLE001 - best effort; see the module's docstring
            return
        reader = threading.Thread(target=_drain, args=(stream,), daemon=True)
        reader.start()
        try:
            while not self._finished.wait(self._heartbeat):
                if not stream.write_stdin(b"\n"):
                    return
            if self._done:
                stream.write_stdin(SESSION_KEEPER_DONE)
        finally:
            stream.close()


def _drain(stream: ChannelStream) -> None:
    # Reading answers the server's pings and notices its close; the keeper prints nothing.
    for _ in stream.frames():
        pass
