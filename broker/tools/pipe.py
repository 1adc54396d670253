"""Broker on the shell: one JSON value per line.

  publish TOPIC       reads values from stdin, one per line, and publishes
                      each on TOPIC. It first waits (bounded by --timeout)
                      until a peer subscribes to TOPIC, so nothing is sent
                      into the void; at end of input it says goodbye to its
                      peers, which flushes what it sent.
  subscribe TOPIC...  prints each message received on these topics (and
                      their subtopics) as one JSON line, until --count
                      messages, --timeout, SIGINT/SIGTERM or a closed stdout.

Values use the WebSocket API's JSON encoding by default:
  {"@data-type": "count", "data": 42}
and subscribe prints the topic beside it:
  {"topic": "/demo", "@data-type": "count", "data": 42}

With --plain, values are plain JSON: null, true/false, numbers, strings,
arrays and objects become none, boolean, integer (or real), string, vector
and table. subscribe --plain prints {"topic": ..., "value": ...}; Broker
types without a JSON counterpart become strings (addresses, subnets, ports
"443/tcp", enums, timestamps in ISO 8601), timespans seconds, sets sorted
arrays, tables with non-string keys arrays of [key, value] pairs.

One of --peer HOST:PORT or --listen [HOST:]PORT says how to connect. With
--listen 0 the bound port is printed alone on the first line of stderr.

Exit codes: 0 success; 1 runtime failure (cannot listen or peer, no
subscriber or not enough messages before --timeout); 2 usage error; 3 a bad
input line (reported with its line number on stderr; publishing stops there
unless --keep-going, which skips bad lines and still exits 3).

Examples:
  broker-pipe subscribe /demo --listen 9999 --count 2 &
  printf '%s\\n' '{"@data-type":"string","data":"hi"}' | broker-pipe publish /demo/x --peer 127.0.0.1:9999
  echo '[1, 2.5, {"a": null}]' | broker-pipe publish /demo/x --peer 9999 --plain
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import json
import math
import os
import signal
import sys
import time

import broker

from ._common import (
    UsageError,
    err,
    parse_endpoint,
    peer_within,
    peered_count,
    topic_covered,
    wait_until,
)

PROG = "broker-pipe"
DEFAULT_TIMEOUT = 10.0


class _Failure(Exception):
    """A runtime failure: exit 1."""


# -- value encodings --------------------------------------------------------------


def from_line(text: str, plain: bool):
    """The value to publish for one input line; ValueError if malformed."""
    if plain:
        value = json.loads(text)
        _check_plain(value)
        return value
    return broker.Data.from_json(text)


def _check_plain(value) -> None:
    # json.loads gives only these; ints must fit Broker's int64.
    if isinstance(value, bool) or value is None or isinstance(value, (str, float)):
        return
    if isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise ValueError(f"integer out of the int64 range: {value}")
    elif isinstance(value, list):
        for x in value:
            _check_plain(x)
    elif isinstance(value, dict):
        for x in value.values():
            _check_plain(x)


def to_json_members(value) -> dict:
    """A received value in the WebSocket JSON encoding, as a dict."""
    return json.loads(broker.Data(value).to_json())


def to_plain(value):
    """A received value as plain JSON (lossy for Broker-only types)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (list, tuple)):
        return [to_plain(x) for x in value]
    if isinstance(value, (set, frozenset)):
        return [to_plain(x) for x in sorted(value, key=broker.Data)]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: to_plain(v) for k, v in value.items()}
        return [
            [to_plain(k), to_plain(v)]
            for k, v in sorted(value.items(), key=lambda kv: broker.Data(kv[0]))
        ]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(
        value,
        (
            ipaddress.IPv4Address,
            ipaddress.IPv6Address,
            ipaddress.IPv4Network,
            ipaddress.IPv6Network,
        ),
    ):
        return str(value)
    return str(value)  # Port, Enum, and anything newer


# -- connecting -------------------------------------------------------------------


def connect(ep: broker.Endpoint, args, timeout: float) -> None:
    if args.listen is not None:
        host, port = args.listen
        bound = ep.listen(host, port)
        if not bound:
            raise _Failure(f"cannot listen on {host}:{port}")
        if port == 0:
            print(bound, file=sys.stderr, flush=True)
    else:
        host, port = args.peer
        why = peer_within(ep, host, port, timeout)
        if why is not None:
            raise _Failure(f"cannot peer with {host}:{port} within {timeout:g} s: {why}")
    if args.wait_peers and not wait_until(lambda: peered_count(ep) >= args.wait_peers, timeout):
        raise _Failure(f"fewer than {args.wait_peers} peers within {timeout:g} s")


# -- the commands -----------------------------------------------------------------


