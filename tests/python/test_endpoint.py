"""Endpoints in one process: peering, pub/sub, subscribers, statuses."""

from __future__ import annotations

import select
import threading
import time

import pytest

import broker

from conftest import wait_until


def test_listen_picks_a_free_port(endpoint):
    port = endpoint.listen("127.0.0.1", 0)
    assert 0 < port < 65536


def test_node_id_is_a_uuid(endpoint):
    node = endpoint.node_id()
    assert len(node) == 36 and node.count("-") == 4


def test_ping_pong(pair):
    a, b = pair
    sub_b = b.make_subscriber("/test")
    sub_a = a.make_subscriber("/test/reply")
    assert wait_until(lambda: any(t.string() == "/test" for t in a.peer_subscriptions()))
    a.publish("/test/ping", [1, "x", 3.14])
    topic, value = sub_b.get(5.0)
    assert topic == "/test/ping"
    assert value == (1, "x", 3.14)
    assert wait_until(lambda: any(t.string() == "/test/reply" for t in b.peer_subscriptions()))
    b.publish("/test/reply", broker.Count(7))
    assert sub_a.get(5.0) == ("/test/reply", broker.Count(7))


def test_prefix_matching_is_plain_string_prefix(pair):
    a, b = pair
    sub = b.make_subscriber("/test")
    assert wait_until(lambda: len(a.peer_subscriptions()) > 0)
    for t in ["/test", "/test/1", "/testing", "/tes", "/other/test"]:
        a.publish(t, t)
    got = sub.get(3, timeout=5.0)
    assert sorted(topic for topic, _ in got) == ["/test", "/test/1", "/testing"]
    assert sub.get(0.2) is None


def test_subscriber_with_a_list_of_topics(pair):
    a, b = pair
    sub = b.make_subscriber(["/a", broker.Topic("/b")])
    assert wait_until(lambda: len(a.peer_subscriptions()) == 2)
    a.publish("/a/x", 1)
    a.publish("/b/y", 2)
    assert sorted(sub.get(2, 5.0)) == [("/a/x", 1), ("/b/y", 2)]


def test_own_messages_are_not_delivered_locally(pair):
    a, b = pair
    own = a.make_subscriber("/t")
    sub = b.make_subscriber("/t")
    assert wait_until(lambda: len(a.peer_subscriptions()) > 0)
    a.publish("/t", "x")
    assert sub.get(5.0) == ("/t", "x")
    assert own.get(0.2) is None


def test_get_overloads_and_poll(pair):
    a, b = pair
    sub = b.make_subscriber("/g", qsize=100)
    assert wait_until(lambda: len(a.peer_subscriptions()) > 0)
    assert sub.get(0.05) is None
    assert sub.get(3, 0.05) == []
    for i in range(5):
        a.publish("/g", i)
    assert wait_until(lambda: sub.available() == 5)
    assert sub.get() == ("/g", 0)
    assert sub.get(2) == [("/g", 1), ("/g", 2)]
    assert sub.poll() == [("/g", 3), ("/g", 4)]
    assert sub.poll() == []


def test_fd_is_readable_exactly_while_messages_wait(pair):
    a, b = pair
    sub = b.make_subscriber("/fd")
    assert wait_until(lambda: len(a.peer_subscriptions()) > 0)
    fd = sub.fd()
    assert select.select([fd], [], [], 0)[0] == []
    a.publish("/fd", 1)
    assert select.select([fd], [], [], 5.0)[0] == [fd]
    a.publish("/fd", 2)
    assert wait_until(lambda: sub.available() == 2)
    sub.get()
    assert select.select([fd], [], [], 0)[0] == [fd]
    sub.get()
    assert select.select([fd], [], [], 0)[0] == []


def test_publish_batch(pair):
    a, b = pair
    sub = b.make_subscriber("/batch", qsize=1000)
    assert wait_until(lambda: len(a.peer_subscriptions()) > 0)
    a.publish_batch(*[("/batch", i) for i in range(100)])
    got = sub.get(100, 5.0)
    assert [v for _, v in got] == list(range(100))


