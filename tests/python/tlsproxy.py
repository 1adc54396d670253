"""A TCP proxy for tests that records the bytes crossing it, and a reader
of the TLS cipher suite a ServerHello picked."""

from __future__ import annotations

import socket
import threading
import time

# The suites our anonymous mode can negotiate (IANA numbers).
SUITES = {0x00A7: "ADH-AES256-GCM-SHA384", 0xC019: "AECDH-AES256-SHA"}


def negotiated_cipher(server_bytes: bytes) -> str:
    """The cipher suite in the first ServerHello of a TLS 1.2 server's byte
    stream (record type 22, handshake type 2)."""
    assert len(server_bytes) > 50 and server_bytes[0] == 0x16, server_bytes[:8].hex()
    hs = server_bytes[5:]
    assert hs[0] == 0x02, "not a ServerHello"
    sid_len = hs[4 + 2 + 32]
    pos = 4 + 2 + 32 + 1 + sid_len
    suite = int.from_bytes(hs[pos:pos + 2], "big")
    return SUITES.get(suite, f"0x{suite:04x}")


class RecordingProxy:
    """Forwards one TCP connection to `port` and keeps every byte seen."""

    def __init__(self, port: int):
        self.target = port
        self.seen = bytearray()
        self.server_bytes = bytearray()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.srv = socket.create_server(("127.0.0.1", 0))
        self.srv.settimeout(10)
        self.port = self.srv.getsockname()[1]
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _pump(self, src: socket.socket, dst: socket.socket, from_server: bool) -> None:
        src.settimeout(0.2)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not self.stop.is_set():
            try:
                data = src.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not data:
                break
            with self.lock:
                self.seen += data
                if from_server:
                    self.server_bytes += data
            try:
                dst.sendall(data)
            except OSError:
                break
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _run(self) -> None:
        try:
            client, _ = self.srv.accept()
        except OSError:
            return
        with client, socket.create_connection(("127.0.0.1", self.target),
                                              timeout=5) as upstream:
            t = threading.Thread(target=self._pump, args=(upstream, client, True),
                                 daemon=True)
            t.start()
            self._pump(client, upstream, False)
            t.join(5)

    def bytes(self) -> bytes:
        """Everything seen, both directions."""
        with self.lock:
            return bytes(self.seen)

    def from_server(self) -> bytes:
        with self.lock:
            return bytes(self.server_bytes)

    def close(self) -> None:
        self.stop.set()
        self.srv.close()
        self.thread.join(10)
