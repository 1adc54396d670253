"""Our WebSocket JSON API server against websocket-api.md's conformance
checklist (§9): the upgrade, the subscription and its errors, the ack,
pipelining, every value type end to end, the error table, delivery rules,
events_only, PING/Close handling, slow clients, limits, TLS and statuses.
Item 11 (real clients end to end) is in test_zeekpy.py and
test_zeek_client.py.
Clients are the `websockets` library (what zeekpy uses) and, where a
library would hide what matters, the raw client of wsraw.py."""

from __future__ import annotations

import contextlib
import json
import select
import socket
import ssl
import threading
import time

import pytest
from conftest import get_until, plain_config, wait_until
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.sync.client import connect
from wsraw import OP_BINARY, OP_PONG, RawClient

import broker

PATH = "/v1/messages/json"


@contextlib.contextmanager
def server(**options):
    with broker.Endpoint(plain_config(**options)) as ep:
        port = ep.web_socket_listen("127.0.0.1", 0)
        assert port > 0
        yield ep, port


@contextlib.contextmanager
def client(port, topics=(), **kwargs):
    """A subscribed client (the ack read and checked)."""
    with connect(f"ws://127.0.0.1:{port}{PATH}", open_timeout=10, **kwargs) as ws:
        ws.send(json.dumps(list(topics)))
        ack = json.loads(ws.recv(timeout=10))
        assert ack["type"] == "ack"
        yield ws


def recv_json(ws, timeout=10.0):
    return json.loads(ws.recv(timeout=timeout))


def msg(topic, tag, data=None):
    out = {"type": "data-message", "topic": topic, "@data-type": tag}
    if data is not None:
        out["data"] = data
    return json.dumps(out)


def close_code(exc: ConnectionClosed):
    return exc.rcvd.code if exc.rcvd is not None else None


# -- 1. upgrade ----------------------------------------------------------------


@pytest.mark.parametrize("headers", [None, {"X-Application-Name": "zeek-client/1.0@x:y=*"},
                                     {"X-Application-Name": ""}])
def test_upgrade_with_deflate_offered_and_ack_shape(headers):
    with server() as (ep, port):
        # The websockets library offers permessage-deflate by default.
        with connect(f"ws://127.0.0.1:{port}{PATH}", additional_headers=headers,
                     open_timeout=10) as ws:
            assert ws.response.headers.get("Sec-WebSocket-Extensions") is None
            ws.send("[]")
            text = ws.recv(timeout=10)
            ack = json.loads(text)
            assert list(ack) == ["type", "endpoint", "version"]
            assert ack["type"] == "ack"
            assert ack["endpoint"] == ep.node_id()
            assert ack["version"] == broker._broker._version


@pytest.mark.parametrize("path,headers,code,context", [
    ("/v1/messages/json", {"X-Application-Name": "bad name!"}, "invalid_application_name",
     "Invalid X-Application-Name"),
    ("/", None, "invalid_uri", "Invalid URI - use /v1/messages/json"),
    ("/v1/messages/json?x=1", None, "invalid_uri", "Invalid URI - use /v1/messages/json"),
])
def test_bad_path_or_application_name_errors_then_closes_1008(path, headers, code, context):
    with server() as (_, port):
        raw = RawClient(port, path, headers)
        assert raw.status == 101
        err = json.loads(raw.read_text())
        assert err == {"type": "error", "code": code, "context": context}
        assert raw.read_until_close()[0] == 1008
        raw.close()


# -- 2. subscriptions ----------------------------------------------------------------


def test_subscription_forms():
    with server() as (ep, port):
        with client(port, []) as publish_only, client(port, [""]) as everything, \
                client(port, ["/a", "/a", "/a/b"]) as dup:
            ep.publish("/a/b/c", broker.Count(1))
            ep.publish("/z", broker.Count(2))
            assert recv_json(everything)["topic"] == "/a/b/c"
            assert recv_json(everything)["topic"] == "/z"
            assert recv_json(dup)["data"] == 1
            ep.publish("/a/x", broker.Count(3))
            assert recv_json(dup)["data"] == 3  # the first only once
            with pytest.raises(TimeoutError):
                publish_only.recv(timeout=0.3)


