"""A bare-bones WebSocket client over a plain socket, for tests that need
what client libraries hide: a client that stops reading or never answers
PINGs, the exact Close code and reason the server sends, frames beyond the
size limit. Every read is bounded by a timeout."""

from __future__ import annotations

import array
import base64
import fcntl
import os
import socket
import struct
import termios
import time

OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x2, 0x8, 0x9, 0xA


class RawClient:
    def __init__(self, port: int, path: str = "/v1/messages/json",
                 headers: dict | None = None, timeout: float = 10.0,
                 rcvbuf: int | None = None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            # A small receive buffer makes a client that stops reading
            # fill up after little data.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}",
                 "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the upgrade")
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        self.status = int(head.split(b" ", 2)[1])
        self.response = head.decode("latin-1")

    def send_frame(self, opcode: int, payload: bytes, fin: bool = True) -> None:
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([(0x80 if fin else 0) | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def send_text(self, text: str) -> None:
        self.send_frame(OP_TEXT, text.encode())

    def send_close(self, code: int = 1000, reason: str = "") -> None:
        self.send_frame(OP_CLOSE, struct.pack("!H", code) + reason.encode())

    def _fill(self, n: int, deadline: float) -> None:
        """Reads until `n` bytes are buffered (or raises TimeoutError)."""
        while len(self.buf) < n:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            self.buf += chunk

    def read_frame(self, timeout: float = 10.0) -> tuple[int, bytes]:
        """(opcode, payload) of the next frame from the server. A timeout
        consumes nothing: the next call reads the same frame."""
        deadline = time.monotonic() + timeout
        self._fill(2, deadline)
        n, head = self.buf[1] & 0x7F, 2
        if n == 126:
            self._fill(4, deadline)
            n, head = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            self._fill(10, deadline)
            n, head = struct.unpack("!Q", self.buf[2:10])[0], 10
        self._fill(head + n, deadline)
        op, payload = self.buf[0] & 0x0F, self.buf[head:head + n]
        self.buf = self.buf[head + n:]
        return op, payload

    def wait_stalled(self, quiet: float = 0.5, timeout: float = 20.0) -> bool:
        """Waits until the bytes waiting in our socket stop growing for
        `quiet` seconds: with a full receive buffer, the server can send
        nothing more until we read. False if that does not happen."""
        last, since = -1, time.monotonic()
        deadline = since + timeout
        while time.monotonic() < deadline:
            waiting = array.array("i", [0])
            fcntl.ioctl(self.sock, termios.FIONREAD, waiting)
            if waiting[0] != last:
                last, since = waiting[0], time.monotonic()
            elif time.monotonic() - since >= quiet:
                return last > 0
            time.sleep(0.02)
        return False

    def read_text(self, timeout: float = 10.0) -> str:
        """The next text message, answering PINGs on the way."""
        deadline = time.monotonic() + timeout
        while True:
            op, payload = self.read_frame(max(0.01, deadline - time.monotonic()))
            if op == OP_PING:
                self.send_frame(OP_PONG, payload)
                continue
            if op == OP_CLOSE:
                raise ConnectionError(f"closed: {close_of(payload)}")
            return payload.decode()

    def read_until_close(self, timeout: float = 10.0) -> tuple[int, str, list[str]]:
        """Reads (discarding PINGs) until the server's Close:
        (code, reason, texts read before it)."""
        deadline = time.monotonic() + timeout
        texts = []
        while True:
            op, payload = self.read_frame(max(0.01, deadline - time.monotonic()))
            if op == OP_CLOSE:
                code, reason = close_of(payload)
                return code, reason, texts
            if op == OP_TEXT:
                texts.append(payload.decode())

    def close(self) -> None:
        self.sock.close()


def close_of(payload: bytes) -> tuple[int, str]:
    if len(payload) < 2:
        return 1005, ""
    return struct.unpack("!H", payload[:2])[0], payload[2:].decode(errors="replace")
