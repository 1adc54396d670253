#!/usr/bin/env python3
"""WebSocket benchmark: a WebSocket client (the `websockets` package, as
zeekpy uses it) publishes small messages through an endpoint's WebSocket
server to a native subscriber peered with that endpoint, and back.

Two cases, each with fresh processes:

* ``one-way``: the client sends N messages (a count each) as fast as
  `websockets` lets it; printed: the client's send rate, the rate at
  which the native subscriber received them (first to last message), and
  the CPU time the server process spent per message (what the server
  could do with a core to itself, when the Python client or subscriber
  is the bottleneck);
* ``round-trip``: the native subscriber publishes every message back; the
  client subscribes to the replies and keeps at most a window of messages
  in flight (below the server's per-client buffer, so flow control never
  disconnects it); printed: replies per second at the client.

The server and the subscriber run as child processes of the same
implementation: ours, and real Broker 2.8 (``--real-broker PATH``,
default ``../shared/reference/real-broker`` from the repository root, when
present; its WebSocket server starts through BROKER_WEB_SOCKET_PORT).
Plain TCP everywhere (disable_ssl). Every wait is bounded; children are
killed at the end. This is a program that prints numbers, not a test.

Usage:
    bench_websocket.py [--messages 200000] [--window 256] [--no-real | --real-broker PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
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
        # (websocket-api.md, appendix 2): subscribing itself makes the
        # native subscriber send the replies here. Drained by a thread, so
        # that a full queue never holds the peer back.
        import threading
        replies = ep.make_subscriber("/bench/out")
        def drain():
            while True:
                select.select([replies.fd()], [], [], 1.0)
                replies.poll()
        threading.Thread(target=drain, daemon=True).start()
    say(port=port, ws_port=ws_port)
    for _ in sys.stdin:  # each line asks for the CPU seconds used so far
        t = os.times()
        say(cpu=t.user + t.system)
else:
    echo = role == "echo"
    sub = ep.make_subscriber("/bench/in")
    assert ep.peer("127.0.0.1", int(sys.argv[2]), 0)
    say(peered=True)
    got, first, last = 0, None, None
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
        first = first or now
        last = now
        got += len(msgs)
        if echo:
            for _, v in msgs:
                ep.publish("/bench/out", v)
        if not echo and got >= int(sys.argv[3]):
            break
    span = (last - first) if got and last > first else 1e-9
    say(got=got, rate=got / span)
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


async def connect_ws(ws_port: int, topics: list, deadline: float):
    from websockets.asyncio.client import connect

    # Real Broker's server may still be opening its port.
    while True:
        try:
            ws = await connect(f"ws://127.0.0.1:{ws_port}{PATH}", max_size=None,
                               compression=None, ping_interval=None)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)
    await ws.send(json.dumps(topics))
    ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert ack["type"] == "ack", ack
    return ws


def messages(n: int) -> list[str]:
    return ['{"type":"data-message","topic":"/bench/in/x","@data-type":"count","data":%d}' % i
            for i in range(n)]


def one_way(ws_port: int, n: int) -> float:
    """One-way: the client sends `n` messages. Sends through `websockets`' sans-I/O protocol (its framing and
    masking, in C) with frames gathered into large writes: the asyncio API
    costs tens of microseconds per message in Python, which would measure
    the client rather than the server."""
    from websockets.client import ClientProtocol
    from websockets.frames import Opcode
    from websockets.protocol import State
    from websockets.uri import parse_uri

    deadline = time.monotonic() + 30
    while True:
        try:
            sock = socket.create_connection(("127.0.0.1", ws_port), timeout=10)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    proto = ClientProtocol(parse_uri(f"ws://127.0.0.1:{ws_port}{PATH}"))
    proto.send_request(proto.connect())
    sock.sendall(b"".join(proto.data_to_send()))
    subscribed = acked = False
    while not acked:
        data = sock.recv(65536)
        if not data:
            raise RuntimeError("server closed during the handshake")
        proto.receive_data(data)
        for ev in proto.events_received():
            if getattr(ev, "opcode", None) == Opcode.TEXT:
                assert json.loads(ev.data)["type"] == "ack"
                acked = True
        if not subscribed and proto.state == State.OPEN:
            proto.send_text(b"[]")
            sock.sendall(b"".join(proto.data_to_send()))
            subscribed = True
    texts = [t.encode() for t in messages(n)]
    start = time.monotonic()
    for i in range(0, n, 1000):
        for t in texts[i:i + 1000]:
            proto.send_text(t)
        sock.sendall(b"".join(proto.data_to_send()))
    rate = n / (time.monotonic() - start)
    time.sleep(0.5)
    sock.close()
    return rate


async def round_trip(ws_port: int, n: int, window: int) -> float:
    ws = await connect_ws(ws_port, ["/bench/out"], time.monotonic() + 30)
    # Our subscription reaches the native subscriber asynchronously: probe
    # until one echo comes back.
    probe = '{"topic":"/bench/in/probe","@data-type":"count","data":0}'
    deadline = time.monotonic() + 30
    while True:
        await ws.send(probe)
        try:
            await asyncio.wait_for(ws.recv(), 0.2)
            break
        except TimeoutError:
            if time.monotonic() > deadline:
                raise RuntimeError("no echo from the native subscriber") from None
    while True:  # drain further probe echoes
        try:
            await asyncio.wait_for(ws.recv(), 0.5)
        except TimeoutError:
            break
    texts = messages(n)
    sent = received = 0
    start = time.monotonic()
    while received < n:
        while sent < n and sent - received < window:
            await ws.send(texts[sent])
            sent += 1
        try:
            await asyncio.wait_for(ws.recv(), 30)
        except TimeoutError:
            raise RuntimeError(f"no reply for 30 s after {received:,} of {sent:,} sent") from None
        received += 1
    rate = n / (time.monotonic() - start)
    await ws.close()
    return rate


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
            sent_rate = one_way(ports["ws_port"], n)
            res = procs.read(sink, 120)
            cpu = server_cpu(procs, server) - cpu_before
            return {"sent_rate": sent_rate, "recv_rate": res["rate"], "got": res["got"],
                    "server_us": cpu / n * 1e6}
        rate = asyncio.run(round_trip(ports["ws_port"], n, window))
        return {"rt_rate": rate}
    finally:
        procs.close()
        os.unlink(script)


def report(name: str, python: list, real: bool, n: int, window: int) -> dict:
    a = run_case(python, real, "one-way", n, window)
    print(f"{name}: one-way: client sent {a['sent_rate']:,.0f}/s, native subscriber got "
          f"{a['recv_rate']:,.0f}/s ({a['got']:,} of {n:,}); server CPU "
          f"{a['server_us']:.1f} us/message (capacity ~{1e6 / a['server_us']:,.0f}/s per core)",
          flush=True)
    b = run_case(python, real, "round-trip", n // 4, window)
    print(f"{name}: round-trip (window {window}): {b['rt_rate']:,.0f} replies/s", flush=True)
    return {**a, **b}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=200_000)
    ap.add_argument("--window", type=int, default=256)
    ap.add_argument("--no-real", action="store_true")
    default_real = pathlib.Path(__file__).resolve().parents[2] / "shared/reference/real-broker"
    ap.add_argument("--real-broker", default=str(default_real))
    args = ap.parse_args()
    ours = report("ours", [sys.executable], False, args.messages, args.window)
    if args.no_real:
        return 0
    if not os.path.exists(args.real_broker):
        print(f"real Broker comparison skipped: {args.real_broker} not found")
        return 0
    real = report("real Broker 2.8", [args.real_broker, "python"], True, args.messages,
                  args.window)
    for key, what in (("recv_rate", "one-way into the native subscriber"),
                      ("rt_rate", "round trip")):
        if real[key]:
            print(f"ours / real Broker, {what}: {ours[key] / real[key]:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
