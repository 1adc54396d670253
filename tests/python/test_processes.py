"""Endpoints in separate processes: ping/pong, a peer killed mid-stream and
reconnection, and interpreters that exit without calling shutdown().

Child processes run small scripts with sys.executable and inherit
PYTHONPATH through the environment. They report over stdout (one line per
event) and every loop in them is bounded in time.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import textwrap
import time


import broker

from conftest import wait_until

PRELUDE = textwrap.dedent(
    """
    import sys, time, threading
    import broker
    DEADLINE = time.monotonic() + 60.0   # no child outlives a broken test

    def say(*args):
        print(*args, flush=True)

    def wait_for(pred, timeout=10.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if pred():
                return True
            time.sleep(0.01)
        return pred()

    def knows(ep, topic):
        return topic in {t.string() for t in ep.peer_subscriptions()}
    """
)


class Child:
    """A Python subprocess running `script` (PRELUDE prepended)."""

    def __init__(self, script: str, *args):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", PRELUDE + textwrap.dedent(script), *map(str, args)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=os.environ,
        )
        self._buf = b""

    def readline(self, timeout: float = 10.0) -> str:
        """The next line of output; fails on timeout or EOF."""
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            assert left > 0, f"child said nothing within {timeout}s: {self.stderr_now()}"
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 4096)
                assert chunk, f"child exited early: {self.finish(5.0)}"
                self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return line.decode()

    def stderr_now(self) -> str:
        if self.proc.poll() is None:
            return "(still running)"
        return self.proc.stderr.read().decode(errors="replace")

    def finish(self, timeout: float) -> tuple[int, str]:
        """Waits for the exit; returns (returncode, stderr)."""
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"child did not exit within {timeout}s")
        return self.proc.returncode, err.decode(errors="replace")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10.0)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.kill()
        for f in (self.proc.stdout, self.proc.stderr):
            f.close()


def free_port() -> int:
    """A port that was free a moment ago (bind to 0, then release it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def knows(ep: broker.Endpoint, topic: str) -> bool:
    return topic in {t.string() for t in ep.peer_subscriptions()}


def clean_exit(rc: int, err: str) -> None:
    assert rc == 0, f"exit code {rc}: {err}"
    for bad in ("Traceback", "terminate called", "Fatal Python error",
                "Segmentation fault", "Aborted", "AddressSanitizer"):
        assert bad not in err, err


# -- ping / pong ------------------------------------------------------------------------

ECHO = """
    ep = broker.Endpoint()
    sub = ep.make_subscriber("/ping")
    if sys.argv[1] == "listen":
        say(ep.listen("127.0.0.1", 0))
    else:
        assert ep.peer("127.0.0.1", int(sys.argv[2]), 1.0)
        say("peered")
    assert wait_for(lambda: knows(ep, "/pong"))
    while time.monotonic() < DEADLINE:
        msg = sub.get(1.0)
        if msg is None:
            continue
        topic, value = msg
        if value == "stop":
            break
        ep.publish("/pong", [topic, value])
    ep.shutdown()
    say("done")
"""


def ping_pong(ep: broker.Endpoint, sub, child: Child, n: int = 20) -> None:
    assert wait_until(lambda: knows(ep, "/ping"))
    for i in range(n):
        value = {"i": broker.Count(i), "s": "x" * i, "v": (1.5, -i)}
        ep.publish(f"/ping/{i}", value)
        assert sub.get(10.0) == ("/pong", (f"/ping/{i}", value))
    ep.publish("/ping", "stop")
    assert child.readline() == "done"
    clean_exit(*child.finish(10.0))


def test_ping_pong_child_listens():
    with broker.Endpoint() as ep, Child(ECHO, "listen") as child:
        sub = ep.make_subscriber("/pong")
        port = int(child.readline())
        assert ep.peer("127.0.0.1", port, 1.0)
        ping_pong(ep, sub, child)


def test_ping_pong_child_connects():
    with broker.Endpoint() as ep:
        sub = ep.make_subscriber("/pong")
        port = ep.listen("127.0.0.1", 0)
        with Child(ECHO, "connect", port) as child:
            assert child.readline() == "peered"
            ping_pong(ep, sub, child)


# -- a peer killed mid-stream -------------------------------------------------------------

STREAMER = """
    port, tag = int(sys.argv[1]), sys.argv[2]
    ep = broker.Endpoint()
    assert ep.listen("127.0.0.1", port) == port, "port taken"
    say("ready")
    assert wait_for(lambda: knows(ep, "/stream"), 30.0)
    i = 0
    while time.monotonic() < DEADLINE:
        ep.publish("/stream", [tag, broker.Count(i)])
        i += 1
        time.sleep(0.002)
"""


def wait_status(st, want, timeout: float = 10.0) -> list:
    """Collects status events until the codes in `want` were seen in that
    order; returns everything collected."""
    seen = []
    deadline = time.monotonic() + timeout
    idx = 0
    while idx < len(want):
        left = deadline - time.monotonic()
        assert left > 0, f"wanted {want}, saw {seen}"
        ev = st.get(left)
        if ev is None:
            continue
        seen.append(ev)
        if ev.code() == want[idx]:
            idx += 1
    return seen


def start_streamer(port: int, tag: str) -> Child:
    child = Child(STREAMER, port, tag)
    line = child.readline()
    assert line == "ready", line
    return child


def test_killed_peer_is_lost_then_reconnected():
    port = free_port()
    with broker.Endpoint() as ep:
        st = ep.make_status_subscriber(receive_statuses=True)
        sub = ep.make_subscriber("/stream", qsize=10000)
        with start_streamer(port, "first") as first:
            assert ep.peer("127.0.0.1", port, 0.2)
            wait_status(st, [broker.SC.PeerAdded])
            got = [sub.get(10.0) for _ in range(10)]
            assert all(m is not None and m[1][0] == "first" for m in got), got
            first.proc.send_signal(signal.SIGKILL)
            first.proc.wait(10.0)
            # The survivor notices: peer lost, then unreachable.
            seen = wait_status(st, [broker.SC.PeerLost, broker.SC.EndpointUnreachable])
            assert all(isinstance(e, broker.Status) for e in seen)
            lost = [e for e in seen if e.code() == broker.SC.PeerLost][0]
            assert lost.context().network.port == port
        # Retries every 0.2 s: PeerUnavailable errors keep coming.
        errors = []
        start = time.monotonic()
        while len(errors) < 3:
            assert time.monotonic() - start < 5.0, errors
            ev = st.get(1.0)
            if isinstance(ev, broker.Error):
                assert ev.code() == broker.EC.PeerUnavailable, ev
                errors.append(time.monotonic())
        # Three attempts at 0.2 s intervals: well under a second apart each.
        assert errors[-1] - errors[0] < 2.0
        peers = ep.peers()
        assert len(peers) == 1 and peers[0].status in (
            broker.PeerStatus.Reconnecting, broker.PeerStatus.Connecting)
        # A new process on the same port: the survivor reconnects by itself.
        with start_streamer(port, "second") as second:
            wait_status(st, [broker.SC.PeerAdded])
            deadline = time.monotonic() + 10.0
            while True:
                assert time.monotonic() < deadline
                msg = sub.get(1.0)
                if msg is not None and msg[1][0] == "second":
                    break
            assert wait_until(lambda: [p.status for p in ep.peers()]
                              == [broker.PeerStatus.Peered])
            second.kill()
        # Unpeering stops the retries.
        wait_status(st, [broker.SC.PeerLost])
        assert ep.unpeer("127.0.0.1", port)
        st.poll()
        assert st.get(0.6) is None
        assert ep.peers() == []


def test_killed_inbound_peer_is_not_retried():
    # The child initiated the peering, so the survivor does not reconnect.
    with broker.Endpoint() as ep:
        st = ep.make_status_subscriber(receive_statuses=True)
        port = ep.listen("127.0.0.1", 0)
        script = """
            ep = broker.Endpoint()
            assert ep.peer("127.0.0.1", int(sys.argv[1]), 0.2)
            say("peered")
            while time.monotonic() < DEADLINE:
                time.sleep(0.05)
        """
        with Child(script, port) as child:
            assert child.readline() == "peered"
            wait_status(st, [broker.SC.PeerAdded])
            child.proc.send_signal(signal.SIGKILL)
            child.proc.wait(10.0)
            wait_status(st, [broker.SC.PeerLost, broker.SC.EndpointUnreachable])
        assert st.get(0.6) is None
        assert ep.peers() == []


# -- interpreter exit without shutdown() -------------------------------------------------


# "Promptly": a non-reading peer can cost one BYE timeout (3 s) plus the
# flush deadline (2 s) at exit; anything near this bound is a hang.
PROMPT = 10.0


def run_to_exit(script: str, *args, timeout: float = 15.0) -> tuple[int, str, float]:
    start = time.monotonic()
    with Child(script, *args) as child:
        rc, err = child.finish(timeout)
    took = time.monotonic() - start
    assert took < PROMPT, f"exit took {took:.1f}s: {err}"
    return rc, err, took


def test_exit_without_shutdown_idle():
    rc, err, took = run_to_exit("""
        ep = broker.Endpoint()
        ep.listen("127.0.0.1", 0)
        sub = ep.make_subscriber("/x")
        st = ep.make_status_subscriber(True)
        say("bye")
    """)
    clean_exit(rc, err)


def test_exit_without_shutdown_while_peered_in_process():
    rc, err, took = run_to_exit("""
        a, b = broker.Endpoint(), broker.Endpoint()
        port = b.listen("127.0.0.1", 0)
        assert a.peer("127.0.0.1", port, 1.0)
        sa, sb = a.make_subscriber("/t"), b.make_subscriber("/t")
        assert wait_for(lambda: knows(a, "/t") and knows(b, "/t"))
        for i in range(100):
            a.publish("/t", i)
            b.publish("/t", -i)
        say("bye")
    """)
    clean_exit(rc, err)


def test_exit_without_shutdown_with_blocked_threads():
    # Daemon threads stay blocked in get() (subscriber and status
    # subscriber) while the interpreter finalizes.
    rc, err, took = run_to_exit("""
        a, b = broker.Endpoint(), broker.Endpoint()
        port = b.listen("127.0.0.1", 0)
        assert a.peer("127.0.0.1", port, 1.0)
        sub = b.make_subscriber("/never")
        st = a.make_status_subscriber(True)
        started = threading.Barrier(3)
        def block_sub():
            started.wait()
            sub.get()
        def block_status():
            started.wait()
            while True:
                st.get()
        for f in (block_sub, block_status):
            threading.Thread(target=f, daemon=True).start()
        started.wait()
        say("bye")
    """)
    clean_exit(rc, err)


def test_exit_without_shutdown_with_blocked_publisher():
    # A daemon thread blocked publishing into a full queue (the peer's
    # subscriber never reads) when the interpreter exits.
    rc, err, took = run_to_exit("""
        opts = broker.BrokerOptions()
        opts.peer_buffer_size = 10
        a = broker.Endpoint(broker.Configuration(opts))
        b = broker.Endpoint()
        port = b.listen("127.0.0.1", 0)
        assert a.peer("127.0.0.1", port, 1.0)
        sub = b.make_subscriber("/flood", qsize=2)
        assert wait_for(lambda: knows(a, "/flood"))
        def flood():
            try:
                while True:
                    a.publish("/flood", "x" * 1000)
            except RuntimeError:
                pass  # "endpoint is shut down": the atexit shutdown
        threading.Thread(target=flood, daemon=True).start()
        assert wait_for(lambda: a.make_publisher("/flood").buffered() > 0)
        say("bye")
    """)
    clean_exit(rc, err)


def test_exit_without_shutdown_while_peered_across_processes():
    with broker.Endpoint() as ep:
        st = ep.make_status_subscriber(receive_statuses=True)
        sub = ep.make_subscriber("/from-child", qsize=1000)
        port = ep.listen("127.0.0.1", 0)
        script = """
            ep = broker.Endpoint()
            other = broker.Endpoint()
            p2 = other.listen("127.0.0.1", 0)
            assert ep.peer("127.0.0.1", p2, 1.0)
            assert ep.peer("127.0.0.1", int(sys.argv[1]), 1.0)
            sub = ep.make_subscriber("/never")
            threading.Thread(target=sub.get, daemon=True).start()
            assert wait_for(lambda: knows(ep, "/from-child"))
            for i in range(50):
                ep.publish("/from-child", i)
            say("bye")
        """
        rc, err, took = run_to_exit(script, port)
        clean_exit(rc, err)
        # Everything published before exit arrived (flushed at exit), and
        # the peering ended.
        got = []
        deadline = time.monotonic() + 10.0
        while len(got) < 50:
            assert time.monotonic() < deadline, got
            msg = sub.get(1.0)
            if msg is not None:
                got.append(msg[1])
        assert got == list(range(50))
        seen = wait_status(st, [broker.SC.PeerAdded, broker.SC.EndpointUnreachable])
        codes = [e.code() for e in seen]
        assert broker.SC.PeerRemoved in codes or broker.SC.PeerLost in codes
        assert wait_until(lambda: ep.peers() == [])


def test_exit_by_uncaught_exception_while_peered():
    rc, err, took = run_to_exit("""
        a, b = broker.Endpoint(), broker.Endpoint()
        port = b.listen("127.0.0.1", 0)
        assert a.peer("127.0.0.1", port, 1.0)
        raise SystemExit(3)
    """)
    assert rc == 3, err
    assert "terminate called" not in err and "Fatal" not in err


def test_exit_after_endpoints_are_garbage():
    rc, err, took = run_to_exit("""
        import gc
        for _ in range(5):
            a, b = broker.Endpoint(), broker.Endpoint()
            port = b.listen("127.0.0.1", 0)
            assert a.peer("127.0.0.1", port, 1.0)
            s = a.make_subscriber("/x")
            del a, b, s
            gc.collect()
        say("bye")
    """)
    clean_exit(rc, err)
