"""The mapping between Python values and Broker data (SPEC §2), both ways."""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
import types

import pytest

import broker
from broker import Count, Data, Enum, FrozenTable, Port, Timespan, Timestamp

UTC = dt.timezone.utc


def rt(value, safe=False):
    """Python -> Data -> wire bytes -> Data -> Python."""
    return Data.from_bytes(Data(value).to_bytes()).to_py(safe=safe)


# -- every type, both directions ---------------------------------------------


@pytest.mark.parametrize(
    "value, type_name, out",
    [
        (None, "Nil", None),
        (True, "Boolean", True),
        (False, "Boolean", False),
        (Count(0), "Count", Count(0)),
        (Count(2**64 - 1), "Count", Count(2**64 - 1)),
        (-1, "Integer", -1),
        (-(2**63), "Integer", -(2**63)),
        (2**63 - 1, "Integer", 2**63 - 1),
        (1.5, "Real", 1.5),
        (math.inf, "Real", math.inf),
        ("", "String", ""),
        ("héllo ✓ 日本", "String", "héllo ✓ 日本"),
        (b"abc", "String", "abc"),
        (b"\xff\xfe\x00abc\x80", "String", b"\xff\xfe\x00abc\x80"),
        (ipaddress.IPv4Address("192.0.2.1"), "Address", ipaddress.IPv4Address("192.0.2.1")),
        (ipaddress.IPv6Address("2001:db8::1"), "Address", ipaddress.IPv6Address("2001:db8::1")),
        (ipaddress.IPv4Network("10.0.0.0/8"), "Subnet", ipaddress.IPv4Network("10.0.0.0/8")),
        (
            ipaddress.IPv6Network("2001:db8::/32"),
            "Subnet",
            ipaddress.IPv6Network("2001:db8::/32"),
        ),
        (Port(443, Port.TCP), "Port", Port(443, Port.TCP)),
        (Port(53, Port.UDP), "Port", Port(53, Port.UDP)),
        (Port(8, Port.ICMP), "Port", Port(8, Port.ICMP)),
        (Port(0, Port.Unknown), "Port", Port(0, Port.Unknown)),
        (
            dt.datetime(2023, 11, 14, 22, 13, 20, 123457, tzinfo=UTC),
            "Timestamp",
            dt.datetime(2023, 11, 14, 22, 13, 20, 123457, tzinfo=UTC),
        ),
        (dt.timedelta(seconds=1.5), "Timespan", dt.timedelta(seconds=1.5)),
        (dt.timedelta(seconds=-2), "Timespan", dt.timedelta(seconds=-2)),
        (Enum("Notice::ACTION_LOG"), "EnumValue", Enum("Notice::ACTION_LOG")),
        ({Count(1), Count(2)}, "Set", {Count(1), Count(2)}),
        (frozenset({1, 2}), "Set", {1, 2}),
        ({"a": 1, "b": 2}, "Table", {"a": 1, "b": 2}),
        (types.MappingProxyType({"a": 1}), "Table", {"a": 1}),
        ([1, "two", 3.0], "Vector", (1, "two", 3.0)),
        ((1, "two"), "Vector", (1, "two")),
        ([], "Vector", ()),
        (set(), "Set", set()),
        ({}, "Table", {}),
    ],
)
def test_every_type_maps_both_ways(value, type_name, out):
    data = Data(value)
    assert data.get_type() == getattr(Data.Type, type_name)
    for got in (data.to_py(), rt(value)):
        assert got == out
        assert type(got) is type(out)


def test_nan_round_trips():
    assert math.isnan(rt(math.nan))


def test_minus_zero_keeps_its_sign():
    assert math.copysign(1.0, rt(-0.0)) == -1.0


def test_vectors_come_back_as_tuples_and_nest():
    value = {"k": [{1, 2}, {"x": Count(5)}, None], "l": [[Port(22, Port.TCP)]]}
    assert rt(value) == {"k": ({1, 2}, {"x": Count(5)}, None), "l": ((Port(22, Port.TCP),),)}


def test_table_with_vector_keys():
    key = (ipaddress.IPv4Address("10.0.0.1"), Port(80, Port.TCP))
    assert rt({key: "web"}) == {key: "web"}


def test_count_and_integer_stay_distinct():
    assert Data(Count(1)) != Data(1)
    assert Data(Count(1)).get_type() == Data.Type.Count
    assert Data(1).get_type() == Data.Type.Integer
    back = rt({Count(1): "count", 1: "integer"})
    assert back == {Count(1): "count", 1: "integer"}
    assert type(rt(Count(7))) is Count
    assert type(rt(7)) is int


def test_int_subclasses_other_than_count_are_integers():
    assert Data(Port.TCP).get_type() == Data.Type.Integer


