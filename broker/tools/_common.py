"""Helpers shared by the tools: addresses, bounded waits, status lines,
signals."""

from __future__ import annotations

import datetime as _dt
import os
import signal
import sys
import time

import broker

DEFAULT_HOST = "127.0.0.1"


class UsageError(Exception):
    """A bad command line: the tool exits with 2."""


def parse_endpoint(text: str, need_host: bool = False) -> tuple[str, int]:
    """``HOST:PORT``, ``[v6]:PORT`` or (unless need_host) ``PORT`` alone,
    which means 127.0.0.1."""
    host, sep, port = text.rpartition(":")
    if not sep:
        if need_host:
            raise UsageError(f"expected HOST:PORT, got {text!r}")
        host = DEFAULT_HOST
    elif host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host:
        host = DEFAULT_HOST
    try:
        number = int(port)
    except ValueError:
        raise UsageError(f"bad port in {text!r}") from None
    if not 0 <= number <= 65535:
        raise UsageError(f"port out of range in {text!r}")
    return host, number


def wait_until(predicate, timeout: float, interval: float = 0.01) -> bool:
    """Polls `predicate` until true or `timeout` seconds passed."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            return bool(predicate())
        time.sleep(interval)
    return True


def peered_count(ep: broker.Endpoint) -> int:
    return sum(1 for p in ep.peers() if p.status == broker.PeerStatus.Peered)


def topic_covered(ep: broker.Endpoint, topic: str) -> bool:
    """Whether some peer subscribes to a prefix of `topic`."""
    return any(sub.prefix_of(topic) for sub in ep.peer_subscriptions())


def peer_within(ep: broker.Endpoint, host: str, port: int, timeout: float) -> str | None:
    """Peers with host:port, retrying until `timeout`. Returns None once
    peered, else why not (the last error the endpoint reported)."""
    # Statuses are queued: a peering that ends at once is still seen.
    events = ep.make_status_subscriber(True)
    ep.peer_nosync(host, port, retry=0.2)
    last = "no answer"
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        ev = events.get(left)
        if isinstance(ev, broker.Status) and ev.code() == broker.SC.PeerAdded:
            return None
        if isinstance(ev, broker.Error):
            last = ev.message() or ev.code().name
    return last


def now() -> str:
    return _dt.datetime.now().strftime("%H:%M:%S.%f")[:-3]


def describe_event(ev) -> str:
    """One line for a broker.Status or broker.Error."""
    ctx = ev.context()
    where = ""
    if ctx is not None:
        net = getattr(ctx, "network", None)
        if net is not None:
            where = f" {net.address}:{net.port}"
        node = getattr(ctx, "node", "")
        if node and node.strip("0-"):  # not the null id
            where += f" node={node[:8]}"
    kind = "status" if isinstance(ev, broker.Status) else "error"
    return f"{kind} {ev.code().name}{where}: {ev.message()}"


class StopSignals:
    """SIGINT and SIGTERM become a readable fd (for select) and a flag,
    instead of exceptions in the middle of whatever runs."""

    def __init__(self):
        self.stopped = None
        self._r, self._w = os.pipe()
        os.set_blocking(self._w, False)
        self._old_fd = signal.set_wakeup_fd(self._w)
        self._old = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._old[sig] = signal.signal(sig, self._handle)

    def _handle(self, signum, _frame) -> None:
        self.stopped = signal.Signals(signum).name

    def fd(self) -> int:
        return self._r

    def close(self) -> None:
        for sig, handler in self._old.items():
            signal.signal(sig, handler)
        signal.set_wakeup_fd(self._old_fd)
        os.close(self._r)
        os.close(self._w)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def err(prog: str, text: str) -> None:
    print(f"{prog}: {text}", file=sys.stderr, flush=True)
