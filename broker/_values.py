"""Python value types of Broker's data model that have no exact builtin.

The C++ converter (bindings/python/convert.cc) recognises these classes by
identity and reads their private slots directly, so keep the slot names in
sync with it: ``Port._num``/``_proto``, ``Enum._name``, ``Timespan._ns``,
``Timestamp._ns``.
"""

from __future__ import annotations

import datetime as _dt
import enum as _enum

_U64_MAX = 2**64 - 1
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1


class Count(int):
    """A Broker ``count``: an unsigned 64-bit integer, distinct from ``int``.

    Hashable and usable as a dict key (real Broker 1.4's is not). Compares
    equal only to other ``Count`` values, so a table keyed by both
    ``Count(1)`` and ``1`` keeps both keys, as Broker does.
    """

    __slots__ = ()

    def __new__(cls, value: int = 0) -> Count:
        if isinstance(value, float):
            raise TypeError("Count needs an int, not float")
        v = int.__new__(cls, value)
        if v < 0 or v > _U64_MAX:
            raise OverflowError(f"Count out of range [0, 2**64-1]: {int(v)}")
        return v

    @property
    def value(self) -> int:
        """The plain ``int`` value (as real Broker's ``Count.value``)."""
        return int(self)

    def __repr__(self) -> str:
        return f"Count({int(self)})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Count):
            return int(self) == int(other)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        if isinstance(other, Count):
            return int(self) != int(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(("broker.Count", int(self)))

    def __reduce__(self):
        return (Count, (int(self),))


class Port:
    """A transport-layer port: ``Port(443, Port.TCP)``."""

    class Protocol(_enum.IntEnum):
        Unknown = 0
        TCP = 1
        UDP = 2
        ICMP = 3

    Unknown = Protocol.Unknown
    TCP = Protocol.TCP
    UDP = Protocol.UDP
    ICMP = Protocol.ICMP

    __slots__ = ("_num", "_proto")

    def __init__(self, number: int = 0, protocol: Port.Protocol = Protocol.Unknown):
        if not isinstance(number, int) or isinstance(number, bool):
            raise TypeError(f"Port number must be an int, not {type(number).__name__}")
        if not 0 <= number <= 65535:
            raise ValueError(f"Port number out of range [0, 65535]: {number}")
        self._num = int(number)
        self._proto = Port.Protocol(protocol)

    def number(self) -> int:
        return self._num

    def type(self) -> Port.Protocol:
        return self._proto

    def __str__(self) -> str:
        name = {1: "tcp", 2: "udp", 3: "icmp"}.get(int(self._proto), "?")
        return f"{self._num}/{name}"

    __repr__ = __str__

    def _key(self):
        return (self._num, int(self._proto))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Port):
            return self._key() == other._key()
        return NotImplemented

    def __lt__(self, other: Port) -> bool:
        return self._key() < other._key()

    def __hash__(self) -> int:
        return hash(("broker.Port",) + self._key())

    def __reduce__(self):
        return (Port, self._key())


class Enum:
    """A Zeek enum value, carried by name: ``Enum("Notice::ACTION_LOG")``."""

    __slots__ = ("_name",)

    def __init__(self, name: str):
        if not isinstance(name, str):
            raise TypeError(f"Enum name must be a str, not {type(name).__name__}")
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    def __str__(self) -> str:
        return self._name

    __repr__ = __str__

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Enum):
            return self._name == other._name
        return NotImplemented

    def __lt__(self, other: Enum) -> bool:
        return self._name < other._name

    def __hash__(self) -> int:
        return hash(("broker.Enum", self._name))

    def __reduce__(self):
        return (Enum, (self._name,))


def _ns_from_timedelta(td: _dt.timedelta) -> int:
    return ((td.days * 86400 + td.seconds) * 1_000_000 + td.microseconds) * 1000


def _check_i64(ns: int, what: str) -> int:
    if not _I64_MIN <= ns <= _I64_MAX:
        raise OverflowError(f"{what} out of the int64 nanosecond range: {ns}")
    return ns