@pytest.mark.parametrize("first,context", [
    ("hello", "subscriptions not an array"),
    ('{"topics":["a"]}', "subscriptions not an array"),
    ('["a", 1]', "individual subscription not a string"),
    ('["/ok", "<$>/local"]', "reserved topic in subscriptions"),
])
def test_bad_subscription_errors_then_closes_1008(first, context):
    with server() as (_, port):
        raw = RawClient(port)
        raw.send_text(first)
        err = json.loads(raw.read_text())
        assert (err["type"], err["code"]) == ("error", "deserialization_failed")
        # The context is fixed; detail after " -> " is allowed (§5.2).
        assert err["context"] == context or err["context"].startswith(context + " -> ")
        assert raw.read_until_close()[0] == 1008
        raw.close()


# -- 3./4. ack, delivery after it, pipelining ---------------------------------------------


def test_published_before_subscribing_is_not_delivered_after_is():
    with server() as (ep, port):
        ep.publish("/t/early", broker.Count(1))
        with client(port, ["/t"]) as ws:
            ep.publish("/t/late", broker.Count(2))
            got = recv_json(ws)
            assert got["topic"] == "/t/late"


def test_pipelined_messages_are_processed_in_order_after_the_ack():
    with server() as (ep, port):
        sub = ep.make_subscriber("/p")
        raw = RawClient(port)
        raw.send_text("[]")
        for i in range(50):
            raw.send_text(msg("/p", "count", i))
        assert json.loads(raw.read_text())["type"] == "ack"
        got = [sub.get(timeout=10) for _ in range(50)]
        assert [v for _, v in got] == [broker.Count(i) for i in range(50)]
        raw.close()


# -- 5. every type end to end --------------------------------------------------------

ROUND_TRIPS = [
    ("none", None, "none", {}),
    ("boolean", False, "boolean", False),
    ("count", 18446744073709551615, "count", 18446744073709551615),
    ("integer", -9223372036854775808, "integer", -9223372036854775808),
    ("real", -7.5, "real", -7.5),
    ("real", 5, "real", 5.0),
    ("string", "tab\there \"quoted\" café \u0001", "string", "tab\there \"quoted\" café \u0001"),
    ("address", "2001:DB8:0:0::7", "address", "2001:db8::7"),
    ("address", "192.0.2.1", "address", "192.0.2.1"),
    ("subnet", "192.0.2.77/24", "subnet", "192.0.2.0/24"),
    ("subnet", "2001:db8::7/32", "subnet", "2001:db8::/32"),
    ("port", "0/?", "port", "0/?"),
    ("port", "8/icmp", "port", "8/icmp"),
    ("port", "53/udp", "port", "53/udp"),
    ("timestamp", "2025-01-15T10:30:00+01:00", "timestamp", "2025-01-15T09:30:00.000"),
    ("timestamp", "2025-01-15T09:30:00.123456789", "timestamp", "2025-01-15T09:30:00.123"),
    ("timespan", "1.5s", "timespan", "1500ms"),
    ("timespan", "1500000000.0ns", "timespan", "1500ms"),
    ("timespan", "2min", "timespan", "120s"),
    ("timespan", "1h", "timespan", "3600s"),
    ("timespan", "-3ms", "timespan", "-3ms"),
    ("timespan", "1d", "timespan", "86400s"),
    ("enum-value", "Notice::ACTION_LOG", "enum-value", "Notice::ACTION_LOG"),
    ("vector", [], "vector", []),
    ("set", [], "set", []),
    ("table", [], "table", []),
    ("set", [{"@data-type": "count", "data": 2}, {"@data-type": "count", "data": 1},
             {"@data-type": "count", "data": 2}],
     "set", [{"@data-type": "count", "data": 1}, {"@data-type": "count", "data": 2}]),
    ("set", [{"@data-type": "table", "data": [
        {"key": {"@data-type": "string", "data": "k"},
         "value": {"@data-type": "set", "data": [{"@data-type": "integer", "data": -1}]}}]}],
     "set", [{"@data-type": "table", "data": [
         {"key": {"@data-type": "string", "data": "k"},
          "value": {"@data-type": "set", "data": [{"@data-type": "integer", "data": -1}]}}]}]),
]


def test_every_type_round_trips_between_two_clients():
    with server() as (_, port):
        with client(port, []) as pub, client(port, ["/rt"]) as sub:
            for i, (tag, data, out_tag, out_data) in enumerate(ROUND_TRIPS):
                pub.send(msg(f"/rt/{i}", tag, data))
                got = recv_json(sub)
                assert got == {"type": "data-message", "topic": f"/rt/{i}",
                               "@data-type": out_tag, "data": out_data}, (tag, data)


