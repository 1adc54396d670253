"""Python value types of Broker's data model that have no exact builtin.

The C++ converter (bindings/python/convert.cc) recognises these classes by
identity and reads their private slots directly, so keep the slot names in
sync with it: ``Port._num``/``_proto``, ``Enum._name``, ``Timespan._ns``,
``Timestamp._ns``, and ``_value`` of ``Address`` and ``Subnet`` (value
holders, registered with ``_register_value_holders``).
"""

from __future__ import annotations

import datetime as _dt
import functools as _functools
import ipaddress as _ip

from ._enum import BrokerEnum as _BrokerEnum, BrokerIntEnum as _BrokerIntEnum

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

    def __str__(self) -> str:
        # As real Broker: str() is the number, repr() names the type.
        return str(int(self))

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


@_functools.total_ordering
class Port:
    """A transport-layer port: ``Port(443, Port.TCP)``."""

    class Protocol(_BrokerIntEnum):
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

    def get_type(self) -> Port.Protocol:
        """The protocol (real Broker's name for ``type()``)."""
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
        if not isinstance(other, Port):
            return NotImplemented
        return self._key() < other._key()

    def __hash__(self) -> int:
        return hash(("broker.Port",) + self._key())

    def __reduce__(self):
        return (Port, self._key())


@_functools.total_ordering
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
        if not isinstance(other, Enum):
            return NotImplemented
        return self._name < other._name

    def __hash__(self) -> int:
        return hash(("broker.Enum", self._name))

    def __reduce__(self):
        return (Enum, (self._name,))


def _ns_from_timedelta(td: _dt.timedelta) -> int:
    return ((td.days * 86400 + td.seconds) * 1_000_000 + td.microseconds) * 1000


def _trunc_div(x: int, y: int) -> int:
    """C++ integer division: rounds toward zero (Python's // floors)."""
    if y == 0:
        raise ZeroDivisionError("Timespan division by zero")
    q = abs(x) // abs(y)
    return q if (x < 0) == (y < 0) else -q


def _trunc_mod(x: int, y: int) -> int:
    """C++ remainder: has the sign of the dividend."""
    return x - _trunc_div(x, y) * y


def _check_i64(ns: int, what: str) -> int:
    if not _I64_MIN <= ns <= _I64_MAX:
        raise OverflowError(f"{what} out of the int64 nanosecond range: {ns}")
    return ns


@_functools.total_ordering
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

    # Arithmetic as real Broker's (C++ std::chrono) Timespan: spans add and
    # subtract; a span times or divided by an int is a span; span / span is
    # their integer ratio and span % span the remainder, both truncating
    # toward zero as C++ does. Division by zero raises ZeroDivisionError
    # (real Broker's process dies of SIGFPE).

    def __add__(self, other):
        if isinstance(other, Timespan):
            return Timespan(self._ns + other._ns)
        return NotImplemented

    def __sub__(self, other):
        if isinstance(other, Timespan):
            return Timespan(self._ns - other._ns)
        return NotImplemented

    def __mul__(self, other):
        if isinstance(other, int):
            return Timespan(self._ns * int(other))
        return NotImplemented

    __rmul__ = __mul__

    def __truediv__(self, other):
        if isinstance(other, Timespan):
            return _trunc_div(self._ns, other._ns)
        if isinstance(other, int):
            return Timespan(_trunc_div(self._ns, int(other)))
        return NotImplemented

    def __mod__(self, other):
        if isinstance(other, Timespan):
            return Timespan(_trunc_mod(self._ns, other._ns))
        if isinstance(other, int):
            return Timespan(_trunc_mod(self._ns, int(other)))
        return NotImplemented

    def to_timedelta(self) -> _dt.timedelta:
        return _dt.timedelta(microseconds=round(self._ns / 1000))

    def __repr__(self) -> str:
        return f"Timespan({self._ns}ns)"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Timespan):
            return self._ns == other._ns
        return NotImplemented

    def __lt__(self, other: Timespan) -> bool:
        if not isinstance(other, Timespan):
            return NotImplemented
        return self._ns < other._ns

    def __hash__(self) -> int:
        return hash(("broker.Timespan", self._ns))

    def __reduce__(self):
        return (Timespan, (self._ns,))


_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


