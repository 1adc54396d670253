#!/usr/bin/env python3
"""Fan-out benchmark: does one slow consumer stall the others?

A publisher process feeds subscriber processes over loopback, for a fixed
time, as fast as it can (publish() one by one). Two cases:

* ``alone``: one fast subscriber (reads as fast as it can);
* ``beside-slow``: the same fast subscriber plus a slow one that takes
  1 ms per message (its queue fills, its TCP window closes, its peer buffer
  at the publisher fills).

Printed: messages the publisher sent and the fast subscriber received per
second in each case, and the ratio (issue 11's target: beside a slow
consumer the fast one gets >= 90 % of what it gets alone). With
``--real-broker PATH`` (default ``../shared/reference/real-broker`` from the
repository root, when present) the same runs use real Broker 2.8 on every
side, side by side.

Every endpoint uses plain TCP (disable_ssl) and the default peer buffer
(2048, policy disconnect). Every wait is bounded; children are killed at
the end. This is a program that prints numbers, not a test.

Usage:
    bench_fanout.py [--seconds 5 | --quick] [--no-real | --real-broker PATH | --real-python PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

CHILD = r"""
import json, sys, time
import broker
role, arg = sys.argv[1], sys.argv[2]
o = broker.BrokerOptions(); o.disable_ssl = True
ep = broker.Endpoint(broker.Configuration(o))
def say(**kw): print(json.dumps(kw), flush=True)
if role == "pub":
    seconds, n_subs = float(arg), int(sys.argv[3])
    port = ep.listen("127.0.0.1", 0)
    st = ep.make_status_subscriber(True)
    say(port=port)
    deadline = time.monotonic() + 60
    while len([p for p in ep.peers()]) < n_subs and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.5)
    sent, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        for _ in range(100):
            ep.publish("/fan/x", sent)
            sent += 1
    elapsed = seconds
    removed = sum(1 for s in st.poll() if "PeerRemoved" in repr(s.code()))
    say(sent=sent, rate=sent / elapsed, removed=removed)
    time.sleep(1.0)
else:
    delay = float(arg)
    sub = ep.make_subscriber("/fan", 10000)
    assert ep.peer("127.0.0.1", int(sys.argv[3]), 0)
    say(peered=True)
    got, first, last = 0, None, None
    idle_until = time.monotonic() + 30
    while time.monotonic() < idle_until:
        if delay:
            m = sub.get(1.0)
            msgs = [m] if m is not None else []
            time.sleep(delay)
        else:
            msgs = sub.get(1000, 1.0)
        if not msgs:
            if got:
                break
            continue
        now = time.monotonic()
        first = first or now
        last = now
        got += len(msgs)
    span = (last - first) if got and last > first else 1e-9
    say(got=got, rate=got / span)
"""


def run_case(python: list, seconds: float, slow: bool) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(CHILD)
        script = f.name
    procs = []

    def start(*args):
        p = subprocess.Popen([*python, script, *map(str, args)], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True, cwd=tempfile.gettempdir())
        procs.append(p)
        return p

    from _harness import read_json_line as read

    try:
        pub = start("pub", seconds, 2 if slow else 1)
        port = read(pub)["port"]
        fast = start("sub", 0, port)
        read(fast)
        if slow:
            slow_p = start("sub", 0.001, port)
            read(slow_p)
        pub_res = read(pub, seconds + 60)
        fast_res = read(fast, 60)
        return {"sent_rate": pub_res["rate"], "fast_rate": fast_res["rate"],
                "fast_got": fast_res["got"], "sent": pub_res["sent"],
                "slow_removed": pub_res["removed"]}
    finally:
        for p in procs:
            p.kill()
            p.wait()
            p.stdout.close()
        os.unlink(script)


def report(name: str, python: list, seconds: float) -> dict:
    alone = run_case(python, seconds, slow=False)
    beside = run_case(python, seconds, slow=True)
    ratio = beside["fast_rate"] / alone["fast_rate"] if alone["fast_rate"] else 0
    print(f"{name}: alone: sent {alone['sent_rate']:,.0f}/s, fast got {alone['fast_rate']:,.0f}/s"
          f" ({alone['fast_got']:,} of {alone['sent']:,})")
    print(f"{name}: beside a slow one: sent {beside['sent_rate']:,.0f}/s, fast got "
          f"{beside['fast_rate']:,.0f}/s ({beside['fast_got']:,} of {beside['sent']:,}),"
          f" slow peer removed by the publisher: {beside['slow_removed']}")
    print(f"{name}: fast beside slow / alone = {ratio:.0%}  (target >= 90%)")
    return {"alone": alone, "beside": beside, "ratio": ratio}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--quick", action="store_true", help="2-second runs")
    which = ap.add_mutually_exclusive_group()
    which.add_argument("--no-real", action="store_true")
    default_real = pathlib.Path(__file__).resolve().parents[2] / "shared/reference/real-broker"
    which.add_argument("--real-broker", default=str(default_real),
                       help="real Broker's wrapper script (runs `PATH python`)")
    which.add_argument("--real-python",
                       help="instead: a Python that imports real Broker's bindings")
    args = ap.parse_args()
    if args.quick:
        args.seconds = 2.0
    report("ours", [sys.executable], args.seconds)
    if not args.no_real:
        real_cmd = [args.real_python] if args.real_python else [args.real_broker, "python"]
        if os.path.exists(real_cmd[0]):
            report("real Broker 2.8", real_cmd, args.seconds)
        else:
            print(f"real Broker comparison skipped: {real_cmd[0]} not found")
    return 0


if __name__ == "__main__":
    sys.exit(main())
