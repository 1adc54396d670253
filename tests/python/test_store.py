"""Data stores: master and clones, every operation, expiry, events."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import broker
from broker import Count

from conftest import wait_until


def eventually(store, key, expected, timeout=10.0):
    return wait_until(lambda: store.get(key) == expected, timeout)


@pytest.fixture
def master_clone(pair):
    """A master on b and a clone of it on a (a peered with b)."""
    a, b = pair
    m = b.attach_master("test-store", broker.Backend.Memory)
    c = a.attach_clone("test-store")
    m.put("probe", 1)
    assert eventually(c, "probe", 1)
    yield m, c, a, b
    c.reset()
    m.reset()


def test_every_operation_on_the_master(endpoint):
    m = endpoint.attach_master("ops", broker.Backend.Memory)
    assert m.name() == "ops"
    assert m.is_master()
    m.put("s", "abc")
    m.put("c", Count(10))
    m.put("i", 5)
    m.put("set", {1, 2})
    m.put("tbl", {"a": 1})
    m.put("vec", [1, 2])
    m.put("none", None)
    assert m.await_idle(5.0)
    assert m.get("s") == "abc"
    assert m.exists("s") and not m.exists("missing")
    assert m.get("missing") is None
    sentinel = object()
    assert m.get("missing", default=sentinel) is sentinel
    assert m.get("none", default=sentinel) is None  # a stored none
    m.increment("c", Count(5))
    m.decrement("i", 2)
    m.append("s", "def")
    m.insert_into("set", 3)
    m.insert_into("tbl", "b", 2)
    m.remove_from("set", 1)
    m.remove_from("tbl", "a")
    m.push("vec", 3)
    m.push("vec", 4)
    m.pop("vec")
    m.increment("new-counter", Count(3))
    assert m.get("c") == Count(15)
    assert m.get("i") == 3
    assert m.get("s") == "abcdef"
    assert m.get("set") == {2, 3}
    assert m.get("tbl") == {"b": 2}
    assert m.get("vec") == (1, 2, 3)
    assert m.get("new-counter") == Count(3)
    assert m.get_index_from_value("tbl", "b") == 2
    assert m.get_index_from_value("set", 3) is True
    assert m.get_index_from_value("vec", Count(0)) == 1
    assert m.keys() == {"s", "c", "i", "set", "tbl", "vec", "none", "new-counter"}
    assert m.put_unique("u", "x") is True
    assert m.put_unique("u", "y") is False
    assert m.get("u") == "x"
    m.erase("s")
    assert not m.exists("s")
    m.clear()
    assert m.keys() == set()


def test_type_clash_is_reported_and_changes_nothing(endpoint):
    errors = endpoint.make_status_subscriber()
    m = endpoint.attach_master("clash", broker.Backend.Memory)
    m.put("s", "text")
    m.increment("s", Count(1))
    err = errors.get(5.0)
    assert err is not None and err.code() == broker.EC.TypeClash
    assert m.get("s") == "text"


def test_second_attach_here_shares_the_master(endpoint):
    # As real Broker: another handle of the same master.
    m = endpoint.attach_master("dup", broker.Backend.Memory)
    m2 = endpoint.attach_master("dup", broker.Backend.Memory)
    assert m2 is not None and m2 is not m
    m.put("k", 1)
    assert m2.get("k") == 1
    # The master runs until the last handle lets go.
    m.reset()
    m2.put("k", 2)
    assert m2.get("k") == 2
    m2.reset()
    # Then the name is free again: a new, empty master.
    m3 = endpoint.attach_master("dup", broker.Backend.Memory)
    assert m3.get("k") is None
    m3.reset()


def test_master_at_a_peer_is_refused_with_none(pair, caplog):
    a, b = pair
    m = b.attach_master("dup-remote", broker.Backend.Memory)
    assert wait_until(
        lambda: "dup-remote/<$>/data/master" in {t.string() for t in a.peer_subscriptions()}
    )
    with caplog.at_level("WARNING", logger="broker"):
        assert a.attach_master("dup-remote", broker.Backend.Memory) is None
    assert "another endpoint already has a master for store dup-remote" in caplog.text
    m.reset()


def test_master_two_hops_away_is_refused():
    # The middle endpoint neither subscribes nor forwards; the overlay
    # still tells the far end that the master exists.
    with broker.Endpoint() as a, broker.Endpoint() as mid, broker.Endpoint() as c:
        link_chain(a, mid, c)
        m = a.attach_master("far-dup", broker.Backend.Memory)
        assert wait_until(lambda: c.attach_master("far-dup", broker.Backend.Memory) is None
                          and "far-dup/<$>/data/master" in
                          {t.string() for t in c.peer_subscriptions()})
        assert c.attach_master("far-dup", broker.Backend.Memory) is None
        m.reset()


def link_chain(*eps) -> None:
    for x, y in zip(eps, eps[1:]):
        port = y.listen("127.0.0.1", 0)
        assert x.peer("127.0.0.1", port, 1.0)
    assert eps[0].await_peer(eps[-1].node_id(), 10.0)


def test_clone_sees_the_snapshot_and_every_update(master_clone):
    m, c, a, b = master_clone
    assert not c.is_master()
    m.put("k", "v")
    m.put("n", Count(1))
    m.increment("n", Count(2))
    m.put("set", set())
    m.insert_into("set", "x")
    m.erase("probe")
    assert m.await_idle(5.0)
    assert eventually(c, "n", Count(3))
    assert c.get("k") == "v"
    assert c.get("set") == {"x"}
    assert c.get("probe") is None
    assert c.keys() == {"k", "n", "set"}


def test_clone_writes_go_through_the_master(master_clone):
    m, c, a, b = master_clone
    c.put("from-clone", "v")
    c.put("cnt", Count(1))
    c.increment("cnt", Count(10))
    c.decrement("cnt", Count(2))
    c.append("from-clone", "w")
    c.insert_into("tbl", "k", "v")
    c.push("vec", 1)
    c.push("vec", 2)
    c.pop("vec")
    assert c.await_idle(5.0)
    assert eventually(m, "cnt", Count(9))
    assert eventually(c, "cnt", Count(9))
    assert m.get("from-clone") == "vw"
    assert m.get("tbl") == {"k": "v"}
    assert eventually(c, "vec", (1,))
    c.erase("from-clone")
    assert eventually(m, "from-clone", None)
    c.clear()
    assert wait_until(lambda: m.keys() == set() and c.keys() == set())


def test_put_unique_from_two_clones_has_one_winner(pair):
    a, b = pair
    with broker.Endpoint() as d:
        port = b.listen("127.0.0.1", 0)
        assert d.peer("127.0.0.1", port, 1.0)
        m = b.attach_master("uniq", broker.Backend.Memory)
        c1 = a.attach_clone("uniq")
        c2 = d.attach_clone("uniq")
        m.put("ready", True)
        assert eventually(c1, "ready", True) and eventually(c2, "ready", True)
        results = {}
        def race(name, clone):
            results[name] = clone.put_unique("prize", name)
        threads = [threading.Thread(target=race, args=(n, s)) for n, s in [("c1", c1), ("c2", c2)]]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10.0)
        assert sorted(results.values()) == [False, True]
        winner = [n for n, ok in results.items() if ok][0]
        assert eventually(c1, "prize", winner) and eventually(c2, "prize", winner)
        assert m.get("prize") == winner
        c1.reset()
        c2.reset()
        m.reset()


def test_expiry_removes_the_key_everywhere(master_clone):
    m, c, a, b = master_clone
    m.put("short", "lived", expiry=0.3)
    c.put("clone-short", "lived", expiry=dt.timedelta(milliseconds=300))
    assert eventually(c, "short", "lived")
    assert eventually(m, "clone-short", "lived")
    assert wait_until(lambda: m.get("short") is None and c.get("short") is None, 10.0)
    assert wait_until(lambda: m.get("clone-short") is None and c.get("clone-short") is None, 10.0)
    m.put("kept", 1, expiry=0.3)
    m.put("kept", 2)  # overwriting without expiry cancels it
    assert m.await_idle(5.0)
    assert not wait_until(lambda: m.get("kept") is None, 1.0)


def test_clone_attached_before_the_master_exists(pair):
    a, b = pair
    c = a.attach_clone("late", resync_interval=0.1)
    c.put("early", "write")  # buffered until the master appears
    m = b.attach_master("late", broker.Backend.Memory)
    m.put("k", "v")
    assert eventually(c, "k", "v")
    assert eventually(m, "early", "write")
    c.reset()
    m.reset()


def test_store_events(endpoint):
    events = endpoint.make_subscriber(broker.Topic("<$>/local/data/store-events"))
    m = endpoint.attach_master("ev", broker.Backend.Memory)
    m.put("k", "v1")
    m.put("k", "v2")
    m.erase("k")
    m.put("e", "x", expiry=0.1)
    got = events.get(4, 10.0)
    kinds = [v[0] for _, v in got]
    assert kinds == ["insert", "update", "erase", "insert"]
    assert got[0][1][1:4] == ("ev", "k", "v1")
    assert got[1][1][1:5] == ("ev", "k", "v1", "v2")
    expired = events.get(10.0)
    assert expired[1][:3] == ("expire", "ev", "e")


@pytest.mark.parametrize("relay_forwards", [True, False], ids=["forward", "plain-relay"])
def test_clone_two_hops_from_the_master(relay_forwards):
    with broker.Endpoint() as m_ep, broker.Endpoint() as relay, broker.Endpoint() as c_ep:
        p1 = m_ep.listen("127.0.0.1", 0)
        assert relay.peer("127.0.0.1", p1, 1.0)
        p2 = relay.listen("127.0.0.1", 0)
        assert c_ep.peer("127.0.0.1", p2, 1.0)
        if relay_forwards:
            relay.forward(["deep/<$>/data/"])
        # Otherwise the overlay relays store traffic on its own.
        m = m_ep.attach_master("deep", broker.Backend.Memory)
        c = c_ep.attach_clone("deep")
        m.put("k", "far")
        assert eventually(c, "k", "far", 15.0)
        c.put("back", "home")
        assert eventually(m, "back", "home", 15.0)
        c.reset()
        m.reset()


def test_sqlite_persists_across_restart(tmp_path):
    path = str(tmp_path / "s.sqlite")
    with broker.Endpoint() as ep:
        m = ep.attach_master("persist", broker.Backend.SQLite, {"path": path})
        m.put("a", [1, "x", Count(2)])
        m.put("b", {"t": 1.5})
        assert m.await_idle(5.0)
        m.reset()
    with broker.Endpoint() as ep:
        m = ep.attach_master("persist", broker.Backend.SQLite, {"path": path})
        assert m.get("a") == (1, "x", Count(2))
        assert m.get("b") == {"t": 1.5}
        m.reset()


def test_sqlite_survives_kill_9(tmp_path):
    path = str(tmp_path / "k.sqlite")
    script = textwrap.dedent(
        f"""
        import broker, sys
        ep = broker.Endpoint()
        m = ep.attach_master("k9", broker.Backend.SQLite,
                             {{"path": {path!r}, "synchronous": "normal",
                               "journal_mode": "wal"}})
        for i in range(200):
            m.put(i, "value-%d" % i)
        m.await_idle(10.0)
        assert m.get(199) == "value-199"
        print("written", flush=True)
        import signal
        signal.pause()  # until the parent's SIGKILL
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    try:
        assert proc.stdout.readline().strip() == "written"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
        proc.wait(10)
        proc.stdout.close()
    with broker.Endpoint() as ep:
        m = ep.attach_master("k9", broker.Backend.SQLite, {"path": path})
        assert m.get(0) == "value-0"
        assert m.get(199) == "value-199"
        assert len(m.keys()) == 200
        m.reset()


