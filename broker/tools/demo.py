"""The demo: Zeek ping/pong events between two processes.

The pong side listens on 127.0.0.1 and answers every Zeek event
``ping(n)`` on /topic/test with ``pong(n)``. The ping side peers with it,
sends ``ping(0)`` ... ``ping(COUNT-1)`` one at a time and prints each
answer as ``received pong[n]``, like the ping.py/ping.zeek pair in Broker's
documentation. The two processes also share a data store: the pong side
holds the master of store "demo" and counts the pings in it; the ping side
holds a clone and prints what the master wrote. Without --role, this
process starts the pong side as a
second process (``python -m broker.tools.demo --role pong --port 0``) and
plays the ping side itself; both exit 0 when every pong arrived.

Every wait is bounded by --timeout.
"""

from __future__ import annotations

import argparse
import os
import re
import select
import subprocess
import sys
import time

import broker
from broker.zeek import Event

from ._common import peer_within, topic_covered, wait_until

TOPIC = "/topic/test"
STORE = "demo"


def say(side: str, text: str) -> None:
    print(f"[{side}] {text}", flush=True)


# -- the pong side ----------------------------------------------------------------


def run_pong(host: str, port: int, timeout: float) -> int:
    """Listens, answers pings until the pinger leaves (or `timeout` passes
    without any traffic)."""
    with broker.Endpoint() as ep:
        sub = ep.make_subscriber(TOPIC)
        statuses = ep.make_status_subscriber(True)
        master = ep.attach_master(STORE, broker.Backend.Memory)
        master.put("pings", broker.Count(0))
        bound = ep.listen(host, port)
        if not bound:
            say("pong", f"could not listen on {host}:{port}")
            return 1
        say("pong", f"listening on {host}:{bound}, subscribed to {TOPIC}")
        answered = 0
        peers = 0
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                say("pong", f"nothing happened for {timeout:g} s, giving up")
                return 1
            ready, _, _ = select.select([sub.fd(), statuses.fd()], [], [], left)
            for _, value in sub.poll():
                try:
                    ping = Event(value)
                except (TypeError, ValueError):
                    continue  # not a Zeek event: not for us
                if ping.name() == "ping":
                    # The store first, so the pinger's clone has it by the
                    # time the pong arrives (both travel the same link).
                    master.increment("pings", broker.Count(1))
                    master.put("last_ping", ping.args()[0])
                    ep.publish(TOPIC, Event("pong", *ping.args()))
                    answered += 1
            for ev in statuses.poll():
                if not isinstance(ev, broker.Status):
                    continue
                if ev.code() == broker.SC.PeerAdded:
                    peers += 1
                elif ev.code() in (broker.SC.PeerRemoved, broker.SC.PeerLost):
                    peers -= 1
                    if peers <= 0 and answered:
                        say("pong", f"answered {answered} pings; the ping side left, exiting")
                        return 0
            if ready:
                deadline = time.monotonic() + timeout


# -- the ping side ----------------------------------------------------------------


def run_ping(host: str, port: int, count: int, timeout: float) -> int:
    with broker.Endpoint() as ep:
        sub = ep.make_subscriber(TOPIC)
        say("ping", f"peering with {host}:{port}")
        why = peer_within(ep, host, port, timeout)
        if why is not None:
            say("ping", f"could not peer with {host}:{port} within {timeout:g} s: {why}")
            return 1
        if not wait_until(lambda: topic_covered(ep, TOPIC), timeout):
            say("ping", f"the other side never subscribed to {TOPIC}")
            return 1
        say("ping", f"peered; the other side subscribes to {TOPIC}")
        clone = ep.attach_clone(STORE, resync_interval=0.1)
        for n in range(count):
            say("ping", f"sending Zeek event ping({n}) on {TOPIC}")
            ep.publish(TOPIC, Event("ping", n))
            msg = sub.get(timeout)
            if msg is None:
                say("ping", f"no answer to ping({n}) within {timeout:g} s")
                return 1
            pong = Event(msg[1])
            print(f"received {pong.name()}{pong.args()}", flush=True)
            if pong.name() != "pong" or pong.args() != [n]:
                say("ping", f"expected pong[{n}]")
                return 1
        if not wait_until(lambda: clone.get("pings") == broker.Count(count), timeout):
            say("ping", f"the clone of store {STORE!r} never saw {count} pings")
            return 1
        say(
            "ping",
            f"clone of store {STORE!r} sees pings={clone.get('pings')!r}, "
            f"last_ping={clone.get('last_ping')} (written by the pong side's master)",
        )
        clone.reset()
        say("ping", f"all {count} pongs received; saying goodbye")
    return 0


