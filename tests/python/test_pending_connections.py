"""Connections that never finish their handshake cannot pile up: at most
max_pending_connections are kept (the oldest beyond are dropped), all are
closed after handshake_timeout, and a real peering made meanwhile works.

The endpoint under attack runs in a child process, so that its open file
descriptors can be counted in /proc without the attacker's sockets."""

from __future__ import annotations

import os
import socket
import time

import pytest

import broker

from conftest import wait_until
from test_processes import Child

pytestmark = pytest.mark.timeout(120)

CAP = 200
TIMEOUT = 3.0

TARGET = f"""
o = broker.BrokerOptions()
o.handshake_timeout = {TIMEOUT}
o.max_pending_connections = {CAP}
with broker.Endpoint(broker.Configuration(o)) as ep:
    sub = ep.make_subscriber("/pending")
    say(ep.listen("127.0.0.1", 0))
    m = sub.get(60.0)
    say("got", m[1] if m else None)
    sub.get(60.0)  # stays up until killed: what closes the bad connections is the timeout
"""


def fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_silent_and_half_finished_connections_are_bounded_and_closed():
    target = Child(TARGET)
    try:
        port = int(target.readline(30))
        baseline = fds(target.proc.pid)
        attackers = []
        for i in range(1000):
            attackers.append(socket.create_connection(("127.0.0.1", port), timeout=5))
            # The start of a TLS ClientHello, then nothing: half-finished.
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(bytes.fromhex("160301020001"))
            attackers.append(s)
        # Bounded: the endpoint holds at most CAP of them (plus slack for
        # the accept backlog it has not reached yet).
        assert wait_until(lambda: fds(target.proc.pid) <= baseline + CAP + 16, timeout=10)
        # A real peering made meanwhile works.
        with broker.Endpoint() as ep:
            assert ep.peer("127.0.0.1", port, 0)
            assert wait_until(lambda: "/pending" in {t.string() for t in ep.peer_subscriptions()})
            ep.publish("/pending/x", "through")
            assert target.readline(30) == "got through"
        # And after the timeout, every bad one is closed by the endpoint.
        deadline = time.monotonic() + TIMEOUT + 10
        for s in attackers:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                while s.recv(4096):
                    pass
            except ConnectionResetError:
                pass
            s.close()
        assert time.monotonic() < deadline
        assert target.proc.poll() is None  # closed by the endpoint, not by its exit
        assert fds(target.proc.pid) <= baseline + 2  # back to the listener and a peer
    finally:
        target.proc.kill()
        target.proc.wait(10)
        target.proc.stdout.close()
        target.proc.stderr.close()


def test_the_cap_must_be_positive():
    o = broker.BrokerOptions()
    assert o.max_pending_connections == 1024
    with pytest.raises(ValueError):
        o.max_pending_connections = 0
