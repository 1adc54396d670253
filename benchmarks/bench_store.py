#!/usr/bin/env python3
"""Data store benchmark: master operations from Python, SQLite puts, clone
propagation across processes; ours and real Broker side by side.

Every case runs in child processes, once with the importable ``broker``
package (ours) and once with real Broker 2.8 through
``/work/shared/reference/real-broker python`` (``--real-cmd``), in the same
run and with the same scripts:

* master ``put``, ``get`` and ``increment`` from Python in operations per
  second (memory backend). A put/increment run ends with one ``get`` that
  is answered only after every queued mutation was applied, so the work is
  really done, not just queued;
* SQLite ``put`` with ``synchronous=normal`` and ``journal_mode=wal``, ended
  the same way: with our group commit the answer to that ``get`` also means
  every put is committed (durable against a crash of the process);
* clone propagation: a ``put`` on a master in one process until it is
  visible on a clone in another process (polling ``get`` on the clone),
  median and p99 in milliseconds.

Targets for ours: put and get >= 500k ops/s, SQLite put >= 100k ops/s,
propagation median <= 0.5 ms. Real Broker runs 1/10 of the operations
(it is much slower, and its rate does not depend on the count).

Usage: bench_store.py [--quick] [--no-real | --real-cmd CMD | --real-python PATH]

A program that prints numbers, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import textwrap

MASTER_OPS = textwrap.dedent(
    """
    import json, sys, time, broker
    n = int(sys.argv[1])
    ep = broker.Endpoint()
    m = ep.attach_master("bench", broker.Backend.Memory)
    out = {}
    t = time.perf_counter()
    for i in range(n):
        m.put(i, i)
    m.get(n - 1)  # answered after every put before it
    out["put"] = n / (time.perf_counter() - t)
    t = time.perf_counter()
    for i in range(n):
        m.get(i)
    out["get"] = n / (time.perf_counter() - t)
    m.put("c", broker.Count(0))
    t = time.perf_counter()
    for i in range(n):
        m.increment("c", broker.Count(1))
    assert m.get("c") == broker.Count(n)
    out["increment"] = n / (time.perf_counter() - t)
    print(json.dumps(out), flush=True)
    """
)

SQLITE_OPS = textwrap.dedent(
    """
    import json, os, sys, time, broker
    n, path = int(sys.argv[1]), sys.argv[2]
    ep = broker.Endpoint()
    m = ep.attach_master("sq", broker.Backend.SQLite,
                         {"path": path,
                          "synchronous": broker.Enum("Broker::SQLITE_SYNCHRONOUS_NORMAL"),
                          "journal_mode": broker.Enum("Broker::SQLITE_JOURNAL_MODE_WAL")})
    t = time.perf_counter()
    for i in range(n):
        m.put(i, "value-%d" % i)
    assert m.get(n - 1) == "value-%d" % (n - 1)
    print(json.dumps({"sqlite_put": n / (time.perf_counter() - t)}), flush=True)
    """
)

MASTER_PROC = textwrap.dedent(
    """
    import sys, broker
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
    """
)

# Runs the clone; starts the master as its own child with the same Python
# (and so the same broker package).
PROPAGATION = textwrap.dedent(
    """
    import json, os, statistics, subprocess, sys, time, broker
    samples = int(sys.argv[1])
    master = subprocess.Popen([sys.executable, "-c", sys.argv[2]],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env=os.environ.copy())
    try:
        port = int(master.stdout.readline())
        ep = broker.Endpoint()
        assert ep.peer("127.0.0.1", port, 1.0)
        clone = ep.attach_clone("prop")
        master.stdin.write("put 0\\n")
        master.stdin.flush()
        deadline = time.monotonic() + 60
        while clone.get("k") != 0:
            assert time.monotonic() < deadline, "the clone never synchronised"
            time.sleep(0.01)
        lat = []
        for i in range(1, samples + 1):
            t = time.perf_counter()
            master.stdin.write("put %d\\n" % i)
            master.stdin.flush()
            limit = time.monotonic() + 5
            while clone.get("k") != i and time.monotonic() < limit:
                pass
            lat.append((time.perf_counter() - t) * 1000)
        master.stdin.write("quit\\n")
        master.stdin.flush()
        master.wait(10)
    finally:
        master.kill()
    lat.sort()
    print(json.dumps({"median": statistics.median(lat),
                      "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))]}),
          flush=True)
    """
)


def run_script(cmd: list[str], script: str, *args: str, env=None, timeout=600) -> dict:
    with tempfile.TemporaryDirectory() as cwd:
        out = subprocess.run(
            [*cmd, "-c", script, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=cwd,
            env=env,
        )
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr else "failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(cmd: list[str], n: int, samples: int, env) -> dict:
    result = run_script(cmd, MASTER_OPS, str(n), env=env)
    with tempfile.TemporaryDirectory() as tmp:
        result.update(run_script(cmd, SQLITE_OPS, str(n), os.path.join(tmp, "b.sqlite"), env=env))
    prop = run_script(cmd, PROPAGATION, str(samples), MASTER_PROC, env=env)
    result["prop_median"] = prop["median"]
    result["prop_p99"] = prop["p99"]
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    which = ap.add_mutually_exclusive_group()
    which.add_argument("--no-real", action="store_true")
    which.add_argument("--real-cmd", default="/work/shared/reference/real-broker python",
                       help="command that runs a Python script with real Broker")
    which.add_argument("--real-python",
                       help="instead: a Python that imports real Broker's bindings")
    args = ap.parse_args()
    if args.real_python:
        args.real_cmd = shlex.quote(args.real_python)
    n = 20_000 if args.quick else 200_000
    samples = 50 if args.quick else 300
    env = os.environ.copy()

    print(f"store benchmark ({'quick' if args.quick else 'full'}, n={n}, real Broker n={n // 10})")
    ours = measure([sys.executable], n, samples, env)
    real = None
    if not args.no_real:
        clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        try:
            real = measure(shlex.split(args.real_cmd), n // 10, samples, clean)
        except Exception as exc:  # real Broker missing or failing: just say so
            print(f"real Broker: not measured ({exc})")

    rows = [
        ("put", "ops/s", 500e3, True),
        ("get", "ops/s", 500e3, True),
        ("increment", "ops/s", None, True),
        ("sqlite_put", "ops/s", 100e3, True),
        ("prop_median", "ms", 0.5, False),
        ("prop_p99", "ms", None, False),
    ]
    print(f"{'case':<13}{'unit':<6}{'ours':>13}{'target':>13}{'real Broker':>13}{'ours/real':>11}")
    for key, unit, target, higher_better in rows:
        mine = ours[key]
        r = real.get(key) if real else None
        if target is None:
            t = "-"
        else:
            t = (">= " if higher_better else "<= ") + (f"{target:,.0f}" if target >= 10 else f"{target}")
        ratio = f"{mine / r:10.1f}x" if r else "       n/a"
        fmt = (lambda x: f"{x:,.0f}") if unit == "ops/s" else (lambda x: f"{x:.3f}")
        print(f"{key:<13}{unit:<6}{fmt(mine):>13}{t:>13}{(fmt(r) if r else 'n/a'):>13}{ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
