"""A small fault-injecting TCP proxy for exactly-once tests.

Each client connection is one HTTP request (clients send `Connection: close`). Per
connection, chosen by a seeded random generator, the proxy either passes everything, drops
the connection before the request reaches the hub, or forwards the request, lets the hub
answer (so the hub has committed) and then drops the answer. It counts what it did.
"""

from __future__ import annotations

import random
import socket
import threading
from dataclasses import dataclass, field


@dataclass
class FaultCounts:
    passed: int = 0
    dropped_request: int = 0
    dropped_response: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class FaultProxy:
    """Listens on 127.0.0.1:<port> and forwards to 127.0.0.1:<upstream_port>."""

    def __init__(
        self, upstream_port: int, *, drop_request: float, drop_response: float, seed: int = 1
    ) -> None:
        self.upstream_port = upstream_port
        self.drop_request = drop_request
        self.drop_response = drop_response
        self.random = random.Random(seed)
        self.counts = FaultCounts()
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop = True
        self.listener.close()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        while not self._stop:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            roll = self.random.random()
            if roll < self.drop_request:
                mode = "drop_request"
            elif roll < self.drop_request + self.drop_response:
                mode = "drop_response"
            else:
                mode = "pass"
            threading.Thread(target=self._handle, args=(client, mode), daemon=True).start()

    def _handle(self, client: socket.socket, mode: str) -> None:
        client.settimeout(30)
        try:
            request = self._read_request(client)
            if mode == "drop_request" or not request:
                with self.counts.lock:
                    self.counts.dropped_request += 1
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=30)
            with upstream:
                upstream.sendall(request)
                response = bytearray()
                while True:
                    chunk = upstream.recv(65536)
                    if not chunk:
                        break
                    response += chunk
            if mode == "drop_response":
                with self.counts.lock:
                    self.counts.dropped_response += 1
                return
            client.sendall(bytes(response))
            with self.counts.lock:
                self.counts.passed += 1
        except OSError:
            pass
        finally:
            client.close()

    @staticmethod
    def _read_request(client: socket.socket) -> bytes:
        """One whole HTTP request (headers and a Content-Length body)."""
        data = bytearray()
        while b"\r\n\r\n" not in data:
            chunk = client.recv(65536)
            if not chunk:
                return bytes(data)
            data += chunk
        head, _, body = bytes(data).partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = client.recv(65536)
            if not chunk:
                break
            body += chunk
        return head + b"\r\n\r\n" + body
