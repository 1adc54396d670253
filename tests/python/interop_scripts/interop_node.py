"""One Broker endpoint driven through plain, JSON-able calls.

The same class runs in three places:
- inside a child process under real Broker's interpreter, behind agent.py
  (the test talks to it over stdin/stdout, one JSON line per call);
- inside the pytest process with our package (our side of a test);
- inside measure.py, under either implementation.

So a test is written once against this interface and every call means the
same thing on both sides. Values cross as typed descriptions
(typed_values.py). Every wait is bounded by a timeout argument.
"""

from __future__ import annotations

import select
import time

from typed_values import build, build_event, describe, describe_event, flavour


def _configuration(broker, options: dict):
    """Options that BrokerOptions knows go there (e.g. disable_ssl), the rest
    are Configuration attributes (e.g. openssl_certificate)."""
    opts = broker.BrokerOptions()
    rest = {}
    for key, value in options.items():
        if hasattr(opts, key):
            setattr(opts, key, value)
        else:
            rest[key] = value
    cfg = broker.Configuration(opts)
    for key, value in rest.items():
        if not hasattr(cfg, key):
            raise AttributeError(f"neither BrokerOptions nor Configuration has {key!r}")
        setattr(cfg, key, value)
    return cfg


def _wait_readable(fd: int, timeout: float) -> bool:
    if timeout <= 0:
        return False
    ready, _, _ = select.select([fd], [], [], timeout)
    return bool(ready)


