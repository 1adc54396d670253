#!/usr/bin/env python3
"""Watch peerings come and go with a status subscriber.

Listens on 127.0.0.1 and prints one line per status event (peer added,
removed, lost; endpoints discovered, unreachable) and per error (a peer
unavailable, a failed handshake) until Ctrl-C, --count events or --timeout.
Peer with it from another shell to see the lines appear, for instance
``python examples/ping.py --port PORT`` or ``broker-node --peer 127.0.0.1:PORT``.

    python examples/status.py [--port 9999] [--peer HOST:PORT] [--count N]
"""

import argparse
import datetime as dt
import select
import sys

import broker


def describe(ev) -> str:
    kind = "status" if isinstance(ev, broker.Status) else "error "
    return f"{kind} {ev.code().name:<20} {ev}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=9999, help="port to listen on (0: any, printed)")
    ap.add_argument("--peer", metavar="HOST:PORT", help="also peer with this endpoint")
    ap.add_argument("--count", type=int, help="stop after this many events")
    ap.add_argument("--timeout", type=float, help="stop after this many seconds")
    args = ap.parse_args()

    # receive_statuses=True: statuses too, not only errors.
    with broker.Endpoint() as ep, ep.make_status_subscriber(True) as ss:
        port = ep.listen("127.0.0.1", args.port)
        if not port:
            print(f"could not listen on port {args.port}")
            return 1
        print(f"listening on 127.0.0.1:{port}", flush=True)
        if args.peer:
            host, _, peer_port = args.peer.rpartition(":")
            ep.peer_nosync(host or "127.0.0.1", int(peer_port), 1.0)
        deadline = None
        if args.timeout is not None:
            deadline = dt.datetime.now() + dt.timedelta(seconds=args.timeout)
        seen = 0
        try:
            while args.count is None or seen < args.count:
                wait = None
                if deadline is not None:
                    wait = (deadline - dt.datetime.now()).total_seconds()
                    if wait <= 0:
                        break
                # fd() + poll(): works with every Broker's bindings.
                if not select.select([ss.fd()], [], [], wait)[0]:
                    continue
                for ev in ss.poll():
                    if args.count is not None and seen >= args.count:
                        break
                    print(f"{dt.datetime.now():%H:%M:%S.%f} {describe(ev)}", flush=True)
                    seen += 1
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
