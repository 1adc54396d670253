"""A raw-socket peer feeds a listening endpoint bad and good wire bytes.

Every bad case must end the offending connection the way real Broker does
(golden captures in tests/golden/drop-conn.json) and leave the endpoint, its
other peers and its subscribers working.
"""

from __future__ import annotations

import itertools
import random
import struct

import pytest

import broker

import rawpeer
from conftest import load_golden, plain_config, wait_until
from rawpeer import RawPeer

_counter = itertools.count()


class Node:
    """A listening endpoint with a proper peer ("buddy") and subscribers."""

    def __init__(self):
        self.ep = broker.Endpoint(plain_config())
        self.buddy = broker.Endpoint(plain_config())
        self.port = self.ep.listen("127.0.0.1", 0)
        assert self.port > 0
        self.id = rawpeer.id_bytes(self.ep.node_id())
        self.status = self.ep.make_status_subscriber(receive_statuses=True)
        self.sub = self.ep.make_subscriber("/health/to-ep", qsize=100)
        self.buddy_sub = self.buddy.make_subscriber("/health/to-buddy", qsize=100)
        assert self.buddy.peer("127.0.0.1", self.port, 1.0)
        assert wait_until(lambda: self._subs_known())
        # Statuses of the buddy's peering are not what the tests look at.
        self.drain_statuses()

    def _subs_known(self) -> bool:
        a = {t.string() for t in self.ep.peer_subscriptions()}
        b = {t.string() for t in self.buddy.peer_subscriptions()}
        return "/health/to-buddy" in a and "/health/to-ep" in b

    def drain_statuses(self) -> list:
        return self.status.poll()

    def assert_healthy(self) -> None:
        """The endpoint still peers with the buddy in both directions and
        its subscribers still receive."""
        n = next(_counter)
        self.buddy.publish("/health/to-ep", n)
        assert self.sub.get(5.0) == ("/health/to-ep", n)
        self.ep.publish("/health/to-buddy", n)
        assert self.buddy_sub.get(5.0) == ("/health/to-buddy", n)
        # Only the buddy is peered (the raw connection is gone).
        assert wait_until(lambda: len(self.ep.peers()) == 1, timeout=5.0)
        assert self.ep.peers()[0].peer.node == self.buddy.node_id()
        # A fresh, proper peer can still connect.
        with broker.Endpoint(plain_config()) as other:
            assert other.peer("127.0.0.1", self.port, 1.0)
            assert wait_until(lambda: len(self.ep.peers()) == 2)
        assert wait_until(lambda: len(self.ep.peers()) == 1)

    def errors(self, timeout: float = 5.0, want=None) -> list:
        """Waits until an Error status (of code `want`, if given) arrives,
        then returns all errors seen."""
        seen = []

        def got():
            for ev in self.status.poll():
                if isinstance(ev, broker.Error):
                    seen.append(ev)
            return any(want is None or e.code() == want for e in seen)

        wait_until(got, timeout=timeout)
        return seen

    def raw(self, timeout: float = 5.0) -> RawPeer:
        return RawPeer(self.port, timeout=timeout)

    def close(self) -> None:
        self.buddy.shutdown()
        self.ep.shutdown()


@pytest.fixture
def node():
    n = Node()
    try:
        yield n
    finally:
        n.close()


def golden_frames(conn: int, direction: str = "A->B") -> list[bytes]:
    frames = load_golden("drop-conn.json")["frames"]
    return [bytes.fromhex(f["hex"]) for f in frames
            if f["conn"] == conn and f["dir"] == direction]


def golden_id() -> bytes:
    return bytes.fromhex(load_golden("drop-conn.json")["endpoints"]["A"]["id_hex"])


def as_ours(golden_frame: bytes, node_id: bytes) -> bytes:
    """A golden frame with the golden endpoint's id replaced by ours."""
    return golden_frame.replace(golden_id(), node_id)