class Timespan:
    """A duration with nanosecond precision.

    ``Timespan(int)`` takes nanoseconds, ``Timespan(float)`` seconds and
    ``Timespan(timedelta)`` a timedelta. Converted values come back as
    ``datetime.timedelta``; use this class where sub-microsecond precision
    matters on input.
    """

    __slots__ = ("_ns",)

    def __init__(self, value: int | float | _dt.timedelta = 0):
        if isinstance(value, bool):
            raise TypeError("Timespan needs int ns, float seconds or timedelta")
        if isinstance(value, int):
            ns = int(value)
        elif isinstance(value, float):
            ns = round(value * 1e9)
        elif isinstance(value, _dt.timedelta):
            ns = _ns_from_timedelta(value)
        elif isinstance(value, Timespan):
            ns = value._ns
        else:
            raise TypeError(
                f"Timespan needs int ns, float seconds or timedelta, not {type(value).__name__}"
            )
        self._ns = _check_i64(ns, "Timespan")

    def count(self) -> int:
        """Nanoseconds."""
        return self._ns

    def to_timedelta(self) -> _dt.timedelta:
        return _dt.timedelta(microseconds=round(self._ns / 1000))

    def __repr__(self) -> str:
        return f"Timespan({self._ns}ns)"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Timespan):
            return self._ns == other._ns
        return NotImplemented

    def __lt__(self, other: Timespan) -> bool:
        return self._ns < other._ns

    def __hash__(self) -> int:
        return hash(("broker.Timespan", self._ns))

    def __reduce__(self):
        return (Timespan, (self._ns,))


_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


class Timestamp:
    """A point in time with nanosecond precision (ns since the UNIX epoch).

    ``Timestamp(Timespan)`` takes the time since the epoch,
    ``Timestamp(float)`` seconds since the epoch, ``Timestamp(datetime)`` a
    datetime (naive means UTC). Converted values come back as timezone-aware
    ``datetime.datetime`` in UTC.
    """

    __slots__ = ("_ns",)

    def __init__(self, value: Timespan | int | float | _dt.datetime = 0):
        if isinstance(value, Timespan):
            ns = value._ns
        elif isinstance(value, bool):
            raise TypeError("Timestamp needs Timespan, float seconds or datetime")
        elif isinstance(value, int):
            ns = int(value) * 1_000_000_000
        elif isinstance(value, float):
            ns = round(value * 1e9)
        elif isinstance(value, _dt.datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=_dt.timezone.utc)
            ns = _ns_from_timedelta(value - _EPOCH)
        else:
            raise TypeError(
                f"Timestamp needs Timespan, float seconds or datetime, not {type(value).__name__}"
            )
        self._ns = _check_i64(ns, "Timestamp")

    def time_since_epoch(self) -> Timespan:
        return Timespan(self._ns)

    def to_datetime(self) -> _dt.datetime:
        return _EPOCH + _dt.timedelta(microseconds=round(self._ns / 1000))

    def __repr__(self) -> str:
        return f"Timestamp({self._ns}ns)"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Timestamp):
            return self._ns == other._ns
        return NotImplemented

    def __lt__(self, other: Timestamp) -> bool:
        return self._ns < other._ns

    def __hash__(self) -> int:
        return hash(("broker.Timestamp", self._ns))

    def __reduce__(self):
        return (Timestamp, (Timespan(self._ns),))


class FrozenTable(dict):
    """The read-only, hashable mapping that safe conversion returns for tables.

    It prints like a dict and compares equal to one, but cannot be modified,
    so it can be a set element or a dict key (e.g. a set of tables).
    """

    __slots__ = ()

    def _readonly(self, *args, **kwargs):
        raise TypeError("FrozenTable is read-only")

    __setitem__ = __delitem__ = _readonly
    clear = pop = popitem = setdefault = update = _readonly
    __ior__ = _readonly

    def __hash__(self) -> int:
        return hash(frozenset(self.items()))

    def __reduce__(self):
        return (FrozenTable, (dict(self),))
