"""The tree is the architecture: includes go down the layers only
(scripts/check-layers), for src/ and for the public headers alike."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "check-layers"


def run_check(root: pathlib.Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), str(root)],
                          capture_output=True, text=True, timeout=60)


def test_every_include_goes_down_the_layers():
    run = run_check(ROOT)
    assert run.returncode == 0, run.stdout


def copy_tree(tmp_path: pathlib.Path) -> pathlib.Path:
    for d in ("src", "include", "bindings"):
        shutil.copytree(ROOT / d, tmp_path / d,
                        ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_an_upward_include_in_src_fails_the_check(tmp_path):
    root = copy_tree(tmp_path)
    loop = root / "src" / "net" / "loop.hh"
    loop.write_text('#include "core/core.hh"\n' + loop.read_text())
    run = run_check(root)
    assert run.returncode == 1
    assert "src/net/loop.hh (net) includes core/core.hh (core): upward" \
        in run.stdout


def test_an_upward_public_include_fails_the_check(tmp_path):
    root = copy_tree(tmp_path)
    data = root / "include" / "broker" / "data.hh"
    data.write_text('#include "broker/endpoint.hh"\n' + data.read_text())
    store = root / "src" / "data" / "data.cc"
    store.write_text('#include "broker/store.hh"\n' + store.read_text())
    run = run_check(root)
    assert run.returncode == 1
    assert "include/broker/data.hh (data) includes broker/endpoint.hh (api)" \
        in run.stdout
    assert "src/data/data.cc (data) includes broker/store.hh (api)" in run.stdout


def test_a_public_header_must_not_include_src(tmp_path):
    root = copy_tree(tmp_path)
    port = root / "include" / "broker" / "port.hh"
    port.write_text('#include "net/loop.hh"\n' + port.read_text())
    run = run_check(root)
    assert run.returncode == 1
    assert "include/broker/port.hh: public header includes internal net/loop.hh" \
        in run.stdout
