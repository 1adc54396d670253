"""A blocking get() releases the GIL and Ctrl-C interrupts it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import sys, broker
    ep = broker.Endpoint()
    sub = ep.make_subscriber("/nothing")
    status = ep.make_status_subscriber(True)
    try:
        # Inside the try: a SIGINT right after "ready" is still caught here.
        print("ready", flush=True)
        (status if sys.argv[1] == "status" else sub).get()
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    ep.shutdown()
    """
)


def run_and_interrupt(kind: str) -> str:
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, kind],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0
    return out


def test_ctrl_c_interrupts_a_blocking_get():
    assert "interrupted" in run_and_interrupt("data")


def test_ctrl_c_interrupts_a_blocking_status_get():
    assert "interrupted" in run_and_interrupt("status")