def test_values_reach_python_subscribers_exactly():
    with server() as (ep, port):
        sub = ep.make_subscriber("/v")
        with client(port) as ws:
            ws.send(msg("/v", "count", 18446744073709551615))
            ws.send(msg("/v", "timespan", "1500000000.0ns"))
            assert sub.get(timeout=10)[1] == broker.Count(18446744073709551615)
            assert sub.get(timeout=10)[1].total_seconds() == 1.5


# -- 6. the error table ---------------------------------------------------------------

ERRORS = [
    ("hello", "failed to decode JSON object"),
    ("[1]", "failed to decode JSON object"),
    (msg("/e", "bogus", 1), "failed to decode JSON object"),
    (json.dumps({"topic": "/e", "data": 1}), "failed to decode JSON object"),
    (msg("/e", "count", "1"), "failed to decode JSON object"),
    (msg("/e", "count", 18446744073709551616), "failed to decode JSON object"),
    (msg("/e", "integer", 1.5), "failed to decode JSON object"),
    (msg("/e", "address", "300.1.2.3"), "failed to decode JSON object"),
    (msg("/e", "subnet", "10.0.0.0/33"), "failed to decode JSON object"),
    (msg("/e", "port", "70000/tcp"), "failed to decode JSON object"),
    (msg("/e", "timestamp", "yesterday"), "failed to decode JSON object"),
    (msg("/e", "timespan", "5 parsecs"), "failed to decode JSON object"),
    (msg("/e", "vector", [1]), "failed to decode JSON object"),
    (msg("/e", "table", [{"key": {"@data-type": "none"}}]), "failed to decode JSON object"),
    ('{"topic":"/e",' + '"@data-type":"vector","data":[{' * 200, "failed to decode JSON object"),
    (json.dumps({"@data-type": "count", "data": 3}), "no topic in top-level JSON object"),
    (json.dumps({"topic": 7, "@data-type": "count", "data": 3}), "no topic in top-level JSON object"),
    (json.dumps({"topic": "", "@data-type": "count", "data": 3}), "reserved topic"),
    (json.dumps({"topic": "<$>/local/x", "@data-type": "count", "data": 3}), "reserved topic"),
]


@pytest.mark.parametrize("text,context", ERRORS)
def test_each_error_row_gives_one_error_and_the_session_goes_on(text, context):
    with server() as (ep, port):
        sub = ep.make_subscriber("/ok")
        status = ep.make_status_subscriber(False)
        with client(port, ["/ok"]) as ws:
            ws.send(text)
            err = recv_json(ws)
            assert err["type"] == "error" and list(err) == ["type", "code", "context"]
            assert err["code"] == "deserialization_failed"
            assert err["context"].split(" -> ")[0] == context
            ws.send(msg("/ok", "count", 1))
            assert sub.get(timeout=10) == ("/ok", broker.Count(1))
            ep.publish("/ok/back", "still here")
            assert recv_json(ws)["data"] == "still here"  # no second error
        # Also reported to the endpoint's owner.
        assert wait_until(lambda: status.available() > 0)
        errors = [s for s in status.poll() if isinstance(s, broker.Error)]
        assert any(e.code() == broker.EC.DeserializationFailed for e in errors)


# -- 7. delivery rules ------------------------------------------------------------------


def test_no_self_echo_and_delivery_to_everyone_else_exactly_once():
    with server() as (ep, port), broker.Endpoint(plain_config()) as native:
        native_sub = native.make_subscriber("/d")
        native.peer("127.0.0.1", ep.listen("127.0.0.1", 0))
        assert wait_until(lambda: "/d" in [str(t) for t in ep.peer_subscriptions()])
        local_sub = ep.make_subscriber("/d")
        with client(port, ["/d", "/d/x", ""]) as a, client(port, ["/d/x", "/d"]) as b:
            a.send(msg("/d/x/1", "count", 7))
            got = recv_json(b)
            assert got["topic"] == "/d/x/1" and got["data"] == 7
            assert local_sub.get(timeout=10) == ("/d/x/1", broker.Count(7))
            assert native_sub.get(timeout=10) == ("/d/x/1", broker.Count(7))
            with pytest.raises(TimeoutError):
                a.recv(timeout=0.3)  # never its own
            with pytest.raises(TimeoutError):
                b.recv(timeout=0.3)  # once, despite two matching prefixes
            # And a native peer's publication reaches the clients.
            native.publish("/d/x/2", "from native")
            assert recv_json(a)["data"] == "from native"
            assert recv_json(b)["data"] == "from native"


