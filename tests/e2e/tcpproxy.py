"""A local TCP proxy that a test controls, to cut connections to the API server on demand.

TLS passes through untouched (the API server's certificate names 127.0.0.1, so a kubeconfig that
points at the proxy still verifies). `drop()` closes every open connection at once, which is what
a flaky network or a restarted load balancer does to a running `attach`.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import threading
from pathlib import Path
from typing import Any


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self.accepted = 0
        self.refuse = False  # when True, new connections are closed at once
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.refuse:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
                self.accepted += 1
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        peers = {a: b, b: a}
        try:
            while True:
                readable, _, _ = select.select([a, b], [], [], 1.0)
                if self._closed.is_set():
                    return
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)
        except OSError:
            return
        finally:
            for sock in (a, b):
                with contextlib.suppress(OSError):
                    sock.close()

    def drop(self) -> int:
        """Cut every open connection (RST-like: both ends see the socket close)."""
        with self._lock:
            conns, self._conns = self._conns, []
        for sock in conns:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
        return len(conns) // 2

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self.listener.close()
        self.drop()


def kubeconfig_via(kubeconfig: str, server: str, out: Path) -> Path:
    """A copy of `kubeconfig` whose clusters all point at `server` (same CA and credentials)."""
    doc: dict[str, Any] = json.loads(Path(kubeconfig).read_text())
    for cluster in doc["clusters"]:
        cluster["cluster"]["server"] = server
    out.write_text(json.dumps(doc))
    out.chmod(0o600)
    return out