def test_sqlite_bad_file_is_a_clear_error(tmp_path):
    path = tmp_path / "garbage.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with broker.Endpoint() as ep:
        with pytest.raises(RuntimeError):
            ep.attach_master("bad", broker.Backend.SQLite, {"path": str(path)})


def test_master_restart_resynchronises_the_clone(pair):
    a, b = pair
    c = a.attach_clone("restart", resync_interval=0.1)
    m = b.attach_master("restart", broker.Backend.Memory)
    m.put("gen", 1)
    assert eventually(c, "gen", 1)
    m.reset()
    m2 = b.attach_master("restart", broker.Backend.Memory)
    m2.put("gen", 2)
    m2.put("only-new", True)
    assert eventually(c, "only-new", True, 15.0)
    assert c.get("gen") == 2
    c.reset()
    m2.reset()


KILL_LOOP_CHILD = textwrap.dedent(
    """
    import broker, os, random, sys
    def say(*words):  # one write() each, never cut short by the kill
        os.write(1, (" ".join(map(str, words)) + "\\n").encode())
    ep = broker.Endpoint()
    m = ep.attach_master("loop", broker.Backend.SQLite, {"path": sys.argv[1]})
    rng = random.Random(int(sys.argv[2]))
    print("ready", flush=True)
    n = 0
    while True:
        # A burst of mutations with no answer in between: group commit
        # makes them durable together, or not at all.
        burst = rng.randint(1, 16)
        say("issue", n + burst - 1)
        for _ in range(burst):
            kind = n % 5
            if kind == 0:
                m.put("k%d" % n, n, expiry=3600.0)
            elif kind == 1:
                m.increment("ctr", broker.Count(1))
            elif kind == 2:
                m.erase("k%d" % (n - 2))
            elif kind == 3:
                m.put_unique("u%d" % n, n)   # waits for its (durable) answer
            else:
                m.append("log", "%d;" % n)
            n += 1
        m.exists("ctr")          # a later request answered: all so far durable
        say("done", n - 1)
    """
)


