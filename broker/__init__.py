"""Zeek's Broker messaging library for Python, on a fast C++ core.

The public names follow real Broker's Python bindings. The C++ extension
``broker._broker`` does the work; this module adds the Pythonic sugar.
"""

from __future__ import annotations

from . import _broker
from ._broker import (
    Backend,
    EC,
    SC,
    BrokerOptions,
    Configuration,
    Data,
    EndpointInfo,
    Error,
    NetworkInfo,
    OverflowPolicy,
    PeerFlags,
    PeerInfo,
    PeerStatus,
    Status,
    Topic,
)
from . import zeek  # noqa: E402  (needs _broker)
from ._store import Store
from ._endpoint import Endpoint, Publisher, SafeSubscriber, StatusSubscriber, Subscriber
from ._values import Count, Enum, FrozenTable, Port, Timespan, Timestamp

__all__ = [
    "Backend",
    "Store",
    "BrokerOptions",
    "Configuration",
    "Count",
    "Endpoint",
    "EndpointInfo",
    "Error",
    "NetworkInfo",
    "OverflowPolicy",
    "PeerFlags",
    "PeerInfo",
    "PeerStatus",
    "Publisher",
    "SC",
    "SafeSubscriber",
    "Status",
    "StatusSubscriber",
    "Subscriber",
    "Data",
    "EC",
    "Enum",
    "FrozenTable",
    "Port",
    "Timespan",
    "Timestamp",
    "Topic",
    "__version__",
]

__version__ = "0.1.0"

_broker._register_types(Count, Port, Port.Protocol, Enum, Timespan, Timestamp, FrozenTable)
