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
from . import bro  # noqa: E402  (Broker 1.4's name of broker.zeek)
from ._store import Store
from ._endpoint import Endpoint, Publisher, SafeSubscriber, StatusSubscriber, Subscriber
from ._values import Address, Count, Enum, FrozenTable, Port, Subnet, Timespan, Timestamp
from ._containers import Set, Table, Vector
from ._compat import APIFlags, Frontend, ImmutableData, Message, Version, now

__all__ = [
    "APIFlags",
    "Address",
    "Backend",
    "Frontend",
    "ImmutableData",
    "Message",
    "Set",
    "Subnet",
    "Table",
    "Vector",
    "Version",
    "now",
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

# The release, from the VERSION file (compiled into the extension).
__version__ = _broker._version

_broker._register_types(Count, Port, Port.Protocol, Enum, Timespan, Timestamp, FrozenTable)
_broker._register_value_holders((Address, Subnet, Set, Table, Vector))