def expect_drop_conn(peer: RawPeer, node: Node, code: int) -> dict:
    """The endpoint answers with exactly one drop_conn and closes."""
    frames = peer.read_until_closed()
    assert len(frames) == 1, [f.hex() for f in frames]
    msg = rawpeer.parse_handshake(frames[0])
    assert msg["tag"] == rawpeer.DROP_CONN, msg
    assert msg["magic"] == rawpeer.MAGIC
    assert msg["sender"] == node.id
    assert msg["code"] == code, msg
    assert msg["description"]
    return msg


# -- the probe ----------------------------------------------------------------------


def test_probe_bytes_match_golden(node):
    with node.raw() as peer:
        assert peer.recv_frame() == golden_frames(1)[0][4:]
        assert peer.raw_frames[0] == rawpeer.PROBE_FRAME
    node.assert_healthy()


def test_probe_first_is_ignored(node):
    with node.raw() as peer:
        peer.expect_probe()
        peer.send_frame(rawpeer.probe())
        assert peer.stays_open(0.3)
        # The connection is still usable for a proper handshake.
        peer.send_frame(rawpeer.hello(rawpeer.LARGE_ID))
        msg = peer.recv_handshake()
        assert msg["tag"] == rawpeer.VERSION_SELECT and msg["sender"] == node.id
    node.assert_healthy()


# -- bad hellos: golden bytes ------------------------------------------------------------


def test_wrong_magic(node):
    with node.raw() as peer:
        peer.expect_probe()
        peer.send_frame(rawpeer.hello(bytes.fromhex("00112233445566778899aabbccddeeff"),
                                      magic=0xDEADBEEF))
        msg = expect_drop_conn(peer, node, 38)
        assert msg["description"] == "wrong magic number"
        assert peer.raw_frames[-1] == as_ours(golden_frames(1)[1], node.id)
    errs = node.errors(want=broker.EC.WrongMagicNumber)
    assert any(e.code() == broker.EC.WrongMagicNumber for e in errs), errs
    node.assert_healthy()


@pytest.mark.parametrize("versions,conn", [((2, 2), 2), ((0, 0), 3)])
def test_unsupported_versions(node, versions, conn):
    with node.raw() as peer:
        peer.expect_probe()
        peer.send_frame(rawpeer.hello(bytes.fromhex("00112233445566778899aabbccddeeff"),
                                      *versions))
        msg = expect_drop_conn(peer, node, 2)
        assert msg["description"] == "unsupported versions offered"
        assert peer.raw_frames[-1] == as_ours(golden_frames(conn)[1], node.id)
    errs = node.errors(want=broker.EC.PeerIncompatible)
    assert any(e.code() == broker.EC.PeerIncompatible for e in errs), errs
    node.assert_healthy()


def test_version_range_containing_1_is_accepted(node):
    # Golden conn 5: hello 1..3 from a larger id, answered by version_select
    # and originator_syn (empty filter: the endpoint subscribes to nothing
    # beyond /health/to-ep, so compare only the version_select bytes).
    with node.raw() as peer:
        peer.expect_probe()
        peer.send_frame(rawpeer.hello(rawpeer.LARGE_ID, 1, 3))
        peer.recv_frame()
        golden_vs = golden_frames(5)[1]
        assert peer.raw_frames[-1] == as_ours(golden_vs, node.id)
        msg = peer.recv_handshake()
        assert msg["tag"] == rawpeer.ORIGINATOR_SYN
        # Its own subscription, and its other peer's (it relays for it).
        assert msg["filter"] == ["/health/to-buddy", "/health/to-ep"]
    node.assert_healthy()


def test_hello_from_smaller_id_gets_hello_back(node):
    # Golden conn 4: the acceptor with the larger id answers with its hello.
    with node.raw() as peer:
        peer.expect_probe()
        peer.send_frame(rawpeer.hello(bytes.fromhex("00112233445566778899aabbccddeeff")))
        peer.recv_frame()
        assert peer.raw_frames[-1] == as_ours(golden_frames(4)[1], node.id)
    node.assert_healthy()


