"""Runs the benchmarks in the source tree's benchmarks/ folder.

Each benchmarks/bench_NAME.py is a program that prints numbers (ours, and
real Broker's beside them when /usr/bin/python3 has Debian's
python3-broker). This driver runs the selected ones one after another with
the same interpreter and broker package as itself, streams their output,
shows which one runs and for how long, and ends with a summary.

benchmarks/ is not installed with the package: it is looked up next to the
broker package (a source checkout, an editable install or PYTHONPATH
pointing at the tree), then in the current directory; --dir overrides.

Examples:
  broker-bench --list
  broker-bench --quick                 all of them, shorter runs
  broker-bench zeek convert --no-real
  broker-bench pubsub -- --scenario rtt   (arguments after -- go to each benchmark)

Exit codes: 0 all ran, 1 one failed or benchmarks/ not found, 2 usage error.
"""

from __future__ import annotations

import argparse
import ast
import os
import select
import subprocess
import sys
import time

import broker

PREFIX = "bench_"


def find_dir(explicit: str | None) -> tuple[str | None, list[str]]:
    """The benchmarks folder, and the places looked at."""
    pkg_root = os.path.dirname(os.path.dirname(os.path.abspath(broker.__file__)))
    candidates = (
        [explicit]
        if explicit
        else [os.path.join(pkg_root, "benchmarks"), os.path.join(os.getcwd(), "benchmarks")]
    )
    for d in candidates:
        if os.path.isdir(d) and any(
            f.startswith(PREFIX) and f.endswith(".py") for f in os.listdir(d)
        ):
            return d, candidates
    return None, candidates


def discover(folder: str) -> dict[str, tuple[str, str]]:
    """name -> (path, first line of its docstring)."""
    found = {}
    for f in sorted(os.listdir(folder)):
        if not (f.startswith(PREFIX) and f.endswith(".py")):
            continue
        path = os.path.join(folder, f)
        try:
            with open(path, encoding="utf-8") as src:
                doc = ast.get_docstring(ast.parse(src.read())) or ""
        except (OSError, SyntaxError, ValueError):
            doc = ""
        found[f[len(PREFIX) : -3]] = (path, doc.strip().split("\n")[0])
    return found


class Ticker:
    """A status line on stderr ("[2/3] pubsub  41 s"), when it is a terminal."""

    def __init__(self):
        self.live = sys.stderr.isatty()
        self.shown = False

    def show(self, text: str) -> None:
        if self.live:
            sys.stderr.write(f"\r\033[K{text}")
            sys.stderr.flush()
            self.shown = True

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
            self.shown = False


def run_one(label: str, cmd: list, env: dict, max_time: float, ticker: Ticker) -> tuple[int, float]:
    started = time.monotonic()
    proc = subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env
    )
    fd = proc.stdout.fileno()
    buf = b""
    try:
        while True:
            elapsed = time.monotonic() - started
            if elapsed > max_time:
                ticker.clear()
                print(f"{label}: still running after {max_time:g} s, stopping it", flush=True)
                proc.kill()
                proc.wait()
                return 1, elapsed
            ticker.show(f"{label}  {elapsed:.0f} s")
            if not select.select([fd], [], [], 0.5)[0]:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            buf += chunk
            if b"\n" in buf:
                done, _, buf = buf.rpartition(b"\n")
                ticker.clear()
                sys.stdout.write(done.decode(errors="replace") + "\n")
                sys.stdout.flush()
        ticker.clear()
        if buf:
            print(buf.decode(errors="replace"), flush=True)
        return proc.wait(), time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1 :]
    ap = argparse.ArgumentParser(
        prog=prog or "broker-bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "names", nargs="*", metavar="NAME", help="benchmarks to run (default: all); see --list"
    )
    ap.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    ap.add_argument("--quick", action="store_true", help="shorter runs (passed to each)")
    ap.add_argument(
        "--no-real",
        action="store_true",
        help="skip the comparison with real Broker (passed to each)",
    )
    ap.add_argument(
        "--real-python",
        metavar="PATH",
        help="interpreter with real Broker (passed to each; default /usr/bin/python3)",
    )
    ap.add_argument("--dir", metavar="DIR", help="the benchmarks folder")
    ap.add_argument(
        "--max-time",
        type=float,
        default=1800.0,
        metavar="SECONDS",
        help="stop a benchmark that runs longer (default %(default)s)",
    )
    args = ap.parse_args(argv)
    if args.no_real and args.real_python:
        ap.error("--no-real and --real-python contradict each other")

    folder, looked = find_dir(args.dir)
    if folder is None:
        print(
            f"{ap.prog}: no benchmarks/ folder with bench_*.py found (looked in "
            f"{', '.join(looked)}). The benchmarks are not installed with the package: run "
            f"from a source checkout, use an editable install (pip install -e .), or give "
            f"--dir PATH/TO/benchmarks.",
            file=sys.stderr,
        )
        return 1
    benches = discover(folder)
    if args.list:
        print(f"benchmarks in {folder}:")
        for name, (_, doc) in benches.items():
            print(f"  {name:<10}{doc}")
        return 0
    unknown = [n for n in args.names if n not in benches]
    if unknown:
        ap.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(benches)}")
    names = list(dict.fromkeys(args.names)) or list(benches)

    passed = []
    if args.quick:
        passed.append("--quick")
    if args.no_real:
        passed.append("--no-real")
    if args.real_python:
        passed += ["--real-python", args.real_python]
    passed += extra
    # The benchmarks import the same broker package as this process.
    pkg_root = os.path.dirname(os.path.dirname(os.path.abspath(broker.__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (pkg_root, env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"

    ticker = Ticker()
    results = []
    try:
        for i, name in enumerate(names, 1):
            label = f"[{i}/{len(names)}] {name}"
            path, doc = benches[name]
            print(f"\n==> {label}: {doc}", flush=True)
            rc, took = run_one(label, [sys.executable, path] + passed, env, args.max_time, ticker)
            print(
                f"<== {label}: {'ok' if rc == 0 else f'FAILED (exit {rc})'} in {took:.1f} s",
                flush=True,
            )
            results.append((name, rc, took))
    except KeyboardInterrupt:
        ticker.clear()
        print("\ninterrupted", flush=True)
        return 1
    print("\nsummary:")
    for name, rc, took in results:
        print(f"  {name:<10}{'ok' if rc == 0 else f'FAILED (exit {rc})':<18}{took:>8.1f} s")
    return 0 if all(rc == 0 for _, rc, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
