"""The classes and settings real Broker's API has and ours gained: each
behaves (values, types, reprs), and a wrong argument raises a Python
exception naming the problem."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import ipaddress
import os
import pathlib
import pickle
import threading
import time

import pytest

import broker
from broker import Address, Count, Data, Set, Subnet, Table, Timespan, Vector

from conftest import wait_until

REPO = pathlib.Path(__file__).resolve().parents[2]


def v4(text: str) -> Address:
    return Address(ipaddress.IPv4Address(text).packed, 4)


# -- Address ---------------------------------------------------------------------------


def test_address_from_packed_bytes_and_family():
    a = Address(b"\x01\x02\x03\x04", 4)
    assert str(a) == repr(a) == "1.2.3.4"
    assert a.is_v4() and not a.is_v6()
    assert a.bytes() == bytes(10) + b"\xff\xff\x01\x02\x03\x04"  # v4-mapped
    b = Address(ipaddress.IPv6Address("2001:db8::1").packed, 6)
    assert str(b) == "2001:db8::1" and b.is_v6() and not b.is_v4()
    assert b.bytes() == ipaddress.IPv6Address("2001:db8::1").packed
    # Real Broker's family enum works as well as 4 and 6.
    assert Address(b"\x01\x02\x03\x04", Address.Family.IPv4) == a
    assert Address(b.bytes(), Address.Family.IPv6) == b
    # A v4-mapped IPv6 address is IPv4, as in Broker.
    assert Address(a.bytes(), 6) == a and Address(a.bytes(), 6).is_v4()
    assert str(Address()) == "::"
    assert Address("1.2.3.4") == a and Address(ipaddress.ip_address("2001:db8::1")) == b


def test_address_mask_counts_bits_of_the_v6_form():
    a = v4("10.1.2.3")
    assert a.mask(104) is True and a == v4("10.0.0.0")  # an IPv4 /8
    a = v4("10.1.2.3")
    assert a.mask(8) is True and str(a) == "::"
    a = v4("10.1.2.3")
    assert a.mask(128) is True and a == v4("10.1.2.3")
    assert a.mask(129) is False and a == v4("10.1.2.3")  # unchanged
    assert a.mask(0) is True and a == Address()


def test_address_compares_hashes_and_pickles():
    assert v4("1.2.3.4") < v4("1.2.3.5") <= v4("1.2.3.5")
    assert v4("1.2.3.4") != v4("1.2.3.5") and v4("1.2.3.4") != "1.2.3.4"
    assert len({v4("1.2.3.4"), v4("1.2.3.4"), Address("::1")}) == 2
    a = Address("2001:db8::1")
    assert pickle.loads(pickle.dumps(a)) == a


def test_address_enums():
    assert [(m.name, m.value) for m in Address.Family] == [("IPv4", 0), ("IPv6", 1)]
    assert [(m.name, m.value) for m in Address.ByteOrder] == [("Host", 0), ("Network", 1)]
    assert str(Address.Family.IPv4) == "Family.IPv4"
    assert repr(Address.ByteOrder.Network) == "<ByteOrder.Network: 1>"
    assert Address.Family(1) is Address.Family.IPv6
    assert Address.Family.IPv4 != 0  # like pybind11's enums, not an int


def test_address_converts_to_data_and_back():
    d = Data(v4("192.0.2.1"))
    assert d.get_type() == Data.Type.Address
    assert d.to_py() == ipaddress.IPv4Address("192.0.2.1")
    assert d.as_address() == v4("192.0.2.1")
    assert Data(Address("2001:db8::1")).to_py() == ipaddress.IPv6Address("2001:db8::1")


def test_address_rejects_bad_arguments():
    with pytest.raises(ValueError, match="an IPv4 address has 4 bytes, got 2"):
        Address(b"\x01\x02", 4)
    with pytest.raises(ValueError, match="an IPv6 address has 16 bytes, got 4"):
        Address(b"\x01\x02\x03\x04", 6)
    with pytest.raises(ValueError, match="family must be 4, 6"):
        Address(b"\x01\x02\x03\x04", 5)
    with pytest.raises(TypeError, match="packed form must be bytes, not str"):
        Address("1.2.3.4", 4)
    with pytest.raises(TypeError, match="not object"):
        Address(object())
    with pytest.raises(ValueError, match="not an IP address"):
        Address("no.such.address")
    with pytest.raises(TypeError, match="got 3 arguments"):
        Address(b"", 4, 1)
    with pytest.raises(TypeError, match="takes an int, not str"):
        Address().mask("8")
    with pytest.raises(ValueError, match="bit count >= 0"):
        Address().mask(-1)
    with pytest.raises(TypeError):
        v4("1.2.3.4") < "1.2.3.5"


# -- Subnet ------------------------------------------------------------------------------


def test_subnet_clears_host_bits_and_answers():
    s = Subnet(v4("10.1.2.3"), 8)
    assert str(s) == repr(s) == "10.0.0.0/8"
    assert s.length() == 8
    assert s.network() == v4("10.0.0.0")
    assert s.contains(v4("10.9.9.9")) is True
    assert s.contains(v4("11.0.0.1")) is False
    assert s.contains(Address("::1")) is False
    s6 = Subnet(Address("2001:db8::1"), 32)
    assert str(s6) == "2001:db8::/32" and s6.length() == 32
    assert s6.contains(Address("2001:db8:1::")) and not s6.contains(v4("10.0.0.1"))
    assert str(Subnet()) == "::/0" and Subnet().length() == 0
    assert Subnet("10.1.2.3/8") == s == Subnet(ipaddress.ip_network("10.0.0.0/8"))
    assert str(Subnet(v4("1.2.3.4"), 0)) == "0.0.0.0/0"


def test_subnet_compares_hashes_and_pickles():
    s = Subnet(v4("10.0.0.0"), 8)
    assert s == Subnet(v4("10.255.0.0"), 8)
    assert s < Subnet(v4("10.0.0.0"), 9) and s != Subnet(v4("10.0.0.0"), 9)
    assert len({s, Subnet(v4("10.1.0.0"), 8)}) == 1
    assert pickle.loads(pickle.dumps(s)) == s


def test_subnet_converts_to_data_and_back():
    d = Data(Subnet(v4("192.168.7.0"), 24))
    assert d.get_type() == Data.Type.Subnet
    assert d.to_py() == ipaddress.IPv4Network("192.168.7.0/24")
    assert d.as_subnet() == Subnet("192.168.7.0/24")
    assert d.as_subnet().length() == 24
    assert Data(Subnet("2001:db8::/48")).to_py() == ipaddress.IPv6Network("2001:db8::/48")


def test_subnet_rejects_bad_arguments():
    # Real Broker silently makes ::/0 of an out-of-range length.
    with pytest.raises(ValueError, match="IPv4 address must be 0-32, got 33"):
        Subnet(v4("10.0.0.0"), 33)
    with pytest.raises(ValueError, match="IPv6 address must be 0-128, got 129"):
        Subnet(Address("::1"), 129)
    with pytest.raises(ValueError, match="0-32, got -1"):
        Subnet(v4("10.0.0.0"), -1)
    with pytest.raises(TypeError, match="length must be an int, not str"):
        Subnet(v4("10.0.0.0"), "8")
    with pytest.raises(TypeError, match="takes an Address and a length, not str"):
        Subnet("10.0.0.0", 8)
    with pytest.raises(ValueError, match="not an IP network"):
        Subnet("10.0.0.0/99")
    with pytest.raises(TypeError, match="takes a broker.Address, not str"):
        Subnet("10.0.0.0/8").contains("10.0.0.1")


# -- Set ---------------------------------------------------------------------------------


def test_set_holds_data_in_brokers_order():
    s = Set([Data(2), Data(1), Data("a")])
    assert [type(x) for x in s] == [Data, Data, Data]
    assert list(s) == [Data(1), Data(2), Data("a")]  # integers before strings
    assert len(s) == 3 and bool(s) and not Set()
    assert repr(s) == "Set{1, 2, a}"
    s.add(Data(5))
    s.add(5)  # plain values are converted
    assert len(s) == 4 and Data(5) in s and 5 in s
    s.remove(Data(5))
    assert Data(5) not in s
    s.remove(Data(99))  # absent: nothing happens, as in real Broker
    assert s == Set([1, 2, "a"]) and s != Set()
    s.clear()
    assert len(s) == 0 and repr(s) == "Set{}"


def test_set_is_unhashable_and_converts():
    with pytest.raises(TypeError, match="unhashable"):
        hash(Set())
    s = Set([1, Count(2)])
    d = Data(s)
    assert d.get_type() == Data.Type.Set
    assert d.to_py() == {1, Count(2)}
    assert d.as_set() == s
    assert str(d) == "{2, 1}"  # Broker's order: by type first, counts before integers


def test_set_rejects_bad_elements():
    with pytest.raises(TypeError, match="unsupported type object"):
        Set([object()])
    with pytest.raises(TypeError, match="unsupported type object"):
        Set().add(object())
    with pytest.raises(TypeError, match="not a string"):
        Set("abc")


# -- Table -------------------------------------------------------------------------------


def test_table_maps_data_to_data_in_brokers_order():
    t = Table()
    assert not t and len(t) == 0 and repr(t) == "Table{}"
    t[Data(1)] = Data("a")
    t[0] = "b"  # plain values are converted
    assert repr(t) == "Table{0: b, 1: a}"
    assert t[Data(1)] == Data("a") and t[1] == Data("a")
    assert isinstance(t[0], Data)
    assert Data(1) in t and 1 in t and 2 not in t
    assert list(t) == [Data(0), Data(1)]
    assert list(t.keys()) == [Data(0), Data(1)]
    assert list(t.values()) == [Data("b"), Data("a")]
    assert list(t.items()) == [(Data(0), Data("b")), (Data(1), Data("a"))]
    with pytest.raises(KeyError):
        t[Data(9)]
    del t[Data(0)]
    assert repr(t) == "Table{1: a}"
    with pytest.raises(KeyError):
        del t[Data(42)]
    assert t == Table({1: "a"}) and t != Table() and t != {Data(1): Data("a")}
    assert t.get(7, "default") == "default"
    t.clear()
    assert len(t) == 0


def test_table_is_unhashable_and_converts():
    with pytest.raises(TypeError, match="unhashable"):
        hash(Table())
    t = Table([("k", [1, 2]), ("j", None)])
    d = Data(t)
    assert d.get_type() == Data.Type.Table
    assert d.to_py() == {"k": (1, 2), "j": None}
    assert d.as_table() == t
    assert str(d) == "{j -> nil, k -> (1, 2)}"


def test_table_rejects_bad_arguments():
    with pytest.raises(TypeError, match=r"\(key, value\) pairs, got 5"):
        Table([5])
    with pytest.raises(TypeError, match="unsupported type object"):
        Table()[object()] = 1
    with pytest.raises(TypeError, match="not a string"):
        Table("ab")


# -- Vector ------------------------------------------------------------------------------


def test_vector_is_a_sequence_of_data():
    v = Vector([Data(1), Data("x"), 1])
    assert len(v) == 3 and bool(v) and not Vector()
    assert v[0] == Data(1) and isinstance(v[0], Data) and v[-1] == Data(1)
    assert repr(v) == "Vector[1, x, 1]"
    assert v[0:2] == Vector([1, "x"]) and isinstance(v[0:2], Vector)
    assert Data(1) in v and "x" in v and 2 not in v
    assert v.count(Data(1)) == 2 and v.count(1) == 2 and v.index("x") == 1
    with pytest.raises(IndexError):
        v[5]
    v.append(Data(3))
    v.insert(0, 0)
    assert repr(v) == "Vector[0, 1, x, 1, 3]"
    assert v.pop() == Data(3) and v.pop(0) == Data(0)
    v.remove(Data(1))
    assert repr(v) == "Vector[x, 1]"
    with pytest.raises(ValueError, match="not in the Vector"):
        v.remove(Data(99))
    v.extend([7, Data(8)])
    v.extend(Vector([9]))
    assert repr(v) == "Vector[x, 1, 7, 8, 9]"
    v[0] = 100
    del v[1]
    v[0:1] = [5, 6]  # unlike real Broker, slices may change the length
    assert v == Vector([5, 6, 7, 8, 9])
    assert v != [5, 6, 7, 8, 9]
    v.clear()
    assert len(v) == 0
    with pytest.raises(IndexError):
        Vector().pop()


def test_vector_is_unhashable_unordered_and_converts():
    with pytest.raises(TypeError, match="unhashable"):
        hash(Vector())
    with pytest.raises(TypeError):
        Vector() < Vector()
    v = Vector([1, "two", [3.5]])
    d = Data(v)
    assert d.get_type() == Data.Type.Vector
    assert d.to_py() == (1, "two", (3.5,))
    assert d.as_vector() == v
    # Containers nest.
    nested = Data(Vector([Set([1]), Table({2: 3}), Vector([4])]))
    assert nested.to_py() == ({1}, {2: 3}, (4,))


def test_vector_rejects_bad_arguments():
    with pytest.raises(TypeError, match="unsupported type object"):
        Vector([object()])
    with pytest.raises(TypeError, match="unsupported type object"):
        Vector().append(object())
    with pytest.raises(TypeError, match="not a string"):
        Vector("ab")
    with pytest.raises(TypeError):
        Vector(3)


def test_containers_publish_as_values(pair):
    a, b = pair
    sub = b.make_subscriber("/containers")
    assert wait_until(lambda: "/containers" in {t.string() for t in a.peer_subscriptions()})
    a.publish("/containers", Vector([Set([1]), Table({"k": v4("10.0.0.1")})]))
    assert sub.get(5.0) == ("/containers", ({1}, {"k": ipaddress.IPv4Address("10.0.0.1")}))


# -- Data accessors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, accessor, expected, kind",
    [
        (None, "as_none", None, type(None)),
        (True, "as_boolean", True, bool),
        (Count(3), "as_count", 3, int),
        (-5, "as_integer", -5, int),
        (2.5, "as_real", 2.5, float),
        ("str", "as_string", b"str", bytes),
        (b"by\xff", "as_string", b"by\xff", bytes),
        ("\u00e9", "as_string", "\u00e9".encode(), bytes),
        (broker.Port(80, broker.Port.TCP), "as_port", broker.Port(80, broker.Port.TCP), broker.Port),
        (broker.Enum("a::B"), "as_enum_value", broker.Enum("a::B"), broker.Enum),
        (Timespan(1500), "as_timespan", 1.5e-06, float),
        (broker.Timestamp(Timespan(1_500_000_001)), "as_timestamp", 1.500000001, float),
        (dt.timedelta(seconds=2), "as_timespan", 2.0, float),
    ],
)
def test_data_accessors_return_real_brokers_types(value, accessor, expected, kind):
    result = getattr(Data(value), accessor)()
    assert type(result) is kind
    assert result == expected


def test_data_accessors_of_containers_return_data_elements():
    s = Data({1, "x"}).as_set()
    assert isinstance(s, Set) and all(isinstance(x, Data) for x in s)
    t = Data({1: [2]}).as_table()
    assert isinstance(t, Table) and t[1] == Data((2,))
    v = Data([1, {2: 3}]).as_vector()
    assert isinstance(v, Vector) and v[1].as_table()[2] == Data(3)
    # Lossless where to_py() is not: nanoseconds, and a set of tables.
    assert Data([Timespan(1)]).as_vector()[0].as_timespan() == 1e-9
    tables = Data.from_bytes(Data({Data({1: 2})}).to_bytes()).as_set()
    assert list(tables)[0].as_table()[1] == Data(2)


@pytest.mark.parametrize(
    "value, accessor, holds, wanted",
    [
        (5, "as_string", "an integer", "a string"),
        ("x", "as_count", "a string", "a count"),
        (None, "as_boolean", "a none", "a boolean"),
        ([1], "as_set", "a vector", "a set"),
        (Count(1), "as_integer", "a count", "an integer"),
        (1.0, "as_timespan", "a real", "a timespan"),
    ],
)
def test_data_accessor_on_the_wrong_type_raises(value, accessor, holds, wanted):
    with pytest.raises(TypeError, match=f"{accessor}\\(\\): this Data holds {holds}, not {wanted}"):
        getattr(Data(value), accessor)()
    # Real Broker raises RuntimeError here; scripts catching that still work.
    with pytest.raises(RuntimeError):
        getattr(Data(value), accessor)()
    with pytest.raises(TypeError, match=f"{accessor}\\(\\) needs a broker.Data, not int"):
        getattr(Data, accessor)(5)


def test_data_of_non_utf8_bytes_prints():
    # Real Broker raises UnicodeDecodeError from str() here.
    assert str(Data(b"by\xff")) == "by\\xff"
    assert repr(Data([b"\xfe", "ok"])) == "Data((\\xfe, ok))"
    assert repr(Vector([b"\xff"])) == "Vector[\\xff]"


def test_data_type_none_is_nil():
    none = getattr(Data.Type, "None")
    assert none == Data.Type.Nil and none.name == "Nil"
    assert Data(None).get_type() == none
    assert "None" in Data.Type.__members__


# -- ImmutableData -------------------------------------------------------------------------


def test_immutable_data_converts_to_hashable_forms():
    value = Data.from_bytes(Data({Data({1: 2}), Data({3: 4})}).to_bytes())
    assert isinstance(Data.to_py(value), set)
    assert isinstance(Data.to_py(Data({1: 2})), dict)
    result = broker.ImmutableData.to_py(value)
    assert isinstance(result, frozenset)
    tables = sorted(result, key=lambda t: sorted(t))
    assert all(isinstance(t, broker.ImmutableData.HashableReadOnlyDict) for t in tables)
    assert tables == [{1: 2}, {3: 4}]
    assert broker.ImmutableData([1, [2]]).to_py() == (1, (2,))
    assert isinstance(broker.ImmutableData(1), Data)
    frozen = broker.ImmutableData({1: 2}).to_py()
    assert hash(frozen) == hash(broker.ImmutableData.HashableReadOnlyDict({1: 2}))
    for mutate in (lambda d: d.__setitem__(3, 4), lambda d: d.pop(1), lambda d: d.update({}),
                   lambda d: d.clear(), lambda d: d.setdefault(5), lambda d: d.popitem()):
        with pytest.raises(TypeError, match="read-only"):
            mutate(frozen)


# -- Version, now, enums, Message ----------------------------------------------------------


def test_version_comes_from_the_version_file():
    release = (REPO / "VERSION").read_text().strip()
    assert broker.Version.string() == release == broker.__version__
    assert importlib.metadata.version("broker") == release
    assert ".".join(str(x) for x in (broker.Version.MAJOR, broker.Version.MINOR,
                                     broker.Version.PATCH)) == release
    assert broker.Version.PROTOCOL == 2  # real Broker 2.8's number (wire format v1)
    assert broker._broker._protocol_version == 1
    assert broker.Version.compatible(2) is True
    assert broker.Version.compatible(1) is False
    with pytest.raises(TypeError, match="takes an int, not str"):
        broker.Version.compatible("2")


def test_api_flags_and_frontend_members():
    assert [(m.name, m.value) for m in broker.APIFlags] == [("Blocking", 1), ("NonBlocking", 2)]
    assert [(m.name, m.value) for m in broker.Frontend] == [("Master", 1), ("Clone", 0)]
    assert str(broker.Frontend.Master) == "Frontend.Master"
    assert repr(broker.APIFlags.Blocking) == "<APIFlags.Blocking: 1>"
    assert int(broker.APIFlags.NonBlocking) == 2
    assert broker.APIFlags(1) is broker.APIFlags.Blocking
    assert broker.APIFlags.Blocking != 1  # equal only to members, as pybind11's
    assert hash(broker.Frontend.Clone) == hash(broker.Frontend.Clone)


def test_message_is_an_abstract_base():
    with pytest.raises(NotImplementedError, match="Message does not override to_broker"):
        broker.Message().to_broker()

    class Ping(broker.Message):
        def to_broker(self):
            return broker.zeek.Event("ping", 1)

    assert Ping().to_broker().name() == "ping"


def test_ec_request_timeout_has_real_brokers_name():
    assert broker.EC.RequestTimeOut.value == 10
    assert str(broker.EC.RequestTimeOut) == "EC.RequestTimeOut"


def test_event_as_data_is_the_whole_message():
    ev = broker.zeek.Event("ping", "hi", Count(1))
    d = ev.as_data()
    assert type(d) is Data
    assert d == Data(ev)
    assert d.to_py() == (Count(1), Count(1), ("ping", ("hi", Count(1))))
    assert broker.zeek.SafeEvent("x").as_data().get_type() == Data.Type.Vector


def test_broker_bro_is_broker_zeek():
    import broker.bro
    from broker.bro import Event, SafeEvent

    assert Event is broker.zeek.Event and SafeEvent is broker.zeek.SafeEvent
    assert broker.bro.MetadataType is broker.zeek.MetadataType
    assert set(broker.bro.__all__) == set(broker.zeek.__all__)


def test_backend_rocksdb_fails_clearly(endpoint):
    assert broker.Backend.RocksDB.value == 2
    with pytest.raises(RuntimeError, match="RocksDB backend is not available"):
        endpoint.attach_master("rocks", broker.Backend.RocksDB)
    # The name is free again afterwards.
    store = endpoint.attach_master("rocks", broker.Backend.Memory)
    assert store.is_master()


# -- Timespan arithmetic -----------------------------------------------------------------------


def test_timespan_arithmetic_is_real_brokers():
    ten, three = Timespan(10), Timespan(3)
    assert ten / three == 3 and type(ten / three) is int
    assert Timespan(-10) / three == -3  # C++ truncates toward zero
    assert ten / 3 == Timespan(3) and Timespan(-10) / 3 == Timespan(-3)
    assert ten / True == ten
    assert ten + three == Timespan(13) and ten - three == Timespan(7)
    assert ten * 3 == 3 * ten == Timespan(30)
    assert ten % three == Timespan(1) and Timespan(-10) % three == Timespan(-1)
    assert ten % 3 == Timespan(1)
    assert three < ten and three <= ten and ten > three and ten >= ten


def test_timespan_arithmetic_rejects_bad_operands():
    with pytest.raises(ZeroDivisionError):
        Timespan(10) / 0
    with pytest.raises(ZeroDivisionError):
        Timespan(10) / Timespan(0)
    with pytest.raises(ZeroDivisionError):
        Timespan(10) % 0
    for bad in (2.5, "x", None):
        with pytest.raises(TypeError):
            Timespan(10) / bad
        with pytest.raises(TypeError):
            Timespan(10) * bad
    with pytest.raises(TypeError):
        Timespan(10) + 1
    with pytest.raises(OverflowError):
        Timespan(2**62) * 4


# -- options --------------------------------------------------------------------------------


def test_disable_forwarding_is_the_inverse_view_of_forward():
    opts = broker.BrokerOptions()
    assert opts.disable_forwarding is False and opts.forward is True
    opts.disable_forwarding = True
    assert opts.forward is False
    opts.forward = True
    assert opts.disable_forwarding is False
    cfg = broker.Configuration(opts)
    cfg.options.disable_forwarding = True
    assert cfg.options.forward is False


def _chain_relays(disable_forwarding: bool) -> bool:
    """A - B - C, A and B subscribed; C publishes. Whether A receives."""
    opts = broker.BrokerOptions()
    opts.disable_forwarding = disable_forwarding
    with broker.Endpoint() as a, broker.Endpoint(broker.Configuration(opts)) as b, \
            broker.Endpoint() as c:
        sub_a = a.make_subscriber("/relay")
        sub_b = b.make_subscriber("/relay")
        port = b.listen("127.0.0.1", 0)
        assert a.peer("127.0.0.1", port, 1.0) and c.peer("127.0.0.1", port, 1.0)
        assert wait_until(lambda: "/relay" in {t.string() for t in c.peer_subscriptions()})
        assert wait_until(lambda: len(b.peers()) == 2)
        c.publish("/relay/1", "via b")
        # B, subscribed in the middle, always receives.
        assert sub_b.get(5.0) == ("/relay/1", "via b")
        # B's own message to A travels after anything B relayed on that link.
        b.publish("/relay/marker", "from b")
        got = [sub_a.get(5.0)]
        if got[0] != ("/relay/marker", "from b"):
            got.append(sub_a.get(5.0))
        assert got[-1] == ("/relay/marker", "from b")
        return ("/relay/1", "via b") in got


def test_disable_forwarding_stops_relaying_in_a_chain():
    assert _chain_relays(disable_forwarding=False) is True
    assert _chain_relays(disable_forwarding=True) is False


def test_max_threads_accepts_positive_bounds():
    cfg = broker.Configuration()
    assert cfg.max_threads == 1
    cfg.max_threads = 4
    assert cfg.max_threads == 4
    for bad in (0, -1):
        with pytest.raises(ValueError, match="max_threads must be positive"):
            cfg.max_threads = bad
    assert cfg.max_threads == 4
    with pytest.raises(TypeError):
        cfg.max_threads = "2"


def _thread_count() -> int:
    return len(os.listdir("/proc/self/task"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux /proc")
def test_max_threads_is_honoured():
    # The bound is met: an endpoint processes messages on one I/O thread, so
    # even max_threads = 1 holds.
    cfg = broker.Configuration()
    cfg.max_threads = 1
    base = _thread_count()
    with broker.Endpoint(cfg) as ep:
        assert threading.active_count() >= 1
        assert _thread_count() - base <= cfg.max_threads
        assert ep.node_id()


# -- Publisher.send_rate ---------------------------------------------------------------------


def test_publisher_send_rate_counts_the_last_second(endpoint):
    pub = endpoint.make_publisher("/rate")
    assert pub.send_rate() == 0
    for i in range(30):
        pub.publish(i)
    pub.publish_batch(*range(20))
    assert pub.send_rate() == 50
    # The window is the last second: the count falls to 0 after it.
    started = time.monotonic()
    assert wait_until(lambda: pub.send_rate() == 0, timeout=5.0)
    assert time.monotonic() - started >= 0.5
    pub.publish(1)
    assert pub.send_rate() == 1


# -- real Broker's keyword names -------------------------------------------------------------


def test_calls_with_real_brokers_keywords():
    assert Data(x=5) == Data(5) and Data.from_py(x=[1]) == Data([1])
    assert broker.ImmutableData(x={1}).to_py() == frozenset({1})

    class Counting(broker.SafeSubscriber):
        seen = 0

        def get(self, *args, **kwargs):
            Counting.seen += 1
            return super().get(*args, **kwargs)

    with broker.Endpoint() as a, broker.Endpoint() as b:
        port = b.listen("127.0.0.1", 0)
        assert a.peer(addr="127.0.0.1", port=port, retry=1.0)
        sub = b.make_subscriber(topics="/kw", qsize=5, subscriber_class=Counting)
        assert isinstance(sub, Counting)
        assert wait_until(lambda: "/kw" in {t.string() for t in a.peer_subscriptions()})
        a.publish("/kw", {1})
        assert sub.get(5.0) == ("/kw", frozenset({1}))  # safe: a SafeSubscriber
        assert Counting.seen == 1
        store = a.attach_master("kw", type=broker.Backend.Memory, opts={})
        store.put("k", 1)
        store.erase(data="k")
        assert store.get("k") is None
        with pytest.raises(TypeError, match="subscriber_class must be broker.Subscriber"):
            b.make_subscriber("/x", subscriber_class=dict)
