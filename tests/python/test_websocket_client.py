"""Client mode (Endpoint.web_socket_peer): our endpoint connects to a
WebSocket JSON API server, publishes through it and receives from it like a
peering. Against our own server, and against real Broker's server (started
with BROKER_WEB_SOCKET_PORT; skipped, saying why, when it is absent)."""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import subprocess
import time

import interop
import pytest
from conftest import collect, get_until, plain_config, wait_until

import broker


def url_of(port, scheme="ws"):
    return f"{scheme}://127.0.0.1:{port}/v1/messages/json"


@contextlib.contextmanager
def server_and_client(**client_options):
    with broker.Endpoint(plain_config()) as srv, \
            broker.Endpoint(plain_config(**client_options)) as cli:
        port = srv.web_socket_listen("127.0.0.1", 0)
        yield srv, cli, port


def test_both_directions_with_zeek_events():
    with server_and_client() as (srv, cli, port):
        from_srv = cli.make_subscriber("/down")
        to_srv = srv.make_subscriber("/up")
        status = cli.make_status_subscriber(True)
        assert cli.web_socket_peer(url_of(port), retry=0)
        # Our subscription was the connection's subscription list.
        srv.publish("/down/1", broker.zeek.Event("hello", broker.Count(1), "x"))
        topic, value = from_srv.get(timeout=10)
        assert topic == "/down/1"
        assert broker.zeek.Event(value).name() == "hello"
        cli.publish("/up/1", broker.zeek.Event("back", 2.5))
        topic, value = to_srv.get(timeout=10)
        assert topic == "/up/1"
        ev = broker.zeek.Event(value)
        assert (ev.name(), list(ev.args())) == ("back", [2.5])
        assert wait_until(lambda: status.available() >= 2)
        added = [s for s in status.poll() if s.code() == broker.SC.PeerAdded]
        assert len(added) == 1
        assert added[0].context().network.address == url_of(port)
        assert str(added[0].context().node) == srv.node_id()
        assert added[0].context().type == "web-socket"


def test_new_local_subscriptions_renew_the_session():
    with server_and_client() as (srv, cli, port):
        first = cli.make_subscriber("/first")
        assert cli.web_socket_peer(url_of(port), retry=0)
        second = cli.make_subscriber("/second")
        got = get_until(second, lambda: srv.publish("/second/x", broker.Count(2)))
        assert got == ("/second/x", broker.Count(2))
        # The first subscription survived the switch.
        srv.publish("/first/x", broker.Count(1))
        assert first.get(timeout=10) == ("/first/x", broker.Count(1))
        # And publishing keeps working on the new connection.
        up = srv.make_subscriber("/up")
        cli.publish("/up", "after renewal")
        assert up.get(timeout=10) == ("/up", "after renewal")


def test_what_the_server_sends_reaches_native_peers_of_the_client():
    with server_and_client() as (srv, cli, port), broker.Endpoint(plain_config()) as behind:
        sub = behind.make_subscriber("/relay")
        behind.peer("127.0.0.1", cli.listen("127.0.0.1", 0))
        cli_sub = cli.make_subscriber("/relay")
        assert cli.web_socket_peer(url_of(port), retry=0)
        got = get_until(cli_sub, lambda: srv.publish("/relay/x", "hop"))
        assert got == ("/relay/x", "hop")
        assert sub.get(timeout=10)[1] == "hop"


def test_no_echo_of_what_we_publish_back_to_us():
    with server_and_client() as (srv, cli, port):
        mine = cli.make_subscriber("/same")
        theirs = srv.make_subscriber("/same")
        assert cli.web_socket_peer(url_of(port), retry=0)
        cli.publish("/same/x", broker.Count(5))
        assert theirs.get(timeout=10) == ("/same/x", broker.Count(5))
        assert mine.get(timeout=0.3) is None


def test_failed_peering_and_bad_urls():
    with broker.Endpoint(plain_config()) as ep:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            closed_port = s.getsockname()[1]
        start = time.monotonic()
        assert ep.web_socket_peer(url_of(closed_port), retry=0) is False
        assert time.monotonic() - start < 5
        with pytest.raises(ValueError):
            ep.web_socket_peer("http://127.0.0.1:1/")
        assert ep.web_socket_unpeer(url_of(closed_port)) is False


