"""Pythonic sugar over the endpoint bindings: context managers, topics as a
str or a list, real Broker's ``get`` overloads, publishers."""

from __future__ import annotations

import atexit
import collections
import logging
import time
import weakref
from typing import Any, Iterable

from . import _broker

_log = logging.getLogger("broker")
from ._store import Store

_live_endpoints: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _shutdown_all() -> None:
    # An interpreter that exits without shutdown() still says BYE to its
    # peers and joins its I/O thread, rather than dying mid-write.
    for ep in list(_live_endpoints):
        ep.shutdown()


def _split_get_args(args, kwargs):
    """Real Broker's overloads: get(), get(timeout: float), get(n: int[, timeout])."""
    n = kwargs.pop("num", kwargs.pop("n", None))
    timeout = kwargs.pop("timeout", kwargs.pop("secs", None))
    if kwargs:
        raise TypeError(f"unexpected keyword arguments: {', '.join(kwargs)}")
    args = list(args)
    if args and n is None and isinstance(args[0], int) and not isinstance(args[0], bool):
        n = args.pop(0)
    if args:
        if timeout is not None:
            raise TypeError("timeout given twice")
        timeout = args.pop(0)
    if args:
        raise TypeError("too many arguments to get()")
    if timeout is not None:
        timeout = float(timeout)
    if n is not None and n < 0:
        raise ValueError("n must not be negative")
    return n, timeout


class _Queue:
    """What data and status subscribers share: real Broker's ``get``
    overloads, ``poll``, ``available``, ``fd`` and ``reset``."""

    def __init__(self, impl, endpoint):
        self._impl = impl
        self._endpoint = endpoint  # keeps the endpoint alive

    def get(self, *args, **kwargs):
        """``get()`` blocks for one item; ``get(timeout)`` returns None on
        timeout; ``get(n, timeout=None)`` returns a list of up to n."""
        if not kwargs:  # fast paths of the common calls
            if not args:
                return self._impl.get(None)
            if len(args) == 1 and type(args[0]) is float:
                return self._impl.get(args[0])
        n, timeout = _split_get_args(args, kwargs)
        if n is None:
            return self._impl.get(timeout)
        return self._impl.get_n(n, timeout)

    def poll(self) -> list:
        """Everything available now, without waiting."""
        return self._impl.poll()

    def available(self) -> int:
        return self._impl.available()

    def fd(self) -> int:
        """Readable exactly while items wait (select, selectors, asyncio)."""
        return self._impl.fd()

    def reset(self) -> None:
        self._impl.reset()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.reset()


class Subscriber(_Queue):
    """Receives ``(topic, value)`` messages for a set of topic prefixes."""

    def add_topic(self, topic, block: bool = False) -> None:
        self._impl.add_topic(topic, block)

    def remove_topic(self, topic, block: bool = False) -> None:
        self._impl.remove_topic(topic, block)


class SafeSubscriber(Subscriber):
    """A subscriber whose values are immutable and hashable (safe conversion)."""


class StatusSubscriber(_Queue):
    """Receives ``broker.Status`` and ``broker.Error`` events."""


# send_rate() counts messages in buckets of 100 ms over the last second.
_RATE_BUCKET_NS = 100_000_000
_RATE_BUCKETS = 10


