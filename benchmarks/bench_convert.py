#!/usr/bin/env python3
"""Conversion benchmark for broker.Data: Python <-> Data and the wire codec.

Prints, for whatever ``broker`` package is importable:

* ``Data.from_py(x)`` and ``to_py`` in microseconds per operation (best of N
  timeit-style repeats) for three shapes: a small vector ``[i, "x", 3.14]``,
  a list of 100 strings and a dict of 100 str -> int entries;
* binary encode (``Data.to_bytes``) and decode (``Data.from_bytes``)
  throughput in MB/s (10^6 bytes of encoded output/input per second) over a
  mixed batch of 10,000 values of those shapes, when the package has them.

Targets printed beside the numbers: <= 1 us for the small vector, <= 15 us
for the containers, >= 200 MB/s for the codec.

When another interpreter has Debian's real Broker (python3-broker, default
``/usr/bin/python3``), the same from_py/to_py cases run there in a
subprocess and a side-by-side table with ratios follows. Real Broker's
``to_py`` is a static method (``Data.to_py(d)``), ours a method
(``d.to_py()``); each side is timed with its own spelling. The two sides
run on different interpreters, so the ratios compare whole stacks.

Usage:
    bench_convert.py [--quick] [--real-python PATH | --no-real]

This is a program that prints numbers, not a test: it never fails on a
missed target.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import timeit

# The three shapes. Built fresh per process so that both sides time equal
# inputs.
CASES = [
    ("small", "[i, 'x', 3.14]", lambda: [12345, "x", 3.14], 1.0),
    ("strings", "list of 100 str", lambda: [f"string-{i:03d}" for i in range(100)], 15.0),
    ("dict", "dict of 100 str->int", lambda: {f"key-{i:03d}": i for i in range(100)}, 15.0),
]
BATCH_SIZE = 10_000
CODEC_TARGET_MBPS = 200.0


def settings(quick: bool) -> dict:
    # repeat: best-of-N; min_time: seconds one repeat should at least last.
    if quick:
        return {"repeat": 3, "min_time": 0.05, "batch_repeat": 3}
    return {"repeat": 7, "min_time": 0.2, "batch_repeat": 7}


def best_per_op(timer: timeit.Timer, repeat: int, min_time: float) -> float:
    """Seconds per call: calibrate the loop count, then best of `repeat`."""
    number = 1
    while True:
        elapsed = timer.timeit(number)
        if elapsed >= min_time:
            break
        # Aim a bit past min_time, grow at most 10x per step.
        number = max(number + 1, min(number * 10, int(number * min_time * 1.2 / max(elapsed, 1e-9))))
    best = elapsed / number
    for _ in range(repeat - 1):
        best = min(best, timer.timeit(number) / number)
    return best


def describe_broker(broker) -> dict:
    data_cls = broker.Data
    # Real Broker (python3-broker): `to_py` is a staticmethod taking the
    # Data; ours is a method.
    static_to_py = isinstance(inspect.getattr_static(data_cls, "to_py"), staticmethod)
    return {
        "file": getattr(broker, "__file__", "?"),
        "version": getattr(broker, "__version__", "?"),
        "static_to_py": static_to_py,
        "has_codec": hasattr(data_cls, "to_bytes") and hasattr(data_cls, "from_bytes"),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "executable": sys.executable,
    }


def measure_conversions(broker, quick: bool) -> dict:
    cfg = settings(quick)
    info = describe_broker(broker)
    Data = broker.Data
    results = {}
    for name, _, make, _ in CASES:
        x = make()
        d = Data.from_py(x)
        from_py = timeit.Timer("from_py(x)", globals={"from_py": Data.from_py, "x": x})
        if info["static_to_py"]:
            to_py = timeit.Timer("to_py(d)", globals={"to_py": Data.to_py, "d": d})
        else:
            to_py = timeit.Timer("d.to_py()", globals={"d": d})
        results[name] = {
            "from_py_us": best_per_op(from_py, cfg["repeat"], cfg["min_time"]) * 1e6,
            "to_py_us": best_per_op(to_py, cfg["repeat"], cfg["min_time"]) * 1e6,
        }
    return {"info": info, "results": results}


def measure_codec(broker, quick: bool) -> dict | None:
    Data = broker.Data
    if not (hasattr(Data, "to_bytes") and hasattr(Data, "from_bytes")):
        return None
    cfg = settings(quick)
    values = []
    for i in range(BATCH_SIZE):
        kind = i % 3
        if kind == 0:
            values.append(Data.from_py([i, "x", 3.14 * i]))
        elif kind == 1:
            values.append(Data.from_py([f"string-{i}-{j:03d}" for j in range(100)]))
        else:
            values.append(Data.from_py({f"key-{j:03d}": i * j for j in range(100)}))
    blobs = [d.to_bytes() for d in values]
    total = sum(len(b) for b in blobs)
    # Sanity: the batch survives the round trip.
    assert all(Data.from_bytes(b) == d for b, d in zip(blobs, values))

    enc = timeit.Timer("for d in values: to_bytes(d)",
                       globals={"values": values, "to_bytes": Data.to_bytes})
    dec = timeit.Timer("for b in blobs: from_bytes(b)",
                       globals={"blobs": blobs, "from_bytes": Data.from_bytes})
    enc_s = min(enc.repeat(repeat=cfg["batch_repeat"], number=1))
    dec_s = min(dec.repeat(repeat=cfg["batch_repeat"], number=1))
    return {
        "values": len(values),
        "bytes": total,
        "encode_mbps": total / enc_s / 1e6,
        "decode_mbps": total / dec_s / 1e6,
        "encode_us_per_value": enc_s / len(values) * 1e6,
        "decode_us_per_value": dec_s / len(values) * 1e6,
    }


# -- the other interpreter ----------------------------------------------------


def run_real(python: str, quick: bool) -> tuple[dict | None, str]:
    """Runs this script's --worker mode under `python`, isolated (-I: no
    PYTHONPATH, no user site, no script folder on sys.path) and from an
    empty folder, so that it imports that interpreter's own broker."""
    if not os.path.exists(python):
        return None, f"{python} not found"
    cmd = [python, "-I", os.path.abspath(__file__), "--worker"]
    if quick:
        cmd.append("--quick")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    with tempfile.TemporaryDirectory() as cwd:
        try:
            proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True,
                                  text=True, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as e:
            return None, f"could not run {python}: {e}"
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return None, f"{python}: {last}"
    return json.loads(proc.stdout), ""