def test_wrong_path_is_a_failed_attempt():
    with server_and_client() as (srv, cli, port):
        status = cli.make_status_subscriber(False)
        url = f"ws://127.0.0.1:{port}/nope"
        assert cli.web_socket_peer(url, retry=0) is False
        assert wait_until(lambda: status.available() > 0)
        err = status.poll()[0]
        assert "invalid_uri" in err.message()


def test_lost_server_is_reported_and_retried():
    with broker.Endpoint(plain_config()) as cli:
        sub = cli.make_subscriber("/r")
        status = cli.make_status_subscriber(True)
        srv = broker.Endpoint(plain_config())
        port = srv.web_socket_listen("127.0.0.1", 0)
        assert cli.web_socket_peer(url_of(port), retry=0.2)
        srv.shutdown()
        lost = []
        assert wait_until(lambda: lost.extend(
            s for s in status.poll()
            if isinstance(s, broker.Status) and s.code() == broker.SC.PeerLost) or lost)
        assert lost[0].context().network.address == url_of(port)
        assert lost[0].context().node_id() == srv.node_id()
        with broker.Endpoint(plain_config()) as again:
            assert again.web_socket_listen("127.0.0.1", port) == port
            got = get_until(sub, lambda: again.publish("/r/x", "back"), timeout=15)
            assert got == ("/r/x", "back")
        assert cli.web_socket_unpeer(url_of(port))
        assert not cli.web_socket_unpeer(url_of(port))