class Publisher:
    """Publishes on one topic, with the endpoint's backpressure visible."""

    def __init__(self, endpoint: Endpoint, topic):
        self._endpoint = endpoint
        self._topic = topic
        # [bucket number, messages] for the buckets of the last second.
        self._sent: collections.deque = collections.deque()

    def publish(self, data: Any) -> None:
        self._endpoint.publish(self._topic, data)
        self._count(1)

    def publish_batch(self, *batch: Any) -> None:
        self._endpoint._impl.publish_batch([(self._topic, x) for x in batch])
        self._count(len(batch))

    def _count(self, n: int) -> None:
        bucket = time.monotonic_ns() // _RATE_BUCKET_NS
        sent = self._sent
        if sent and sent[-1][0] == bucket:
            sent[-1][1] += n
        else:
            sent.append([bucket, n])
            while sent[0][0] <= bucket - _RATE_BUCKETS:
                sent.popleft()

    def send_rate(self) -> int:
        """Messages this publisher sent in the last second."""
        oldest = time.monotonic_ns() // _RATE_BUCKET_NS - _RATE_BUCKETS
        return sum(n for bucket, n in self._sent if bucket > oldest)

    def demand(self) -> int:
        """Messages that can be published now without waiting."""
        return self.free_capacity()

    def buffered(self) -> int:
        return self._endpoint._impl.buffered()

    def capacity(self) -> int:
        return self._endpoint._impl.capacity()

    def free_capacity(self) -> int:
        return max(0, self.capacity() - self.buffered())

    def fd(self) -> int:
        """Readable while publish() would not block."""
        return self._endpoint._impl.publish_fd()

    def reset(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.reset()


class Endpoint:
    """A Broker endpoint: listens, peers, publishes and subscribes."""

    def __init__(self, config: _broker.Configuration | None = None):
        if config is None:
            config = _broker.Configuration()
        self._impl = _broker._Endpoint(config)
        _live_endpoints.add(self)

    # -- lifetime -------------------------------------------------------------

    def shutdown(self) -> None:
        """Says BYE to peers, flushes pending messages, stops. Idempotent."""
        self._impl.shutdown()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()

    def __del__(self):
        impl = getattr(self, "_impl", None)
        if impl is not None:
            impl.shutdown()

    # -- peering ----------------------------------------------------------------

    def node_id(self) -> str:
        return self._impl.node_id()

    def listen(self, address: str = "", port: int = 0) -> int:
        """Listens for peers; returns the port (0 on failure)."""
        return self._impl.listen(address, port)

    # -- WebSocket JSON API (docs/websocket-api.md) ------------------------------

    def web_socket_listen(self, address: str = "", port: int = 0, events_only: bool = False) -> int:
        """Serves the WebSocket JSON API (path /v1/messages/json); returns
        the port (0 on failure). TLS unless ``disable_ssl``; with
        ``events_only``, clients receive only Zeek events."""
        return self._impl.web_socket_listen(address, port, bool(events_only))

    def web_socket_peer(self, url: str, retry: float = 10.0) -> bool:
        """Connects to a WebSocket JSON API server (``ws://`` or ``wss://``)
        as a client and blocks until it acknowledged (True) or the first
        attempt failed (False). Local publications go to the server; its
        messages reach local subscribers. Raises ValueError for a bad URL."""
        return self._impl.web_socket_peer(url, float(retry))

    def web_socket_unpeer(self, url: str) -> bool:
        """Ends a web_socket_peer connection; False if there was none."""
        return self._impl.web_socket_unpeer(url)

    # Parameter names as real Broker's (addr, type, subscriber_class), so
    # that calls with keywords work in both.

    def peer(self, addr: str, port: int, retry: float = 10.0) -> bool:
        """Peers and blocks until peered (True) or the attempt failed (False)."""
        return self._impl.peer(addr, port, float(retry))

    def peer_nosync(self, addr: str, port: int, retry: float = 10.0) -> None:
        self._impl.peer_nosync(addr, port, float(retry))

    def unpeer(self, address: str, port: int) -> bool:
        return self._impl.unpeer(address, port)

    def unpeer_nosync(self, address: str, port: int) -> None:
        self._impl.unpeer_nosync(address, port)

    def peers(self) -> list:
        return self._impl.peers()

    def peer_subscriptions(self) -> list:
        return [_broker.Topic(t) for t in self._impl.peer_subscriptions()]

    def await_peer(self, node: str, timeout: float | None = None) -> bool:
        return self._impl.await_peer(str(node), timeout)

    def forward(self, topics) -> None:
        self._impl.forward(topics)

    # -- publishing -----------------------------------------------------------------

    def publish(self, topic, data: Any, receiver: str | None = None) -> None:
        """Publishes ``data`` on ``topic`` (optionally to one endpoint only)."""
        if not self._impl.publish(topic, data, receiver):
            raise RuntimeError("endpoint is shut down")

    def publish_batch(self, *batch: Iterable) -> None:
        """Publishes several ``(topic, data)`` pairs at once."""
        if not self._impl.publish_batch(batch):
            raise RuntimeError("endpoint is shut down")

    def make_publisher(self, topic) -> Publisher:
        return Publisher(self, topic)

    # -- subscribing ---------------------------------------------------------------

    def make_subscriber(self, topics, qsize: int = 20, subscriber_class=None) -> Subscriber:
        """Subscribes to a topic (str or Topic) or a list of topics.
        ``subscriber_class`` is the class to return, Subscriber or a subclass
        (a SafeSubscriber subclass converts safely)."""
        if subscriber_class is None:
            subscriber_class = Subscriber
        if not (isinstance(subscriber_class, type) and issubclass(subscriber_class, Subscriber)):
            raise TypeError(
                f"subscriber_class must be broker.Subscriber or a subclass, not {subscriber_class!r}"
            )
        safe = issubclass(subscriber_class, SafeSubscriber)
        return subscriber_class(self._impl.make_subscriber(topics, qsize, safe), self)

    def make_safe_subscriber(self, topics, qsize: int = 20) -> SafeSubscriber:
        return self.make_subscriber(topics, qsize, SafeSubscriber)

    def make_status_subscriber(self, receive_statuses: bool = False) -> StatusSubscriber:
        return StatusSubscriber(self._impl.make_status_subscriber(receive_statuses), self)

    # -- data stores ----------------------------------------------------------------

    def attach_master(self, name: str, type=None, opts: dict | None = None) -> Store:
        """Attaches the master of store ``name`` (``type`` is
        ``broker.Backend.Memory`` or ``broker.Backend.SQLite`` with
        ``opts={"path": ...}``). As in real Broker: when this endpoint has
        that master already, another handle of it; when another endpoint
        has it, ``None`` (and a warning on the ``broker`` logger).
        ``RuntimeError`` when the backend cannot be opened."""
        if type is None:
            type = _broker.Backend.Memory
        impl, refusal = _broker._attach_master(self._impl, name, type, dict(opts or {}))
        if impl is None:
            _log.warning("attach_master(%r) refused: %s", name, refusal)
            return None
        return Store(impl, self)

    def attach_clone(
        self,
        name: str,
        resync_interval: float = 1.0,
        stale_interval: float = -1.0,
        mutation_buffer_interval: float = 120.0,
    ) -> Store:
        """Attaches a clone of store ``name``; it finds the master across
        peerings (retrying every ``resync_interval`` seconds)."""
        return Store(
            _broker._attach_clone(
                self._impl,
                name,
                float(resync_interval),
                float(stale_interval),
                float(mutation_buffer_interval),
            ),
            self,
        )
