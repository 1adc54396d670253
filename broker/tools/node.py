"""A standalone Broker relay node.

Listens for peers (--listen), peers with other endpoints (--peer, retried
every --retry seconds while unreachable), and relays messages between its
peers. --forward TOPIC makes the node announce a subscription to TOPIC
without consuming it, so that its peers send it messages on that topic
(and subtopics) which it relays to the peers that subscribe: endpoints A
and B that are both peered with the node exchange messages on TOPIC
through it.

Logs one line per event on stdout: what it listens on, each peering coming
and going, errors. Stops cleanly (goodbye to every peer) on SIGINT or
SIGTERM and exits 0; exits 1 if it cannot listen, 2 on a usage error.

Example:
  broker-node --listen 9999 --peer 10.0.0.2:9999 --forward /zeek/events
"""

from __future__ import annotations

import argparse
import select
import sys

import broker

from ._common import StopSignals, UsageError, describe_event, now, parse_endpoint, peered_count


def log(text: str) -> None:
    print(f"{now()} {text}", flush=True)


def run(listen, peers, forwards, retry: float) -> int:
    with StopSignals() as stop, broker.Endpoint() as ep:
        statuses = ep.make_status_subscriber(True)
        if forwards:
            ep.forward(forwards)
            log(f"forwarding {', '.join(forwards)}")
        if listen is not None:
            host, port = listen
            bound = ep.listen(host, port)
            if not bound:
                log(f"cannot listen on {host}:{port}")
                return 1
            log(f"listening on {host}:{bound} as node {ep.node_id()}")
        for host, port in peers:
            log(f"peering with {host}:{port}")
            ep.peer_nosync(host, port, retry)
        while stop.stopped is None:
            select.select([statuses.fd(), stop.fd()], [], [])
            for ev in statuses.poll():
                log(describe_event(ev))
        n = peered_count(ep)
        log(f"stopping ({stop.stopped}): saying goodbye to {n} peer{'' if n == 1 else 's'}")
    log("stopped")
    return 0


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog=prog or "broker-node",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "--listen",
        metavar="[HOST:]PORT",
        help="listen for peers (host default 127.0.0.1; port 0 picks a free one, logged)",
    )
    ap.add_argument(
        "--peer",
        metavar="HOST:PORT",
        action="append",
        default=[],
        help="peer with this endpoint (repeatable)",
    )
    ap.add_argument(
        "--forward",
        metavar="TOPIC",
        action="append",
        default=[],
        help="relay messages on this topic prefix (repeatable)",
    )
    ap.add_argument(
        "--retry",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="seconds between attempts to reach a --peer (default %(default)s)",
    )
    args = ap.parse_args(argv)
    try:
        if args.listen is None and not args.peer:
            raise UsageError("give --listen, --peer or both")
        if args.retry <= 0:
            raise UsageError("--retry must be positive")
        listen = parse_endpoint(args.listen) if args.listen is not None else None
        peers = [parse_endpoint(p, need_host=True) for p in args.peer]
    except UsageError as e:
        ap.error(str(e))
    return run(listen, peers, args.forward, args.retry)


if __name__ == "__main__":
    sys.exit(main())
