"""zeekpy (from PyPI, unchanged) against our WebSocket server: it
subscribes and receives an event, publishes an event from inside its
handler that a native subscriber on a peered endpoint receives, and exits
cleanly, in its sync and async flavours (websocket-api.md §8.1, §9 item
11)."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import time

import pytest
from conftest import plain_config, wait_until

import broker

zeekpy = pytest.importorskip("zeekpy")

# zeekpy 0.3.1 calls websockets' connect() outside a `with`, which
# websockets 17.1 deprecates; that is zeekpy's business, not a failure here.
pytestmark = pytest.mark.filterwarnings(
    "ignore:connect\\(\\) must be used as a context manager:DeprecationWarning")


@pytest.fixture
def hosts():
    """(server endpoint, its WebSocket URL, native subscriber of /pong)."""
    with broker.Endpoint(plain_config()) as server, broker.Endpoint(plain_config()) as native:
        ws_port = server.web_socket_listen("127.0.0.1", 0)
        sub = native.make_subscriber("/pong")
        native.peer("127.0.0.1", server.listen("127.0.0.1", 0))
        assert wait_until(lambda: "/pong" in [str(t) for t in server.peer_subscriptions()])
        yield server, f"ws://127.0.0.1:{ws_port}/v1/messages/json", sub


def check_pong(sub, n):
    topic, value = sub.get(timeout=10)
    assert topic == "/pong/x"
    ev = broker.zeek.Event(value)
    assert ev.name() == "pong"
    args = ev.args()
    assert args[0] == broker.Count(n)
    assert args[1] == "echo"
    assert args[2] == datetime.timedelta(seconds=1.5)
    assert args[3] == ipaddress.ip_address("192.0.2.1")


def ping_event(n):
    return broker.zeek.Event("ping", broker.Count(n), "echo", datetime.timedelta(seconds=1.5),
                             ipaddress.ip_address("192.0.2.1"), 2.5, broker.Port(53, broker.Port.UDP))


def test_sync_client_receives_and_publishes_from_its_handler(hosts):
    server, url, sub = hosts
    zeek = zeekpy.Zeek(url, topics=["/ping"], app_name="broker-tests")
    seen = []

    @zeek.on("ping")
    def ping(c: zeekpy.count, s: str, took: datetime.timedelta,
             addr: zeekpy.addr, x: float, p: zeekpy.port):
        seen.append((c, s, took, addr, x, p))
        zeek.publish("/pong/x", "pong", [zeekpy.count(c), s, took, addr])
        zeek.stop()

    start = time.monotonic()
    with zeek:
        assert zeek.endpoint == server.node_id()
        server.publish("/ping/1", ping_event(7))
        zeek.consume(timeout=10)
    assert seen == [(7, "echo", datetime.timedelta(seconds=1.5),
                     ipaddress.ip_address("192.0.2.1"), 2.5, zeekpy.port(53, "udp"))]
    check_pong(sub, 7)
    assert time.monotonic() - start < 10  # the Close handshake did not stall


def test_async_client_receives_and_publishes_and_stops_cleanly(hosts):
    server, url, sub = hosts

    async def run():
        zeek = zeekpy.AsyncZeek(url, topics=["/ping"])

        @zeek.on("ping")
        async def ping(c: zeekpy.count, s: str, took: datetime.timedelta,
                       addr: zeekpy.addr, x: float, p: zeekpy.port):
            await zeek.publish("/pong/x", "pong", [zeekpy.count(c), s, took, addr])
            await zeek.stop()

        async with zeek:
            server.publish("/ping/1", ping_event(9))
            # After stop() the server's Close echo ends consume() without an
            # error (real Broker's server never echoes, so there it raises).
            await asyncio.wait_for(zeek.consume(), timeout=10)

    asyncio.run(asyncio.wait_for(run(), timeout=20))
    check_pong(sub, 9)