def test_empty_filter_originator_syn_matches_golden():
    # Golden conn 5 with an endpoint that subscribes to nothing.
    with broker.Endpoint(plain_config()) as ep:
        port = ep.listen("127.0.0.1", 0)
        me = rawpeer.id_bytes(ep.node_id())
        with RawPeer(port) as peer:
            peer.expect_probe()
            peer.send_frame(rawpeer.hello(rawpeer.LARGE_ID, 1, 3))
            peer.recv_frame()
            peer.recv_frame()
            want = [as_ours(f, me) for f in golden_frames(5)]
            assert peer.raw_frames == want


# -- framing violations ------------------------------------------------------------------


def test_zero_length_frame_closes_without_drop_conn(node):
    with node.raw() as peer:
        peer.expect_probe()
        peer.send_raw(b"\x00\x00\x00\x00")
        assert peer.read_until_closed() == []
    node.assert_healthy()


def test_truncated_frame_then_close(node):
    with node.raw() as peer:
        peer.expect_probe()
        # Announce 23 bytes (a hello), send 10, then EOF.
        peer.send_raw(rawpeer.frame(rawpeer.hello(rawpeer.SMALL_ID))[:14])
        peer.shutdown_write()
        assert peer.read_until_closed() == []
    node.assert_healthy()


def test_truncated_hello_in_a_complete_frame(node):
    with node.raw() as peer:
        peer.expect_probe()
        peer.send_frame(rawpeer.hello(rawpeer.SMALL_ID)[:10])
        expect_drop_conn(peer, node, 20)
    node.assert_healthy()


@pytest.mark.parametrize("length", [0x7FFFFFFF, 0xFFFFFFFF, 0x7FFFFFFB])
def test_oversized_frame_length(node, length):
    with node.raw() as peer:
        peer.expect_probe()
        peer.send_raw(struct.pack(">I", length) + b"\x06" * 64)
        # Closed at once, without waiting for gigabytes that never come.
        assert peer.read_until_closed(timeout=5.0) == []
    node.assert_healthy()


@pytest.mark.parametrize("seed", range(6))
def test_random_bytes(node, seed):
    rng = random.Random(seed)
    blob = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 300)))
    with node.raw() as peer:
        peer.expect_probe()
        peer.send_raw(blob)
        peer.shutdown_write()
        frames = peer.read_until_closed()
        # At most a drop_conn came back.
        for f in frames:
            assert rawpeer.parse_handshake(f)["tag"] == rawpeer.DROP_CONN
    node.assert_healthy()


@pytest.mark.parametrize("seed", range(6))
def test_random_payload_in_a_frame(node, seed):
    rng = random.Random(100 + seed)
    payload = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 100)))
    with node.raw() as peer:
        peer.expect_probe()
        peer.send_frame(payload)
        frames = peer.read_until_closed()
        assert len(frames) == 1
        assert rawpeer.parse_handshake(frames[0])["tag"] == rawpeer.DROP_CONN
    node.assert_healthy()


# -- handshake state violations --------------------------------------------------------


@pytest.mark.parametrize(
    "first",
    [
        rawpeer.originator_ack(),
        rawpeer.originator_syn(["/x"]),
        rawpeer.responder_syn_ack([]),
        rawpeer.version_select(rawpeer.SMALL_ID),
    ],
    ids=["originator_ack", "originator_syn", "responder_syn_ack", "version_select"],
)
def test_unexpected_first_message(node, first):
    with node.raw() as peer:
        peer.expect_probe()
        peer.send_frame(first)
        expect_drop_conn(peer, node, 20)
    errs = node.errors(want=broker.EC.InvalidMessage)
    assert any(e.code() == broker.EC.InvalidMessage for e in errs), errs
    node.assert_healthy()


def test_unexpected_message_mid_handshake(node):
    with node.raw() as peer:
        peer.expect_probe()
        peer.send_frame(rawpeer.hello(rawpeer.SMALL_ID))
        assert peer.recv_handshake()["tag"] == rawpeer.HELLO
        # Expected: version_select. Send originator_ack instead.
        peer.send_frame(rawpeer.originator_ack())
        expect_drop_conn(peer, node, 20)
    node.assert_healthy()