def test_ipv4_is_stored_v4_mapped_and_comes_back_as_ipv4():
    wire = Data(ipaddress.IPv4Address("192.0.2.1")).to_bytes()
    assert wire.hex() == "06" + "00" * 10 + "ffff" + "c0000201"
    assert rt(ipaddress.IPv4Address("192.0.2.1")) == ipaddress.IPv4Address("192.0.2.1")


def test_subnet_wire_length_is_plus_96_for_ipv4():
    assert Data(ipaddress.IPv4Network("10.0.0.0/8")).to_bytes()[-1] == 104


def test_naive_datetime_is_utc():
    naive = dt.datetime(2020, 1, 2, 3, 4, 5, 6)
    assert rt(naive) == naive.replace(tzinfo=UTC)
    assert rt(naive).tzinfo is UTC


def test_aware_datetime_is_converted_to_utc():
    plus_one = dt.timezone(dt.timedelta(hours=1))
    t = dt.datetime(2025, 1, 15, 10, 30, tzinfo=plus_one)
    assert rt(t) == dt.datetime(2025, 1, 15, 9, 30, tzinfo=UTC)


def test_pre_epoch_timestamps():
    t = dt.datetime(1969, 12, 31, 23, 59, 58, 500000, tzinfo=UTC)
    assert rt(t) == t
    assert rt(Timestamp(Timespan(-1500000000))) == t


def test_timestamps_keep_nanoseconds_internally():
    a = Data(Timestamp(Timespan(1700000000123456789)))
    b = Data(Timestamp(Timespan(1700000000123456788)))
    assert a != b
    assert a.to_bytes().hex() == "0917979cfe3d85cd15"
    # Out as datetime, rounded to the nearest microsecond.
    assert a.to_py() == dt.datetime(2023, 11, 14, 22, 13, 20, 123457, tzinfo=UTC)


def test_timespans_keep_nanoseconds_internally():
    assert Data(Timespan(7)).to_bytes().hex() == "0a0000000000000007"
    assert rt(Timespan(7000)) == dt.timedelta(microseconds=7)
    assert Timespan(1.5).count() == 1_500_000_000
    assert Timespan(dt.timedelta(seconds=2)).count() == 2_000_000_000


def test_timespan_out_of_range_is_an_error():
    with pytest.raises(OverflowError):
        Data(dt.timedelta(days=999_999_999))


def test_strings_that_are_not_utf8_come_back_as_bytes():
    assert rt(b"\xff") == b"\xff"
    assert rt("ok".encode()) == "ok"


# -- safe mode ----------------------------------------------------------------


def test_safe_mode_returns_hashable_immutable_forms():
    value = {"a": {1, 2}, "b": [1, {"c": 2}]}
    safe = rt(value, safe=True)
    assert isinstance(safe, FrozenTable)
    assert isinstance(safe["a"], frozenset)
    assert isinstance(safe["b"], tuple)
    assert isinstance(safe["b"][1], FrozenTable)
    hash(safe)
    with pytest.raises(TypeError):
        safe["x"] = 1
    with pytest.raises(TypeError):
        safe.update({"x": 1})
    assert safe == {"a": {1, 2}, "b": (1, {"c": 2})}


def test_safe_mode_allows_sets_of_tables():
    # Real Broker's golden capture: set {table {a -> 1}, table {b -> 2}}.
    data = Data.from_bytes(bytes.fromhex("0c020d010501610300000000000000010d01050162030000000000000002"))
    got = data.to_py(safe=True)
    assert got == frozenset({FrozenTable({"a": 1}), FrozenTable({"b": 2})})
    assert repr(got) in (
        "frozenset({{'a': 1}, {'b': 2}})",
        "frozenset({{'b': 2}, {'a': 1}})",
    )


def test_unsafe_mode_still_converts_sets_of_tables():
    # Set elements and table keys always use the hashable forms.
    data = Data({FrozenTable({"a": 1})})
    assert data.to_py() == {FrozenTable({"a": 1})}


def test_keys_that_collide_in_python_are_an_error_not_silent_loss():
    # Broker keeps integer 1 and real 1.0 apart; a Python dict cannot.
    data = Data.from_bytes(
        bytes.fromhex("0d02" + "030000000000000001" + "0501" + "61" + "043ff0000000000000" + "050162")
    )
    assert str(data) == "{1 -> a, 1.000000 -> b}"  # reals print as C's %f
    with pytest.raises(ValueError, match="collapse"):
        data.to_py()


# -- errors name the element and where it sits ---------------------------------


@pytest.mark.parametrize(
    "value, exc, message",
    [
        (object(), TypeError, "value: unsupported type object"),
        ([1, 2, object()], TypeError, r"value\[2\]: unsupported type object"),
        ({"a": [0, {"b": object()}]}, TypeError, r"value\['a'\]\[1\]\['b'\]: unsupported type"),
        ([2**63], OverflowError, r"value\[0\]: int out of the int64 range"),
        (-(2**63) - 1, OverflowError, "value: int out of the int64 range"),
        ({object(): 1}, TypeError, r"value<key <object object at"),
        ([{1, 2, 3j}], TypeError, r"value\[0\]\{3j\}: unsupported type complex"),
        (["\ud800"], ValueError, r"value\[0\]: .*surrogates not allowed"),
        (dt.date(2020, 1, 1), TypeError, "unsupported type datetime.date"),
    ],
)
def test_bad_input_names_the_offending_element(value, exc, message):
    with pytest.raises(exc, match=message):
        Data(value)


