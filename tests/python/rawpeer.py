"""A raw-socket test peer that speaks Broker's wire format v1 by hand.

Only Python's socket/struct: frames are a u32 big-endian length plus the
payload (wire-protocol.md §1), handshake messages a tag byte plus fields
(§2), operation frames an envelope (§3) with values encoded as in §4. Used
to feed a listening ``broker.Endpoint`` bytes that a proper peer would never
send, and to check the bytes it answers with.

Every receive is bounded by a timeout; nothing here sleeps.
"""

from __future__ import annotations

import socket
import struct
import time
import uuid

MAGIC = 0x5A45454B
MAGIC_BYTES = struct.pack(">I", MAGIC)
PROTOCOL_VERSION = 1

# Handshake tags.
HELLO = 6
PROBE = 7
VERSION_SELECT = 8
DROP_CONN = 9
ORIGINATOR_SYN = 10
RESPONDER_SYN_ACK = 11
ORIGINATOR_ACK = 12

# Envelope types.
DATA = 1
COMMAND = 2
ROUTING_UPDATE = 3
PING = 4
PONG = 5

INTERNAL_TOPIC = "<$>"
NIL_ID = bytes(16)
DEFAULT_TTL = 16

# Ids that sort below / above every random endpoint id (memcmp order).
SMALL_ID = bytes(15) + b"\x01"
LARGE_ID = b"\xff" * 16

PROBE_FRAME = bytes.fromhex("00000005075a45454b")


class Closed(Exception):
    """The other side closed the connection."""


# -- encoders -------------------------------------------------------------------


def id_bytes(node_id: str) -> bytes:
    """The 16 raw bytes of an endpoint id given as UUID text."""
    return uuid.UUID(node_id).bytes


