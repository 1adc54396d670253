"""Each store runs on its own thread: a call that waits on a stalled disk or
an unreachable master holds neither the GIL nor other callers, waits at most
real Broker's request timeout (10 s), and calls on a detached or shut-down
store raise at once."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

import broker

pytestmark = pytest.mark.timeout(120)


class Counter(threading.Thread):
    """Counts as fast as the GIL lets it, until stopped."""

    def __init__(self):
        super().__init__(daemon=True)
        self.n = 0
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            self.n += 1

    def advances_while(self, busy: threading.Thread, seconds: float = 0.3) -> bool:
        """Whether the count grows by a lot while `busy` is still running."""
        before = self.n
        busy.join(seconds)
        return busy.is_alive() and self.n - before > 1000


def test_a_call_waiting_on_a_locked_sqlite_file_lets_python_run(tmp_path):
    path = str(tmp_path / "locked.sqlite")
    with broker.Endpoint() as ep:
        m = ep.attach_master("locked", broker.Backend.SQLite,
                             {"path": path, "journal_mode": "wal", "synchronous": "normal"})
        m.put("k", 0)
        assert m.get("k") == 0
        # Another connection holds the write lock: the master's next write
        # waits for it (SQLite's busy timeout).
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        queued = threading.Event()
        result = {}

        def writer():
            m.put("k", 1)  # returns once queued, lock or not
            queued.set()
            result["k"] = m.get("k")  # answered after the write and its commit

        t = threading.Thread(target=writer, daemon=True)
        counter = Counter()
        counter.start()
        try:
            t.start()
            assert queued.wait(3.0), "put() waited for the disk"
            assert counter.advances_while(t), "the waiting get() held the GIL"
            assert "k" not in result
        finally:
            other.execute("ROLLBACK")
            other.close()
            t.join(15)
            counter.halt.set()
            counter.join(5)
        assert not t.is_alive()
        assert result["k"] == 1
        m.reset()


def test_a_request_to_an_unreachable_master_fails_after_the_timeout():
    with broker.Endpoint() as ep:
        # A clone whose master never shows up: put_unique needs its answer.
        c = ep.attach_clone("nowhere")
        outcome = {}

        def ask():
            try:
                outcome["value"] = c.put_unique("k", 1)
            except RuntimeError as e:
                outcome["error"] = str(e)

        t = threading.Thread(target=ask, daemon=True)
        counter = Counter()
        counter.start()
        try:
            t.start()
            assert counter.advances_while(t, 1.0), "the waiting put_unique() held the GIL"
            t.join(30)  # real Broker's 10 s request timeout, with room to spare
        finally:
            counter.halt.set()
            counter.join(5)
        assert not t.is_alive()
        assert "value" not in outcome
        assert "RequestTimeout" in outcome["error"] or "request_timeout" in outcome["error"]
        # Reads answer from the replica meanwhile, mutations queue.
        assert c.get("k") is None
        c.put("later", 1)
        c.reset()


def test_a_query_sees_the_mutations_before_it_from_the_same_thread(endpoint):
    m = endpoint.attach_master("fifo", broker.Backend.Memory)
    for i in range(2000):
        m.put(i, i)
        m.increment("n", broker.Count(1))
        if i % 500 == 0:
            assert m.get(i) == i
            assert m.get("n") == broker.Count(i + 1)
    m.erase(0)
    assert m.exists(0) is False
    assert len(m.keys()) == 2000  # 1..1999 and "n"
    m.reset()


STORE_CALLS = {
    "get": lambda s: s.get("k"),
    "exists": lambda s: s.exists("k"),
    "keys": lambda s: s.keys(),
    "get_index_from_value": lambda s: s.get_index_from_value("k", 0),
    "put_unique": lambda s: s.put_unique("k", 1),
    "put": lambda s: s.put("k", 1),
    "erase": lambda s: s.erase("k"),
    "clear": lambda s: s.clear(),
    "increment": lambda s: s.increment("k", 1),
    "decrement": lambda s: s.decrement("k", 1),
    "append": lambda s: s.append("k", "x"),
    "insert_into": lambda s: s.insert_into("k", 1),
    "remove_from": lambda s: s.remove_from("k", 1),
    "push": lambda s: s.push("k", 1),
    "pop": lambda s: s.pop("k"),
}


@pytest.mark.parametrize("call", sorted(STORE_CALLS))
def test_every_call_on_a_reset_store_raises_at_once(call):
    with broker.Endpoint() as ep:
        m = ep.attach_master("gone", broker.Backend.Memory)
        m.reset()
        with pytest.raises(RuntimeError, match="ShuttingDown|shutting_down"):
            STORE_CALLS[call](m)
        assert m.await_idle(5.0) is False


@pytest.mark.parametrize("call", sorted(STORE_CALLS))
def test_every_call_after_the_endpoint_shut_down_raises_at_once(call):
    ep = broker.Endpoint()
    m = ep.attach_master("down", broker.Backend.Memory)
    c = ep.attach_clone("down-clone")
    ep.shutdown()
    for s in (m, c):
        with pytest.raises(RuntimeError, match="ShuttingDown|shutting_down"):
            STORE_CALLS[call](s)
        assert s.await_idle(5.0) is False
