"""Several endpoints in one process: chains, stars, cycles, forwarding and
redundant connections.

Negative assertions ("C did not get it") use ordering rather than waiting:
after the message under test, a marker travels the same link, and links are
FIFO, so the marker arriving first proves the message was never sent.
"""

from __future__ import annotations

import contextlib
import threading
import time

import pytest

import broker

from conftest import wait_until


def config(forward: bool = True, ttl: int | None = None) -> broker.Configuration:
    opts = broker.BrokerOptions()
    opts.forward = forward
    if ttl is not None:
        opts.ttl = ttl
    return broker.Configuration(opts)


@contextlib.contextmanager
def endpoints(n: int, **kwargs):
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(broker.Endpoint(config(**kwargs))) for _ in range(n)]


def link(a: broker.Endpoint, b: broker.Endpoint) -> None:
    """a peers with b (b listens)."""
    port = b.listen("127.0.0.1", 0)
    assert port > 0
    assert a.peer("127.0.0.1", port, 1.0)


def peered_count(ep: broker.Endpoint) -> int:
    return sum(1 for p in ep.peers() if p.status == broker.PeerStatus.Peered)


def knows(ep: broker.Endpoint, topic: str) -> bool:
    return topic in {t.string() for t in ep.peer_subscriptions()}


def drain_until_quiet(subs, quiet: float = 0.5, limit: float = 10.0) -> list[int]:
    """Counts messages per subscriber until none arrived for `quiet`
    seconds. Fails if traffic has not stopped after `limit` seconds."""
    counts = [0] * len(subs)
    deadline = time.monotonic() + limit
    last = time.monotonic()
    while time.monotonic() - last < quiet:
        assert time.monotonic() < deadline, f"traffic never stopped: {counts}"
        got = False
        for i, s in enumerate(subs):
            n = len(s.poll())
            if n:
                counts[i] += n
                got = True
        if got:
            last = time.monotonic()
        else:
            time.sleep(0.01)
    return counts


# -- chains ---------------------------------------------------------------------------


def test_chain_subscribing_hop_forwards():
    with endpoints(3) as (a, b, c):
        sub_b = b.make_subscriber("/chain")
        sub_c = c.make_subscriber("/chain")
        link(a, b)
        link(c, b)
        assert wait_until(lambda: knows(a, "/chain") and knows(b, "/chain"))
        a.publish("/chain/1", "from a")
        assert sub_c.get(5.0) == ("/chain/1", "from a")
        assert sub_b.get(5.0) == ("/chain/1", "from a")
        # And back: C's message crosses B to A once A subscribes.
        sub_a = a.make_subscriber("/back")
        b.forward(["/back"])
        assert wait_until(lambda: knows(b, "/back") and knows(c, "/back"))
        c.publish("/back/1", 2)
        assert sub_a.get(5.0) == ("/back/1", 2)


def test_chain_forward_without_subscribing():
    with endpoints(3) as (a, b, c):
        sub_c = c.make_subscriber("/fw")
        b.forward(["/fw"])
        link(a, b)
        link(c, b)
        assert wait_until(lambda: knows(a, "/fw") and knows(b, "/fw"))
        a.publish("/fw/x", [1, 2])
        assert sub_c.get(5.0) == ("/fw/x", (1, 2))


def test_chain_relays_through_a_hop_that_does_nothing():
    # Subscriptions propagate through every endpoint: B neither subscribes
    # nor forwards, yet relays A's messages to C, and C's back to A.
    with endpoints(3) as (a, b, c):
        sub_c = c.make_subscriber("/chain")
        sub_a = a.make_subscriber("/back")
        link(a, b)
        link(c, b)
        assert wait_until(lambda: knows(a, "/chain") and knows(c, "/back"))
        assert a.await_peer(c.node_id(), 5.0) and c.await_peer(a.node_id(), 5.0)
        a.publish("/chain/1", "via b")
        assert sub_c.get(5.0) == ("/chain/1", "via b")
        c.publish("/back/1", 2)
        assert sub_a.get(5.0) == ("/back/1", 2)
        # Exactly once: a marker from A follows.
        a.publish("/chain/2", "marker")
        assert sub_c.get(5.0) == ("/chain/2", "marker")
        assert sub_c.poll() == []