@_functools.total_ordering
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
        if not isinstance(other, Timestamp):
            return NotImplemented
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


# -- addresses and subnets ------------------------------------------------------

_V4_MAPPED = 0xFFFF << 32  # ::ffff:0:0/96, where Broker keeps IPv4 addresses
_ALL_ONES = (1 << 128) - 1


def _is_mapped(value: int) -> bool:
    return value >> 32 == 0xFFFF


def _text(x) -> str:
    # Broker's own text form (as str(broker.Data(x)) prints it). Imported
    # late: _broker imports nothing from here, but this module must load
    # without it for the converter's registration.
    from . import _broker

    return str(_broker.Data(x))


@_functools.total_ordering
class Address:
    """An IPv4 or IPv6 address, as real Broker's ``broker.Address``.

    ``Address(packed, 4)`` / ``Address(packed, 6)`` take the 4 or 16 bytes in
    network order (``Address.Family.IPv4``/``IPv6`` work as well);
    ``Address()`` is ``::``; ``Address("192.0.2.1")`` and ``Address(ipaddress
    object)`` parse. IPv4 is kept v4-mapped (``::ffff:a.b.c.d``), as Broker
    does: ``bytes()`` always has 16 bytes, and ``mask()`` counts bits in that
    form (keep 104 bits for an IPv4 /8).
    """

    class Family(_BrokerEnum):
        IPv4 = 0
        IPv6 = 1

    class ByteOrder(_BrokerEnum):
        Host = 0
        Network = 1

    __slots__ = ("_value",)  # ipaddress.IPv6Address, read by the converter

    def __init__(self, *args):
        if not args:
            self._value = _ip.IPv6Address(0)
        elif len(args) == 1:
            self._value = _ip.IPv6Address(_address_int(args[0]))
        elif len(args) == 2:
            self._value = _ip.IPv6Address(_packed_int(*args))
        else:
            raise TypeError(f"Address takes (packed bytes, family) or one address, got {len(args)} arguments")

    @classmethod
    def _from_int(cls, value: int) -> Address:
        result = cls.__new__(cls)
        result._value = _ip.IPv6Address(value)
        return result

    def bytes(self) -> bytes:
        """The 16 bytes in network order (IPv4 v4-mapped)."""
        return self._value.packed

    def is_v4(self) -> bool:
        return _is_mapped(int(self._value))

    def is_v6(self) -> bool:
        return not self.is_v4()

    def mask(self, top_bits_to_keep: int) -> bool:
        """Clears all but the first ``top_bits_to_keep`` bits (of 128), in
        place. Returns False, changing nothing, for more than 128 bits."""
        if not isinstance(top_bits_to_keep, int) or isinstance(top_bits_to_keep, bool):
            raise TypeError(f"mask() takes an int, not {type(top_bits_to_keep).__name__}")
        if top_bits_to_keep < 0:
            raise ValueError(f"mask() takes a bit count >= 0, got {top_bits_to_keep}")
        if top_bits_to_keep > 128:
            return False
        keep = _ALL_ONES ^ ((1 << (128 - top_bits_to_keep)) - 1)
        self._value = _ip.IPv6Address(int(self._value) & keep)
        return True

    def __str__(self) -> str:
        return _text(self)

    __repr__ = __str__

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Address):
            return self._value == other._value
        return NotImplemented

    def __lt__(self, other: Address) -> bool:
        if not isinstance(other, Address):
            return NotImplemented
        return self._value < other._value

    def __hash__(self) -> int:
        return hash(("broker.Address", int(self._value)))

    def __reduce__(self):
        return (Address._from_int, (int(self._value),))


def _address_int(x) -> int:
    """An address as a 128-bit int in Broker's form (IPv4 v4-mapped)."""
    if isinstance(x, Address):
        return int(x._value)
    if isinstance(x, str):
        try:
            x = _ip.ip_address(x)
        except ValueError as e:
            raise ValueError(f"not an IP address: {x!r}") from e
    if isinstance(x, _ip.IPv4Address):
        return _V4_MAPPED | int(x)
    if isinstance(x, _ip.IPv6Address):
        return int(x)
    raise TypeError(f"Address takes packed bytes and a family, a str or an ipaddress address, not {type(x).__name__}")


