"""Real Broker's smaller public names, as thin layers over our own:
``Version``, ``now()``, ``Message``, ``APIFlags``, ``Frontend``,
``ImmutableData``, the ``Data.as_*`` accessors, and readable names for
combined ``PeerFlags``.
"""

from __future__ import annotations

import re
import time
import types
from typing import Any, Callable

from . import _broker
from ._broker import Data, PeerFlags
from ._containers import Set, Table, Vector
from ._enum import BrokerEnum
from ._values import Address, FrozenTable, Subnet, Timespan, Timestamp, _address_int

# -- Version ----------------------------------------------------------------------


def _release(text: str) -> tuple[int, int, int]:
    m = re.match(r"(\d+)\.(\d+)\.(\d+)", text)
    if m is None:
        raise ImportError(f"malformed version in the VERSION file: {text!r}")
    return int(m[1]), int(m[2]), int(m[3])


Version = types.ModuleType("broker.Version", "Version constants")
Version.MAJOR, Version.MINOR, Version.PATCH = _release(_broker._version)
# Real Broker 2.8's protocol number, which scripts compare with
# Version.compatible(): 2. It is not the wire format version (v1, what the
# handshake carries, broker._broker._protocol_version).
Version.PROTOCOL = 2


def _compatible(protocol_version: int) -> bool:
    """Whether a peer speaking ``protocol_version`` can talk to us."""
    if not isinstance(protocol_version, int) or isinstance(protocol_version, bool):
        raise TypeError(
            f"compatible() takes an int, not {type(protocol_version).__name__}"
        )
    return protocol_version == Version.PROTOCOL


def _version_string() -> str:
    return f"{Version.MAJOR}.{Version.MINOR}.{Version.PATCH}"


Version.compatible = _compatible
Version.string = _version_string


def now() -> Timestamp:
    """The current wall-clock time."""
    return Timestamp(Timespan(time.time_ns()))


# -- enums and Message --------------------------------------------------------------


class APIFlags(BrokerEnum):
    """Broker 1.x's endpoint API modes (kept for scripts that name them)."""

    Blocking = 1
    NonBlocking = 2


class Frontend(BrokerEnum):
    """The two kinds of data store handles."""

    Master = 1
    Clone = 0


class Message:
    """Base of user classes that convert themselves to Broker data: a
    subclass overrides ``to_broker()``."""

    def to_broker(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not override to_broker()")


def _flag_names(value: int) -> str:
    """``Remote``, ``Remote|Outbound``, ``Invalid`` for 0."""
    if value == 0:
        return "Invalid"
    names = []
    rest = value
    for name, member in PeerFlags.__members__.items():
        bit = int(member)
        if bit and value & bit == bit:
            names.append(name)
            rest &= ~bit
    if rest:
        names.append(hex(rest))
    return "|".join(names)


# Peers carry combined flags (Remote plus Inbound or Outbound), which
# pybind11's enum would print as "PeerFlags.???".
PeerFlags.__repr__ = lambda self: f"<PeerFlags.{_flag_names(int(self))}: {int(self)}>"
PeerFlags.__str__ = lambda self: f"PeerFlags.{_flag_names(int(self))}"
PeerFlags.name = property(lambda self: _flag_names(int(self)), doc="The flags' names.")


# -- Data accessors ------------------------------------------------------------------


class DataTypeError(TypeError, RuntimeError):
    """A ``Data.as_*`` accessor called on a value of another type. Also a
    RuntimeError, which real Broker raises there ("bad variant access")."""


_TYPE_NAMES = {
    Data.Type.Nil: "none",
    Data.Type.Boolean: "boolean",
    Data.Type.Count: "count",
    Data.Type.Integer: "integer",
    Data.Type.Real: "real",
    Data.Type.String: "string",
    Data.Type.Address: "address",
    Data.Type.Subnet: "subnet",
    Data.Type.Port: "port",
    Data.Type.Timestamp: "timestamp",
    Data.Type.Timespan: "timespan",
    Data.Type.EnumValue: "enum value",
    Data.Type.Set: "set",
    Data.Type.Table: "table",
    Data.Type.Vector: "vector",
}


def _a(noun: str) -> str:
    return ("an " if noun[0] in "aeiou" else "a ") + noun


def _accessor(name: str, kind, convert: Callable[[Data], Any], returns: str):
    def accessor(self: Data):
        if not isinstance(self, Data):
            raise TypeError(f"{name}() needs a broker.Data, not {type(self).__name__}")
        actual = self.get_type()
        if actual != kind:
            raise DataTypeError(
                f"{name}(): this Data holds {_a(_TYPE_NAMES[actual])},"
                f" not {_a(_TYPE_NAMES[kind])}"
            )
        return convert(self)

    accessor.__name__ = accessor.__qualname__ = name
    accessor.__doc__ = f"The {_TYPE_NAMES[kind]} held, as {returns}; raises TypeError otherwise."
    return accessor


def _string(d: Data) -> bytes:
    value = d.to_py()
    # to_py() decodes strict UTF-8 or hands out bytes, so this is exact.
    return value.encode() if isinstance(value, str) else value


_ACCESSORS = [
    ("as_none", Data.Type.Nil, lambda d: None, "None"),
    ("as_boolean", Data.Type.Boolean, lambda d: d.to_py(), "bool"),
    ("as_count", Data.Type.Count, lambda d: int(d.to_py()), "int"),
    ("as_integer", Data.Type.Integer, lambda d: d.to_py(), "int"),
    ("as_real", Data.Type.Real, lambda d: d.to_py(), "float"),
    ("as_string", Data.Type.String, _string, "bytes"),
    ("as_address", Data.Type.Address, lambda d: Address._from_int(_address_int(d.to_py())),
     "broker.Address"),
    ("as_subnet", Data.Type.Subnet, lambda d: Subnet(d.to_py()), "broker.Subnet"),
    ("as_port", Data.Type.Port, lambda d: d.to_py(), "broker.Port"),
    ("as_timestamp", Data.Type.Timestamp, lambda d: d._nanoseconds() / 1e9,
     "float seconds since the epoch"),
    ("as_timespan", Data.Type.Timespan, lambda d: d._nanoseconds() / 1e9, "float seconds"),
    ("as_enum_value", Data.Type.EnumValue, lambda d: d.to_py(), "broker.Enum"),
    ("as_set", Data.Type.Set, lambda d: Set(d._elements()), "broker.Set of Data"),
    ("as_table", Data.Type.Table, lambda d: Table(d._elements()), "broker.Table of Data"),
    ("as_vector", Data.Type.Vector, lambda d: Vector(d._elements()), "broker.Vector of Data"),
]

for _name, _kind, _convert, _returns in _ACCESSORS:
    setattr(Data, _name, _accessor(_name, _kind, _convert, _returns))


class ImmutableData(Data):
    """A Data whose ``to_py`` returns immutable, hashable forms: frozenset
    for sets, a read-only hashable dict for tables, tuples for vectors (so
    that, e.g., a set of tables converts). ``ImmutableData.to_py(d)`` works
    on any Data."""

    HashableReadOnlyDict = FrozenTable

    def to_py(self) -> Any:
        return Data.to_py(self, True)
