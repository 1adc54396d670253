#!/usr/bin/env python3
"""Publish/subscribe benchmark: two endpoints in two processes over loopback.

Every case runs a subscriber process (listens on 127.0.0.1, ephemeral port)
and a publisher process (peers with it), both started from this script in
``--child`` mode. Scenarios:

* ``small``  (1) ``[i, "x", 3.14]``: ``publish()`` one by one, ``get()`` one
  by one; msgs/s;
* ``batch``  (2) the same values, ``publish_batch()`` of 1000 pairs,
  received with ``get(n, timeout)``; msgs/s;
* ``batch-poll`` (2b) as (2), received with ``select()`` on ``fd()`` +
  ``poll()``;
* ``rtt``    (3) ping/pong of ``[i, "x", 3.14]``: one process publishes and
  waits for the echo (sequential), the other echoes on another topic;
  median and p99 round-trip in microseconds;
* ``vector`` (5) a list of 100 strings, ``publish()`` -> ``get()``; msgs/s;
* ``table``  (6) a dict of 100 str -> int, ``publish()`` -> ``get()``; msgs/s.

(4) is the subscriber process's peak RSS (``ru_maxrss``, MiB, whole
process: interpreter + module + queues), measured in the child during
(1) and (2) and reported back (shown for (5)/(6) too, without a target:
it grows with what sits in the subscriber's queue).

Timing: the subscriber subscribes before listening; the publisher
subscribes to a control topic, peers, waits for the subscriber's "ready"
on that topic (sent once the subscriber sees the publisher's control
subscription) and checks ``peer_subscriptions()`` for the data topic. The
clock then runs from the first publish until the subscriber's "done" ack
(sent after it received exactly N messages) arrives back at the publisher,
so it covers the full delivery, whatever buffering either side does. The
children also report their own CPU time over the measured phase: each
per-run line gives CPU microseconds per message (per round trip for
``rtt``) of each process, split into its Python thread ("py") and all its
other threads ("bg": our I/O thread, real Broker's CAF workers), and the
process's CPU as % of one core. These figures depend much less on other
load on the machine than msgs/s do.

Our endpoint applies backpressure to publish(); real Broker 1.4's
``Endpoint.publish`` does not (messages queue in the core actor's
mailbox), which the end-to-end clock absorbs.

When ``/usr/bin/python3`` has Debian's real Broker (python3-broker 1.4),
the same cases run under it (``-I``, no PYTHON* variables, from an empty
temporary folder) with smaller counts, and a side-by-side table with
ratios follows. Both sides use their own interpreters, so the ratios
compare whole stacks. Each case runs ``--repeat`` times (default 2, 1 with
--quick); the best run is shown.

Transport: plain TCP (``disable_ssl``) unless ``--tls`` is given, which
runs every case over anonymous TLS (both Brokers' default); ``--tls both``
runs each case plain and over TLS and prints what TLS costs.

Usage:
    bench_pubsub.py [--quick] [--no-real | --real-python PATH]
                    [--scenario NAME[,NAME...]] [--repeat N] [--scale F]
                    [--tls [both]]

This is a program that prints numbers, not a test: it never fails on a
missed target. Every wait is bounded, children are killed on timeout.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import select
import statistics
import subprocess
import sys
import tempfile
import time

DATA_TOPIC = "bench/data"
CTL_TOPIC = "bench/ctl"
BATCH = 1000
QSIZE = 10_000

# Bounds on every wait (seconds).
STARTUP_TIMEOUT = 30.0   # child prints its port / peers / sees "ready"
STALL_TIMEOUT = 10.0     # no message for this long: give up, report the count
ACK_TIMEOUT = 180.0      # publisher waits this long for the "done" ack
FIN_TIMEOUT = 3.0        # subscriber waits for the publisher's goodbye
CHILD_TIMEOUT = 300.0    # parent kills a pair that takes longer

# name -> (label, payload, send, recv, our count, real count, target)
# send: "single" (publish) | "batch" (publish_batch of BATCH) | "rtt"
# recv: "single" (get()) | "getn" (get(n, t)) | "poll" (select + poll())
SCENARIOS = {
    "small": ("(1) [i,'x',3.14] publish()->get()", "small", "single", "single",
              600_000, 30_000, 300_000),
    "batch": ("(2) publish_batch(1000)->get(n)", "small", "batch", "getn",
              1_500_000, 40_000, 1_000_000),
    "batch-poll": ("(2b) publish_batch(1000)->poll()", "small", "batch", "poll",
                   1_500_000, 40_000, 1_000_000),
    "rtt": ("(3) ping/pong round trip", "small", "rtt", "single",
            2_000, 200, None),
    "vector": ("(5) list of 100 str publish()->get()", "vector", "single", "single",
               60_000, 1_500, 50_000),
    "table": ("(6) dict of 100 str->int publish()->get()", "table", "single", "single",
              20_000, 700, 30_000),
}
DEFAULT_ORDER = ["small", "batch", "batch-poll", "rtt", "vector", "table"]
RTT_TARGET_MEDIAN_US = 50.0
RTT_TARGET_P99_US = 200.0
RSS_TARGET_MB = 40.0
# Real Broker figures quoted in the issue, for reference.
ISSUE_REAL = {"small": "~11k/s", "batch": "~13k/s", "rtt": "14.9 ms median",
              "rss": "~55 MB"}


# -- children -------------------------------------------------------------------


def maxrss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def thread_cpu() -> dict:
    """CPU seconds per thread of this process, from the Linux per-thread
    CPU clocks (nanosecond resolution; {} where there are none)."""
    out = {}
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return out
    for tid in tids:
        try:
            # MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED) in the kernel.
            out[int(tid)] = time.clock_gettime((~int(tid) << 3) | 6)
        except (OSError, ValueError, OverflowError):
            pass
    return out


def cpu_split(before: dict, after: dict) -> dict:
    """CPU seconds of the main (Python) thread and of all other threads."""
    main = os.getpid()
    py = after.get(main, 0.0) - before.get(main, 0.0)
    bg = sum(v - before.get(t, 0.0) for t, v in after.items() if t != main)
    return {"cpu_py": py, "cpu_bg": bg}


def emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def topic_names(ep) -> list:
    out = []
    for t in ep.peer_subscriptions():
        out.append(t.string() if hasattr(t, "string") else str(t))
    return out


def wait_for(pred, timeout: float, step: float = 0.005) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if pred():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(step)


def make_payload(kind: str):
    if kind == "vector":
        return [f"string-{j:03d}" for j in range(100)]
    if kind == "table":
        return {f"key-{j:03d}": j for j in range(100)}
    return None  # "small" is built per message: [i, "x", 3.14]


def info(broker) -> dict:
    return {"file": getattr(broker, "__file__", "?"),
            "version": getattr(broker, "__version__", "?"),
            "python": f"{platform.python_implementation()} {platform.python_version()}",
            "executable": sys.executable}


def make_endpoint(broker, args):
    opts = broker.BrokerOptions()
    opts.disable_ssl = not args.secure
    return broker.Endpoint(broker.Configuration(opts))


def child_sub(broker, args) -> int:
    """Listens, receives exactly `count` messages (or echoes for rtt), acks."""
    ep = make_endpoint(broker, args)
    sub = ep.make_subscriber(DATA_TOPIC, args.qsize)
    port = ep.listen("127.0.0.1", 0)
    emit({"port": port, "info": info(broker)})
    if not port:
        return 1
    if not wait_for(lambda: CTL_TOPIC in topic_names(ep), STARTUP_TIMEOUT):
        emit({"error": "publisher's control subscription never arrived"})
        return 1
    rss_ready = maxrss_kb()
    # CPU counters start before "ready": nothing can arrive earlier, and
    # blocking in get() until the first message costs no CPU.
    cpu0 = time.process_time()
    th0 = thread_cpu()
    ep.publish(CTL_TOPIC, "ready")
    get = sub.get
    n = 0
    last = None
    if args.send == "rtt":
        # Echo every ping on the control topic until "stop".
        publish = ep.publish
        t_first = time.perf_counter()
        while True:
            m = get(STALL_TIMEOUT)
            if m is None or m[1] == "stop":
                break
            publish(CTL_TOPIC, m[1])
            n += 1
        t_last = time.perf_counter()
    else:
        count = args.count
        first = get(STARTUP_TIMEOUT)
        t_first = t_last = time.perf_counter()
        if first is not None:
            n = 1
            last = first
            if args.recv == "single":
                while n < count:
                    m = get(STALL_TIMEOUT)
                    if m is None:
                        break
                    n += 1
                if n == count:
                    last = m if count > 1 else first
            elif args.recv == "getn":
                while n < count:
                    ms = get(min(count - n, BATCH), STALL_TIMEOUT)
                    if not ms:
                        break
                    n += len(ms)
                    last = ms[-1]
            else:  # poll
                poll = sub.poll
                fd = sub.fd()
                while n < count:
                    ms = poll()
                    if not ms:
                        r, _, _ = select.select([fd], [], [], STALL_TIMEOUT)
                        if not r:
                            break
                        continue
                    n += len(ms)
                    last = ms[-1]
            t_last = time.perf_counter()
    cpu = time.process_time() - cpu0
    th = cpu_split(th0, thread_cpu())
    ep.publish(CTL_TOPIC, ["done", n])
    ok_last = True
    if args.payload == "small" and args.send != "rtt" and last is not None:
        ok_last = (last[1][0] == args.count - 1)  # in order, nothing missing
    emit({"received": n, "elapsed": t_last - t_first, "cpu": cpu, **th,
          "rss_ready_kb": rss_ready, "rss_kb": maxrss_kb(), "last_ok": ok_last})
    # Let the ack reach the publisher before tearing down: wait for its
    # goodbye (bounded; the parent may also just kill us).
    deadline = time.monotonic() + FIN_TIMEOUT
    while time.monotonic() < deadline:
        m = get(0.2)
        if m is not None and m[1] == "fin":
            break
    ep.shutdown()
    return 0


def child_pub(broker, args) -> int:
    """Peers, waits for "ready", publishes `count` messages, waits for the ack."""
    ep = make_endpoint(broker, args)
    ctl = ep.make_subscriber(CTL_TOPIC, max(args.qsize, 100))
    if not ep.peer("127.0.0.1", args.port, 1.0):
        emit({"error": f"could not peer with 127.0.0.1:{args.port}"})
        return 1
    m = ctl.get(STARTUP_TIMEOUT)
    if m is None or m[1] != "ready":
        emit({"error": f"no 'ready' from the subscriber (got {m!r})"})
        return 1
    if not wait_for(lambda: DATA_TOPIC in topic_names(ep), STARTUP_TIMEOUT):
        emit({"error": "subscriber's data subscription never arrived"})
        return 1
    count = args.count
    payload = make_payload(args.payload)
    publish = ep.publish
    result: dict = {"count": count}
    cpu0 = time.process_time()
    th0 = thread_cpu()
    if args.send == "rtt":
        warmup = max(10, count // 10)
        samples = []
        get = ctl.get
        perf = time.perf_counter_ns
        t_loop = time.perf_counter()
        for i in range(warmup + count):
            t0 = perf()
            publish(DATA_TOPIC, [i, "x", 3.14])
            r = get(STALL_TIMEOUT)
            t1 = perf()
            if r is None or r[1][0] != i:
                result["error"] = f"echo {i} missing or wrong: {r!r}"
                break
            if i >= warmup:
                samples.append((t1 - t0) / 1000.0)
        cpu = time.process_time() - cpu0
        result.update(cpu_split(th0, thread_cpu()))
        result["elapsed"] = time.perf_counter() - t_loop  # incl. warm-up
        publish(DATA_TOPIC, "stop")
        ack = ctl.get(STALL_TIMEOUT)
        # CPU is per round trip including the warm-up ones.
        result.update(samples=len(samples), round_trips=i + 1 if r is not None else i,
                      cpu=cpu)
        if samples:
            samples.sort()
            result.update(
                median_us=statistics.median(samples),
                p99_us=samples[max(0, math.ceil(0.99 * len(samples)) - 1)],  # nearest rank
                min_us=samples[0], max_us=samples[-1])
    else:
        t0 = time.perf_counter()
        if args.send == "single":
            if payload is None:
                for i in range(count):
                    publish(DATA_TOPIC, [i, "x", 3.14])
            else:
                for i in range(count):
                    publish(DATA_TOPIC, payload)
        else:  # batch
            publish_batch = ep.publish_batch
            for k in range(0, count, BATCH):
                publish_batch(*[(DATA_TOPIC, [i, "x", 3.14])
                                for i in range(k, min(k + BATCH, count))])
        t_pub = time.perf_counter()
        ack = ctl.get(ACK_TIMEOUT)
        t1 = time.perf_counter()
        cpu = time.process_time() - cpu0
        result.update(cpu_split(th0, thread_cpu()))
        result.update(elapsed=t1 - t0, publish_elapsed=t_pub - t0, cpu=cpu,
                      acked=(ack[1][1] if ack is not None and ack[1][0] == "done" else None))
        if result["acked"] is None:
            result["error"] = f"no 'done' ack within {ACK_TIMEOUT:g} s (got {ack!r})"
    result["rss_kb"] = maxrss_kb()
    emit(result)
    publish(DATA_TOPIC, "fin")
    time.sleep(0.05)
    ep.shutdown()
    return 0


# -- the parent -------------------------------------------------------------------


class Side:
    """How to start children for one implementation."""

    def __init__(self, name: str, python: str, isolated: bool, secure: bool = False):
        self.name = name
        self.python = python
        self.isolated = isolated
        self.secure = secure
        self.info: dict | None = None

    def command(self, extra: list) -> list:
        cmd = [self.python]
        if self.isolated:
            cmd.append("-I")
        if self.secure:
            extra = extra + ["--secure"]
        return cmd + [os.path.abspath(__file__), "--child"] + extra

    def env(self) -> dict:
        if self.isolated:
            return {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        return dict(os.environ)


def run_pair(side: Side, scen: str, count: int, cwd: str | None) -> dict:
    from _harness import Child  # parent only: see _harness.py

    _, payload, send, recv, *_ = SCENARIOS[scen]
    common = ["--send", send, "--recv", recv, "--payload", payload,
              "--count", str(count), "--qsize", str(QSIZE)]
    env = side.env()
    sub = Child(side.command(["sub"] + common), env, cwd)
    pub = None
    try:
        hello = sub.read_json(STARTUP_TIMEOUT)
        side.info = hello["info"]
        if not hello.get("port"):
            raise RuntimeError("subscriber could not listen")
        pub = Child(side.command(["pub", "--port", str(hello["port"])] + common), env, cwd)
        pres = pub.read_json(CHILD_TIMEOUT)
        if "error" in pres and "elapsed" not in pres and "median_us" not in pres:
            raise RuntimeError(f"publisher: {pres['error']}")
        sres = sub.read_json(STALL_TIMEOUT + 5)
        if "error" in sres:
            raise RuntimeError(f"subscriber: {sres['error']}")
        return {"pub": pres, "sub": sres}
    finally:
        if pub is not None:
            pub.finish(10)
        sub.finish(10)


def summarize(scen: str, run: dict) -> dict:
    pub, sub = run["pub"], run["sub"]
    send = SCENARIOS[scen][2]
    out = {"pub_cpu": pub.get("cpu"), "sub_cpu": sub.get("cpu"),
           "pub_cpu_py": pub.get("cpu_py"), "pub_cpu_bg": pub.get("cpu_bg"),
           "sub_cpu_py": sub.get("cpu_py"), "sub_cpu_bg": sub.get("cpu_bg"),
           "elapsed": pub.get("elapsed"), "rss_mb": sub["rss_kb"] / 1024,
           "rss_ready_mb": sub["rss_ready_kb"] / 1024, "pub_rss_mb": pub["rss_kb"] / 1024,
           "error": pub.get("error")}
    if send == "rtt":
        out.update(median_us=pub.get("median_us"), p99_us=pub.get("p99_us"),
                   samples=pub.get("samples"), round_trips=pub.get("round_trips"),
                   count=pub["count"])
        return out
    count = pub["count"]
    out.update(count=count, received=sub["received"], last_ok=sub["last_ok"],
               rate=count / pub["elapsed"] if sub["received"] == count else None,
               partial_rate=sub["received"] / pub["elapsed"],
               sub_rate=(sub["received"] - 1) / sub["elapsed"] if sub["elapsed"] > 0 else None,
               publish_elapsed=pub["publish_elapsed"])
    if sub["received"] != count:
        out["error"] = f"received {sub['received']} of {count}"
    elif not sub["last_ok"]:
        out["error"] = "last message out of order"
    return out


def better(scen: str, a: dict | None, b: dict) -> dict:
    if a is None or a.get("error"):
        return b
    if b.get("error"):
        return a
    if SCENARIOS[scen][2] == "rtt":
        return b if (b["median_us"] or 1e18) < (a["median_us"] or 1e18) else a
    return b if (b["rate"] or 0) > (a["rate"] or 0) else a


def run_side(side: Side, scenarios: list, repeat: int, scale: float, real: bool,
             log) -> dict:
    results = {}
    cwd_ctx = tempfile.TemporaryDirectory() if side.isolated else None
    cwd = cwd_ctx.name if cwd_ctx else None
    try:
        for scen in scenarios:
            spec = SCENARIOS[scen]
            count = max(20, int((spec[5] if real else spec[4]) * scale))
            if spec[2] == "batch":
                count = max(BATCH, count // BATCH * BATCH)
            best = None
            for r in range(repeat):
                try:
                    s = summarize(scen, run_pair(side, scen, count, cwd))
                except (RuntimeError, OSError, ValueError, KeyError) as e:
                    s = {"error": str(e)}
                log(side.name, scen, r, s)
                best = better(scen, best, s)
            results[scen] = best
    finally:
        if cwd_ctx:
            cwd_ctx.cleanup()
    return results


def run_paired(plain: Side, tls: Side, scenarios: list, repeat: int, scale: float,
               log) -> tuple[dict, dict, dict]:
    """Runs each case plain and over TLS, alternating (plain first, then TLS
    first, ...), so that drift in the machine's speed hits both alike.
    Returns the best run of each side and, per scenario, the paired
    comparisons: TLS/plain rate ratios, or TLS-plain median differences."""
    best_plain, best_tls, paired = {}, {}, {}
    for scen in scenarios:
        spec = SCENARIOS[scen]
        count = max(20, int(spec[4] * scale))
        if spec[2] == "batch":
            count = max(BATCH, count // BATCH * BATCH)
        pairs = []
        for r in range(repeat):
            order = [(plain, best_plain), (tls, best_tls)]
            if r % 2:
                order.reverse()
            got = {}
            for side, best in order:
                try:
                    s_ = summarize(scen, run_pair(side, scen, count, None))
                except (RuntimeError, OSError, ValueError, KeyError) as e:
                    s_ = {"error": str(e)}
                log(("tls " if side.secure else "plain ") + side.name, scen, r, s_)
                best[scen] = better(scen, best.get(scen), s_)
                got[side.secure] = s_
            a, b = got[False], got[True]
            if spec[2] == "rtt":
                if a.get("median_us") and b.get("median_us"):
                    pairs.append(b["median_us"] - a["median_us"])
            elif a.get("rate") and b.get("rate"):
                pairs.append(b["rate"] / a["rate"])
        paired[scen] = pairs
    return best_plain, best_tls, paired


# -- output -------------------------------------------------------------------------


def fmt_rate(x) -> str:
    return "n/a" if x is None else f"{x:,.0f}"


def verdict(value, target, higher_is_better: bool) -> str:
    if value is None or target is None:
        return ""
    ok = value >= target if higher_is_better else value <= target
    return "ok" if ok else "MISSED"


def pct(cpu, elapsed) -> str:
    if cpu is None or not elapsed:
        return "?"
    return f"{100 * cpu / elapsed:.0f}%"


def cpu_per_msg(s: dict, who: str, n: int) -> str:
    """CPU microseconds per message of one process, split into its Python
    (main) thread and its other (I/O, actor) threads; and % of one core."""
    cpu = s.get(f"{who}_cpu")
    if cpu is None or not n:
        return f"{who} ?"
    text = f"{who} {cpu / n * 1e6:.2f}"
    py, bg = s.get(f"{who}_cpu_py"), s.get(f"{who}_cpu_bg")
    if py is not None and bg is not None:
        text += f" (py {py / n * 1e6:.2f} + bg {bg / n * 1e6:.2f})"
    return text + f" {pct(cpu, s.get('elapsed'))}"


def log_line(side, scen, r, s) -> None:
    if s.get("error") and "rate" not in s and "median_us" not in s:
        msg = f"ERROR {s['error']}"
    elif SCENARIOS[scen][2] == "rtt":
        n = s.get("round_trips") or 0
        msg = (f"median {s['median_us']:.1f} us  p99 {s['p99_us']:.1f} us  "
               f"({s['samples']} samples); CPU us/round trip: {cpu_per_msg(s, 'pub', n)}, "
               f"{cpu_per_msg(s, 'sub', n)}")
    else:
        n = s["received"]
        msg = (f"{fmt_rate(s['rate'] or s['partial_rate'])} msgs/s  N={s['count']}  "
               f"{s['elapsed']:.2f} s (publish phase {s['publish_elapsed']:.2f} s); "
               f"CPU us/msg: {cpu_per_msg(s, 'pub', n)}, {cpu_per_msg(s, 'sub', n)}; "
               f"sub RSS {s['rss_mb']:.1f} MiB")
        if s.get("error"):
            msg += f"  ERROR {s['error']}"
    print(f"  [{side} {scen} #{r + 1}] {msg}", flush=True)


def print_ours(res: dict) -> None:
    print()
    print(f"{'scenario':<44}{'ours':>16}  {'target':>12}")
    for scen, s in res.items():
        label, _, send, _, _, _, target = SCENARIOS[scen]
        if s.get("error") and s.get("rate") is None and s.get("median_us") is None:
            print(f"{label:<44}{'ERROR':>16}  {s['error']}")
            continue
        if send == "rtt":
            for name, key, tgt in (("median", "median_us", RTT_TARGET_MEDIAN_US),
                                   ("p99", "p99_us", RTT_TARGET_P99_US)):
                v = s[key]
                print(f"{label + ' ' + name:<44}{v:>13.1f} us  {f'<= {tgt:g} us':>12}  "
                      f"{verdict(v, tgt, False)}")
            continue
        rate = s["rate"]
        tgt = f">= {target / 1000:g}k/s"
        print(f"{label:<44}{fmt_rate(rate):>10} msg/s  {tgt:>12}  {verdict(rate, target, True)}"
              + (f"  ({s['error']})" if s.get("error") else ""))
    for scen in ("small", "batch", "batch-poll", "vector", "table"):
        s = res.get(scen)
        if s and "rss_mb" in s:
            targeted = scen not in ("vector", "table")
            tgt = "<= " + format(RSS_TARGET_MB, "g") + " MB" if targeted else "(none)"
            print(f"{'(4) sub peak RSS during ' + scen:<44}{s['rss_mb']:>10.1f} MiB    "
                  f"{tgt:>12}  "
                  f"{verdict(s['rss_mb'], RSS_TARGET_MB, False) if targeted else '  '}"
                  f"  (at ready: {s['rss_ready_mb']:.1f} MiB)")


def print_tls_cost(paired: dict) -> None:
    """What TLS costs, from runs paired with plain ones (targets: >= 70 % of
    the plain throughput, round-trip median within 30 us of plain). The
    median over the pairs is shown, and the range."""
    print()
    print(f"{'TLS cost (median of paired runs)':<44}{'median':>12}{'range':>24}  target")
    for scen, xs in paired.items():
        label, _, send, *_ = SCENARIOS[scen]
        if not xs:
            continue
        mid = statistics.median(xs)
        if send == "rtt":
            print(f"{label + ' median':<44}{f'{mid:+.1f} us':>12}"
                  f"{f'{min(xs):+.1f} .. {max(xs):+.1f} us':>24}  <= +30 us")
        else:
            print(f"{label:<44}{mid:>12.0%}{f'{min(xs):.0%} .. {max(xs):.0%}':>24}  >= 70%")


def print_comparison(ours: dict, real: dict) -> None:
    print()
    print(f"{'scenario':<44}{'ours':>14}{'real':>14}{'ratio':>10}  issue's real")
    for scen in ours:
        label, _, send, *_ = SCENARIOS[scen]
        a, b = ours.get(scen) or {}, real.get(scen) or {}
        if send == "rtt":
            for key, name in (("median_us", "median"), ("p99_us", "p99")):
                x, y = a.get(key), b.get(key)
                ratio = f"{y / x:.0f}x" if x and y else "n/a"
                xs = f"{x:.1f} us" if x else "n/a"
                ys = f"{y / 1000:.2f} ms" if y else "n/a"
                print(f"{label + ' ' + name:<44}{xs:>14}{ys:>14}{ratio:>10}  "
                      f"{ISSUE_REAL['rtt'] if key == 'median_us' else ''}")
            continue
        x, y = a.get("rate"), b.get("rate")
        ratio = f"{x / y:.0f}x" if x and y else "n/a"
        print(f"{label:<44}{fmt_rate(x):>14}{fmt_rate(y):>14}{ratio:>10}  "
              f"{ISSUE_REAL.get(scen, '')}")
    for scen in ("small", "batch", "batch-poll", "vector", "table"):
        a, b = ours.get(scen) or {}, real.get(scen) or {}
        if "rss_mb" in a and "rss_mb" in b:
            print(f"{'(4) sub peak RSS during ' + scen:<44}{a['rss_mb']:>10.1f} MiB"
                  f"{b['rss_mb']:>10.1f} MiB{b['rss_mb'] / a['rss_mb']:>9.1f}x  "
                  f"{ISSUE_REAL['rss'] if scen == 'small' else ''}")
    print("ratio: ours/real for msgs/s, real/ours for latency and RSS (higher = ours better)")


def load_avg() -> str:
    # Other work on the machine skews msgs/s; the CPU us/msg figures in the
    # per-run lines depend much less on it.
    try:
        return ", load average %.1f" % os.getloadavg()[0]
    except (AttributeError, OSError):
        return ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="1/4 of the messages, one run")
    ap.add_argument("--no-real", action="store_true", help="skip the real Broker comparison")
    ap.add_argument("--real-python", default="/usr/bin/python3",
                    help="interpreter with real Broker (default %(default)s)")
    ap.add_argument("--scenario", action="append",
                    help="run only these (repeatable or comma-separated): "
                         + ", ".join(DEFAULT_ORDER))
    ap.add_argument("--repeat", type=int, help="runs per case, best shown (default 2, quick 1)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply message counts")
    # Child mode.
    ap.add_argument("--tls", nargs="?", const="on", choices=["on", "both"],
                    help="run over anonymous TLS; 'both': plain and TLS, with TLS's cost")
    ap.add_argument("--child", choices=["sub", "pub"], help=argparse.SUPPRESS)
    ap.add_argument("--secure", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--send", help=argparse.SUPPRESS)
    ap.add_argument("--recv", help=argparse.SUPPRESS)
    ap.add_argument("--payload", help=argparse.SUPPRESS)
    ap.add_argument("--count", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--qsize", type=int, default=QSIZE, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:
        import broker
        return (child_sub if args.child == "sub" else child_pub)(broker, args)

    scenarios = []
    for item in args.scenario or DEFAULT_ORDER:
        for name in item.split(","):
            name = name.strip()
            if name == "rss":
                name = "small"
            if name not in SCENARIOS:
                ap.error(f"unknown scenario {name!r}; choose from {', '.join(SCENARIOS)}")
            if name not in scenarios:
                scenarios.append(name)
    repeat = args.repeat or (1 if args.quick else 2)
    scale = args.scale * (0.25 if args.quick else 1.0)

    import broker
    started = time.perf_counter()
    print(f"broker: {broker.__file__} (version {getattr(broker, '__version__', '?')}), "
          f"{platform.python_implementation()} {platform.python_version()}; "
          f"{os.cpu_count()} CPUs{load_avg()}; qsize={QSIZE}, batch={BATCH}, best of {repeat}")
    secure = args.tls == "on"
    print(f"transport: {'plain and TLS' if args.tls == 'both' else 'TLS' if secure else 'plain TCP'}")
    ours_side = Side("ours", sys.executable, isolated=False, secure=secure)
    if args.tls == "both":
        tls_side = Side("ours", sys.executable, isolated=False, secure=True)
        ours, tls, paired = run_paired(ours_side, tls_side, scenarios, repeat, scale,
                                       log_line)
        print_ours(ours)
        print("\nover TLS:")
        print_ours(tls)
        print_tls_cost(paired)
    else:
        ours = run_side(ours_side, scenarios, repeat, scale, False, log_line)
        print_ours(ours)

    if not args.no_real:
        print()
        real_side = Side("real", args.real_python, isolated=True, secure=secure)
        if not os.path.exists(args.real_python):
            print(f"real Broker comparison skipped: {args.real_python} not found")
        else:
            try:
                probe = subprocess.run(
                    [args.real_python, "-I", "-c",
                     "import broker, json; print(json.dumps(broker.__file__))"],
                    env=real_side.env(), cwd=tempfile.gettempdir(),
                    capture_output=True, text=True, timeout=60)
            except (OSError, subprocess.TimeoutExpired) as e:
                probe = subprocess.CompletedProcess([], 1, "", str(e))
            if probe.returncode != 0:
                print(f"real Broker comparison skipped: {args.real_python} cannot import broker")
            elif os.path.realpath(json.loads(probe.stdout)) == os.path.realpath(broker.__file__):
                print(f"real Broker comparison skipped: {args.real_python} "
                      "imports the same package")
            else:
                print(f"real Broker: {json.loads(probe.stdout)} ({args.real_python})")
                real = run_side(real_side, scenarios, repeat, scale, True, log_line)
                print_comparison(ours, real)
    print(f"\n({'quick' if args.quick else 'full'} run, {time.perf_counter() - started:.1f} s"
          f"{load_avg()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