def test_many_messages_arrive_in_order_despite_a_small_queue(pair):
    a, b = pair
    sub = b.make_subscriber("/many", qsize=20)
    assert wait_until(lambda: len(a.peer_subscriptions()) > 0)
    n = 5000
    a.publish_batch(*[("/many", i) for i in range(n)])
    got = []
    deadline = time.monotonic() + 20
    while len(got) < n and time.monotonic() < deadline:
        got.extend(v for _, v in sub.get(n - len(got), 1.0))
    assert got == list(range(n))


def test_add_and_remove_topic(pair):
    a, b = pair
    sub = b.make_subscriber("/first")
    sub.add_topic("/second", block=True)
    assert wait_until(lambda: len(a.peer_subscriptions()) == 2)
    a.publish("/second", 2)
    assert sub.get(5.0) == ("/second", 2)
    sub.remove_topic("/second", block=True)
    a.publish("/second", 3)
    a.publish("/first", 1)
    assert sub.get(5.0) == ("/first", 1)


def test_safe_subscriber_returns_hashable_values(pair):
    a, b = pair
    sub = b.make_safe_subscriber("/safe")
    assert wait_until(lambda: len(a.peer_subscriptions()) > 0)
    a.publish("/safe", {"a": {1, 2}})
    topic, value = sub.get(5.0)
    assert isinstance(value, broker.FrozenTable)
    hash(value)


def test_reserved_topics_are_rejected(endpoint):
    with pytest.raises(ValueError, match="reserved"):
        endpoint.publish("<$>/local/x", 1)


def test_bad_values_raise_and_leave_the_endpoint_working(pair):
    a, b = pair
    sub = b.make_subscriber("/bad")
    assert wait_until(lambda: len(a.peer_subscriptions()) > 0)
    with pytest.raises(TypeError, match=r"value\[1\]: unsupported type object"):
        a.publish("/bad", [1, object()])
    with pytest.raises(TypeError, match="topic must be a str"):
        a.publish(42, 1)
    a.publish("/bad", "fine")
    assert sub.get(5.0) == ("/bad", "fine")


def test_status_order_on_peering_and_unpeering():
    with broker.Endpoint() as a, broker.Endpoint() as b:
        sa = a.make_status_subscriber(True)
        sb = b.make_status_subscriber(True)
        port = a.listen("127.0.0.1", 0)
        assert b.peer("127.0.0.1", port, 1.0)
        codes_b = [s.code() for s in sb.get(2, 5.0)]
        assert codes_b == [broker.SC.EndpointDiscovered, broker.SC.PeerAdded]
        codes_a = [s.code() for s in sa.get(2, 5.0)]
        assert codes_a == [broker.SC.EndpointDiscovered, broker.SC.PeerAdded]
        st = sb.poll() or None
        assert st is None
        assert b.unpeer("127.0.0.1", port)
        after_b = sb.get(2, 5.0)
        assert [s.code() for s in after_b] == [broker.SC.PeerRemoved, broker.SC.EndpointUnreachable]
        assert after_b[0].context().node == a.node_id()
        assert after_b[0].message() == "removed connection to remote peer"
        after_a = sa.get(2, 5.0)
        assert [s.code() for s in after_a] == [broker.SC.PeerLost, broker.SC.EndpointUnreachable]
        assert after_a[0].context().node == b.node_id()


def test_status_subscriber_without_statuses_gets_only_errors():
    with broker.Endpoint() as a, broker.Endpoint() as b:
        errors = b.make_status_subscriber()
        port = a.listen("127.0.0.1", 0)
        assert b.peer("127.0.0.1", port, 0)
        assert errors.get(0.2) is None
        # A port nobody listens on.
        dead = broker.Endpoint()
        dead_port = dead.listen("127.0.0.1", 0)
        dead.shutdown()
        assert not b.peer("127.0.0.1", dead_port, 0)
        err = errors.get(5.0)
        assert isinstance(err, broker.Error)
        assert err.code() == broker.EC.PeerUnavailable
        assert err.context().network.port == dead_port