def test_self_referencing_list_is_a_clear_error():
    xs = []
    xs.append(xs)
    with pytest.raises(ValueError, match="nesting deeper than 100 levels"):
        Data(xs)


def test_nesting_up_to_the_limit_works():
    value = None
    for _ in range(100):
        value = [value]
    assert Data(value).get_type() == Data.Type.Vector
    with pytest.raises(ValueError):
        Data([value])


def test_count_range_is_checked():
    with pytest.raises(OverflowError):
        Count(-1)
    with pytest.raises(OverflowError):
        Count(2**64)
    with pytest.raises(TypeError):
        Count(1.5)


def test_port_checks_its_arguments():
    with pytest.raises(ValueError):
        Port(70000, Port.TCP)
    with pytest.raises(TypeError):
        Port("80", Port.TCP)
    with pytest.raises(ValueError):
        Port(80, 7)


# -- the value classes ------------------------------------------------------------


def test_count_is_hashable_and_a_dict_key():
    d = {Count(1): "a"}
    assert d[Count(1)] == "a"
    assert Count(1) not in {1: "x"}
    assert Count(5).value == 5
    assert repr(Count(5)) == "Count(5)"
    assert Count(2) < Count(3)


def test_port_api():
    p = Port(443, Port.TCP)
    assert p.number() == 443
    assert p.type() == Port.TCP
    assert str(p) == "443/tcp"
    assert str(Port(0, Port.Unknown)) == "0/?"
    assert hash(p) == hash(Port(443, Port.TCP))
    assert p != Port(443, Port.UDP)


def test_enum_api():
    e = Enum("Foo::BAR")
    assert e.name == "Foo::BAR"
    assert str(e) == "Foo::BAR"
    assert e == Enum("Foo::BAR")
    assert {e: 1}[Enum("Foo::BAR")] == 1


def test_data_object_api():
    d = Data([1, "x"])
    assert str(d) == "(1, x)"
    assert repr(d) == "Data((1, x))"
    assert Data(1) < Data("a")  # type first, then value
    assert hash(Data([1, "x"])) == hash(d)
    assert Data.from_py({"a": 1}) == Data({"a": 1})
    assert Data() == Data(None)
    # A Data nests inside other values.
    assert Data([Data(Count(1)), 2]).to_py() == (Count(1), 2)


def test_from_bytes_rejects_malformed_input():
    for bad in [b"", b"\x0f", b"\x05\x05abc", b"\x0e\xff\xff\xff\xff\x0f", b"\x00\x00"]:
        with pytest.raises(ValueError, match="deserialization_failed"):
            Data.from_bytes(bad)


def test_topics():
    t = broker.Topic("a") / "b"
    assert t.string() == "a/b"
    assert str(broker.Topic("/x/") / broker.Topic("/y")) == "/x//y"  # real Broker's join
    assert broker.Topic("/test").prefix_of("/testing")
    assert broker.Topic.is_reserved("<$>/local")


def test_error_codes_have_real_brokers_values():
    # 42 codes, one (request_timeout) under two names: real Broker's
    # RequestTimeOut and our earlier RequestTimeout.
    assert len(broker.EC.__members__) == 43
    assert broker.EC.RequestTimeout == broker.EC.RequestTimeOut
    assert broker.EC(10).name == "RequestTimeOut"
    assert int(broker.EC.PeerIncompatible) == 2
    assert int(broker.EC.TypeClash) == 11
    assert int(broker.EC.StaleData) == 14
    assert int(broker.EC.ShuttingDown) == 28
    assert int(broker.EC.WrongMagicNumber) == 38
    assert int(broker.EC.RedundantConnection) == 39
    assert int(broker.EC.InvalidJson) == 41


def test_subnormal_reals_are_mangled_like_real_broker():
    # CAF's packing: 5e-324 goes out as fcd0..., which real Broker decodes
    # as -1.596672247627776e+293 (golden capture).
    wire = Data(5e-324).to_bytes()
    assert wire.hex() == "04fcd0000000000000"
    assert Data.from_bytes(wire).to_py() == -1.596672247627776e293


def test_v4_mapped_ipv6_values_come_back_as_ipv4():
    assert rt(ipaddress.IPv6Address("::ffff:1.2.3.4")) == ipaddress.IPv4Address("1.2.3.4")
    assert rt(ipaddress.IPv6Network("::ffff:0:0/96")) == ipaddress.IPv4Network("0.0.0.0/0")
    assert rt(ipaddress.IPv6Network("::/0")) == ipaddress.IPv6Network("::/0")