def test_hello_with_the_endpoints_own_id(node):
    with node.raw() as peer:
        peer.expect_probe()
        peer.send_frame(rawpeer.hello(node.id))
        msg = expect_drop_conn(peer, node, 40)
        assert msg["sender"] == node.id
    node.assert_healthy()


def test_peer_drop_conn_during_handshake(node):
    with node.raw() as peer:
        peer.expect_probe()
        peer.send_frame(rawpeer.drop_conn(rawpeer.SMALL_ID, 28, "shutting down"))
        assert peer.read_until_closed() == []
    node.assert_healthy()


def test_disconnect_in_the_middle_of_the_handshake(node):
    with node.raw() as peer:
        peer.expect_probe()
        peer.send_frame(rawpeer.hello(rawpeer.LARGE_ID))
        assert peer.recv_handshake()["tag"] == rawpeer.VERSION_SELECT
        assert peer.recv_handshake()["tag"] == rawpeer.ORIGINATOR_SYN
    # Closed before responder_syn_ack.
    node.assert_healthy()


def test_all_bad_cases_against_one_endpoint(node):
    cases = [
        rawpeer.frame(rawpeer.hello(rawpeer.SMALL_ID, magic=0x01020304)),
        rawpeer.frame(rawpeer.hello(rawpeer.SMALL_ID, 5, 9)),
        rawpeer.frame(rawpeer.originator_ack()),
        b"\x00\x00\x00\x00",
        b"\x7f\xff\xff\xff",
        rawpeer.frame(b"\x63"),
    ]
    peers = [node.raw() for _ in cases]
    try:
        for peer in peers:
            peer.expect_probe()
        for peer, blob in zip(peers, cases):
            peer.send_raw(blob)
        for peer in peers:
            peer.read_until_closed()
    finally:
        for peer in peers:
            peer.close()
    node.assert_healthy()


# -- complete handshakes by the raw peer ------------------------------------------------


def handshake(peer: RawPeer, node: Node, originator: bool, topics=()) -> list[str]:
    if originator:
        return peer.handshake_as_originator(rawpeer.SMALL_ID, node.id, topics)
    return peer.handshake_as_responder(rawpeer.LARGE_ID, node.id, topics)


def wait_peered(node: Node, raw_id: bytes) -> None:
    import uuid

    text = str(uuid.UUID(bytes=raw_id))
    assert node.ep.await_peer(text, 5.0)
    assert wait_until(lambda: len(node.ep.peers()) == 2)


