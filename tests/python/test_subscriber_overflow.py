"""Local subscribers and flow control (docs/decisions/0007-flow-control.md):
a subscriber that stops reading must not stall the other subscribers of
the same endpoint; it gets subscriber_overflow_policy, and a status says
so. A subscriber that is the only consumer and keeps reading, however
slowly, loses nothing: it holds back the peer instead."""

from __future__ import annotations

import threading
import time

import pytest

import broker

from conftest import make_config, wait_until

pytestmark = pytest.mark.timeout(120)

COUNT = 5000


def errors_about_subscribers(statuses) -> list[str]:
    out = []
    for s in statuses.poll():
        if isinstance(s, broker.Error) and "subscriber queue full" in str(s):
            out.append(str(s))
    return out


def flood(policy):
    """A peer publishes COUNT messages to an endpoint with a fast subscriber
    and one (qsize 20) that reads nothing. Returns what the fast one got,
    what the idle one holds, and the subscriber errors."""
    cfg = make_config(subscriber_overflow_policy=policy)
    with broker.Endpoint(cfg) as b, broker.Endpoint() as a:
        statuses = b.make_status_subscriber(False)
        fast = b.make_subscriber("/of", 1000)
        idle = b.make_subscriber("/of", 20)
        port = b.listen("127.0.0.1", 0)
        assert a.peer("127.0.0.1", port, 0)
        assert wait_until(lambda: any(t.string() == "/of"
                                      for t in a.peer_subscriptions()))
        got = []
        reader = threading.Thread(target=lambda: got.extend(
            read_all(fast, COUNT, time.monotonic() + 60)))
        reader.start()
        for i in range(COUNT):
            a.publish("/of/x", broker.Count(i))
        reader.join(90)
        errors = []
        assert wait_until(lambda: bool(errors.extend(
            errors_about_subscribers(statuses)) or errors), 10)
        held = [v for _, v in idle.poll()]
        return got, held, errors


def read_all(sub, n, deadline):
    out = []
    while len(out) < n and time.monotonic() < deadline:
        m = sub.get(1.0)
        if m is not None:
            out.append(m[1])
    return out


@pytest.mark.parametrize("policy", [broker.OverflowPolicy.DropOldest,
                                    broker.OverflowPolicy.DropNewest])
def test_an_idle_subscriber_does_not_stall_a_fast_one(policy):
    got, held, errors = flood(policy)
    assert got == [broker.Count(i) for i in range(COUNT)]
    assert errors and "qsize 20" in errors[0] and "/of" in errors[0]
    assert 0 < len(held) < COUNT // 2  # bounded, not everything
    if policy == broker.OverflowPolicy.DropOldest:
        assert "oldest" in errors[0]
        assert held[-1] == broker.Count(COUNT - 1)  # the newest are kept
    else:
        assert "newest" in errors[0]
        assert held[0] == broker.Count(0)  # the first ones are kept
        assert held[-1] != broker.Count(COUNT - 1)


def test_the_disconnect_policy_closes_the_idle_subscriber():
    got, held, errors = flood(broker.OverflowPolicy.Disconnect)
    assert got == [broker.Count(i) for i in range(COUNT)]
    assert "closed the subscriber" in errors[0]
    assert 0 < len(held) < COUNT // 2


def test_a_slow_sole_subscriber_holds_the_peer_back_and_loses_nothing():
    cfg = make_config(peer_full_grace=0.05)
    with broker.Endpoint(cfg) as b, broker.Endpoint() as a:
        statuses = b.make_status_subscriber(False)
        sub = b.make_subscriber("/slow", 20)
        port = b.listen("127.0.0.1", 0)
        assert a.peer("127.0.0.1", port, 0)
        assert wait_until(lambda: any(t.string() == "/slow"
                                      for t in a.peer_subscriptions()))
        got = []

        def reader():
            deadline = time.monotonic() + 60
            while len(got) < 2000 and time.monotonic() < deadline:
                m = sub.get(1.0)
                if m is not None:
                    got.append(m[1])
                    if len(got) % 100 == 0:
                        time.sleep(0.2)  # far slower than the grace period

        t = threading.Thread(target=reader)
        t.start()
        for i in range(2000):
            a.publish("/slow/x", broker.Count(i))
        t.join(90)
        assert got == [broker.Count(i) for i in range(2000)]
        assert errors_about_subscribers(statuses) == []


def test_the_subscriber_policy_is_a_setting_with_a_default():
    assert broker.BrokerOptions().subscriber_overflow_policy \
        == broker.OverflowPolicy.DropOldest