# -- both, in two processes --------------------------------------------------------


class _Lines:
    """Reads a child's stdout line by line, each read bounded in time."""

    def __init__(self, stream):
        self.fd = stream.fileno()
        self.buf = b""
        self.eof = False

    def readline(self, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf and not self.eof:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                return None
            chunk = os.read(self.fd, 4096)
            self.eof = not chunk
            self.buf += chunk
        if not self.buf:
            return None
        line, _, self.buf = self.buf.partition(b"\n")
        return line.decode(errors="replace")


def run_both(count: int, timeout: float) -> int:
    # The child runs from the folder holding the broker package this process
    # imported, so that "-m" finds that package first whatever the cwd is.
    pkg_root = os.path.dirname(os.path.dirname(os.path.abspath(broker.__file__)))
    cmd = [
        sys.executable,
        "-m",
        "broker.tools.demo",
        "--role",
        "pong",
        "--port",
        "0",
        "--timeout",
        str(timeout),
    ]
    say("demo", "starting the pong side: a second process that listens and answers pings")
    child = subprocess.Popen(
        cmd, cwd=pkg_root, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, env=os.environ
    )
    lines = _Lines(child.stdout)
    rc = 1
    try:
        first = lines.readline(timeout)
        if first is None:
            say("demo", f"the pong side did not start within {timeout:g} s")
            return 1
        print(first, flush=True)
        match = re.search(r"listening on (\S+):(\d+)", first)
        if not match:
            return 1
        rc = run_ping(match.group(1), int(match.group(2)), count, timeout)
        # The pong side exits once it sees us leave; show what it said.
        while (line := lines.readline(timeout)) is not None:
            print(line, flush=True)
        child_rc = child.wait(timeout)
        say("demo", f"done: ping side exited with {rc}, pong side with {child_rc}")
        return rc or child_rc
    except subprocess.TimeoutExpired:
        say("demo", f"the pong side did not exit within {timeout:g} s")
        return 1
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--role",
        choices=["both", "ping", "pong"],
        default="both",
        help="both (default): start the pong side as a second process and ping "
        "it; ping or pong: play one side only",
    )
    ap.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (pong) or peer with (ping) (default %(default)s)",
    )
    ap.add_argument(
        "--port",
        type=int,
        default=9999,
        help="port to listen on (pong; 0 picks a free one and prints it) or to peer "
        "with (ping) (default %(default)s)",
    )
    ap.add_argument("--count", type=int, default=5, help="pings to send (default %(default)s)")
    ap.add_argument(
        "--timeout",
        type=float,
        default=20.0,
        help="bound in seconds on every wait (default %(default)s)",
    )
    args = ap.parse_args(argv)
    if args.count < 1 or args.timeout <= 0:
        ap.error("--count and --timeout must be positive")
    try:
        if args.role == "pong":
            return run_pong(args.host, args.port, args.timeout)
        if args.role == "ping":
            return run_ping(args.host, args.port, args.count, args.timeout)
        return run_both(args.count, args.timeout)
    except KeyboardInterrupt:
        return 1


if __name__ == "__main__":
    sys.exit(main())