class Node:
    """An endpoint of `broker` (real Broker's module or ours)."""

    def __init__(self, broker, options: dict):
        self.broker = broker
        self.flavour = flavour(broker)
        self.ep = broker.Endpoint(_configuration(broker, options))
        self._subs: dict[int, object] = {}
        self._status_subs: dict[int, object] = {}
        self._stores: dict[int, object] = {}
        self._next = 1

    def _handle(self, table: dict, obj) -> int:
        h = self._next
        self._next += 1
        table[h] = obj
        return h

    # -- identity and peering ---------------------------------------------------

    def info(self) -> dict:
        b = self.broker
        version = b.Version.string() if self.flavour == "real" else b.__version__
        return {"node_id": self.node_id(), "flavour": self.flavour, "version": version}

    def node_id(self) -> str:
        return str(self.ep.node_id())

    def listen(self, address: str = "127.0.0.1", port: int = 0) -> int:
        return int(self.ep.listen(address, port))

    def peer(self, port: int, address: str = "127.0.0.1", retry: float = 1.0) -> bool:
        return bool(self.ep.peer(address, port, retry))

    def unpeer(self, port: int, address: str = "127.0.0.1") -> bool:
        return bool(self.ep.unpeer(address, port))

    def peers(self) -> list:
        out = []
        for p in self.ep.peers():
            info = p.peer
            node = info.node_id() if self.flavour == "real" else info.node
            out.append({"node": str(node), "status": p.status.name})
        return out

    def await_peer(self, node: str, timeout: float) -> dict:
        start = time.monotonic()
        result = self.ep.await_peer(node, timeout)
        return {"result": bool(result), "elapsed": round(time.monotonic() - start, 3)}

    def _real_topics(self, topics):
        """Real Broker's wrapper turns a list of topics into a VectorTopic
        with collections.Iterable, which Python 3.10 removed; build it here."""
        B = self.broker._broker
        if isinstance(topics, str):
            topics = [topics]
        return B.VectorTopic([B.Topic(t) for t in topics])

    def forward(self, topics: list) -> None:
        if self.flavour == "real":
            self.broker._broker.Endpoint.forward(self.ep, self._real_topics(topics))
        else:
            self.ep.forward(topics)

    # -- publish and subscribe --------------------------------------------------

    def subscribe(self, topics) -> int:
        if self.flavour == "real":
            raw = self.broker._broker.Endpoint.make_subscriber(
                self.ep, self._real_topics(topics), 20
            )
            sub = self.broker.Subscriber(raw)
        else:
            sub = self.ep.make_subscriber(topics)
        return self._handle(self._subs, sub)

    def publish(self, topic: str, value: list) -> None:
        self.ep.publish(topic, build(self.broker, value))

    def publish_many(self, topic: str, count: int) -> None:
        """Publishes the integers 0 .. count-1 on `topic`, in order."""
        for k in range(count):
            self.ep.publish(topic, build(self.broker, ["integer", k]))

    def publish_event(self, topic: str, name: str, args: list, metadata=None) -> None:
        self.ep.publish(topic, build_event(self.broker, name, args, metadata))

    def _poll(self, sub) -> list:
        """(topic, value) pairs waiting now: raw Data for real Broker (exact),
        Python values for ours (what our bindings hand out)."""
        if self.flavour == "real":
            return [(t.string(), d) for t, d in sub._subscriber.poll()]
        return list(sub.poll())

    def subscriber(self, sub: int):
        """The subscriber object itself (in-process use only: not JSON)."""
        return self._subs[sub]

    def recv(self, sub: int, n: int = 1, timeout: float = 10.0, events: bool = False) -> list:
        """Up to `n` messages within `timeout` seconds, each as
        {"topic", "value": description[, "event": describe_event(...)]}."""
        s = self._subs[sub]
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < n:
            if not _wait_readable(s.fd(), deadline - time.monotonic()):
                break
            got.extend(self._poll(s))
        out = []
        for topic, value in got:
            msg = {"topic": topic, "value": describe(self.broker, value)}
            if events:
                msg["event"] = describe_event(self.broker, value)
            out.append(msg)
        return out

    def count(self, sub: int, window: float) -> int:
        """How many messages arrive within `window` seconds (all of them drained)."""
        s = self._subs[sub]
        total = 0
        deadline = time.monotonic() + window
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if _wait_readable(s.fd(), left):
                total += len(s._subscriber.poll() if self.flavour == "real" else s.poll())
        return total

    # -- status -----------------------------------------------------------------

    def status_subscribe(self) -> int:
        return self._handle(self._status_subs, self.ep.make_status_subscriber(True))

    def _describe_status(self, s) -> dict:
        kind = "error" if isinstance(s, self.broker.Error) else "status"
        ctx = s.context()
        node = None
        if ctx is not None:
            try:
                node = ctx.node_id() if self.flavour == "real" else ctx.node
            except Exception:  # an error without a peer in its context
                node = None
        # Real Broker's Status has no message(); its Error does.
        message = s.message() if hasattr(s, "message") else ""
        return {"kind": kind, "code": s.code().name, "node": str(node) if node else None,
                "message": str(message or "")}

    def statuses(self, sub: int, until: list | None = None, timeout: float = 10.0) -> list:
        """Status and error events until one whose code is in `until` arrived
        (or, without `until`, everything within `timeout`)."""
        s = self._status_subs[sub]
        got: list = []
        deadline = time.monotonic() + timeout
        while True:
            if until and any(x["code"] in until for x in got):
                break
            if not _wait_readable(s.fd(), deadline - time.monotonic()):
                break
            got.extend(self._describe_status(x) for x in s.poll())
        return got

    # -- data stores ------------------------------------------------------------

    def attach_master(self, name: str, backend: str = "Memory") -> dict:
        """{"handle": h or None, "returned": type name of the result or
        "raised", "error": text or None}"""
        try:
            store = self.ep.attach_master(name, getattr(self.broker.Backend, backend))
        except Exception as e:  # noqa: BLE001 (the kind of failure is the measurement)
            return {"handle": None, "returned": "raised", "error": f"{type(e).__name__}: {e}"}
        if store is None:
            return {"handle": None, "returned": "None", "error": None}
        return {
            "handle": self._handle(self._stores, store),
            "returned": type(store).__name__,
            "error": None,
        }

    def attach_clone(self, name: str) -> int | None:
        store = self.ep.attach_clone(name)
        return None if store is None else self._handle(self._stores, store)

    def store_put(self, store: int, key: list, value: list) -> None:
        self._stores[store].put(build(self.broker, key), build(self.broker, value))

    def store_erase(self, store: int, key: list) -> None:
        self._stores[store].erase(build(self.broker, key))

    def store_increment(self, store: int, key: list, amount: list) -> None:
        self._stores[store].increment(build(self.broker, key), build(self.broker, amount))

    def store_call(self, store: int, op: str, args: list, expiry: float | None = None):
        """Calls Store.<op>(*args) (descriptions), e.g. ("append", [key, s]);
        returns what it returned when that is a bool or None, else its repr."""
        method = getattr(self._stores[store], op)
        values = [build(self.broker, a) for a in args]
        result = method(*values) if expiry is None else method(*values, expiry=expiry)
        return result if result is None or isinstance(result, bool) else repr(result)

    def store_get(self, store: int, key: list):
        """The value's description, or None when the key is absent."""
        s = self._stores[store]
        k = build(self.broker, key)
        if self.flavour == "real":
            r = s._store.get(k)  # raw Data (exact), not the Python view
            value = r.get() if r.is_valid() else None
        else:
            value = s.get(k)  # None when absent (the tests store no none values)
        return None if value is None else describe(self.broker, value)

    def store_wait(self, store: int, key: list, value, timeout: float = 10.0) -> dict:
        """Polls until `key` holds `value` (a description, or None for absent)."""
        deadline = time.monotonic() + timeout
        while True:
            last = self.store_get(store, key)
            if last == value or time.monotonic() >= deadline:
                return {"ok": last == value, "last": last}
            time.sleep(0.02)

    # -- lifetime ---------------------------------------------------------------

    def shutdown(self) -> None:
        for s in self._subs.values():
            s.reset()
        self._subs.clear()
        self._status_subs.clear()
        self._stores.clear()
        self.ep.shutdown()

    close = shutdown

    def __repr__(self) -> str:
        return f"<{self.flavour} endpoint {self.node_id()[:8]}>"

