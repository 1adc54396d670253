"""Measures how an implementation of Broker behaves in a few topologies.

    ../shared/reference/real-broker python tests/python/interop_scripts/measure.py
    .venv/bin/python tests/python/interop_scripts/measure.py      # ours

(`python script.py` puts the script's folder, not the working directory,
first on sys.path, so `import broker` finds the installed package even from
the repository root). All endpoints live in this one process, use the same
implementation and disable TLS. Prints one JSON object: the scenarios of
docs/interop-measurements.md, each with what was observed. Nothing here
asserts; every wait is bounded.

    a  chain A-B-C, C subscribes; B does nothing / forward()s / subscribes:
       does A's message reach C? (a control message from B proves C's
       subscription and link work)
    b  await_peer across two and three hops
    c  triangle A-B-C-A, all subscribed, A publishes 3: copies per endpoint
    d  attach_master on B when a direct peer (and a peer two hops away)
       already has a master of that name
    e  the encoding of Zeek event metadata keys
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import broker
from interop_node import Node
from typed_values import describe, flavour

OPTIONS = {"disable_ssl": True}
TOPIC = "/measure"


def nodes(n: int) -> list:
    return [Node(broker, OPTIONS) for _ in range(n)]


def link(connector: Node, acceptor: Node) -> None:
    port = acceptor.listen()
    assert port > 0
    assert connector.peer(port), "peering failed"
    for x, y in ((connector, acceptor), (acceptor, connector)):
        assert x.await_peer(y.node_id(), 10.0)["result"], "never peered"


def chain(ns: list) -> None:
    """ns[0] - ns[1] - ... : each peers with the next (which listens)."""
    for a, b in zip(ns, ns[1:]):
        link(a, b)


def shutdown(ns: list) -> None:
    for n in ns:
        n.shutdown()


def message(i: int) -> list:
    return ["integer", i]


def scenario_a(middle: str, settle: float, window: float) -> dict:
    a, b, c = ns = nodes(3)
    try:
        sub_c = c.subscribe(TOPIC)
        if middle == "forward":
            b.forward([TOPIC])
        elif middle == "subscribe":
            b.subscribe(TOPIC)
        chain(ns)
        time.sleep(settle)
        for i in range(3):
            a.publish(TOPIC + "/a", message(i))
        delivered = c.count(sub_c, window)
        b.publish(TOPIC + "/b", message(99))
        control = c.count(sub_c, window)
        return {
            "middle": middle,
            "published": 3,
            "delivered_to_C": delivered,
            "control_from_B": control,
        }
    finally:
        shutdown(ns)


def scenario_b(length: int, timeout: float) -> dict:
    ns = nodes(length)
    try:
        chain(ns)
        far = ns[-1].node_id()
        r = ns[0].await_peer(far, timeout)
        direct = ns[0].await_peer(ns[1].node_id(), timeout)
        return {
            "endpoints": length,
            "hops": length - 1,
            "await_peer_far": r["result"],
            "elapsed_s": r["elapsed"],
            "timeout_s": timeout,
            "control_direct_peer": direct["result"],
        }
    finally:
        shutdown(ns)


def scenario_c(settle: float, window: float) -> dict:
    a, b, c = ns = nodes(3)
    try:
        subs = [n.subscribe(TOPIC) for n in ns]
        link(a, b)
        link(b, c)
        link(c, a)
        time.sleep(settle)
        for i in range(3):
            a.publish(TOPIC + "/t", message(i))
        # all three drain concurrently: count() on each in turn would let the
        # others' queues overflow or block a circulating flood
        counts = [0, 0, 0]
        tail = [0, 0, 0]  # copies in the last 0.5 s: is traffic still flowing?
        end = time.monotonic() + window
        while time.monotonic() < end:
            for k, (n, s) in enumerate(zip(ns, subs)):
                got = n.count(s, 0.02)
                counts[k] += got
                if end - time.monotonic() < 0.5:
                    tail[k] += got
        return {
            "published_by_A": 3,
            "window_s": window,
            "A": counts[0],
            "B": counts[1],
            "C": counts[2],
            "last_half_second": tail,
        }
    finally:
        shutdown(ns)


def scenario_d(hops: int, settle: float) -> dict:
    ns = nodes(hops + 1)
    try:
        chain(ns)
        first = ns[0].attach_master("s")
        time.sleep(settle)
        second = ns[-1].attach_master("s")
        return {"hops": hops, "first_master": first["returned"], "second_attach": second}
    finally:
        shutdown(ns)


def scenario_e() -> dict:
    """An event with metadata {1: timestamp, 200: "u"}: the key types in the
    message as sent (the Data the endpoint publishes) and in Event.metadata()."""
    ts = broker.Timestamp(broker.Timespan(1_500_000_000))
    ev = broker.zeek.Event("e", broker.Count(1), metadata=[(1, ts), (200, "u")])
    if flavour(broker) == "real":
        sent = describe(broker, ev.as_data())
    else:  # decode our encoder's own bytes: exactly what goes on the wire
        sent = describe(broker, broker.Data.from_bytes(broker.Data(ev).to_bytes()).to_py())
    meta = sent[1][2][1][2][1]  # [count 1, count 1, [name, args, metadata]]
    return {
        "event_as_data": sent,
        "metadata_key_types_on_wire": [pair[1][0][0] for pair in meta],
        "metadata_key_types_in_python": [type(k).__name__ for k, _ in ev.metadata()],
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--window", type=float, default=2.0, help="observation window (s)")
    p.add_argument("--settle", type=float, default=0.5, help="wait after peering (s)")
    p.add_argument("--await-timeout", type=float, default=3.0)
    p.add_argument("--only", default="abcde", help="scenarios to run, e.g. 'ab'")
    args = p.parse_args()
    out = {"implementation": flavour(broker)}
    real = out["implementation"] == "real"
    out["version"] = broker.Version.string() if real else broker.__version__
    if "a" in args.only:
        middles = ("nothing", "forward", "subscribe")
        out["a"] = [scenario_a(m, args.settle, args.window) for m in middles]
    if "b" in args.only:
        out["b"] = [scenario_b(n, args.await_timeout) for n in (3, 4)]
    if "c" in args.only:
        out["c"] = scenario_c(args.settle, args.window)
    if "d" in args.only:
        out["d"] = [scenario_d(h, args.settle) for h in (1, 2)]
    if "e" in args.only:
        out["e"] = scenario_e()
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