@pytest.mark.parametrize("originator", [True, False], ids=["raw-originates", "raw-responds"])
def test_full_handshake_then_data_both_ways(node, originator):
    raw_id = rawpeer.SMALL_ID if originator else rawpeer.LARGE_ID
    sub = node.ep.make_subscriber("/raw", qsize=100)
    with node.raw() as peer:
        theirs = handshake(peer, node, originator)
        assert theirs == ["/health/to-buddy", "/health/to-ep", "/raw"]
        wait_peered(node, raw_id)
        statuses = [s for s in node.drain_statuses() if isinstance(s, broker.Status)]
        assert broker.SC.PeerAdded in [s.code() for s in statuses]
        # A data frame from the raw peer reaches the subscriber.
        value = rawpeer.v_vector(rawpeer.v_string("hi"), rawpeer.v_count(7))
        peer.send_frame(rawpeer.envelope(raw_id, rawpeer.NIL_ID, rawpeer.DATA,
                                         "/raw/x", value))
        assert sub.get(5.0) == ("/raw/x", ("hi", broker.Count(7)))
        # A routing update makes the endpoint send us matching data.
        peer.send_frame(rawpeer.envelope(raw_id, node.id, rawpeer.ROUTING_UPDATE,
                                         rawpeer.INTERNAL_TOPIC,
                                         rawpeer.encode_filter(["/to-raw"])))
        assert wait_until(lambda: "/to-raw" in
                          {t.string() for t in node.ep.peer_subscriptions()})
        node.ep.publish("/to-raw/y", -5)
        env = peer.recv_envelope()
        assert env == {
            "sender": node.id,
            "receiver": rawpeer.NIL_ID,
            "type": rawpeer.DATA,
            "ttl": 16,
            "topic": "/to-raw/y",
            "payload": rawpeer.v_integer(-5),
        }
        # The buddy's messages on that topic are forwarded to us too once the
        # endpoint forward()s it, with the sender rewritten to the last hop
        # and the TTL decremented. forward() grows the endpoint's filter:
        # a routing update addressed to us comes first.
        node.ep.forward(["/to-raw"])
        env = peer.recv_envelope()
        assert env["type"] == rawpeer.ROUTING_UPDATE
        assert (env["sender"], env["receiver"], env["topic"]) == (
            node.id, raw_id, rawpeer.INTERNAL_TOPIC)
        assert rawpeer.decode_filter(env["payload"]) == [
            "/health/to-buddy", "/health/to-ep", "/raw", "/to-raw"]
        assert wait_until(lambda: "/to-raw" in
                          {t.string() for t in node.buddy.peer_subscriptions()})
        node.buddy.publish("/to-raw/z", "from buddy")
        env = peer.recv_envelope()
        assert env["sender"] == node.id and env["ttl"] == 15
        assert env["topic"] == "/to-raw/z"
        assert env["payload"] == rawpeer.v_string("from buddy")
        # A ping is answered with a pong carrying the same bytes.
        peer.send_frame(rawpeer.envelope(raw_id, node.id, rawpeer.PING,
                                         rawpeer.INTERNAL_TOPIC, b"hello?"))
        env = peer.recv_envelope()
        assert env["type"] == rawpeer.PONG and env["payload"] == b"hello?"
        assert env["receiver"] == raw_id
        # The buddy still works while the raw peer is connected.
        n = next(_counter)
        node.buddy.publish("/health/to-ep", n)
        assert node.sub.get(5.0) == ("/health/to-ep", n)
    # Closing the socket is a lost peer.
    assert wait_until(lambda: len(node.ep.peers()) == 1)
    node.assert_healthy()


@pytest.mark.parametrize("originator", [True, False], ids=["raw-originates", "raw-responds"])
def test_malformed_value_drops_the_connection(node, originator):
    raw_id = rawpeer.SMALL_ID if originator else rawpeer.LARGE_ID
    sub = node.ep.make_subscriber("/raw", qsize=100)
    with node.raw() as peer:
        handshake(peer, node, originator)
        wait_peered(node, raw_id)
        node.drain_statuses()
        peer.send_frame(rawpeer.envelope(raw_id, rawpeer.NIL_ID, rawpeer.DATA,
                                         "/raw/bad", b"\x0f"))
        # Dropped: nothing but EOF comes back (no drop_conn after the handshake).
        assert peer.read_until_closed() == []
    errs = node.errors(want=broker.EC.InvalidMessage)
    assert any(e.code() == broker.EC.InvalidMessage for e in errs), errs
    assert sub.get(0.1) is None
    node.assert_healthy()


@pytest.mark.parametrize(
    "payload",
    [
        b"\x05\x05ab",                          # string shorter than its length
        b"\x0e\x02\x02" + b"\x00" * 8,          # vector missing an element
        b"\x02\x00\x00",                        # truncated count
        b"\x00\x00",                            # trailing byte after none
        b"",                                    # no value at all
    ],
    ids=["short-string", "short-vector", "short-count", "trailing", "empty"],
)
def test_other_malformed_values(node, payload):
    sub = node.ep.make_subscriber("/raw", qsize=100)
    with node.raw() as peer:
        handshake(peer, node, True)
        wait_peered(node, rawpeer.SMALL_ID)
        peer.send_frame(rawpeer.envelope(rawpeer.SMALL_ID, rawpeer.NIL_ID,
                                         rawpeer.DATA, "/raw/bad", payload))
        assert peer.read_until_closed() == []
    assert sub.get(0.1) is None
    node.assert_healthy()