def varbyte(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def read_varbyte(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return result, pos


def frame(payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + payload


def encode_filter(topics) -> bytes:
    out = varbyte(len(topics))
    for t in topics:
        tb = t.encode()
        out += varbyte(len(tb)) + tb
    return out


def decode_filter(buf: bytes) -> list[str]:
    n, pos = read_varbyte(buf, 0)
    result = []
    for _ in range(n):
        size, pos = read_varbyte(buf, pos)
        result.append(buf[pos : pos + size].decode())
        pos += size
    assert pos == len(buf), "trailing bytes after filter"
    return result


def hello(sender: bytes, vmin: int = 1, vmax: int = 1, magic: int = MAGIC) -> bytes:
    return bytes([HELLO]) + struct.pack(">I", magic) + sender + bytes([vmin, vmax])


def probe() -> bytes:
    return bytes([PROBE]) + MAGIC_BYTES


def version_select(sender: bytes, version: int = 1) -> bytes:
    return bytes([VERSION_SELECT]) + MAGIC_BYTES + sender + bytes([version])


def drop_conn(sender: bytes, code: int, why: str) -> bytes:
    wb = why.encode()
    return bytes([DROP_CONN]) + MAGIC_BYTES + sender + bytes([code]) + varbyte(len(wb)) + wb


def originator_syn(topics=()) -> bytes:
    return bytes([ORIGINATOR_SYN]) + encode_filter(list(topics))


def responder_syn_ack(topics=()) -> bytes:
    return bytes([RESPONDER_SYN_ACK]) + encode_filter(list(topics))


def originator_ack() -> bytes:
    return bytes([ORIGINATOR_ACK])


def envelope(sender: bytes, receiver: bytes, mtype: int, topic: str,
             payload: bytes, ttl: int = DEFAULT_TTL) -> bytes:
    tb = topic.encode()
    return sender + receiver + struct.pack(">BHH", mtype, ttl, len(tb)) + tb + payload


# Values (wire-protocol.md §4), just the few the tests need.


def v_count(n: int) -> bytes:
    return b"\x02" + struct.pack(">Q", n)


def v_integer(n: int) -> bytes:
    return b"\x03" + struct.pack(">q", n)


def v_string(s: str | bytes) -> bytes:
    sb = s.encode() if isinstance(s, str) else s
    return b"\x05" + varbyte(len(sb)) + sb


def v_vector(*elems: bytes) -> bytes:
    return b"\x0e" + varbyte(len(elems)) + b"".join(elems)


# -- decoders -------------------------------------------------------------------


def parse_handshake(payload: bytes) -> dict:
    """Decodes a handshake message into a dict with at least 'tag'."""
    tag = payload[0]
    msg = {"tag": tag}
    if tag in (HELLO, PROBE, VERSION_SELECT, DROP_CONN):
        msg["magic"] = struct.unpack(">I", payload[1:5])[0]
    if tag == HELLO:
        msg["sender"] = payload[5:21]
        msg["min"], msg["max"] = payload[21], payload[22]
    elif tag == VERSION_SELECT:
        msg["sender"] = payload[5:21]
        msg["version"] = payload[21]
    elif tag == DROP_CONN:
        msg["sender"] = payload[5:21]
        msg["code"] = payload[21]
        size, pos = read_varbyte(payload, 22)
        msg["description"] = payload[pos : pos + size].decode()
        assert pos + size == len(payload)
    elif tag in (ORIGINATOR_SYN, RESPONDER_SYN_ACK):
        msg["filter"] = decode_filter(payload[1:])
    return msg


def parse_envelope(payload: bytes) -> dict:
    mtype, ttl, tlen = struct.unpack(">BHH", payload[32:37])
    return {
        "sender": payload[0:16],
        "receiver": payload[16:32],
        "type": mtype,
        "ttl": ttl,
        "topic": payload[37 : 37 + tlen].decode(),
        "payload": payload[37 + tlen :],
    }


def is_overlay_ping(payload: bytes) -> bool:
    """An overlay update of ours: a ping envelope on "<$>" whose payload
    starts with "BOV" (src/format/bin/overlay_update.hh)."""
    return (len(payload) >= 43 and payload[32] == PING
            and payload[35:40] == b"\x00\x03<$>" and payload[40:43] == b"BOV")


# -- the peer -------------------------------------------------------------------


class RawPeer:
    """One TCP connection to an endpoint, driven byte by byte."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 5.0):
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buf = b""
        self.raw_frames: list[bytes] = []  # every frame received, with length
        # Overlay updates (pings our endpoints send every peer): answered
        # with a pong and kept out of raw_frames, as real Broker handles
        # them (it echoes every ping and does nothing else).
        self.overlay_pings: list[bytes] = []

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # sending

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_frame(self, payload: bytes) -> None:
        self.sock.sendall(frame(payload))

    def shutdown_write(self) -> None:
        """Half-closes: the endpoint sees EOF but we can still read."""
        self.sock.shutdown(socket.SHUT_WR)

    # receiving

    def _fill(self, n: int, deadline: float) -> None:
        while len(self._buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no data within {self.timeout}s")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise TimeoutError(f"no data within {self.timeout}s") from None
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                raise Closed(f"connection closed with {len(self._buf)} bytes pending")
            self._buf += chunk

    def recv_frame(self, timeout: float | None = None) -> bytes:
        """The next frame's payload. Raises Closed on EOF, TimeoutError."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            self._fill(4, deadline)
            (n,) = struct.unpack(">I", self._buf[:4])
            self._fill(4 + n, deadline)
            raw, self._buf = self._buf[: 4 + n], self._buf[4 + n :]
            if is_overlay_ping(raw[4:]):
                self.overlay_pings.append(raw)
                env = parse_envelope(raw[4:])
                self.send_frame(envelope(env["receiver"], env["sender"], PONG, "<$>",
                                         env["payload"]))
                continue
            self.raw_frames.append(raw)
            return raw[4:]

    def recv_handshake(self, timeout: float | None = None) -> dict:
        return parse_handshake(self.recv_frame(timeout))

    def recv_envelope(self, timeout: float | None = None) -> dict:
        return parse_envelope(self.recv_frame(timeout))

    def expect_probe(self) -> None:
        payload = self.recv_frame()
        assert frame(payload) == PROBE_FRAME, payload.hex()

    def read_until_closed(self, timeout: float | None = None) -> list[bytes]:
        """Reads frames until EOF and returns their payloads; raises
        TimeoutError if the endpoint keeps the connection open."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        frames = []
        while True:
            try:
                frames.append(self.recv_frame(max(0.0, deadline - time.monotonic())))
            except Closed:
                return frames

    def stays_open(self, duration: float) -> bool:
        """True if nothing arrives and the connection stays open for
        `duration` seconds (a bounded wait, not a sleep)."""
        try:
            self.recv_frame(duration)
        except TimeoutError:
            return True
        except Closed:
            return False
        raise AssertionError("unexpected frame while waiting for silence")

    # handshakes

    def handshake_as_originator(self, own_id: bytes, endpoint_id: bytes,
                                topics=()) -> list[str]:
        """Connector with the smaller id: we originate. Returns the
        endpoint's filter."""
        self.expect_probe()
        self.send_frame(hello(own_id))
        msg = self.recv_handshake()
        assert msg["tag"] == HELLO, msg
        assert msg["sender"] == endpoint_id and (msg["min"], msg["max"]) == (1, 1)
        self.send_frame(version_select(own_id))
        self.send_frame(originator_syn(topics))
        msg = self.recv_handshake()
        assert msg["tag"] == RESPONDER_SYN_ACK, msg
        self.send_frame(originator_ack())
        return msg["filter"]

    def handshake_as_responder(self, own_id: bytes, endpoint_id: bytes,
                               topics=()) -> list[str]:
        """Connector with the larger id: the endpoint originates. Returns
        the endpoint's filter."""
        self.expect_probe()
        self.send_frame(hello(own_id))
        msg = self.recv_handshake()
        assert msg["tag"] == VERSION_SELECT, msg
        assert msg["sender"] == endpoint_id and msg["version"] == 1
        msg = self.recv_handshake()
        assert msg["tag"] == ORIGINATOR_SYN, msg
        theirs = msg["filter"]
        self.send_frame(responder_syn_ack(topics))
        msg = self.recv_handshake()
        assert msg["tag"] == ORIGINATOR_ACK, msg
        return theirs