def test_peer_to_nothing_returns_false_and_retries_in_background():
    with broker.Endpoint() as a, broker.Endpoint() as b:
        errors = b.make_status_subscriber()
        probe = broker.Endpoint()
        port = probe.listen("127.0.0.1", 0)
        probe.shutdown()
        assert not b.peer("127.0.0.1", port, 0.2)
        assert errors.get(5.0).code() == broker.EC.PeerUnavailable
        # Retried every 0.2 s: a second failure shows up.
        assert errors.get(5.0).code() == broker.EC.PeerUnavailable
        # Once something listens there, the retry succeeds.
        a_port = a.listen("127.0.0.1", port)
        if a_port == port:
            assert a.await_peer(b.node_id(), 10.0)
        assert b.unpeer("127.0.0.1", port)


def test_peers_and_await_peer(pair):
    a, b = pair
    assert a.await_peer(b.node_id(), 5.0)
    assert b.await_peer(a.node_id(), 5.0)
    infos = a.peers()
    assert len(infos) == 1
    info = infos[0]
    assert info.peer.node == b.node_id()
    assert info.status == broker.PeerStatus.Peered
    assert info.flags & broker.PeerFlags.Outbound
    assert info.peer.network.address == "127.0.0.1"
    assert b.peers()[0].flags & broker.PeerFlags.Inbound
    unknown = "00000000-0000-4000-8000-000000000001"
    t0 = time.monotonic()
    assert not a.await_peer(unknown, 0.2)
    assert time.monotonic() - t0 < 5


def test_ipv6_peering():
    with broker.Endpoint() as a, broker.Endpoint() as b:
        port = a.listen("::1", 0)
        if port == 0:
            pytest.skip("no IPv6 loopback here")
        sub = a.make_subscriber("/v6")
        assert b.peer("::1", port, 0)
        assert wait_until(lambda: len(b.peer_subscriptions()) > 0)
        b.publish("/v6", "over ipv6")
        assert sub.get(5.0) == ("/v6", "over ipv6")


def test_blocking_get_does_not_hold_the_gil(pair):
    a, b = pair
    sub = b.make_subscriber("/gil")
    assert wait_until(lambda: len(a.peer_subscriptions()) > 0)
    result = []
    t = threading.Thread(target=lambda: result.append(sub.get(10.0)))
    t.start()
    # The waiting thread must not stop this one from running Python code.
    counter = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < 0.2:
        counter += 1
    assert counter > 1000
    a.publish("/gil", "wake")
    t.join(10.0)
    assert result == [("/gil", "wake")]


def test_shutdown_flushes_pending_messages():
    a = broker.Endpoint()
    b = broker.Endpoint()
    sub = b.make_subscriber("/flush", qsize=5000)
    port = b.listen("127.0.0.1", 0)
    assert a.peer("127.0.0.1", port, 0)
    assert wait_until(lambda: len(a.peer_subscriptions()) > 0)
    a.publish_batch(*[("/flush", i) for i in range(2000)])
    a.shutdown()  # returns after the peer acknowledged the BYE
    assert wait_until(lambda: sub.available() == 2000, 10.0)
    b.shutdown()


def test_shutdown_is_idempotent_and_calls_after_it_fail_cleanly():
    ep = broker.Endpoint()
    ep.shutdown()
    ep.shutdown()
    assert ep.listen("127.0.0.1", 0) == 0
    assert ep.peers() == []
    with pytest.raises(RuntimeError):
        ep.publish("/x", 1)
    sub = ep.make_subscriber("/x")
    assert sub.get(0.01) is None


def test_publisher(pair):
    a, b = pair
    sub = b.make_subscriber("/pub")
    assert wait_until(lambda: len(a.peer_subscriptions()) > 0)
    with a.make_publisher("/pub") as p:
        assert p.capacity() > 0
        assert p.demand() == p.free_capacity() <= p.capacity()
        assert p.buffered() >= 0
        assert select.select([p.fd()], [], [], 0)[0] == [p.fd()]
        p.publish(1)
        p.publish_batch(2, 3)
    assert [v for _, v in sub.get(3, 5.0)] == [1, 2, 3]