def _packed_int(packed, family) -> int:
    if not isinstance(packed, (bytes, bytearray, memoryview)):
        raise TypeError(f"Address packed form must be bytes, not {type(packed).__name__}")
    packed = bytes(packed)
    # Real Broker takes the family as 4 or 6; its Family enum works too.
    if family is Address.Family.IPv4 or (type(family) is int and family == 4):
        want, base = 4, _V4_MAPPED
    elif family is Address.Family.IPv6 or (type(family) is int and family == 6):
        want, base = 16, 0
    else:
        raise ValueError(f"Address family must be 4, 6 or an Address.Family, not {family!r}")
    if len(packed) != want:
        name = "IPv4" if want == 4 else "IPv6"
        raise ValueError(f"an {name} address has {want} bytes, got {len(packed)}")
    return base | int.from_bytes(packed, "big")


@_functools.total_ordering
class Subnet:
    """A network: an address with the host bits cleared, plus a prefix length.

    ``Subnet(Address, length)`` takes the length relative to the family (0-32
    for IPv4, 0-128 for IPv6); ``Subnet()`` is ``::/0``; ``Subnet("10.0.0.0/8")``
    and ``Subnet(ipaddress network)`` parse. Host bits are cleared.
    """

    __slots__ = ("_value",)  # ipaddress.IPv6Network (IPv4 v4-mapped), read by the converter

    def __init__(self, *args):
        if not args:
            self._value = _ip.IPv6Network((0, 0))
        elif len(args) == 1:
            self._value = _network_of(args[0])
        elif len(args) == 2:
            addr, length = args
            if not isinstance(addr, Address):
                raise TypeError(f"Subnet takes an Address and a length, not {type(addr).__name__}")
            self._value = _raw_network(int(addr._value), length)
        else:
            raise TypeError(f"Subnet takes (Address, length) or one network, got {len(args)} arguments")

    def network(self) -> Address:
        return Address._from_int(int(self._value.network_address))

    def length(self) -> int:
        """The prefix length relative to the family (8 for 10.0.0.0/8)."""
        raw = self._value.prefixlen
        return raw - 96 if _is_mapped(int(self._value.network_address)) else raw

    def contains(self, addr: Address) -> bool:
        if not isinstance(addr, Address):
            raise TypeError(f"contains() takes a broker.Address, not {type(addr).__name__}")
        return addr._value in self._value

    def __str__(self) -> str:
        return _text(self)

    __repr__ = __str__

    def _key(self):
        return (int(self._value.network_address), self._value.prefixlen)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Subnet):
            return self._key() == other._key()
        return NotImplemented

    def __lt__(self, other: Subnet) -> bool:
        if not isinstance(other, Subnet):
            return NotImplemented
        return self._key() < other._key()

    def __hash__(self) -> int:
        return hash(("broker.Subnet",) + self._key())

    def __reduce__(self):
        return (Subnet, (str(self),))


def _raw_network(addr: int, length) -> _ip.IPv6Network:
    """The network of `addr` (Broker's form) with a family-relative length."""
    if not isinstance(length, int) or isinstance(length, bool):
        raise TypeError(f"Subnet length must be an int, not {type(length).__name__}")
    v4 = _is_mapped(addr)
    limit = 32 if v4 else 128
    if not 0 <= length <= limit:
        raise ValueError(f"Subnet length of an IPv{4 if v4 else 6} address must be 0-{limit}, got {length}")
    raw = length + 96 if v4 else length
    keep = _ALL_ONES ^ ((1 << (128 - raw)) - 1)
    return _ip.IPv6Network((addr & keep, raw))


def _network_of(x) -> _ip.IPv6Network:
    if isinstance(x, Subnet):
        return x._value
    if isinstance(x, str):
        try:
            x = _ip.ip_network(x, strict=False)
        except ValueError as e:
            raise ValueError(f"not an IP network: {x!r}") from e
    if isinstance(x, _ip.IPv4Network):
        return _raw_network(_V4_MAPPED | int(x.network_address), x.prefixlen)
    if isinstance(x, _ip.IPv6Network):
        # Already in Broker's form: a v4-mapped network keeps its raw length.
        return x
    raise TypeError(f"Subnet takes an Address and a length, a str or an ipaddress network, not {type(x).__name__}")
