#!/usr/bin/env python3
"""Zeek event benchmark: ping events from one process to another, parsed.

A sender process publishes Zeek events ``ping("text", Count(i))``, built
with ``broker.zeek.Event``, to a receiver process over loopback; the
receiver parses every message with ``broker.zeek.Event(value)`` and reads
its ``name()`` and ``args()``. Scenarios:

* ``single``  (1) ``publish()`` one event at a time, ``get()`` one at a time;
* ``batch``   (2) ``publish_batch()`` of 1000 events, ``get(n, timeout)``.

The figure is events per second end to end: the clock runs from the first
publish until the receiver's "done" (sent after it parsed exactly N events,
the last being ``ping("text", Count(N-1))``) is back at the sender. Both
children also report their CPU time per event. Set-up (peering, "ready"
handshake on a control topic, ``peer_subscriptions()`` check) is outside
the clock, as in bench_pubsub.py.

When ``/usr/bin/python3`` has Debian's real Broker (python3-broker 1.4),
the same cases run under it (``-I``, no PYTHON* variables, from an empty
temporary folder) with smaller counts, and a side-by-side table with
ratios follows. Each side uses its own interpreter, so the ratios compare
whole stacks. Target: >= 500k events/s; real Broker: ~3.3k/s.

Usage:
    bench_zeek.py [--quick] [--no-real | --real-python PATH]
                  [--scenario NAME[,NAME...]] [--repeat N] [--scale F]

This is a program that prints numbers, not a test: it never fails on a
missed target. Every wait is bounded, children are killed on timeout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

DATA_TOPIC = "/bench/zeek"
CTL_TOPIC = "/bench/ctl"
BATCH = 1000
QSIZE = 10_000

STARTUP_TIMEOUT = 30.0  # child prints its port / peers / sees "ready"
STALL_TIMEOUT = 10.0  # no event for this long: give up, report the count
ACK_TIMEOUT = 180.0  # sender waits this long for the "done" ack
FIN_TIMEOUT = 3.0  # receiver waits for the sender's goodbye

TARGET = 500_000
REAL_QUOTED = "~3.3k/s"

# name -> (label, send, our count, real count)
SCENARIOS = {
    "single": ("(1) publish(Event) -> get() + Event(v)", "single", 300_000, 6_000),
    "batch": ("(2) publish_batch(1000) -> get(n) + Event(v)", "batch", 1_000_000, 10_000),
}
DEFAULT_ORDER = ["single", "batch"]


# -- children ---------------------------------------------------------------------


def emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def topic_names(ep) -> list:
    return [t.string() if hasattr(t, "string") else str(t) for t in ep.peer_subscriptions()]


def wait_for(pred, timeout: float, step: float = 0.005) -> bool:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() >= deadline:
            return False
        time.sleep(step)
    return True


def info(broker) -> dict:
    return {
        "file": getattr(broker, "__file__", "?"),
        "version": getattr(broker, "__version__", "?"),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "executable": sys.executable,
    }


def count_value(c) -> int:
    return int(getattr(c, "value", c))  # real Broker's Count is not an int


def child_recv(broker, args) -> int:
    """Listens, receives and parses exactly `count` events, acks."""
    Event = broker.zeek.Event
    ep = broker.Endpoint()
    sub = ep.make_subscriber(DATA_TOPIC, args.qsize)
    port = ep.listen("127.0.0.1", 0)
    emit({"port": port, "info": info(broker)})
    if not port:
        return 1
    if not wait_for(lambda: CTL_TOPIC in topic_names(ep), STARTUP_TIMEOUT):
        emit({"error": "sender's control subscription never arrived"})
        return 1
    ep.publish(CTL_TOPIC, "ready")
    count = args.count
    get = sub.get
    n = 0
    name = args_ = None
    first = get(STARTUP_TIMEOUT)
    cpu0 = time.process_time()
    t_first = t_last = time.perf_counter()
    if first is not None:
        ev = Event(first[1])
        name, args_ = ev.name(), ev.args()
        n = 1
        if args.send == "single":
            while n < count:
                m = get(STALL_TIMEOUT)
                if m is None:
                    break
                ev = Event(m[1])
                name, args_ = ev.name(), ev.args()
                n += 1
        else:
            while n < count:
                ms = get(min(count - n, BATCH), STALL_TIMEOUT)
                if not ms:
                    break
                for _, value in ms:
                    ev = Event(value)
                    name, args_ = ev.name(), ev.args()
                n += len(ms)
        t_last = time.perf_counter()
    cpu = time.process_time() - cpu0
    ep.publish(CTL_TOPIC, ["done", n])
    last_ok = (
        name == "ping"
        and len(args_) == 2
        and args_[0] == "text"
        and count_value(args_[1]) == count - 1
    )
    emit(
        {
            "received": n,
            "elapsed": t_last - t_first,
            "cpu": cpu,
            "last_ok": last_ok,
            "last": repr((name, args_)),
        }
    )
    deadline = time.monotonic() + FIN_TIMEOUT
    while time.monotonic() < deadline:
        m = get(0.2)
        if m is not None and m[1] == "fin":
            break
    ep.shutdown()
    return 0


def child_send(broker, args) -> int:
    """Peers, waits for "ready", publishes `count` events, waits for the ack."""
    Event, Count = broker.zeek.Event, broker.Count
    ep = broker.Endpoint()
    ctl = ep.make_subscriber(CTL_TOPIC, 100)
    if not ep.peer("127.0.0.1", args.port, 1.0):
        emit({"error": f"could not peer with 127.0.0.1:{args.port}"})
        return 1
    m = ctl.get(STARTUP_TIMEOUT)
    if m is None or m[1] != "ready":
        emit({"error": f"no 'ready' from the receiver (got {m!r})"})
        return 1
    if not wait_for(lambda: DATA_TOPIC in topic_names(ep), STARTUP_TIMEOUT):
        emit({"error": "receiver's data subscription never arrived"})
        return 1
    count = args.count
    publish = ep.publish
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    if args.send == "single":
        for i in range(count):
            publish(DATA_TOPIC, Event("ping", "text", Count(i)))
    else:
        publish_batch = ep.publish_batch
        for k in range(0, count, BATCH):
            publish_batch(
                *[
                    (DATA_TOPIC, Event("ping", "text", Count(i)))
                    for i in range(k, min(k + BATCH, count))
                ]
            )
    t_pub = time.perf_counter()
    ack = ctl.get(ACK_TIMEOUT)
    t1 = time.perf_counter()
    cpu = time.process_time() - cpu0
    result = {"count": count, "elapsed": t1 - t0, "publish_elapsed": t_pub - t0, "cpu": cpu}
    if ack is None or ack[1][0] != "done":
        result["error"] = f"no 'done' ack within {ACK_TIMEOUT:g} s (got {ack!r})"
    emit(result)
    publish(DATA_TOPIC, "fin")
    time.sleep(0.05)  # let "fin" leave before the goodbye; the receiver waits bounded anyway
    ep.shutdown()
    return 0


# -- the parent -------------------------------------------------------------------


class Side:
    """How to start children for one implementation."""

    def __init__(self, name: str, python: str, isolated: bool):
        self.name = name
        self.python = python
        self.isolated = isolated
        self.info: dict | None = None

    def command(self, extra: list) -> list:
        cmd = [self.python] + (["-I"] if self.isolated else [])
        return cmd + [os.path.abspath(__file__), "--child"] + extra

    def env(self) -> dict:
        if self.isolated:
            return {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        return dict(os.environ)


def run_pair(side: Side, scen: str, count: int, cwd: str | None) -> dict:
    from _harness import Child  # parent only: see _harness.py

    send = SCENARIOS[scen][1]
    common = ["--send", send, "--count", str(count), "--qsize", str(QSIZE)]
    env = side.env()
    recv = Child(side.command(["recv"] + common), env, cwd)
    sender = None
    try:
        hello = recv.read_json(STARTUP_TIMEOUT)
        side.info = hello["info"]
        if not hello.get("port"):
            raise RuntimeError("receiver could not listen")
        sender = Child(side.command(["send", "--port", str(hello["port"])] + common), env, cwd)
        sres = sender.read_json(ACK_TIMEOUT + STARTUP_TIMEOUT)
        if "error" in sres and "elapsed" not in sres:
            raise RuntimeError(f"sender: {sres['error']}")
        rres = recv.read_json(STALL_TIMEOUT + 5)
        if "error" in rres:
            raise RuntimeError(f"receiver: {rres['error']}")
    finally:
        if sender is not None:
            sender.finish(10)
        recv.finish(10)
    out = {
        "count": count,
        "received": rres["received"],
        "elapsed": sres["elapsed"],
        "publish_elapsed": sres["publish_elapsed"],
        "send_cpu_us": sres["cpu"] / count * 1e6,
        "recv_cpu_us": rres["cpu"] / max(1, rres["received"]) * 1e6,
        "rate": None,
        "error": sres.get("error"),
    }
    if rres["received"] != count:
        out["error"] = f"received {rres['received']} of {count}"
    elif not rres["last_ok"]:
        out["error"] = f"last event wrong: {rres['last']}"
    else:
        out["rate"] = count / sres["elapsed"]
    return out


def run_side(side: Side, scenarios: list, repeat: int, scale: float, real: bool) -> dict:
    results = {}
    cwd_ctx = tempfile.TemporaryDirectory() if side.isolated else None
    cwd = cwd_ctx.name if cwd_ctx else None
    try:
        for scen in scenarios:
            _, send, ours_n, real_n = SCENARIOS[scen]
            count = max(BATCH, int((real_n if real else ours_n) * scale))
            if send == "batch":
                count = count // BATCH * BATCH
            best = None
            for r in range(repeat):
                try:
                    s = run_pair(side, scen, count, cwd)
                except (RuntimeError, OSError, ValueError, KeyError) as e:
                    s = {"error": str(e), "rate": None}
                log_line(side.name, scen, r, s)
                if best is None or (s["rate"] or 0) > (best["rate"] or 0):
                    best = s
            results[scen] = best
    finally:
        if cwd_ctx:
            cwd_ctx.cleanup()
    return results


# -- output -----------------------------------------------------------------------


def fmt_rate(x) -> str:
    return "n/a" if x is None else f"{x:,.0f}"


def log_line(side: str, scen: str, r: int, s: dict) -> None:
    if "elapsed" not in s:
        msg = f"ERROR {s['error']}"
    else:
        msg = (
            f"{fmt_rate(s['rate'])} events/s  N={s['count']}  {s['elapsed']:.2f} s "
            f"(publish phase {s['publish_elapsed']:.2f} s); CPU us/event: "
            f"sender {s['send_cpu_us']:.2f}, receiver {s['recv_cpu_us']:.2f}"
        )
        if s.get("error"):
            msg += f"  ERROR {s['error']}"
    print(f"  [{side} {scen} #{r + 1}] {msg}", flush=True)


def print_ours(res: dict) -> None:
    print()
    print(f"{'scenario':<48}{'ours':>16}  {'target':>10}")
    for scen, s in res.items():
        label = SCENARIOS[scen][0]
        rate = s["rate"]
        verdict = "" if rate is None else ("ok" if rate >= TARGET else "MISSED")
        print(
            f"{label:<48}{fmt_rate(rate):>9} ev/s  {'>= ' + format(TARGET / 1000, 'g') + 'k/s':>10}"
            f"  {verdict}" + (f"  ({s['error']})" if s.get("error") else "")
        )


def print_comparison(ours: dict, real: dict) -> None:
    print()
    print(f"{'scenario':<48}{'ours':>12}{'real':>10}{'ratio':>9}  quoted real")
    for scen in ours:
        x = (ours.get(scen) or {}).get("rate")
        y = (real.get(scen) or {}).get("rate")
        ratio = f"{x / y:,.0f}x" if x and y else "n/a"
        print(
            f"{SCENARIOS[scen][0]:<48}{fmt_rate(x):>12}{fmt_rate(y):>10}{ratio:>9}  {REAL_QUOTED}"
        )
    print("events/s; ratio: ours/real (higher = ours faster)")


def probe_real(python: str, env: dict) -> tuple[str | None, str]:
    if not os.path.exists(python):
        return None, f"{python} not found"
    with tempfile.TemporaryDirectory() as cwd:
        try:
            probe = subprocess.run(
                [
                    python,
                    "-I",
                    "-c",
                    "import json, broker, broker.zeek; print(json.dumps(broker.__file__))",
                ],
                env=env,
                cwd=cwd,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            return None, f"could not run {python}: {e}"
    if probe.returncode != 0:
        return None, f"{python} cannot import broker"
    return json.loads(probe.stdout), ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="1/4 of the events, one run")
    ap.add_argument("--no-real", action="store_true", help="skip the real Broker comparison")
    ap.add_argument(
        "--real-python",
        default="/usr/bin/python3",
        help="interpreter with real Broker (default %(default)s)",
    )
    ap.add_argument(
        "--scenario",
        action="append",
        help=f"run only these (repeatable or comma-separated): {', '.join(DEFAULT_ORDER)}",
    )
    ap.add_argument("--repeat", type=int, help="runs per case, best shown (default 2, quick 1)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply event counts")
    # Child mode.
    ap.add_argument("--child", choices=["recv", "send"], help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--send", help=argparse.SUPPRESS)
    ap.add_argument("--count", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--qsize", type=int, default=QSIZE, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:
        import broker
        import broker.zeek  # real Broker's package may not import it eagerly

        return (child_recv if args.child == "recv" else child_send)(broker, args)

    scenarios = []
    for item in args.scenario or DEFAULT_ORDER:
        for name in item.split(","):
            name = name.strip()
            if name not in SCENARIOS:
                ap.error(f"unknown scenario {name!r}; choose from {', '.join(SCENARIOS)}")
            if name not in scenarios:
                scenarios.append(name)
    repeat = args.repeat or (1 if args.quick else 2)
    scale = args.scale * (0.25 if args.quick else 1.0)

    import broker

    started = time.perf_counter()
    print(
        f"broker: {broker.__file__} (version {getattr(broker, '__version__', '?')}), "
        f"{platform.python_implementation()} {platform.python_version()}; "
        f"{os.cpu_count()} CPUs; qsize={QSIZE}, batch={BATCH}, best of {repeat}"
    )
    ours = run_side(Side("ours", sys.executable, isolated=False), scenarios, repeat, scale, False)
    print_ours(ours)

    if not args.no_real:
        print()
        real_side = Side("real", args.real_python, isolated=True)
        where, why = probe_real(args.real_python, real_side.env())
        if where is None:
            print(f"real Broker comparison skipped: {why}")
        elif os.path.realpath(where) == os.path.realpath(broker.__file__):
            print(f"real Broker comparison skipped: {args.real_python} imports the same package")
        else:
            print(f"real Broker: {where} ({args.real_python})")
            real = run_side(real_side, scenarios, repeat, scale, True)
            print_comparison(ours, real)
    print(f"\n({'quick' if args.quick else 'full'} run, {time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
