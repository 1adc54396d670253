"""Flow control across processes: one slow consumer must not stall the
others (docs/decisions/0007-flow-control.md).

A publisher in this process feeds two subscriber processes. The "slow" one
is stopped with SIGSTOP (the extreme of slow: it reads nothing), so that its
TCP buffers and then its peer buffer here fill up deterministically. The
fast one must still get every message, and the slow one is handled by the
configured overflow policy, which a status reports.
"""

from __future__ import annotations

import os
import signal

import pytest

import broker

from conftest import make_config, wait_until
from test_processes import Child

pytestmark = pytest.mark.timeout(120)

COUNT = 20_000
PAYLOAD = "x" * 1000  # fills the kernel's socket buffers after a few thousand

SUBSCRIBER = """
port, qsize = int(sys.argv[1]), int(sys.argv[2])
with broker.Endpoint() as ep:
    sub = ep.make_subscriber("/fc", qsize)
    assert ep.peer("127.0.0.1", port, 0)
    say("peered", ep.node_id())
    n = 0
    while time.monotonic() < DEADLINE:
        m = sub.get(3.0)          # idle for 3 s: nothing more is coming
        if m is None or m[0] == "/fc/end":
            break
        n += 1
    say(n)
"""


def knows_fc(ep: broker.Endpoint) -> bool:
    return "/fc" in {t.string() for t in ep.peer_subscriptions()}


def publish_all(ep: broker.Endpoint) -> None:
    """COUNT messages, then the end marker."""
    for _ in range(COUNT):
        ep.publish("/fc/data", PAYLOAD)
    ep.publish("/fc/end", "")


def stop(child: Child) -> None:
    child.proc.kill()
    child.proc.wait(10)
    child.proc.stdout.close()
    child.proc.stderr.close()


def peered(child: Child) -> str:
    """Waits for the child's "peered <node id>" line; returns the id."""
    word, node = child.readline(30).split()
    assert word == "peered"
    return node


def run(policy) -> tuple[int, int, list]:
    """Publishes COUNT messages to a fast and a stopped subscriber; returns
    what each received and the publisher's statuses about the slow one
    (taken while it is still stopped, so none is about it leaving)."""
    cfg = make_config(peer_buffer_size=100, peer_overflow_policy=policy,
                      publish_stall_timeout=0.5)
    with broker.Endpoint(cfg) as pub:
        statuses = pub.make_status_subscriber(True)
        port = pub.listen("127.0.0.1", 0)
        fast = Child(SUBSCRIBER, port, 1000)
        slow = Child(SUBSCRIBER, port, 20)
        try:
            peered(fast)
            slow_id = peered(slow)
            assert wait_until(lambda: len(pub.peers()) == 2)
            assert wait_until(lambda: knows_fc(pub))
            os.kill(slow.proc.pid, signal.SIGSTOP)
            publish_all(pub)
            got_fast = int(fast.readline(60))
            about_slow = [s for s in statuses.poll()
                          if s.context() is not None and s.context().node == slow_id]
            os.kill(slow.proc.pid, signal.SIGCONT)
            got_slow = int(slow.readline(60))
            return got_fast, got_slow, about_slow
        finally:
            os.kill(slow.proc.pid, signal.SIGCONT)
            for c in (fast, slow):
                stop(c)


def test_disconnect_removes_the_slow_peer_and_says_why():
    got_fast, got_slow, statuses = run(broker.OverflowPolicy.Disconnect)
    assert got_fast == COUNT
    assert got_slow < COUNT
    removed = [s for s in statuses
               if isinstance(s, broker.Status) and s.code() == broker.SC.PeerRemoved]
    assert len(removed) == 1, statuses
    # The words Zeek's scripts match on (base/frameworks/broker/backpressure.zeek).
    assert "caf::sec::backpressure_overflow" in removed[0].message()


@pytest.mark.parametrize("policy", [broker.OverflowPolicy.DropOldest,
                                    broker.OverflowPolicy.DropNewest])
def test_drop_policies_keep_the_slow_peer_and_drop_for_it_only(policy):
    got_fast, got_slow, statuses = run(policy)
    assert got_fast == COUNT
    assert 0 < got_slow < COUNT
    errors = [s for s in statuses if isinstance(s, broker.Error)]
    assert any(e.code() == broker.EC.PeerTimeout and "dropping" in e.message()
               for e in errors), statuses
    assert not any(isinstance(s, broker.Status) and s.code() in (broker.SC.PeerRemoved,
                                                                 broker.SC.PeerLost)
                   for s in statuses), statuses


def test_a_slow_but_alive_peer_gets_backpressure_not_the_policy():
    # Only one consumer, slow but never stalled for the bound: the
    # publisher waits for it, and nothing is lost.
    cfg = make_config(peer_buffer_size=100, publish_stall_timeout=0.5)
    with broker.Endpoint(cfg) as pub:
        port = pub.listen("127.0.0.1", 0)
        child = Child(SUBSCRIBER, port, 20)
        try:
            peered(child)
            assert wait_until(lambda: knows_fc(pub))
            for i in range(2000):
                pub.publish("/fc/data", PAYLOAD)
            pub.publish("/fc/end", "")
            assert int(child.readline(60)) == 2000
        finally:
            stop(child)


def test_a_relay_drops_a_stuck_peer_and_keeps_relaying():
    # source -> relay -> {fast sink, stopped sink}: relayed traffic cannot
    # slow the source down, so the relay's policy removes the stuck sink
    # (this once crashed the relay: the removal changed its peer table
    # while it was walking it).
    relay_cfg = make_config(peer_buffer_size=50)
    with broker.Endpoint(relay_cfg) as relay, broker.Endpoint(make_config()) as source:
        statuses = relay.make_status_subscriber(True)
        port = relay.listen("127.0.0.1", 0)
        fast = Child(SUBSCRIBER, port, 1000)
        slow = Child(SUBSCRIBER, port, 20)
        try:
            fast_id = peered(fast)
            slow_id = peered(slow)
            assert source.peer("127.0.0.1", port, 0)
            assert wait_until(lambda: knows_fc(source))
            os.kill(slow.proc.pid, signal.SIGSTOP)
            publish_all(source)
            got_fast = int(fast.readline(60))
            seen = []

            def removed(node):
                seen.extend(statuses.poll())
                return any(isinstance(s, broker.Status) and s.code() == broker.SC.PeerRemoved
                           and s.context().node == node
                           and "backpressure_overflow" in s.message() for s in seen)

            assert wait_until(lambda: removed(slow_id))
            # The relay is alive and still peered with the source.
            assert source.node_id() in {p.peer.node for p in relay.peers()}
            # The fast sink got everything, or (relayed traffic cannot slow
            # the source) its own buffer overflowed and it was removed too.
            assert got_fast == COUNT or removed(fast_id), (got_fast, seen)
        finally:
            os.kill(slow.proc.pid, signal.SIGCONT)
            for c in (fast, slow):
                stop(c)
