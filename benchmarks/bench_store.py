#!/usr/bin/env python3
"""Data store benchmark: master operations from Python, clone propagation
across processes, SQLite puts.

Prints, for the importable ``broker`` package:

* master ``put``, ``get`` and ``increment`` in operations per second (memory
  backend, from Python, each put/increment followed by one ``await_idle``
  for the whole run so the work is really done);
* clone propagation: a ``put`` on a master in one process until it is
  visible on a clone in another process (polling ``get``), median and p99
  in milliseconds;
* SQLite ``put`` with ``synchronous=normal`` and ``journal_mode=wal``.

Targets: put and get >= 500k ops/s, propagation median <= 1 ms, SQLite put
>= 100k ops/s. Real Broker 1.4 here: put ~58k ops/s, get ~7.2k ops/s,
increment ~69k ops/s, propagation 3.5-7.5 ms median. When Debian's real
Broker is installed (``/usr/bin/python3 -c 'import broker'``), the same
master operations run under it in a subprocess and ratios are printed.

Usage: bench_store.py [--quick] [--no-real] [--real-python PATH]

A program that prints numbers, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

MASTER_OPS = textwrap.dedent(
    """
    import json, sys, time, broker
    n = int(sys.argv[1])
    ep = broker.Endpoint()
    m = ep.attach_master("bench", broker.Backend.Memory)
    def idle():
        if hasattr(m, "await_idle"):
            m.await_idle(60.0)
    out = {}
    t = time.perf_counter()
    for i in range(n):
        m.put(i, i)
    idle()
    m.get(n - 1)  # ordered after every put on the master
    out["put"] = n / (time.perf_counter() - t)
    t = time.perf_counter()
    for i in range(n):
        m.get(i)
    out["get"] = n / (time.perf_counter() - t)
    m.put("c", broker.Count(0))
    t = time.perf_counter()
    for i in range(n):
        m.increment("c", broker.Count(1))
    idle()
    m.get("c")
    out["increment"] = n / (time.perf_counter() - t)
    print(json.dumps(out), flush=True)
    ep.shutdown()
    """
)

MASTER_PROC = textwrap.dedent(
    """
    import sys, time, broker
    ep = broker.Endpoint()
    m = ep.attach_master("prop", broker.Backend.Memory)
    port = ep.listen("127.0.0.1", 0)
    print(port, flush=True)
    for line in sys.stdin:
        cmd, _, arg = line.strip().partition(" ")
        if cmd == "put":
            m.put("k", int(arg))
        elif cmd == "quit":
            break
    ep.shutdown()
    """
)

SQLITE_OPS = textwrap.dedent(
    """
    import json, os, sys, time, broker
    n, path = int(sys.argv[1]), sys.argv[2]
    ep = broker.Endpoint()
    m = ep.attach_master("sq", broker.Backend.SQLite,
                         {"path": path, "synchronous": "normal", "journal_mode": "wal"})
    t = time.perf_counter()
    for i in range(n):
        m.put(i, "value-%d" % i)
    m.await_idle(120.0)
    m.get(n - 1)
    print(json.dumps({"sqlite_put": n / (time.perf_counter() - t)}), flush=True)
    ep.shutdown()
    """
)


def run_script(python: str, script: str, *args: str, env=None, timeout=300) -> dict:
    with tempfile.TemporaryDirectory() as cwd:
        out = subprocess.run(
            [python, "-c", script, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=cwd,
            env=env,
        )
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr else "failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def propagation(samples: int) -> list[float]:
    import broker

    master = subprocess.Popen(
        [sys.executable, "-c", MASTER_PROC],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
        cwd=tempfile.gettempdir(),
    )
    try:
        port = int(master.stdout.readline())
        with broker.Endpoint() as ep:
            assert ep.peer("127.0.0.1", port, 1.0)
            clone = ep.attach_clone("prop", resync_interval=0.1)
            master.stdin.write("put 0\n")
            master.stdin.flush()
            deadline = time.monotonic() + 20
            while clone.get("k") != 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            result = []
            for i in range(1, samples + 1):
                t = time.perf_counter()
                master.stdin.write(f"put {i}\n")
                master.stdin.flush()
                limit = time.monotonic() + 5
                while clone.get("k") != i and time.monotonic() < limit:
                    pass
                result.append((time.perf_counter() - t) * 1000)
            clone.reset()
        master.stdin.write("quit\n")
        master.stdin.flush()
        master.wait(10)
        return result
    finally:
        master.kill()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-real", action="store_true")
    ap.add_argument("--real-python", default="/usr/bin/python3")
    args = ap.parse_args()
    n = 20_000 if args.quick else 100_000
    env = os.environ.copy()

    print(f"store benchmark ({'quick' if args.quick else 'full'}, n={n})")
    ours = run_script(sys.executable, MASTER_OPS, str(n), env=env)
    with tempfile.TemporaryDirectory() as tmp:
        ours.update(run_script(sys.executable, SQLITE_OPS, str(n), os.path.join(tmp, "b.sqlite"), env=env))
    lat = propagation(50 if args.quick else 300)
    lat.sort()
    med = statistics.median(lat)
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]

    real = None
    if not args.no_real and os.path.exists(args.real_python):
        clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        try:
            real = run_script(args.real_python, MASTER_OPS, str(n // 10), env=clean)
        except Exception as exc:  # real Broker missing or failing: just say so
            print(f"real Broker: not measured ({exc})")

    targets = {"put": 500e3, "get": 500e3, "increment": None, "sqlite_put": 100e3}
    print(f"{'case':<12}{'ours ops/s':>14}{'target':>12}{'real ops/s':>14}{'ratio':>9}")
    for key in ["put", "get", "increment", "sqlite_put"]:
        t = targets[key]
        r = real.get(key) if real else None
        ratio = f"{ours[key] / r:8.1f}x" if r else "      n/a"
        print(
            f"{key:<12}{ours[key]:>14,.0f}{(f'>= {t:,.0f}' if t else '-'):>12}"
            f"{(f'{r:,.0f}' if r else 'n/a'):>14}{ratio}"
        )
    print(f"clone propagation across processes: median {med:.3f} ms, p99 {p99:.3f} ms (target median <= 1 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