def test_client_subscription_is_advertised_to_native_peers():
    with server() as (ep, port), broker.Endpoint(plain_config()) as native:
        native.peer("127.0.0.1", ep.listen("127.0.0.1", 0))
        with client(port, ["/only-ws"]) as ws:
            # The hosting endpoint does not subscribe itself (§2.3).
            assert wait_until(lambda: "/only-ws" in [str(t) for t in native.peer_subscriptions()])
            native.publish("/only-ws/1", broker.Count(5))
            assert recv_json(ws)["data"] == 5


# -- 8. events_only ---------------------------------------------------------------------


def test_events_only_passes_events_and_drops_plain_values():
    with broker.Endpoint(plain_config()) as ep:
        port = ep.web_socket_listen("127.0.0.1", 0, events_only=True)
        with client(port, ["/ev"]) as ws:
            ep.publish("/ev", broker.Count(1))
            ep.publish("/ev", broker.zeek.Event("ping", "hi", broker.Count(2)))
            got = recv_json(ws)
            assert got["data"][2]["data"][0]["data"] == "ping"
            with pytest.raises(TimeoutError):
                ws.recv(timeout=0.3)


# -- 9. PING, Close, slow clients, limits --------------------------------------------------


def test_ping_is_answered():
    with server() as (_, port), client(port) as ws:
        assert ws.ping(b"abc").wait(10)


def test_binary_frames_count_as_text_and_unsolicited_pongs_are_ignored():
    with server() as (ep, port):
        sub = ep.make_subscriber("/bin")
        status = ep.make_status_subscriber(False)
        raw = RawClient(port)
        raw.send_frame(OP_BINARY, b'["/bin"]')
        assert json.loads(raw.read_text())["type"] == "ack"
        raw.send_frame(OP_PONG, b"unasked")
        raw.send_frame(OP_BINARY, msg("/bin/x", "count", 7).encode())
        assert sub.get(timeout=10) == ("/bin/x", broker.Count(7))
        ep.publish("/bin/y", "down")
        assert json.loads(raw.read_text())["data"] == "down"
        assert status.poll() == []
        raw.close()


def test_ping_interval_zero_sends_no_pings():
    assert broker.BrokerOptions().web_socket_ping_interval == 5.0
    with server(web_socket_ping_interval=0) as (ep, port):
        raw = RawClient(port)
        raw.send_text('["/t"]')
        assert json.loads(raw.read_text())["type"] == "ack"
        # Longer than the default interval: 0 is "none", not "the default"
        # (an interval of 0.2 s sends several in this time, test below).
        with pytest.raises(TimeoutError):
            raw.read_frame(timeout=5.5)
        ep.publish("/t", "still open")
        assert json.loads(raw.read_text())["data"] == "still open"
        raw.close()


def test_client_that_vanishes_without_a_close_is_lost():
    with server() as (ep, port):
        status = ep.make_status_subscriber(True)
        raw = RawClient(port)
        raw.send_text("[]")
        assert json.loads(raw.read_text())["type"] == "ack"
        assert wait_until(lambda: status.available() >= 2)
        added = status.poll()[1].context().node_id()
        raw.close()  # TCP FIN, no Close frame
        assert wait_until(lambda: status.available() >= 2)
        went = status.poll()
        assert [s.code() for s in went] == [broker.SC.PeerLost, broker.SC.EndpointUnreachable]
        assert went[0].context().node_id() == added


def test_client_that_ignores_pings_is_closed_1011():
    with server(web_socket_ping_interval=0.2) as (_, port):
        raw = RawClient(port)
        raw.send_text("[]")
        start = time.monotonic()
        pings = 0
        # Read without answering: PINGs, then the Close.
        while True:
            op, payload = raw.read_frame(timeout=10)
            if op == 0x9:
                pings += 1
            elif op == 0x8:
                assert (int.from_bytes(payload[:2], "big"), payload[2:]) == (1011, b"Ping timeout")
                break
        assert pings >= 1 and time.monotonic() - start < 5
        raw.close()


