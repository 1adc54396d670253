#!/usr/bin/env python3
"""The pong side of ping/pong: answers each Zeek event ping(n) with pong(n).

Listens on 127.0.0.1, subscribes to /topic/test, and replies to every
``ping`` event on that topic with a ``pong`` event carrying the same
arguments, like the Zeek script of Broker's ping.py example:

    event ping(n: int) { Broker::publish("/topic/test", pong, n); }

Exits 0 once the peer that pinged it leaves, 1 when nothing happens for
--timeout seconds.

    python examples/pong.py [--port 9999]      (--port 0 picks a free port)
    python examples/ping.py [--port 9999]
"""

import argparse
import select
import sys
import time

import broker
from broker.zeek import Event

TOPIC = "/topic/test"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=9999, help="port to listen on (0: any, printed)")
    ap.add_argument("--timeout", type=float, default=30.0, help="give up after this idle time")
    args = ap.parse_args()

    with (
        broker.Endpoint() as ep,
        ep.make_subscriber(TOPIC) as sub,
        ep.make_status_subscriber(True) as ss,
    ):
        port = ep.listen("127.0.0.1", args.port)
        if not port:
            print(f"could not listen on port {args.port}")
            return 1
        print(f"listening on 127.0.0.1:{port}", flush=True)

        answered = 0
        idle_until = time.monotonic() + args.timeout
        while time.monotonic() < idle_until:
            ready, _, _ = select.select([sub.fd(), ss.fd()], [], [], idle_until - time.monotonic())
            if ready:
                idle_until = time.monotonic() + args.timeout
            for _, value in sub.poll():
                ping = Event(value)
                print(f"received {ping.name()}{ping.args()}", flush=True)
                ep.publish(TOPIC, Event("pong", *ping.args()))
                answered += 1
            for st in ss.poll():
                print(f"status: {st.code().name}: {st}", flush=True)
                if st.code() in (broker.SC.PeerRemoved, broker.SC.PeerLost) and answered:
                    return 0
    print(f"nothing happened for {args.timeout:g} s")
    return 1


if __name__ == "__main__":
    sys.exit(main())