def test_await_peer_across_three_hops():
    with endpoints(4) as eps:
        a, b, c, d = eps
        sub_d = d.make_subscriber("/far")
        assert not a.await_peer(d.node_id(), 0.1)
        for x, y in zip(eps, eps[1:]):
            link(x, y)
        assert a.await_peer(d.node_id(), 10.0)
        assert d.await_peer(a.node_id(), 10.0)
        assert wait_until(lambda: knows(a, "/far"))
        a.publish("/far/x", "three hops")
        assert sub_d.get(5.0) == ("/far/x", "three hops")
        # Not a direct peer: peers() lists only B.
        assert [p.peer.node for p in a.peers()] == [b.node_id()]


def test_forwarding_disabled_stops_relaying():
    with endpoints(1) as (a,), endpoints(1, forward=False) as (b,), endpoints(1) as (c,):
        sub_b = b.make_subscriber("/chain")
        sub_c = c.make_subscriber("/chain")
        b.forward(["/chain"])  # no effect with forwarding disabled
        link(a, b)
        link(c, b)
        assert wait_until(lambda: knows(a, "/chain") and knows(b, "/chain"))
        a.publish("/chain/1", "stop here")
        # B itself still receives.
        assert sub_b.get(5.0) == ("/chain/1", "stop here")
        # B's own messages still reach C, and arrive before anything relayed.
        b.publish("/chain/marker", "direct")
        assert sub_c.get(5.0) == ("/chain/marker", "direct")
        assert sub_c.poll() == []


def test_ttl_limits_the_path_length():
    # A - B - C - D - E, all subscribing; A publishes with TTL 3: B, C and D
    # receive (TTL 3, 2, 1), E does not.
    with endpoints(1, ttl=3) as (a,), endpoints(4) as (b, c, d, e):
        subs = [x.make_subscriber("/ttl") for x in (b, c, d, e)]
        link(a, b)
        link(b, c)
        link(c, d)
        link(d, e)
        assert wait_until(lambda: knows(a, "/ttl") and peered_count(c) == 2
                          and peered_count(d) == 2)
        a.publish("/ttl/x", 1)
        for s in subs[:3]:
            assert s.get(5.0) == ("/ttl/x", 1)
        d.publish("/ttl/marker", 2)
        assert subs[3].get(5.0) == ("/ttl/marker", 2)
        assert subs[3].poll() == []


def test_long_chain_with_default_ttl():
    with endpoints(6) as eps:
        subs = [x.make_subscriber("/long") for x in eps]
        for x, y in zip(eps, eps[1:]):
            link(x, y)
        assert wait_until(lambda: all(peered_count(x) == 2 for x in eps[1:-1]))
        eps[0].publish("/long/x", "far")
        for s in subs[1:]:
            assert s.get(5.0) == ("/long/x", "far")
        assert subs[0].get(0.05) is None


# -- star -----------------------------------------------------------------------------


@pytest.mark.parametrize("hub_subscribes", [True, False], ids=["hub-subscribes", "hub-forwards"])
def test_star(hub_subscribes):
    with endpoints(1) as (hub,), endpoints(4) as leaves:
        hub_sub = hub.make_subscriber("/star", qsize=100) if hub_subscribes else None
        if not hub_subscribes:
            hub.forward(["/star"])
        subs = [leaf.make_subscriber("/star", qsize=100) for leaf in leaves]
        for leaf in leaves:
            link(leaf, hub)
        assert wait_until(lambda: peered_count(hub) == 4)
        assert wait_until(lambda: all(knows(leaf, "/star") for leaf in leaves))
        for i, leaf in enumerate(leaves):
            leaf.publish(f"/star/{i}", i)
        for i, s in enumerate(subs):
            got = s.get(3, 5.0)
            assert sorted(v for _, v in got) == [j for j in range(4) if j != i]
        if hub_sub is not None:
            assert sorted(v for _, v in hub_sub.get(4, 5.0)) == [0, 1, 2, 3]
        # No duplicates: the hub's marker follows everything it relayed.
        hub.publish("/star/end", "end")
        for s in subs:
            assert s.get(5.0) == ("/star/end", "end")
            assert s.poll() == []


