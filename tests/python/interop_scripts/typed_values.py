"""Typed descriptions of Broker values, the common currency of the interop
tests: every process (ours or real Broker's) turns what it received into a
plain-JSON description, and the test compares descriptions.

A description is a JSON list whose first element names the Broker type:

    ["none"]                      ["bool", true]
    ["count", 5]                  ["integer", -5]
    ["real", "0x1.8p+0"]          (float.hex(): exact, keeps -0.0; any NaN is "nan")
    ["string", "ff61", "bytes"]   (hex of the bytes; how Python shows it: "str" or "bytes")
    ["address", "1.2.3.4"]        (IPv4-mapped addresses print as IPv4, as both
                                   bindings present them; others compressed IPv6)
    ["subnet", "10.0.0.0/8"]      ["port", 80, 1]  (number, protocol 0..3)
    ["timestamp", ns]             ["timespan", ns]
    ["enum", "name"]
    ["set", [desc, ...]]          (sorted by the JSON text of each element)
    ["table", [[kdesc, vdesc], ...]]  (sorted by the JSON text of the key)
    ["vector", [desc, ...]]

Two flavours of each direction, chosen by `flavour(broker)`:
- "real": real Broker 2.8. `describe` reads the raw `_broker.Data` (exact:
  nanoseconds, every byte); `build` makes raw `_broker.Data` from a
  description.
- "ours": this project's package. Subscribers hand out Python values, so
  `describe` reads those (timestamps and timespans come as datetime and
  timedelta: microseconds); `build` makes the Python values our package
  converts exactly (broker.Timestamp/Timespan carry nanoseconds).

This module is imported by child scripts under either interpreter and by
the tests; it imports neither `broker` nor anything outside the standard
library at module level.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import json

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


def flavour(broker) -> str:
    """ "real" for real Broker's bindings, "ours" for this project's."""
    # Both now have every public name; only ours has this private one.
    return "ours" if hasattr(broker._broker, "_protocol_version") else "real"


def _key(desc) -> str:
    return json.dumps(desc, sort_keys=True)


def _real_hex(x: float) -> str:
    return "nan" if x != x else float.hex(x)


def _string(raw: bytes, pytype: str) -> list:
    return ["string", raw.hex(), pytype]


def _py_string_type(raw: bytes) -> str:
    """How both bindings present a string: str when it is UTF-8, else bytes."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return "bytes"
    return "str"


def _addr(ip) -> str:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def _td_ns(td: _dt.timedelta) -> int:
    return ((td.days * 86400 + td.seconds) * 1_000_000 + td.microseconds) * 1000


# -- describing received values ---------------------------------------------------


def describe(broker, value) -> list:
    """The description of `value` as the given implementation hands it out:
    a raw `_broker.Data` for real Broker, a Python value for ours."""
    if flavour(broker) == "real":
        return _describe_real(broker, value)
    return _describe_ours(broker, value)