def kill_loop_states(ops: int):
    """The store after each of the first `ops` operations of
    KILL_LOOP_CHILD: yields (j, state after the first j operations)."""
    state = {}
    yield 0, state
    for n in range(ops):
        kind = n % 5
        if kind == 0:
            state[f"k{n}"] = n
        elif kind == 1:
            state["ctr"] = Count(int(state.get("ctr", Count(0))) + 1)
        elif kind == 2:
            state.pop(f"k{n - 2}", None)
        elif kind == 3:
            state.setdefault(f"u{n}", n)
        else:
            state["log"] = state.get("log", "") + f"{n};"
        yield n + 1, state


def test_sqlite_answered_writes_survive_repeated_kill_9(tmp_path):
    """After SIGKILL at a random point the file holds exactly the first j
    operations, for a j between the last answered one and the last issued
    one: nothing answered is lost, and no unanswered write is half-applied
    or applied out of order."""
    import random

    rng = random.Random(9)
    for round_ in range(20):
        path = str(tmp_path / f"loop{round_}.sqlite")
        proc = subprocess.Popen([sys.executable, "-c", KILL_LOOP_CHILD, path, str(round_)],
                                stdout=subprocess.PIPE, text=True, env=os.environ.copy())
        try:
            assert proc.stdout.readline().strip() == "ready"
            time.sleep(rng.uniform(0.02, 0.4))  # a random point in the stream
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            lines = [line.split() for line in proc.stdout.read().splitlines()]
        finally:
            proc.kill()
            proc.wait(10)
            proc.stdout.close()
        # Each line is one os.write() to a pipe, so never cut short. (A
        # print() is not: under PYTHONUNBUFFERED, as on CI machines, it
        # writes each word separately, and a kill once left "done" alone.)
        done = [int(x[1]) for x in lines if x[0] == "done"]
        issued = [int(x[1]) for x in lines if x[0] == "issue"]
        answered_ops = done[-1] + 1 if done else 0
        # A burst starts only after its announcement was written.
        max_ops = issued[-1] + 1 if issued else 0
        with broker.Endpoint() as ep:
            m = ep.attach_master("loop", broker.Backend.SQLite, {"path": path})
            found = {k: m.get(k) for k in m.keys()}
            m.reset()
        candidates = [j for j, state in kill_loop_states(max_ops)
                      if j >= answered_ops and state == found]
        assert candidates, (round_, answered_ops, max_ops, sorted(found))