def test_close_handshake_completes_while_the_queue_is_full():
    with server(web_socket_overflow_policy=broker.OverflowPolicy.DropOldest) as (ep, port):
        raw = RawClient(port, rcvbuf=4096)
        raw.send_text('["/flood"]')
        assert json.loads(raw.read_text())["type"] == "ack"
        for i in range(5000):  # far more than socket buffers and our queue take
            ep.publish("/flood", "x" * 200)
        raw.send_close(1000)
        start = time.monotonic()
        code, _, _ = raw.read_until_close(timeout=15)
        assert code == 1000
        assert time.monotonic() - start < 10
        raw.close()


@pytest.mark.parametrize("policy", ["DropNewest", "DropOldest"])
def test_drop_policies_drop_what_they_say_and_report_it(policy):
    limit, n = 64, 5000
    with contextlib.ExitStack() as stack:
        ep, port = stack.enter_context(server(
            web_socket_buffer_size=limit,
            web_socket_overflow_policy=getattr(broker.OverflowPolicy, policy)))
        errors = ep.make_status_subscriber(False)
        # A native peer sees every message (flow control, no drops): once it
        # has them all, the client's session was offered them all too.
        other = stack.enter_context(broker.Endpoint(plain_config()))
        witness = other.make_subscriber("/flood", qsize=n + 10)
        sync = other.make_subscriber("/sync")  # known to ep with /flood
        other.peer("127.0.0.1", ep.listen("127.0.0.1", 0))
        assert get_until(sync, lambda: ep.publish("/sync", "probe"))
        raw = RawClient(port, rcvbuf=4096)
        raw.send_text('["/flood"]')
        assert json.loads(raw.read_text())["type"] == "ack"
        def flood(first, last):
            """Publishes first..last-1; returns once the client's session was
            offered them all (the native peer has them)."""
            for i in range(first, last):
                ep.publish("/flood", (broker.Count(i), "x" * 200))
            got = 0
            deadline = time.monotonic() + 30
            while got < last - first and time.monotonic() < deadline:
                select.select([witness.fd()], [], [], 0.5)
                got += len(witness.poll())
            assert got == last - first

        flood(0, n)  # far more than socket buffers and our queue take
        # Once the client's receive buffer is full nothing more moves until
        # it reads: what the queue does with the next 2 * limit messages is
        # the policy alone (the queue fills within `limit` of them).
        assert raw.wait_stalled(), "the client's socket never filled up"
        n += 2 * limit
        flood(n - 2 * limit, n)
        # Now read what the queue kept: for DropOldest up to the newest
        # message, which it always keeps; for DropNewest up to a marker
        # published once reading began, which gets in as soon as there is
        # room again (markers before that are dropped themselves).
        def take(timeout):
            try:
                return json.loads(raw.read_text(timeout))["data"][0]["data"]
            except TimeoutError:
                return None

        seq = []
        deadline = time.monotonic() + 30
        if policy == "DropOldest":
            while not seq or seq[-1] != n - 1:
                assert time.monotonic() < deadline, seq[-5:]
                if (i := take(1.0)) is not None:
                    seq.append(i)
        else:
            while True:
                assert time.monotonic() < deadline, seq[-5:]
                ep.publish("/flood", (broker.Count(n), "marker"))
                while (i := take(0.05)) is not None and i != n:
                    seq.append(i)
                if i == n:
                    break
        raw.close()
        assert seq == sorted(set(seq)) and limit <= len(seq) < n
        newest = list(range(n - limit + 1, n))
        if policy == "DropNewest":  # the oldest arrive, not the newest
            # (some of those may: the kernel compacts a full receive queue
            # now and then, which lets a little more through)
            assert seq[:limit] == list(range(limit)) and seq[-(limit - 1):] != newest
        else:  # the newest arrive (all but the one being written when the
            # queue filled, which cannot be dropped), older ones went missing
            assert seq[-(limit - 1):] == newest
        dropping = "dropping the newest" if policy == "DropNewest" else "dropping the oldest"
        reports = [e.message() for e in errors.poll()
                   if isinstance(e, broker.Error) and dropping in e.message()]
        # One per episode (from full until half of it is out again), so at
        # most one per `limit / 2` messages, not one per drop.
        assert 1 <= len(reports) <= n // (limit // 2) < n - len(seq), reports
        assert "web_socket_buffer_size" in reports[0]