def test_leaf_unpeering_does_not_disturb_the_star():
    with endpoints(1) as (hub,), endpoints(3) as leaves:
        hub.forward(["/s"])
        subs = [leaf.make_subscriber("/s", qsize=100) for leaf in leaves]
        port = hub.listen("127.0.0.1", 0)
        for leaf in leaves:
            assert leaf.peer("127.0.0.1", port, 1.0)
        assert wait_until(lambda: peered_count(hub) == 3)
        assert leaves[0].unpeer("127.0.0.1", port)
        assert wait_until(lambda: peered_count(hub) == 2)
        leaves[1].publish("/s/x", 1)
        assert subs[2].get(5.0) == ("/s/x", 1)
        assert subs[0].get(0.05) is None


# -- cycles: every endpoint gets each message exactly once, the origin none ---------


def exactly_once(eps, subs, topic: str, rounds: int = 3) -> None:
    """Each endpoint publishes `rounds` messages; every other endpoint's
    subscriber gets each once, its own none."""
    for i, ep in enumerate(eps):
        for r in range(rounds):
            ep.publish(f"{topic}/{i}", r)
    counts = drain_until_quiet(subs)
    assert counts == [rounds * (len(eps) - 1)] * len(eps), counts


def converge(eps, subs, topic: str, limit: float = 10.0) -> None:
    """Waits until every endpoint reaches every other and a probe from each
    is delivered exactly once to each of `subs` (each on one of `eps`): the
    overlay has settled after the links came up."""
    assert wait_until(lambda: all(x.await_peer(y.node_id(), 0) for x in eps for y in eps
                                  if x is not y), timeout=limit)
    deadline = time.monotonic() + limit
    while True:
        for ep in eps:
            ep.publish(f"{topic}/probe", 0)
        counts = drain_until_quiet(subs, quiet=0.3)
        if counts == [len(eps) - 1] * len(subs):
            return
        assert time.monotonic() < deadline, f"never settled: {counts}"


def build(eps, edges) -> None:
    for i, j in edges:
        link(eps[i], eps[j])


TOPOLOGIES = {
    "triangle": (3, [(0, 1), (1, 2), (2, 0)]),
    "square-with-diagonal": (4, [(0, 1), (1, 2), (2, 3), (3, 0), (0, 2)]),
    "ring-of-five": (5, [(0, 1), (1, 2), (2, 3), (3, 4), (4, 0)]),
    "full-mesh-of-four": (4, [(i, j) for i in range(4) for j in range(i + 1, 4)]),
}


@pytest.mark.parametrize("name", list(TOPOLOGIES))
def test_cycles_deliver_exactly_once(name):
    n, edges = TOPOLOGIES[name]
    with endpoints(n) as eps:
        subs = [x.make_subscriber("/cyc", qsize=1000) for x in eps]
        build(eps, edges)
        converge(eps, subs, "/cyc")
        exactly_once(eps, subs, "/cyc")


def test_cycle_where_only_some_subscribe():
    # Ring of five; only two endpoints subscribe; the others relay.
    n, edges = TOPOLOGIES["ring-of-five"]
    with endpoints(n) as eps:
        subs = [eps[0].make_subscriber("/few", qsize=100),
                eps[2].make_subscriber("/few", qsize=100)]
        build(eps, edges)
        converge(eps, subs, "/few")
        eps[3].publish("/few/x", 1)
        eps[4].publish("/few/x", 2)
        counts = drain_until_quiet(subs)
        assert counts == [2, 2], counts