def _describe_ours(broker, v) -> list:
    if v is None:
        return ["none"]
    if isinstance(v, bool):
        return ["bool", v]
    if isinstance(v, broker.Count):
        return ["count", int(v)]
    if isinstance(v, int):
        return ["integer", v]
    if isinstance(v, float):
        return ["real", _real_hex(v)]
    if isinstance(v, str):
        return _string(v.encode("utf-8", "surrogateescape"), "str")
    if isinstance(v, bytes):
        return _string(v, "bytes")
    if isinstance(v, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return ["address", _addr(v)]
    if isinstance(v, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        return ["subnet", str(v)]
    if isinstance(v, broker.Port):
        return ["port", v.number(), int(v.type())]
    if isinstance(v, _dt.datetime):
        return ["timestamp", _td_ns(v - _EPOCH)]
    if isinstance(v, broker.Timestamp):
        return ["timestamp", v.time_since_epoch().count()]
    if isinstance(v, _dt.timedelta):
        return ["timespan", _td_ns(v)]
    if isinstance(v, broker.Timespan):
        return ["timespan", v.count()]
    if isinstance(v, broker.Enum):
        return ["enum", v.name]
    if isinstance(v, (set, frozenset)):
        return ["set", sorted((_describe_ours(broker, x) for x in v), key=_key)]
    if isinstance(v, dict):
        items = [[_describe_ours(broker, k), _describe_ours(broker, x)] for k, x in v.items()]
        return ["table", sorted(items, key=lambda kv: _key(kv[0]))]
    if isinstance(v, (tuple, list)):
        return ["vector", [_describe_ours(broker, x) for x in v]]
    if isinstance(v, broker.Data):
        return _describe_ours(broker, v.to_py())
    raise TypeError(f"cannot describe {type(v).__name__}: {v!r}")


def _ns_of(text: str) -> int:
    # real Broker prints timestamps and timespans as "<integer>ns"
    if not text.endswith("ns"):
        raise ValueError(f"unexpected time text {text!r}")
    return int(text[:-2])


def _describe_real(broker, d) -> list:
    B = broker._broker
    T = B.Data.Type
    t = d.get_type()
    if t == T.Nil:
        return ["none"]
    if t == T.Boolean:
        return ["bool", bool(d.as_boolean())]
    if t == T.Count:
        return ["count", int(d.as_count())]
    if t == T.Integer:
        return ["integer", int(d.as_integer())]
    if t == T.Real:
        return ["real", _real_hex(d.as_real())]
    if t == T.String:
        raw = d.as_string()
        return _string(raw, type(broker.Data.to_py(d)).__name__)
    if t == T.Address:
        a = d.as_address()
        raw = a.bytes()
        ip = ipaddress.IPv4Address(raw[-4:]) if a.is_v4() else ipaddress.IPv6Address(raw)
        return ["address", _addr(ip)]
    if t == T.Subnet:
        return ["subnet", str(broker.Data.to_py(d))]
    if t == T.Port:
        p = d.as_port()
        return ["port", p.number(), int(p.get_type())]
    if t == T.Timestamp:
        return ["timestamp", _ns_of(str(d))]
    if t == T.Timespan:
        return ["timespan", _ns_of(str(d))]
    if t == T.EnumValue:
        return ["enum", d.as_enum_value().name]
    if t == T.Set:
        return ["set", sorted((_describe_real(broker, x) for x in d.as_set()), key=_key)]
    if t == T.Table:
        items = [
            [_describe_real(broker, k), _describe_real(broker, v)] for k, v in d.as_table().items()
        ]
        return ["table", sorted(items, key=lambda kv: _key(kv[0]))]
    if t == T.Vector:
        return ["vector", [_describe_real(broker, x) for x in d.as_vector()]]
    raise TypeError(f"cannot describe real Broker type {t}")


def _round_half_even_us(ns: int) -> int:
    q, r = divmod(ns, 1000)
    if r > 500 or (r == 500 and q % 2):
        q += 1
    return q * 1000


def canonical(desc):
    """`desc` with set elements and table entries in the order `describe`
    gives them (for writing expected values in any order)."""
    tag = desc[0]
    if tag == "set":
        return ["set", sorted((canonical(x) for x in desc[1]), key=_key)]
    if tag == "table":
        items = [[canonical(k), canonical(v)] for k, v in desc[1]]
        return ["table", sorted(items, key=lambda kv: _key(kv[0]))]
    if tag == "vector":
        return ["vector", [canonical(x) for x in desc[1]]]
    return desc


def microsecond_view(desc):
    """`desc` as seen through Python's datetime/timedelta: timestamps and
    timespans rounded to microseconds (half to even), which is what our
    subscribers hand out for a value sent with nanoseconds."""
    tag = desc[0]
    if tag in ("timestamp", "timespan"):
        return [tag, _round_half_even_us(desc[1])]
    if tag == "set":
        return ["set", sorted((microsecond_view(x) for x in desc[1]), key=_key)]
    if tag == "table":
        items = [[microsecond_view(k), microsecond_view(v)] for k, v in desc[1]]
        return ["table", sorted(items, key=lambda kv: _key(kv[0]))]
    if tag == "vector":
        return ["vector", [microsecond_view(x) for x in desc[1]]]
    return desc


# -- building values to publish ---------------------------------------------------


def build(broker, desc):
    """A value that the given implementation publishes as `desc`."""
    if flavour(broker) == "real":
        return _build_real(broker, desc)
    return _build_ours(broker, desc)


def _raw_string(desc) -> bytes:
    return bytes.fromhex(desc[1])


def _build_ours(broker, desc):
    tag = desc[0]
    if tag == "none":
        return None
    if tag == "bool":
        return bool(desc[1])
    if tag == "count":
        return broker.Count(desc[1])
    if tag == "integer":
        return int(desc[1])
    if tag == "real":
        return float(desc[1]) if desc[1] == "nan" else float.fromhex(desc[1])
    if tag == "string":
        raw = _raw_string(desc)
        return raw.decode("utf-8") if _py_string_type(raw) == "str" else raw
    if tag == "address":
        return ipaddress.ip_address(desc[1])
    if tag == "subnet":
        return ipaddress.ip_network(desc[1])
    if tag == "port":
        return broker.Port(desc[1], broker.Port.Protocol(desc[2]))
    if tag == "timestamp":
        return broker.Timestamp(broker.Timespan(desc[1]))
    if tag == "timespan":
        return broker.Timespan(desc[1])
    if tag == "enum":
        return broker.Enum(desc[1])
    if tag == "set":
        return {_hashable(_build_ours(broker, x)) for x in desc[1]}
    if tag == "table":
        return {_hashable(_build_ours(broker, k)): _build_ours(broker, v) for k, v in desc[1]}
    if tag == "vector":
        return tuple(_build_ours(broker, x) for x in desc[1])
    raise ValueError(f"unknown description {desc!r}")


def _hashable(v):
    if isinstance(v, set):
        return frozenset(v)
    if isinstance(v, dict):
        raise TypeError("a table cannot be a set element or key in these tests")
    return v


def _build_real(broker, desc):
    B = broker._broker
    tag = desc[0]
    if tag == "none":
        return B.Data()
    if tag == "bool":
        return B.Data(bool(desc[1]))
    if tag == "count":
        return B.Data(B.Count(desc[1]))
    if tag == "integer":
        return B.Data(int(desc[1]))
    if tag == "real":
        return B.Data(float(desc[1]) if desc[1] == "nan" else float.fromhex(desc[1]))
    if tag == "string":
        return B.Data(_raw_string(desc))
    if tag == "address":
        ip = ipaddress.ip_address(desc[1])
        return B.Data(B.Address(ip.packed, ip.version))
    if tag == "subnet":
        net = ipaddress.ip_network(desc[1])
        addr = B.Address(net.network_address.packed, net.version)
        return B.Data(B.Subnet(addr, net.prefixlen))
    if tag == "port":
        return B.Data(B.Port(desc[1], B.Port.Protocol(desc[2])))
    if tag == "timestamp":
        return B.Data(B.Timestamp(B.Timespan(desc[1])))
    if tag == "timespan":
        return B.Data(B.Timespan(desc[1]))
    if tag == "enum":
        return B.Data(B.Enum(desc[1]))
    if tag == "set":
        return B.Data(B.Set([_build_real(broker, x) for x in desc[1]]))
    if tag == "table":
        t = B.Table()
        for k, v in desc[1]:
            t[_build_real(broker, k)] = _build_real(broker, v)
        return B.Data(t)
    if tag == "vector":
        return B.Data(B.Vector([_build_real(broker, x) for x in desc[1]]))
    raise ValueError(f"unknown description {desc!r}")


# -- Zeek events ----------------------------------------------------------------------


def build_event(broker, name: str, args: list, metadata: list | None):
    """A Zeek event `name(*args)` with `metadata` [[key int, value desc], ...],
    made with the implementation's own `broker.zeek.Event`."""
    values = [build(broker, a) for a in args]
    meta = None if metadata is None else [(k, build(broker, v)) for k, v in metadata]
    return broker.zeek.Event(name, *values, metadata=meta)


def describe_event(broker, value) -> dict:
    """What the implementation's Event API makes of a received message:
    {"valid", "name", "args": [desc], "metadata": [[kdesc, vdesc]] or None}.
    Keys are described as the API hands them out (Count or int)."""
    if flavour(broker) == "real":
        B = broker._broker
        ev = broker.zeek.Event(value)
        if not ev.valid():
            return {"valid": False}
        meta = B.zeek.Event.metadata(ev)
        if meta is not None:
            # the Python view of each (key, value) pair: as Event.metadata() gives it
            pairs = [broker.Data.to_py(m) for m in meta]
            raw = [m.as_vector() for m in meta]
            meta = [
                [_describe_ours_like_real(broker, k), _describe_real(broker, kv[1])]
                for (k, _), kv in zip(pairs, raw)
            ]
        return {
            "valid": True,
            "name": ev.name(),
            "args": [_describe_real(broker, a) for a in B.zeek.Event.args(ev)],
            "metadata": meta,
        }
    ev = broker.zeek.Event(value)  # as real Broker: never raises, may be invalid
    if not ev.valid():
        return {"valid": False}
    meta = ev.metadata()
    return {
        "valid": True,
        "name": ev.name(),
        "args": [_describe_ours(broker, a) for a in ev.args()],
        "metadata": None
        if meta is None
        else [[_describe_ours(broker, k), _describe_ours(broker, v)] for k, v in meta],
    }


def _describe_ours_like_real(broker, k) -> list:
    """A metadata key as real Broker's Python API hands it out."""
    if isinstance(k, broker.Count):
        return ["count", int(k.value)]
    if isinstance(k, int):
        return ["integer", k]
    raise TypeError(f"unexpected metadata key {k!r}")