def test_shutdown_closes_a_client_that_reads_nothing():
    """Shutdown gives Close frames a second to go out; a client that reads
    nothing has its socket closed then, not when the Endpoint object goes."""
    ep = broker.Endpoint(plain_config(web_socket_overflow_policy=broker.OverflowPolicy.DropOldest))
    try:
        port = ep.web_socket_listen("127.0.0.1", 0)
        raw = RawClient(port, rcvbuf=4096)
        raw.send_text('["/flood"]')
        assert json.loads(raw.read_text())["type"] == "ack"
        errors = ep.make_status_subscriber(False)
        for _ in range(5000):  # the server's write blocks on our full buffers
            ep.publish("/flood", "x" * 200)
        # Blocked for sure once the queue behind the write overflows.
        assert wait_until(lambda: any("dropping the oldest" in e.message()
                                      for e in errors.poll() if isinstance(e, broker.Error)))
        ep.shutdown()
        # Now read: what the kernel holds, then the end of the connection.
        raw.sock.settimeout(10)
        ended = False
        deadline = time.monotonic() + 10
        while not ended and time.monotonic() < deadline:
            try:
                ended = raw.sock.recv(1 << 16) == b""
            except ConnectionResetError:
                ended = True
            except TimeoutError:
                break
        assert ended, "the socket stayed open after shutdown"
        raw.close()
    finally:
        del ep


def test_client_that_stops_reading_is_disconnected_and_hurts_nobody():
    # At the defaults, real Broker's: 512 messages per client, then
    # disconnect.
    defaults = broker.BrokerOptions()
    assert defaults.web_socket_buffer_size == 512
    assert defaults.web_socket_overflow_policy == broker.OverflowPolicy.Disconnect
    with server() as (ep, port):
        status = ep.make_status_subscriber(True)
        slow = RawClient(port, rcvbuf=4096)
        slow.send_text('["/flood"]')
        assert json.loads(slow.read_text())["type"] == "ack"
        removed = []

        def slow_removed():
            removed.extend(s for s in status.poll()
                           if isinstance(s, broker.Status) and s.code() == broker.SC.PeerRemoved)
            return bool(removed)

        with client(port, ["/flood"], max_queue=None) as fast:
            # Batches the fast client keeps up with; the slow one's socket
            # buffers fill after a few, then its queue, then it is dropped.
            deadline = time.monotonic() + 30
            batches = 0
            while not slow_removed() and time.monotonic() < deadline:
                for _ in range(100):
                    ep.publish("/flood", "x" * 2000)
                assert len([recv_json(fast) for _ in range(100)]) == 100
                batches += 1
            assert removed, "the slow client was never dropped"
            ep.publish("/flood", "after")
            assert recv_json(fast)["data"] == "after"
        # The slow one gets its Close 1011 after what it still had.
        code, reason, _ = slow.read_until_close(timeout=30)
        assert (code, reason) == (1011, "Outbound queue overflow")
        slow.close()


def test_oversized_message_closes_1009():
    assert broker.BrokerOptions().web_socket_max_message_size == 16 << 20
    with server(web_socket_max_message_size=1000) as (_, port):
        raw = RawClient(port)
        raw.send_text("[]")
        assert json.loads(raw.read_text())["type"] == "ack"
        raw.send_text(msg("/big", "string", "x" * 2000))
        assert raw.read_until_close()[0] == 1009
        raw.close()
        with client(port, []) as ws:  # the server carries on
            ws.ping().wait(10)


def test_client_that_never_subscribes_is_closed():
    with server(handshake_timeout=0.5) as (_, port):
        raw = RawClient(port)
        start = time.monotonic()
        assert raw.read_until_close()[0] == 1008
        assert time.monotonic() - start < 5
        raw.close()


def test_client_cap_refuses_extra_clients():
    with server(web_socket_max_clients=2) as (_, port):
        with client(port), client(port):
            # Closed at accept (no HTTP answer) or, when the upgrade raced a
            # departing client, with Close 1001 "Too many clients".
            with pytest.raises((WebSocketException, OSError, TimeoutError)):
                with client(port):
                    pass


