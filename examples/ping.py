#!/usr/bin/env python3
"""The ping side of ping/pong: sends Zeek events ping(0) ... ping(4).

Peers with the pong side (examples/pong.py, or a Zeek running the script
shown there) and, for each n, publishes the event ``ping(n)`` on
/topic/test and waits for the answer ``pong(n)``:

    received pong[0]
    ...
    received pong[4]

    python examples/ping.py [--host 127.0.0.1] [--port 9999] [--count 5]
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
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9999)
    ap.add_argument("--count", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=10.0, help="bound on each wait")
    args = ap.parse_args()

    with (
        broker.Endpoint() as ep,
        ep.make_subscriber(TOPIC) as sub,
        ep.make_status_subscriber(True) as ss,
    ):
        # Retries every second until peered or --timeout passed. Statuses
        # are read with fd() and poll(), which work with every Broker's
        # bindings (real Broker's StatusSubscriber.get(timeout) does not).
        ep.peer_nosync(args.host, args.port, 1.0)
        deadline = time.monotonic() + args.timeout
        peered = False
        while not peered:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([ss.fd()], [], [], left)[0]:
                print(f"could not connect to {args.host}:{args.port}")
                return 1
            # Errors (peer unavailable) come while the other side starts up.
            peered = any(isinstance(st, broker.Status) and st.code() == broker.SC.PeerAdded
                         for st in ss.poll())

        for n in range(args.count):
            ep.publish(TOPIC, Event("ping", n))
            msg = sub.get(args.timeout)
            if msg is None:
                print(f"no pong for ping({n})")
                return 1
            pong = Event(msg[1])
            print(f"received {pong.name()}{pong.args()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