def publish(args) -> int:
    timeout = args.timeout if args.timeout is not None else DEFAULT_TIMEOUT
    topic = args.topic
    with broker.Endpoint() as ep:
        connect(ep, args, timeout)
        if not wait_until(lambda: topic_covered(ep, topic), timeout):
            raise _Failure(f"no peer subscribed to {topic} within {timeout:g} s")
        bad = sent = 0
        for lineno, line in enumerate(sys.stdin, 1):
            if args.count is not None and sent >= args.count:
                break
            if not line.strip():
                continue
            try:
                ep.publish(topic, from_line(line, args.plain))
                sent += 1
            except (ValueError, TypeError, OverflowError) as e:
                bad += 1
                err(args.prog, f"line {lineno}: {e}")
                if not args.keep_going:
                    break
    return 3 if bad else 0


def subscribe(args) -> int:
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    connect_timeout = args.timeout if args.timeout is not None else DEFAULT_TIMEOUT
    received = 0
    with broker.Endpoint() as ep:
        sub = ep.make_subscriber(args.topics, qsize=1000)
        connect(ep, args, connect_timeout)
        out = sys.stdout
        try:
            while args.count is None or received < args.count:
                wait = None if deadline is None else deadline - time.monotonic()
                if wait is not None and wait <= 0:
                    break
                first = sub.get(wait)
                if first is None:
                    continue
                msgs = [first] + sub.poll()
                if args.count is not None:
                    del msgs[args.count - received :]
                for t, value in msgs:
                    if args.plain:
                        line = {"topic": t, "value": to_plain(value)}
                    else:
                        line = {"topic": t, **to_json_members(value)}
                    out.write(json.dumps(line) + "\n")
                out.flush()
                received += len(msgs)
        except BrokenPipeError:
            # A reader like `head` left: a normal way to stop.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 0
        except KeyboardInterrupt:
            return 0
    if args.count is not None and received < args.count:
        raise _Failure(f"received {received} of {args.count} messages within {args.timeout:g} s")
    return 0


def build_parser(prog: str | None) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog=prog or PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    cmds = ap.add_subparsers(dest="command", metavar="{publish,subscribe}", required=True)

    def common(p):
        where = p.add_mutually_exclusive_group(required=True)
        where.add_argument(
            "--peer", metavar="HOST:PORT", help="peer with this endpoint (retried until --timeout)"
        )
        where.add_argument(
            "--listen",
            metavar="[HOST:]PORT",
            help="listen on this port (host default 127.0.0.1; port 0 picks one "
            "and prints it on stderr)",
        )
        p.add_argument(
            "--plain",
            action="store_true",
            help="plain JSON values instead of the WebSocket JSON encoding",
        )
        p.add_argument(
            "--wait-peers",
            type=int,
            default=0,
            metavar="N",
            help="first wait until N peers are connected",
        )
        return p

    p = common(
        cmds.add_parser(
            "publish",
            help="publish JSON lines from stdin on TOPIC",
            description="Reads one JSON value per line from stdin and publishes each on TOPIC, "
            "after waiting until a peer subscribes to it.",
        )
    )
    p.add_argument("topic", metavar="TOPIC")
    p.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help=f"bound on each wait before sending: peering, --wait-peers, a "
        f"subscriber for TOPIC (default {DEFAULT_TIMEOUT:g})",
    )
    p.add_argument("--count", type=int, metavar="N", help="stop after publishing N values")
    p.add_argument(
        "--keep-going",
        action="store_true",
        help="skip bad input lines instead of stopping at the first (exit code is 3 either way)",
    )

    s = common(
        cmds.add_parser(
            "subscribe",
            help="print messages on TOPIC... as JSON lines",
            description="Prints one JSON line per message received on the topics (prefix "
            "match), until --count messages, --timeout, SIGINT or SIGTERM.",
        )
    )
    s.add_argument("topics", metavar="TOPIC", nargs="+")
    s.add_argument("--count", type=int, metavar="N", help="stop after N messages")
    s.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop after this long (exit 1 if --count messages did not arrive); "
        f"also bounds peering (default: run until stopped; peering "
        f"{DEFAULT_TIMEOUT:g} s)",
    )
    return ap


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    ap = build_parser(prog)
    args = ap.parse_args(argv)
    args.prog = ap.prog
    try:
        if args.peer is not None:
            args.peer = parse_endpoint(args.peer)
        if args.listen is not None:
            args.listen = parse_endpoint(args.listen)
        for name in ("wait_peers", "count"):
            if (getattr(args, name, None) or 0) < 0:
                raise UsageError(f"--{name.replace('_', '-')} must not be negative")
        if args.timeout is not None and args.timeout <= 0:
            raise UsageError("--timeout must be positive")
    except UsageError as e:
        ap.error(str(e))
    # SIGTERM stops like Ctrl-C: subscribe finishes its line and exits 0.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        return publish(args) if args.command == "publish" else subscribe(args)
    except _Failure as e:
        err(args.prog, str(e))
        return 1
    except KeyboardInterrupt:
        return 1 if args.command == "publish" else 0


if __name__ == "__main__":
    sys.exit(main())