@pytest.mark.parametrize(
    "payload",
    [
        b"\x00" * 20,                                       # short envelope
        rawpeer.envelope(rawpeer.SMALL_ID, rawpeer.NIL_ID, 99, "/raw", b""),
        rawpeer.envelope(rawpeer.SMALL_ID, rawpeer.NIL_ID, rawpeer.DATA, "/raw", b"")[:36]
        + b"\xff\xff/raw",                                  # topic length past the end
        rawpeer.envelope(rawpeer.SMALL_ID, rawpeer.NIL_ID, rawpeer.ROUTING_UPDATE,
                         rawpeer.INTERNAL_TOPIC, b"\x05\x01"),  # bad filter
    ],
    ids=["short-envelope", "unknown-type", "topic-too-long", "bad-routing-update"],
)
def test_malformed_envelopes(node, payload):
    with node.raw() as peer:
        handshake(peer, node, True)
        wait_peered(node, rawpeer.SMALL_ID)
        peer.send_frame(payload)
        assert peer.read_until_closed() == []
    node.assert_healthy()


def test_zero_length_frame_after_the_handshake_is_a_malformed_envelope(node):
    # Zero-length frames are only a protocol error during the handshake;
    # afterwards the frame is a (malformed) envelope and drops the peer.
    with node.raw() as peer:
        handshake(peer, node, True)
        wait_peered(node, rawpeer.SMALL_ID)
        peer.send_raw(b"\x00\x00\x00\x00")
        assert peer.read_until_closed() == []
    node.assert_healthy()


def test_raw_peer_gets_only_matching_topics(node):
    with node.raw() as peer:
        handshake(peer, node, True, topics=["/only/this"])
        wait_peered(node, rawpeer.SMALL_ID)
        assert wait_until(lambda: "/only/this" in
                          {t.string() for t in node.ep.peer_subscriptions()})
        node.ep.publish("/not/that", 1)
        node.ep.publish("/only/this/one", 2)
        env = peer.recv_envelope()
        assert env["topic"] == "/only/this/one"
        assert env["payload"] == rawpeer.v_integer(2)


def test_data_addressed_to_another_node_is_not_delivered(node):
    sub = node.ep.make_subscriber("/raw", qsize=100)
    with node.raw() as peer:
        handshake(peer, node, True)
        wait_peered(node, rawpeer.SMALL_ID)
        elsewhere = bytes(range(1, 17))
        peer.send_frame(rawpeer.envelope(rawpeer.SMALL_ID, elsewhere, rawpeer.DATA,
                                         "/raw/a", rawpeer.v_count(1)))
        peer.send_frame(rawpeer.envelope(rawpeer.SMALL_ID, node.id, rawpeer.DATA,
                                         "/raw/b", rawpeer.v_count(2)))
        assert sub.get(5.0) == ("/raw/b", broker.Count(2))
        assert sub.get(0.1) is None
    node.assert_healthy()


def test_ttl_one_is_delivered_but_not_forwarded(node):
    sub = node.ep.make_subscriber("/raw", qsize=100)
    buddy_sub = node.buddy.make_subscriber("/raw", qsize=100)
    assert wait_until(lambda: "/raw" in {t.string() for t in node.ep.peer_subscriptions()})
    with node.raw() as peer:
        handshake(peer, node, True)
        wait_peered(node, rawpeer.SMALL_ID)
        peer.send_frame(rawpeer.envelope(rawpeer.SMALL_ID, rawpeer.NIL_ID, rawpeer.DATA,
                                         "/raw/last", rawpeer.v_count(1), ttl=1))
        peer.send_frame(rawpeer.envelope(rawpeer.SMALL_ID, rawpeer.NIL_ID, rawpeer.DATA,
                                         "/raw/more", rawpeer.v_count(2), ttl=2))
        assert sub.get(2, 5.0) == [("/raw/last", broker.Count(1)),
                                   ("/raw/more", broker.Count(2))]
        # Same link, in order: if the first had been forwarded it would be here.
        assert buddy_sub.get(5.0) == ("/raw/more", broker.Count(2))
        assert buddy_sub.get(0.1) is None
    node.assert_healthy()
