"""Every script in examples/ runs, as a subprocess, so that none rots.

The scripts run with sys.executable from a temporary folder (so that the
source tree's broker/, which has no compiled extension, is not imported
instead of the installed package) and inherit PYTHONPATH. Every wait is
bounded.

Our package is a drop-in, so the examples that use no API real Broker
lacks also run unchanged under the real Broker 2.8 (../shared/reference),
and ping/pong run across the two implementations.
"""

from __future__ import annotations

import os
import pathlib
import re
import select
import signal
import subprocess
import sys
import time

import pytest

import broker
import interop

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent.parent / "examples"


def python_of(impl: str) -> list[str]:
    """How to run a script with our package ("ours") or real Broker."""
    if impl == "ours":
        return [sys.executable]
    path, how = interop.real_broker()
    if path is None:
        pytest.skip(f"real Broker not available: {how}")
    return [str(path), "python"]


IMPLS = pytest.mark.parametrize("impl", ["ours", "real"])


class Script:
    """An example running in the background; stdout read line by line."""

    def __init__(self, name: str, *args, cwd, impl: str = "ours"):
        self.proc = subprocess.Popen(
            [*python_of(impl), str(EXAMPLES / name), *map(str, args)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=os.environ,
            cwd=cwd,
        )
        self._buf = b""

    def readline(self, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            assert left > 0, f"{self.proc.args[1]} said nothing within {timeout} s"
            if select.select([fd], [], [], left)[0]:
                chunk = os.read(fd, 4096)
                assert chunk, f"exited early: {self.finish()}"
                self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return line.decode()

    def finish(self, timeout: float = 20.0) -> tuple[int, str, str]:
        """Exit code, rest of stdout, stderr."""
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            pytest.fail(f"{self.proc.args[1]} did not exit within {timeout} s: {err.decode()}")
        return self.proc.returncode, (self._buf + out).decode(), err.decode()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


@pytest.fixture
def script(tmp_path):
    started = []

    def start(name, *args, impl="ours"):
        s = Script(name, *args, cwd=tmp_path, impl=impl)
        started.append(s)
        return s

    yield start
    for s in started:
        s.kill()


def run(name: str, *args, cwd, timeout: float = 60.0,
        impl: str = "ours") -> subprocess.CompletedProcess:
    return subprocess.run(
        [*python_of(impl), str(EXAMPLES / name), *map(str, args)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=os.environ,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


def listening_port(line: str) -> int:
    m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
    assert m, line
    return int(m.group(1))


def test_typed_values_round_trip(tmp_path):
    r = run("typed_values.py", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "all values survived the round trip" in r.stdout


@pytest.mark.parametrize("ping_impl, pong_impl",
                         [("ours", "ours"), ("ours", "real"), ("real", "ours"), ("real", "real")])
def test_ping_and_pong_exchange_five_events(script, tmp_path, ping_impl, pong_impl):
    pong = script("pong.py", "--port", 0, "--timeout", 20, impl=pong_impl)
    port = listening_port(pong.readline())
    ping = run("ping.py", "--port", port, "--timeout", 20, cwd=tmp_path, impl=ping_impl)
    assert ping.returncode == 0, ping.stdout + ping.stderr
    assert ping.stdout.splitlines() == [f"received pong[{n}]" for n in range(5)]
    rc, out, err = pong.finish()  # exits once the pinger left
    assert rc == 0, err
    assert [line for line in out.splitlines() if line.startswith("received")] == [
        f"received ping[{n}]" for n in range(5)
    ]
    assert "PeerAdded" in out


@IMPLS
def test_ping_reports_an_unreachable_peer(tmp_path, impl):
    with broker.Endpoint() as ep:  # a port nobody listens on: take one, then free it
        port = ep.listen("127.0.0.1", 0)
    r = run("ping.py", "--port", port, "--timeout", 1, cwd=tmp_path, impl=impl)
    assert r.returncode == 1
    assert "could not connect" in r.stdout


@IMPLS
def test_status_prints_peerings_coming_and_going(script, impl):
    status = script("status.py", "--port", 0, impl=impl)
    port = listening_port(status.readline())
    with broker.Endpoint() as ep:
        assert ep.peer("127.0.0.1", port, 1.0)
        lines = []
        while not any("PeerAdded" in x for x in lines):
            lines.append(status.readline())
    # The endpoint has said goodbye: the other side sees the peer go.
    while not any(re.search("PeerLost|PeerRemoved", x) for x in lines):
        lines.append(status.readline())
    assert lines[0].split()[1] == "status"
    status.proc.send_signal(signal.SIGINT)
    rc, _, err = status.finish()
    assert rc == 0, err


@IMPLS
def test_status_stops_after_count(tmp_path, impl):
    with broker.Endpoint() as ep:
        port = ep.listen("127.0.0.1", 0)
        r = subprocess.Popen(
            [
                *python_of(impl),
                str(EXAMPLES / "status.py"),
                "--port",
                "0",
                "--peer",
                f"127.0.0.1:{port}",
                "--count",
                "2",
            ],
            stdout=subprocess.PIPE,
            text=True,
            env=os.environ,
            cwd=tmp_path,
        )
        out, _ = r.communicate(timeout=30)
    assert r.returncode == 0
    assert len(out.splitlines()) == 3  # "listening on", then two events


@IMPLS
def test_pubsub(tmp_path, impl):
    r = run("pubsub.py", cwd=tmp_path, impl=impl)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "alice got /demo/alerts/high: {" in r.stdout
    assert "alice got /demo/alerts/low: (2, 'x', 3.14)" in r.stdout
    assert "bob got /demo/replies: 'thanks, bob'" in r.stdout


@IMPLS
def test_stores(tmp_path, impl):
    r = run("stores.py", cwd=tmp_path, impl=impl)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "clone sees apples = 3" in r.stdout
    assert "master sees apples = 5 tags = ['fresh', 'local']" in r.stdout
    assert "put_unique from the clone: True" in r.stdout
    assert "again: False" in r.stdout
    assert "the expiring key disappeared on the clone too" in r.stdout


@IMPLS
def test_stores_with_sqlite(tmp_path, impl):
    db = tmp_path / "inventory.sqlite"
    r = run("stores.py", "--sqlite", db, cwd=tmp_path, impl=impl)
    assert r.returncode == 0, r.stdout + r.stderr
    assert db.exists()
