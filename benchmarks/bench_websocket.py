#!/usr/bin/env python3
"""WebSocket benchmark: a WebSocket client (the `websockets` package, as
zeekpy uses it) publishes small messages through an endpoint's WebSocket
server to a native subscriber peered with that endpoint, and back.

Two cases, each with fresh processes:

* ``one-way``: the client sends N messages (a count each), framed before
  the clock starts, as fast as the socket takes them, and keeps the
  connection open until the subscriber has them all (or stays idle for a
  second); printed: the client's send rate, the rate at which the native
  subscriber received them (first to last message), and the CPU time the
  server process spent per message (what the server could do with a core
  to itself, when the Python client or subscriber is the bottleneck);
* ``round-trip``: the native subscriber publishes every message back; the
  client subscribes to the replies and keeps at most a window of messages
  in flight (below the server's per-client buffer, so flow control never
  disconnects it); printed: replies per second at the client, and the
  server's CPU time per message (both directions).

The client is `websockets`' sans-I/O protocol (its framing, masking,
parser and PONGs) driven over a plain socket (class WsClient).

The server and the subscriber run as child processes of the same
implementation: ours, and real Broker 2.8 (``--real-broker PATH``,
default ``../shared/reference/real-broker`` from the repository root, when
present, or ``--real-python PATH``; its WebSocket server starts through
BROKER_WEB_SOCKET_PORT, and forwards the reply topic: see CHILD).
Plain TCP everywhere (disable_ssl). Every wait is bounded; children are
killed at the end. This is a program that prints numbers, not a test.

Usage:
    bench_websocket.py [--quick | --messages 800000] [--window 256]
                       [--case both|one-way|round-trip]
                       [--no-real | --real-broker PATH | --real-python PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time

CHILD = r"""
import json, os, select, sys, time
import broker
role = sys.argv[1]
o = broker.BrokerOptions(); o.disable_ssl = True
ep = broker.Endpoint(broker.Configuration(o))
def say(**kw): print(json.dumps(kw), flush=True)
if role == "server":
    port = ep.listen("127.0.0.1", 0)
    if hasattr(ep, "web_socket_listen"):
        ws_port = ep.web_socket_listen("127.0.0.1", 0)
    else:  # real Broker: BROKER_WEB_SOCKET_PORT started it
        ws_port = int(os.environ["BROKER_WEB_SOCKET_PORT"])
        # Its server does not advertise its clients' topics to peers
        # (websocket-api.md, appendix 2): forwarding the topic makes the
        # native subscriber send the replies here, with no local subscriber
        # to drain. (A string: its wrapper's list check fails on 3.10+.)
        ep.forward("/bench/out")
    say(port=port, ws_port=ws_port)
    for _ in sys.stdin:  # each line asks for the CPU seconds used so far
        t = os.times()
        say(cpu=t.user + t.system)
else:
    echo = role == "echo"
    sub = ep.make_subscriber("/bench/in")
    assert ep.peer("127.0.0.1", int(sys.argv[2]), 0)
    say(peered=True)
    got, first, last, cpu0 = 0, None, None, 0.0
    # get(n, timeout) waits for n messages: with a window of messages in
    # flight that never come, so wait on the fd and take what is there.
    idle_until = time.monotonic() + 30
    while time.monotonic() < idle_until:
        select.select([sub.fd()], [], [], 1.0)
        msgs = sub.poll()
        if not msgs:
            if got:
                idle_until = min(idle_until, time.monotonic() + 1.0)
            continue
        idle_until = time.monotonic() + 30
        now = time.monotonic()
        if first is None:
            first, t = now, os.times()
            cpu0 = t.user + t.system
        last = now
        got += len(msgs)
        if echo:  # what one poll() returned, in one batch
            ep.publish_batch(*[("/bench/out", v) for _, v in msgs])
        if not echo and got >= int(sys.argv[3]):
            break
    span = (last - first) if got and last > first else 1e-9
    t = os.times()  # CPU from the first message on (both threads)
    say(got=got, rate=got / span, cpu=t.user + t.system - cpu0)