def same_package(a: dict, b: dict) -> bool:
    return os.path.realpath(a["file"]) == os.path.realpath(b["file"])


# -- output -------------------------------------------------------------------


def verdict(value: float, target: float, higher_is_better: bool = False) -> str:
    ok = value >= target if higher_is_better else value <= target
    return "ok" if ok else "MISSED"


def print_ours(ours: dict, codec: dict | None) -> None:
    info = ours["info"]
    print(f"broker: {info['file']} (version {info['version']}), {info['python']}")
    print()
    print(f"{'case':<32}{'us/op':>10}  {'target':>8}")
    for name, label, _, target in CASES:
        r = ours["results"][name]
        for op in ("from_py", "to_py"):
            v = r[f"{op}_us"]
            print(f"{op + ' ' + label:<32}{v:>10.3f}  {'<= ' + format(target, 'g'):>8}  {verdict(v, target)}")
    print()
    if codec is None:
        print("binary codec: n/a (this broker.Data has no to_bytes/from_bytes)")
        return
    print(f"binary codec, mixed batch of {codec['values']} values, "
          f"{codec['bytes'] / 1e6:.2f} MB encoded:")
    for op in ("encode", "decode"):
        v = codec[f"{op}_mbps"]
        per = codec[f"{op}_us_per_value"]
        print(f"  {op:<8}{v:>10.1f} MB/s  ({per:.2f} us/value)  "
              f"target >= {CODEC_TARGET_MBPS:g} MB/s  {verdict(v, CODEC_TARGET_MBPS, True)}")


def print_comparison(ours: dict, real: dict) -> None:
    ri = real["info"]
    print()
    print(f"real Broker: {ri['file']}, {ri['python']} ({ri['executable']})")
    print(f"{'case':<32}{'ours us':>10}{'real us':>10}{'real/ours':>11}")
    for name, label, _, _ in CASES:
        for op in ("from_py", "to_py"):
            a = ours["results"][name][f"{op}_us"]
            b = real["results"][name][f"{op}_us"]
            print(f"{op + ' ' + label:<32}{a:>10.3f}{b:>10.3f}{b / a:>10.1f}x")
    if not ri["has_codec"]:
        print("(real Broker's Python API has no Data.to_bytes/from_bytes: no codec comparison)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer, shorter repeats")
    ap.add_argument("--real-python", default="/usr/bin/python3",
                    help="interpreter with real Broker to compare against (default %(default)s)")
    ap.add_argument("--no-real", action="store_true", help="skip the real Broker comparison")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()

    import broker

    if args.worker:
        json.dump(measure_conversions(broker, args.quick), sys.stdout)
        return 0

    started = time.perf_counter()
    ours = measure_conversions(broker, args.quick)
    codec = measure_codec(broker, args.quick)
    print_ours(ours, codec)
    if not args.no_real:
        real, why = run_real(args.real_python, args.quick)
        if real is None:
            print(f"\nreal Broker comparison skipped: {why}")
        elif same_package(ours["info"], real["info"]):
            print(f"\nreal Broker comparison skipped: {args.real_python} imports the same package")
        else:
            print_comparison(ours, real)
    print(f"\n({'quick' if args.quick else 'full'} run, {time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
