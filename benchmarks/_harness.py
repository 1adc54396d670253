"""Parent-side plumbing shared by the benchmarks (bench_pubsub.py,
bench_zeek.py, bench_fanout.py, bench_websocket.py).

Only the parent process imports this (lazily): the benchmark children run
the scripts themselves, under real Broker's interpreter in isolated mode
(-I), where this folder is not on sys.path.
"""

from __future__ import annotations

import json
import queue
import select
import subprocess
import tempfile
import threading


def read_json_line(p: subprocess.Popen, timeout: float = 90.0) -> dict:
    """The next JSON line a child (text-mode stdout pipe) prints; raises
    when it stays silent for `timeout` seconds or exits."""
    if not select.select([p.stdout], [], [], timeout)[0]:
        raise RuntimeError("child silent")
    line = p.stdout.readline()
    if not line:
        raise RuntimeError(f"child exited ({p.wait()})")
    return json.loads(line)


class Child:
    """A child process whose stdout lines (JSON) are read by a thread, so
    that every read can time out."""

    def __init__(self, cmd: list, env: dict, cwd: str | None):
        self.err = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115  (closed in finish)
        self.proc = subprocess.Popen(
            cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=self.err, text=True, bufsize=1
        )
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def read_json(self, timeout: float) -> dict:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise RuntimeError(f"child silent for {timeout:g} s") from None
        if line is None:
            raise RuntimeError(f"child exited (rc={self.proc.wait()}): {self.stderr_tail()}")
        return json.loads(line)

    def stderr_tail(self) -> str:
        self.err.seek(0)
        lines = self.err.read().strip().splitlines()
        return lines[-1] if lines else "(no stderr)"

    def finish(self, timeout: float) -> None:
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.err.close()