def test_endpoint_shutdown_closes_clients_with_1001():
    ep = broker.Endpoint(plain_config())
    port = ep.web_socket_listen("127.0.0.1", 0)
    with client(port) as ws:
        ep.shutdown()
        with pytest.raises(ConnectionClosed) as info:
            ws.recv(timeout=10)
        assert close_code(info.value) == 1001
        assert info.value.rcvd.reason == "Terminating"


def test_clients_closing_echo_the_code():
    with server() as (_, port):
        with connect(f"ws://127.0.0.1:{port}{PATH}", open_timeout=10) as ws:
            ws.send("[]")
            ws.recv(timeout=10)
            ws.close(code=4000, reason="done")
            rcvd = ws.protocol.close_rcvd
            assert rcvd is not None and rcvd.code == 4000


# -- statuses ---------------------------------------------------------------------------


def test_clients_appear_on_the_status_subscriber_like_peers():
    with server() as (ep, port):
        status = ep.make_status_subscriber(True)
        ids = []
        for _ in range(2):  # each connection gets a fresh id
            with client(port) as ws:
                host, client_port = ws.local_address[:2]
                assert wait_until(lambda: status.available() >= 2)
                came = status.poll()
                assert [s.code() for s in came] == [broker.SC.EndpointDiscovered,
                                                    broker.SC.PeerAdded]
                added = came[1].context()
                assert added.type == "web-socket"
                assert added.network.get().address.endswith(host)
                assert added.network.get().port == client_port
                assert added.node_id() != ep.node_id()
                assert came[0].context().node_id() == added.node_id()
                ids.append(added.node_id())
            assert wait_until(lambda: status.available() >= 2)
            went = status.poll()
            assert [s.code() for s in went] == [broker.SC.PeerLost,
                                                broker.SC.EndpointUnreachable]
            assert {s.context().node_id() for s in went} == {ids[-1]}
            assert went[0].context().type == "web-socket"
        assert ids[0] != ids[1]
        # The client's X-Application-Name label names it in the statuses.
        with client(port, additional_headers={"X-Application-Name": "zeek-client/1.5"}):
            assert wait_until(lambda: status.available() >= 2)
            added = status.poll()[1]
            assert added.code() == broker.SC.PeerAdded
            assert '"zeek-client/1.5" at 127.0.0.1:' in added.message()


# -- 10. TLS ----------------------------------------------------------------------------------


def test_tls_with_certificates(pki):
    cfg = pki.config("node1")
    with broker.Endpoint(cfg) as ep:
        port = ep.web_socket_listen("127.0.0.1", 0)
        ctx = ssl.create_default_context(cafile=pki.path("ca.pem"))
        ctx.check_hostname = False
        ctx.load_cert_chain(pki.path("node2.pem"), pki.path("node2.key"))
        with connect(f"wss://127.0.0.1:{port}{PATH}", ssl=ctx, open_timeout=10) as ws:
            ws.send("[]")
            assert json.loads(ws.recv(timeout=10))["type"] == "ack"
        # Without a client certificate the TLS handshake fails (with TLS 1.3
        # the client learns it only when it reads the HTTP response).
        bare = ssl.create_default_context(cafile=pki.path("ca.pem"))
        bare.check_hostname = False
        with pytest.raises((ssl.SSLError, OSError, WebSocketException)):
            with connect(f"wss://127.0.0.1:{port}{PATH}", ssl=bare, open_timeout=5) as ws:
                ws.send("[]")
                ws.recv(timeout=5)


def test_tls_anonymous_aecdh_like_zeek_client():
    with broker.Endpoint(broker.Configuration(broker.BrokerOptions())) as ep:
        port = ep.web_socket_listen("127.0.0.1", 0)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers("AECDH-AES256-SHA@SECLEVEL=0")
        with connect(f"wss://127.0.0.1:{port}{PATH}", ssl=ctx, open_timeout=10) as ws:
            assert ws.socket.cipher()[0] == "AECDH-AES256-SHA"
            ws.send("[]")
            assert json.loads(ws.recv(timeout=10))["type"] == "ack"


def test_plaintext_and_tls_mismatches_fail_fast():
    with broker.Endpoint(broker.Configuration(broker.BrokerOptions())) as tls_ep:
        port = tls_ep.web_socket_listen("127.0.0.1", 0)
        start = time.monotonic()
        with pytest.raises((OSError, WebSocketException)):
            with connect(f"ws://127.0.0.1:{port}{PATH}", open_timeout=5):
                pass
        assert time.monotonic() - start < 4
    with server() as (_, port):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        start = time.monotonic()
        with pytest.raises((ssl.SSLError, OSError, WebSocketException)):
            with connect(f"wss://127.0.0.1:{port}{PATH}", ssl=ctx, open_timeout=5):
                pass
        assert time.monotonic() - start < 4