def test_publications_wait_for_the_server_and_drops_are_reported():
    """While there is no connection, the newest web_socket_buffer_size
    publications wait and go out once the server is up; dropping the older
    ones is one error status, not silence."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with broker.Endpoint(plain_config(web_socket_buffer_size=5)) as cli:
        errors = cli.make_status_subscriber(False)
        assert cli.web_socket_peer(url_of(port), retry=0.2) is False
        for i in range(12):
            cli.publish("/up", broker.Count(i))
        with broker.Endpoint(plain_config()) as srv:
            up = srv.make_subscriber("/up")
            assert srv.web_socket_listen("127.0.0.1", port) == port
            assert collect(up, 5, timeout=15) == [broker.Count(i) for i in range(7, 12)]
            assert up.get(timeout=0.3) is None
        seen = [e.message() for e in errors.poll() if isinstance(e, broker.Error)]
        drops = [m for m in seen if "dropping the oldest" in m]
        assert len(drops) == 1, seen
        assert url_of(port) in drops[0] and "web_socket_buffer_size" in drops[0]


def test_unpeer_flushes_and_stops():
    with server_and_client() as (srv, cli, port):
        up = srv.make_subscriber("/up", qsize=1000)
        assert cli.web_socket_peer(url_of(port), retry=0)
        for i in range(100):
            cli.publish("/up", broker.Count(i))
        # Published before the unpeer: all go out first.
        assert collect(up, 100) == [broker.Count(i) for i in range(100)]
        status = srv.make_status_subscriber(True)
        ours = cli.make_status_subscriber(True)
        assert cli.web_socket_unpeer(url_of(port))
        assert wait_until(lambda: any(s.code() == broker.SC.PeerLost
                                      for s in status.poll() if isinstance(s, broker.Status)))
        # On our side the server was removed, not lost, and we say which.
        assert wait_until(lambda: ours.available() >= 2)
        went = ours.poll()
        assert [s.code() for s in went] == [broker.SC.PeerRemoved,
                                            broker.SC.EndpointUnreachable]
        assert went[0].context().network.address == url_of(port)
        assert went[0].context().node_id() == srv.node_id()


def test_tls_client_against_our_tls_server():
    cfg = broker.Configuration(broker.BrokerOptions())
    with broker.Endpoint(cfg) as srv, broker.Endpoint(broker.Configuration(broker.BrokerOptions())) as cli:
        port = srv.web_socket_listen("127.0.0.1", 0)
        sub = cli.make_subscriber("/s")
        assert cli.web_socket_peer(url_of(port, "wss"), retry=0)
        got = get_until(sub, lambda: srv.publish("/s/x", "secret"))
        assert got == ("/s/x", "secret")
        # A plain client on the TLS listener fails, fast.
        start = time.monotonic()
        assert cli.web_socket_peer(url_of(port), retry=0) is False
        assert time.monotonic() - start < 5


def test_tls_client_with_certificates(pki):
    with broker.Endpoint(pki.config("node1")) as srv:
        port = srv.web_socket_listen("127.0.0.1", 0)
        with broker.Endpoint(pki.config("node2")) as cli:
            sub = cli.make_subscriber("/s")
            assert cli.web_socket_peer(url_of(port, "wss"), retry=0)
            assert get_until(sub, lambda: srv.publish("/s/x", "signed")) == ("/s/x", "signed")
        # A client the server cannot verify (a certificate our CA did not
        # sign, or none) fails its attempt, fast; the server carries on.
        rogue = pki.config("node2", cert="rogue.pem", key="rogue.key")
        for cfg in (rogue, broker.Configuration(broker.BrokerOptions())):
            with broker.Endpoint(cfg) as cli:
                start = time.monotonic()
                assert cli.web_socket_peer(url_of(port, "wss"), retry=0) is False
                assert time.monotonic() - start < 5


class ZeekLikeServer:
    """A WebSocket JSON API server written with `websockets`, answering like
    a Zeek-hosted server (its ack's endpoint is "<uuid>-websocket-<n>"): it
    records every connection's subscription list and the messages sent to
    it, and sends `greeting` after each ack. With `reading=False` it reads
    nothing after the subscription (until close()): a server that does not
    keep up."""

    def __init__(self, greeting: dict, reading: bool = True):
        import threading
        import uuid

        from websockets.sync.server import serve

        self.node = str(uuid.uuid4())
        self.subscriptions: list[list[str]] = []
        self.received: list[dict] = []
        self.ended = 0  # connections whose handler returned (TCP closed)
        self.lock = threading.Lock()
        self.n = 0
        self.closing = threading.Event()

        def handler(ws):
            topics = json.loads(ws.recv(timeout=10))
            with self.lock:
                self.subscriptions.append(topics)
                self.n += 1
                ack = {"type": "ack", "endpoint": f"{self.node}-websocket-{self.n}",
                       "version": "8.0.0"}
            ws.send(json.dumps(ack))
            ws.send(json.dumps(greeting))
            if not reading:  # `websockets` stops reading its socket too
                self.closing.wait(30)
                # Reading again lets `websockets` see the connection end (a
                # paused reader would hold its close for 10 s).
                with contextlib.suppress(Exception):
                    for _ in ws:
                        pass
                return
            try:
                for text in ws:
                    with self.lock:
                        self.received.append(json.loads(text))
            finally:
                with self.lock:
                    self.ended += 1

        self.server = serve(handler, "127.0.0.1", 0)
        self.port = self.server.socket.getsockname()[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.closing.set()
        self.server.shutdown()
        self.thread.join(10)


def test_against_a_zeek_like_server_and_renewals_carry_the_subscription_list():
    greeting = {"type": "data-message", "topic": "/z/hello", "@data-type": "count", "data": 5}
    fake = ZeekLikeServer(greeting)
    try:
        with broker.Endpoint(plain_config()) as cli:
            status = cli.make_status_subscriber(True)
            sub = cli.make_subscriber("/z")
            assert cli.web_socket_peer(url_of(fake.port), retry=0)
            assert sub.get(timeout=10) == ("/z/hello", broker.Count(5))
            # The node id is the ack's uuid, without Zeek's suffix.
            assert wait_until(lambda: status.available() >= 2)
            added = [s for s in status.poll() if s.code() == broker.SC.PeerAdded]
            assert added[0].context().node_id() == fake.node
            cli.publish("/up/x", broker.zeek.Event("ping", "a"))
            assert wait_until(lambda: any(m["topic"] == "/up/x" for m in fake.received))
            # Adding a topic renews with the new list; so does removing one.
            sub.add_topic("/extra")
            assert wait_until(lambda: len(fake.subscriptions) == 2)
            sub.remove_topic("/z")
            assert wait_until(lambda: len(fake.subscriptions) == 3)
            assert [sorted(t) for t in fake.subscriptions] == [
                ["/z"], ["/extra", "/z"], ["/extra"]]
            # Publishing still reaches the server over the newest connection.
            cli.publish("/up/y", broker.Count(1))
            assert wait_until(lambda: any(m["topic"] == "/up/y" for m in fake.received))
            assert wait_until(lambda: fake.ended == 2)  # the renewed ones
        # Shutdown closes the last one too, handshake and TCP, while the
        # Endpoint object still exists (`websockets` waits 10 s for a TCP
        # close that does not come).
        assert wait_until(lambda: fake.ended == 3, timeout=5)
    finally:
        fake.close()


@pytest.mark.parametrize("policy,dropping", [("DropNewest", "dropping the newest"),
                                             ("DropOldest", "dropping the oldest")])
def test_a_server_that_does_not_keep_up_is_reported(policy, dropping):
    fake = ZeekLikeServer({"type": "data-message", "topic": "/z", "@data-type": "none"},
                          reading=False)
    try:
        opts = dict(web_socket_buffer_size=32,
                    web_socket_overflow_policy=getattr(broker.OverflowPolicy, policy))
        with broker.Endpoint(plain_config(**opts)) as cli:
            errors = cli.make_status_subscriber(False)
            assert cli.web_socket_peer(url_of(fake.port), retry=0)
            reports = []
            published = 0

            def reported():
                nonlocal published
                for i in range(200):  # until socket buffers and the queue are full
                    cli.publish("/up", (broker.Count(i), "x" * 1000))
                published += 200
                reports.extend(e.message() for e in errors.poll()
                               if isinstance(e, broker.Error) and dropping in e.message())
                return bool(reports)

            assert wait_until(reported, timeout=20)
            assert url_of(fake.port) in reports[0] and "web_socket_buffer_size" in reports[0]
            # One per episode, not one per drop: a new episode needs half the
            # queue to go out (the kernel takes a little now and then).
            for _ in range(10):
                reported()
            assert len(reports) <= published // 16 < published - 32 - 1, reports
    finally:
        fake.close()


# -- against real Broker's server ------------------------------------------------------

ECHO = """
import broker, sys
opts = broker.BrokerOptions()
opts.disable_ssl = sys.argv[1] == "plain"
with broker.Endpoint(broker.Configuration(opts)) as ep:
    sub = ep.make_subscriber("/to-real")
    print("ready", flush=True)
    while True:
        msg = sub.get(30.0)  # real Broker's get takes no keywords
        if msg is None or msg[0] == "/to-real/quit":
            break
        ep.publish("/from-real" + msg[0][len("/to-real"):], msg[1])
"""


@pytest.fixture(params=["plain", "tls"])
def real_server(request, tmp_path):
    path, how = interop.real_broker()
    if path is None:
        pytest.skip(f"real Broker not found ({how})")
    interop.prepare_real_broker(path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = tmp_path / "echo.py"
    script.write_text(ECHO)
    env = dict(os.environ, BROKER_WEB_SOCKET_PORT=str(port))
    proc = subprocess.Popen([str(path), "python", str(script), request.param], env=env,
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready and proc.stdout.readline().strip() == "ready", proc.stderr.read()
        scheme = "ws" if request.param == "plain" else "wss"
        yield url_of(port, scheme), request.param
    finally:
        proc.kill()
        proc.communicate(timeout=10)  # also closes the pipes


def test_client_against_real_broker_server(real_server):
    url, mode = real_server
    cfg = plain_config() if mode == "plain" else broker.Configuration(broker.BrokerOptions())
    with broker.Endpoint(cfg) as ep:
        sub = ep.make_subscriber("/from-real")
        # Real Broker's server may still be starting its listener.
        deadline = time.monotonic() + 30
        while not ep.web_socket_peer(url, retry=0):
            assert time.monotonic() < deadline, "real Broker's server never answered"
            time.sleep(0.2)
        ep.publish("/to-real/ev", broker.zeek.Event("hello", broker.Count(3), "s", 1.5))
        topic, value = sub.get(timeout=10)
        assert topic == "/from-real/ev"
        ev = broker.zeek.Event(value)
        assert (ev.name(), list(ev.args())) == ("hello", [broker.Count(3), "s", 1.5])
        ep.publish("/to-real/quit", 1)