"""

PATH = "/v1/messages/json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Procs:
    def __init__(self, python: list, script: str):
        self.python, self.script, self.procs = python, script, []

    def start(self, *args, env=None):
        p = subprocess.Popen([*self.python, self.script, *map(str, args)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True, env=env,
                             cwd=tempfile.gettempdir())
        self.procs.append(p)
        return p

    @staticmethod
    def read(p, timeout=90.0) -> dict:
        from _harness import read_json_line

        return read_json_line(p, timeout)

    def close(self):
        for p in self.procs:
            p.kill()
            p.wait()
            p.stdin.close()
            p.stdout.close()


class WsClient:
    """A WebSocket client on `websockets`' sans-I/O protocol: its framing,
    masking, PONGs and parser, with our own socket calls so that frames
    go out many per write and come in many per read. (Its asyncio API
    costs tens of microseconds per message in Python, which would measure
    the client rather than the server.)"""

    def __init__(self, ws_port: int, topics: list, deadline: float):
        from websockets.client import ClientProtocol
        from websockets.frames import Opcode
        from websockets.protocol import State
        from websockets.uri import parse_uri

        self.text = Opcode.TEXT
        while True:  # real Broker's server may still be opening its port
            try:
                self.sock = socket.create_connection(("127.0.0.1", ws_port), timeout=10)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        # As asyncio (and so `websockets`' own client) does.
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.proto = ClientProtocol(parse_uri(f"ws://127.0.0.1:{ws_port}{PATH}"),
                                    max_size=None)
        self.proto.send_request(self.proto.connect())
        self.flush()
        subscribed = False
        while True:
            texts = self.receive(10.0)
            if texts:
                assert json.loads(texts[0])["type"] == "ack", texts[0]
                break
            if not subscribed and self.proto.state == State.OPEN:
                self.proto.send_text(json.dumps(topics).encode())
                self.flush()
                subscribed = True

    def flush(self) -> None:
        """Sends what the protocol has queued (frames, PONGs)."""
        out = self.proto.data_to_send()
        if out:
            self.sock.sendall(b"".join(out))

    def frames(self, texts: list[str]) -> list[bytes]:
        """Each text as a ready-to-send masked frame."""
        result = []
        for t in texts:
            self.proto.send_text(t.encode())
            result.extend(self.proto.data_to_send())
        return result

    def receive(self, timeout: float) -> list[bytes]:
        """The text messages of one read (may be none); PONGs go out."""
        if not select.select([self.sock], [], [], timeout)[0]:
            raise RuntimeError(f"server silent for {timeout:g} s")
        data = self.sock.recv(1 << 20)
        if not data:
            raise RuntimeError("server closed the connection")
        self.proto.receive_data(data)
        self.flush()
        return [ev.data for ev in self.proto.events_received()
                if getattr(ev, "opcode", None) == self.text]

    def answer_pings(self) -> None:
        """Keeps the connection alive (PONGs) until it closes: for the
        time the native subscriber still needs after we sent everything."""
        def pump():
            try:
                while True:
                    self.receive(3600)
            except (OSError, RuntimeError, ValueError):
                pass
        threading.Thread(target=pump, daemon=True).start()

    def close(self) -> None:
        self.sock.close()


def messages(n: int, topic: str = "/bench/in/x") -> list[str]:
    return ['{"type":"data-message","topic":"%s","@data-type":"count","data":%d}' % (topic, i)
            for i in range(n)]


def one_way(ws_port: int, n: int) -> tuple[WsClient, float]:
    """The client sends `n` messages, framed before the clock starts, in
    writes of 1,000 frames; returns the open connection (closed once the
    native subscriber is done, so that a slow server loses nothing) and
    the send rate (over what the server took before it dropped us, if it
    did: real Broker resets a client whose burst it cannot keep up with)."""
    ws = WsClient(ws_port, [], time.monotonic() + 30)
    frames = ws.frames(messages(n))
    sent = 0
    start = time.monotonic()
    try:
        for i in range(0, n, 1000):
            ws.sock.sendall(b"".join(frames[i:i + 1000]))
            sent = min(n, i + 1000)
    except OSError as e:
        print(f"  the server dropped the connection after {sent:,} messages: {e}",
              flush=True)
    rate = sent / (time.monotonic() - start)
    ws.answer_pings()
    return ws, rate


def round_trip(ws_port: int, n: int, window: int) -> tuple[float, float]:
    """The client keeps `window` messages in flight and counts replies;
    returns the reply rate and the CPU seconds this client spent on it."""
    ws = WsClient(ws_port, ["/bench/out"], time.monotonic() + 30)
    # Framed first: the echo gives up after a second without messages.
    frames = ws.frames(messages(n))
    # Our subscription reaches the native subscriber asynchronously: probe
    # until one echo comes back, then drain further probe echoes.
    probe = ws.frames(messages(1, "/bench/in/probe"))[0]
    deadline = time.monotonic() + 30
    while True:
        ws.sock.sendall(probe)
        try:
            if ws.receive(0.2):
                break
        except RuntimeError:
            if time.monotonic() > deadline:
                raise RuntimeError("no echo from the native subscriber") from None
    try:
        while True:
            ws.receive(0.5)
    except RuntimeError:
        pass
    sent = received = 0
    start = progress = time.monotonic()
    cpu = time.process_time()
    while received < n:
        k = min(n - sent, window - (sent - received))
        if k > 0:
            ws.sock.sendall(b"".join(frames[sent:sent + k]))
            sent += k
        try:
            got = len(ws.receive(30))
        except RuntimeError as e:
            raise RuntimeError(f"{e} after {received:,} of {sent:,} replies") from None
        now = time.monotonic()
        if got:
            received, progress = received + got, now
        elif now - progress > 30:  # PINGs alone keep receive() busy
            raise RuntimeError(f"no reply for 30 s after {received:,} of {sent:,}")
    rate = n / (time.monotonic() - start)
    cpu = time.process_time() - cpu
    ws.close()
    return rate, cpu


def server_cpu(procs: Procs, server) -> float:
    """CPU seconds (user + system, all threads) the server process used."""
    server.stdin.write("cpu\n")
    server.stdin.flush()
    return procs.read(server)["cpu"]


def run_case(python: list, real: bool, mode: str, n: int, window: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(CHILD)
        script = f.name
    procs = Procs(python, script)
    try:
        env = dict(os.environ)
        if real:
            env["BROKER_WEB_SOCKET_PORT"] = str(free_port())
        server = procs.start("server", env=env)
        ports = procs.read(server)
        sink = procs.start("echo" if mode == "round-trip" else "count", ports["port"], n)
        procs.read(sink)
        time.sleep(0.5)  # the sink's subscription reaches the server
        if mode == "one-way":
            cpu_before = server_cpu(procs, server)
            ws, sent_rate = one_way(ports["ws_port"], n)
            res = procs.read(sink, 300)
            cpu = server_cpu(procs, server) - cpu_before
            ws.close()
            return {"sent_rate": sent_rate, "recv_rate": res["rate"], "got": res["got"],
                    "server_us": cpu / n * 1e6}
        cpu_before = server_cpu(procs, server)
        rate, client_cpu = round_trip(ports["ws_port"], n, window)
        cpu = server_cpu(procs, server) - cpu_before
        echo = procs.read(sink)  # once it has been idle for a second
        return {"rt_rate": rate, "rt_server_us": cpu / n * 1e6,
                "rt_client_us": client_cpu / n * 1e6, "rt_echo_us": echo["cpu"] / n * 1e6}
    finally:
        procs.close()
        os.unlink(script)


def report(name: str, python: list, real: bool, n: int, window: int, cases: str) -> dict:
    a = b = {}
    if cases in ("both", "one-way"):
        a = run_case(python, real, "one-way", n, window)
        if a["got"] == n:
            cpu = (f"server CPU {a['server_us']:.1f} us/message (capacity "
                   f"~{1e6 / a['server_us']:,.0f}/s per core)")
        else:  # how many it handled before it gave up is unknown
            cpu = "server CPU per message unknown (messages were lost)"
        print(f"{name}: one-way: client sent {a['sent_rate']:,.0f}/s, native subscriber got "
              f"{a['recv_rate']:,.0f}/s ({a['got']:,} of {n:,}); {cpu}", flush=True)
    if cases in ("both", "round-trip"):
        b = run_case(python, real, "round-trip", n // 4, window)
        total = b["rt_client_us"] + b["rt_server_us"] + b["rt_echo_us"]
        cores = len(os.sched_getaffinity(0))
        print(f"{name}: round-trip (window {window}): {b['rt_rate']:,.0f} replies/s; server "
              f"CPU {b['rt_server_us']:.1f} us/message both ways", flush=True)
        # What bounds the rate: the three processes share the machine's
        # cores, and the client cannot go faster than one core allows.
        print(f"  CPU per round trip: client {b['rt_client_us']:.1f} us, server "
              f"{b['rt_server_us']:.1f} us, native echo {b['rt_echo_us']:.1f} us; at most "
              f"~{min(cores / total, 1 / b['rt_client_us']) * 1e6:,.0f}/s on {cores} cores "
              f"(client alone: ~{1e6 / b['rt_client_us']:,.0f}/s per core)", flush=True)
    return {**a, **b}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int,
                    help="one-way messages; the round trip sends 1/4 (default 800,000; "
                         "200,000 with --quick)")
    ap.add_argument("--quick", action="store_true", help="1/4 of the messages")
    ap.add_argument("--window", type=int, default=256)
    ap.add_argument("--case", choices=("both", "one-way", "round-trip"), default="both")
    which = ap.add_mutually_exclusive_group()
    which.add_argument("--no-real", action="store_true")
    default_real = pathlib.Path(__file__).resolve().parents[2] / "shared/reference/real-broker"
    which.add_argument("--real-broker", default=str(default_real),
                       help="real Broker's wrapper script (runs `PATH python`)")
    which.add_argument("--real-python",
                       help="instead: a Python that imports real Broker's bindings")
    args = ap.parse_args()
    if args.messages is None:
        args.messages = 200_000 if args.quick else 800_000
    if args.messages < 4 or args.window < 1:
        ap.error("--messages must be at least 4 and --window at least 1")
    ours = report("ours", [sys.executable], False, args.messages, args.window, args.case)
    if args.no_real:
        return 0
    real_cmd = [args.real_python] if args.real_python else [args.real_broker, "python"]
    if not os.path.exists(real_cmd[0]):
        print(f"real Broker comparison skipped: {real_cmd[0]} not found")
        return 0
    real = report("real Broker 2.8", real_cmd, True, args.messages, args.window, args.case)
    for key, what in (("recv_rate", "one-way into the native subscriber"),
                      ("rt_rate", "round trip")):
        if real.get(key) and ours.get(key):
            note = ""
            if key == "recv_rate" and real["got"] < args.messages:
                note = (f" (real Broker's rate is over the {real['got']:,} of "
                        f"{args.messages:,} messages it delivered)")
            print(f"ours / real Broker, {what}: {ours[key] / real[key]:.1f}x{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