def test_environment_variable_starts_the_server(monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    monkeypatch.setenv("BROKER_WEB_SOCKET_PORT", str(free))
    with broker.Endpoint(plain_config()) as ep:
        with client(free) as ws:
            ep.publish("/x", 1)
            with pytest.raises(TimeoutError):
                ws.recv(timeout=0.2)


class Burst:
    """A thread that sends `n` numbered 4 KiB messages on `topic` (16 MB for
    4,000: more than the sockets buffer), for the flow-control tests."""

    def __init__(self, ws, topic: str, n: int):
        self.n, self.sent = n, 0
        payload = "x" * 4096

        def send_all():
            for i in range(n):
                ws.send(msg(topic, "string", f"{i} {payload}"))
                self.sent = i + 1

        self.thread = threading.Thread(target=send_all, daemon=True)
        self.thread.start()

    def wait_blocked_or_done(self) -> None:
        """Returns once the sender is done or blocked (no progress between
        two looks half a second apart); nothing is read meanwhile."""
        last, deadline = -1, time.monotonic() + 30
        while self.thread.is_alive() and self.sent != last and time.monotonic() < deadline:
            last = self.sent
            self.thread.join(0.5)

    def check_all_arrive(self, sub, batch: int, statuses) -> None:
        """`sub` gets every message, in order; the sender finishes; no error
        and no peer lost meanwhile."""
        got = []
        deadline = time.monotonic() + 60
        while len(got) < self.n and time.monotonic() < deadline:
            got.extend(sub.get(min(self.n - len(got), batch), timeout=1.0))
        self.thread.join(10)
        assert not self.thread.is_alive()
        assert [int(v.split(" ")[0]) for _, v in got] == list(range(self.n))
        bad = [s for s in statuses.poll()
               if isinstance(s, broker.Error)
               or s.code() in (broker.SC.PeerLost, broker.SC.PeerRemoved)]
        assert not bad


def test_a_fast_client_is_held_back_by_a_full_local_subscriber_and_loses_nothing():
    """Flow control for client input (0007): a local subscriber whose queue
    the client's messages fill stops the client's socket being read, as a
    native peer that fills one does, until it reads again; its queue stays
    at its size and nothing is dropped."""
    n, qsize = 4000, 16
    with server() as (ep, port):
        statuses = ep.make_status_subscriber(True)
        sub = ep.make_subscriber("/full", qsize=qsize)
        with client(port, ping_interval=1, ping_timeout=30) as ws:
            burst = Burst(ws, "/full/x", n)
            # Well within publish_stall_timeout.
            burst.wait_blocked_or_done()
            assert burst.thread.is_alive() and burst.sent < n, "the client was not held back"
            assert sub.available() <= qsize + 1
            burst.check_all_arrive(sub, qsize, statuses)


def test_a_fast_client_is_held_back_by_a_slow_native_peer_and_loses_nothing():
    """Flow control for client input (0007, 0008): while the native peer's
    buffer is full we stop reading the client's socket, so TCP holds the
    client back; nothing overflows the peer (whose default policy would
    drop the peering), and the client's PONGs stuck behind its own
    messages do not make it look dead."""
    n = 4000
    with server(peer_buffer_size=64) as (ep, port):
        statuses = ep.make_status_subscriber(True)
        with broker.Endpoint(plain_config()) as sink:
            sub = sink.make_subscriber("/bp", qsize=16)
            sink.peer("127.0.0.1", ep.listen("127.0.0.1", 0), 0)
            assert wait_until(lambda: any(
                t.string().startswith("/bp") for t in ep.peer_subscriptions()), 10)
            with client(port, ping_interval=1, ping_timeout=30) as ws:
                burst = Burst(ws, "/bp/x", n)
                # The subscriber reads nothing meanwhile, so the burst backs
                # up through the peer into the client.
                burst.wait_blocked_or_done()
                # Before anyone leaves: no peer dropped, no error.
                burst.check_all_arrive(sub, n, statuses)