def test_cycle_reroutes_when_a_link_goes():
    with endpoints(4) as eps:
        subs = [x.make_subscriber("/rr", qsize=1000) for x in eps]
        ports = [x.listen("127.0.0.1", 0) for x in eps]
        for i in range(4):
            assert eps[i].peer("127.0.0.1", ports[(i + 1) % 4], 0)
        converge(eps, subs, "/rr")
        assert eps[0].unpeer("127.0.0.1", ports[1])
        assert wait_until(lambda: peered_count(eps[1]) == 1)
        converge(eps, subs, "/rr")
        exactly_once(eps, subs, "/rr")


def test_cycle_of_endpoints_that_do_not_forward_delivers_once():
    with endpoints(3, forward=False) as eps:
        subs = [x.make_subscriber("/c", qsize=100) for x in eps]
        build(eps, TOPOLOGIES["triangle"][1])
        assert wait_until(lambda: all(knows(x, "/c") for x in eps))
        exactly_once(eps, subs, "/c")


# -- redundant connections ---------------------------------------------------------------


def simultaneous_peering(a, b, retry: float = 0.2):
    pa = a.listen("127.0.0.1", 0)
    pb = b.listen("127.0.0.1", 0)
    barrier = threading.Barrier(2)
    results = {}

    def run(name, ep, port):
        barrier.wait(5.0)
        results[name] = ep.peer("127.0.0.1", port, retry)

    threads = [threading.Thread(target=run, args=("a", a, pb)),
               threading.Thread(target=run, args=("b", b, pa))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15.0)
        assert not t.is_alive()
    return results, pa, pb


def one_peering_each(a, b) -> bool:
    pa, pb = a.peers(), b.peers()
    return (len(pa) == 1 and len(pb) == 1
            and pa[0].status == broker.PeerStatus.Peered
            and pb[0].status == broker.PeerStatus.Peered
            and pa[0].peer.node == b.node_id()
            and pb[0].peer.node == a.node_id())


@pytest.mark.parametrize("round_", range(5))
def test_simultaneous_peering_ends_with_one_peering(round_):
    with endpoints(2) as (a, b):
        sub_a = a.make_subscriber("/r")
        sub_b = b.make_subscriber("/r")
        results, _, _ = simultaneous_peering(a, b)
        assert wait_until(lambda: one_peering_each(a, b), timeout=5.0), (
            results, a.peers(), b.peers())
        assert wait_until(lambda: knows(a, "/r") and knows(b, "/r"))
        a.publish("/r/a", 1)
        b.publish("/r/b", 2)
        assert sub_b.get(5.0) == ("/r/a", 1)
        assert sub_a.get(5.0) == ("/r/b", 2)
        # Exactly once: nothing else follows.
        a.publish("/r/a2", 3)
        assert sub_b.get(5.0) == ("/r/a2", 3)
        assert sub_b.poll() == [] and sub_a.poll() == []


def test_simultaneous_peering_both_calls_succeed():
    with endpoints(2) as (a, b):
        results, _, _ = simultaneous_peering(a, b)
        assert results == {"a": True, "b": True}


def test_peering_twice_with_the_same_endpoint():
    with endpoints(2) as (a, b):
        port = b.listen("127.0.0.1", 0)
        assert a.peer("127.0.0.1", port, 1.0)
        assert a.peer("127.0.0.1", port, 1.0)
        assert wait_until(lambda: one_peering_each(a, b))


def test_peering_back_over_an_existing_peering():
    # a dialled b; now b also dials a: still one peering, messages once.
    with endpoints(2) as (a, b):
        sub_b = b.make_subscriber("/x")
        pb = b.listen("127.0.0.1", 0)
        pa = a.listen("127.0.0.1", 0)
        assert a.peer("127.0.0.1", pb, 1.0)
        assert b.peer("127.0.0.1", pa, 0.2)
        assert wait_until(lambda: one_peering_each(a, b)), (a.peers(), b.peers())
        assert wait_until(lambda: knows(a, "/x"))
        a.publish("/x/1", 1)
        a.publish("/x/2", 2)
        assert sub_b.get(2, 5.0) == [("/x/1", 1), ("/x/2", 2)]
        assert sub_b.poll() == []
