"""Runs measure.py under real Broker and under our package and prints the
results side by side (the table of docs/interop-measurements.md).

    .venv/bin/python tests/python/interop_scripts/compare.py [--json FILE] [measure.py options]

Our package is the one `--ours-python` (default: this interpreter) imports;
real Broker is found as the tests find it ($REAL_BROKER, else
../shared/reference/real-broker next to the repository root). Both runs
start in an empty temporary folder, so neither imports the source tree.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import interop  # noqa: E402  (tests/python/interop.py: finds real Broker)


def run(cmd: list, timeout: float) -> dict:
    with tempfile.TemporaryDirectory() as cwd:
        out = subprocess.run(
            cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
        )
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stderr}")
    return json.loads(out.stdout)


def rows(res: dict) -> list:
    """(scenario, observation) pairs for one implementation's results."""
    out = []
    for a in res.get("a", []):
        out.append(
            (
                f"a. chain A-B-C, B {a['middle']}: A's messages at C",
                f"{a['delivered_to_C']}/{a['published']}"
                f" (control from B: {a['control_from_B']}/1)",
            )
        )
    for b in res.get("b", []):
        out.append(
            (
                f"b. await_peer across {b['hops']} hops ({b['endpoints']} endpoints)",
                f"{b['await_peer_far']} after {b['elapsed_s']} s of {b['timeout_s']} s"
                f" (direct peer: {b['control_direct_peer']})",
            )
        )
    if "c" in res:
        c = res["c"]
        out.append(
            (
                f"c. triangle, A publishes {c['published_by_A']}: copies in {c['window_s']} s",
                f"A {c['A']}, B {c['B']}, C {c['C']}"
                f" (in the last 0.5 s: {sum(c['last_half_second'])})",
            )
        )
    for d in res.get("d", []):
        second = d["second_attach"]
        what = second["returned"] + (f" ({second['error']})" if second["error"] else "")
        hops = f"{d['hops']} hop" + ("s" if d["hops"] != 1 else "")
        out.append((f"d. attach_master, master {hops} away", what))
    if "e" in res:
        e = res["e"]
        wire, api = e["metadata_key_types_on_wire"], e["metadata_key_types_in_python"]
        out.append(("e. metadata key types on the wire", ", ".join(wire)))
        out.append(("e. metadata key types from Event.metadata()", ", ".join(api)))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ours-python", default=sys.executable)
    p.add_argument("--json", help="also write both raw results to this file")
    p.add_argument("--timeout", type=float, default=600.0)
    args, measure_args = p.parse_known_args()
    launcher, how = interop.real_broker()
    if launcher is None:
        raise SystemExit(f"real Broker not found at {how}")
    script = str(HERE / "measure.py")
    real = run([str(launcher), "python", script, *measure_args], args.timeout)
    ours = run([args.ours_python, script, *measure_args], args.timeout)
    if args.json:
        both = json.dumps({"real": real, "ours": ours}, indent=1)
        pathlib.Path(args.json).write_text(both + "\n")
    print(f"| scenario | real Broker {real['version']} | ours {ours['version']} |")
    print("| --- | --- | --- |")
    for (name, r), (name2, o) in zip(rows(real), rows(ours)):
        assert name == name2, (name, name2)
        print(f"| {name} | {r} | {o} |")


if __name__ == "__main__":
    main()
