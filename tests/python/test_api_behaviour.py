"""Behaviours measured side by side with real Broker 2.8 (the table at the
end of data/python-api-surface.md): ours must give the same names, values
and types. One test per row; the expected values are real Broker's.
"""

from __future__ import annotations

import time
import uuid

import pytest

import broker
from broker import Count, Data
from broker.zeek import Event, MetadataType

import rawpeer
from conftest import golden_data_frames, wait_until
from rawpeer import RawPeer


def plain_config() -> broker.Configuration:
    opts = broker.BrokerOptions()
    opts.disable_ssl = True
    return broker.Configuration(opts)


# -- ep.peers()[0].peer.node_id() ------------------------------------------------


def test_endpoint_info_node_id_is_a_method(pair):
    a, b = pair
    assert a.await_peer(b.node_id(), 5.0)
    info = a.peers()[0].peer
    assert info.node_id() == b.node_id()
    assert isinstance(info.node_id(), str)
    # Our earlier attribute keeps working.
    assert info.node == b.node_id()
    assert info.type == "native"


# -- ep.peers()[0].peer.network ----------------------------------------------------


def test_endpoint_info_network_is_an_optional(pair):
    a, b = pair
    assert a.await_peer(b.node_id(), 5.0)
    b_port = next(p.peer.network.get().port for p in a.peers())
    net = a.peers()[0].peer.network
    assert type(net).__name__ == "OptionalNetworkInfo"
    assert net.is_set() is True and bool(net)
    info = net.get()
    assert isinstance(info, broker.NetworkInfo)
    assert (info.address, info.port) == ("127.0.0.1", b_port)
    assert repr(net) == f"127.0.0.1:{b_port}"
    # The NetworkInfo fields stay reachable directly.
    assert (net.address, net.port) == ("127.0.0.1", b_port)


def test_endpoint_info_without_network_is_nil():
    # A store error has the endpoint itself as context, without an address
    # (real Broker's EndpointDiscovered statuses look the same). A raw peer
    # sends the master a malformed store command to cause one.
    with broker.Endpoint(plain_config()) as ep:
        port = ep.listen("127.0.0.1", 0)
        master = ep.attach_master("nonet")
        statuses = ep.make_status_subscriber()
        own = rawpeer.id_bytes(ep.node_id())
        with RawPeer(port) as peer:
            peer.handshake_as_originator(rawpeer.SMALL_ID, own)
            assert ep.await_peer(str(uuid.UUID(bytes=rawpeer.SMALL_ID)), 5.0)
            peer.send_frame(rawpeer.envelope(rawpeer.SMALL_ID, own, rawpeer.COMMAND,
                                             "nonet/<$>/data/master", b"\xff"))
            errors = []
            assert wait_until(lambda: errors.extend(
                e for e in statuses.poll() if e.code() == broker.EC.InvalidMessage) or errors)
        ctx = errors[0].context()
        assert ctx.node_id() == ep.node_id()
        net = ctx.network
        assert net.is_set() is False and not net
        assert repr(net) == "nil"
        with pytest.raises(ValueError, match="no network information"):
            net.get()
        with pytest.raises(AttributeError, match="no network information"):
            net.address
        master.reset()


# -- repr(PeerInfo.flags) ------------------------------------------------------------


def test_peer_flags_print_their_names(pair):
    a, b = pair
    assert a.await_peer(b.node_id(), 5.0) and b.await_peer(a.node_id(), 5.0)
    # Real Broker shows single flags like this.
    assert str(broker.PeerFlags.Remote) == "PeerFlags.Remote"
    assert repr(broker.PeerFlags.Remote) == "<PeerFlags.Remote: 2>"
    assert broker.PeerFlags.Remote.name == "Remote"
    # Ours also tell the direction; the bits combine, and print by name
    # instead of pybind11's "PeerFlags.???".
    flags = a.peers()[0].flags
    assert isinstance(flags, broker.PeerFlags)
    assert str(flags) == "PeerFlags.Remote|Outbound"
    assert repr(flags) == "<PeerFlags.Remote|Outbound: 6>"
    assert flags.name == "Remote|Outbound"
    assert flags & broker.PeerFlags.Remote
    assert str(b.peers()[0].flags) == "PeerFlags.Remote|Inbound"
    assert str(broker.PeerFlags(0)) == "PeerFlags.Invalid"
    assert str(broker.PeerFlags(0x12)) == "PeerFlags.Remote|0x10"


# -- broker.zeek.Event(data) for data that is not an event --------------------------


@pytest.mark.parametrize("value", [Data(1), [1, 2], Data("x"), (Count(1), Count(2), ("e", ()))])
def test_event_of_a_non_event_is_invalid_not_an_error(value):
    ev = Event(value)
    assert ev.valid() is False
    assert "not an event" in repr(ev)
    for accessor in (ev.name, ev.args, ev.metadata):
        with pytest.raises(ValueError):
            accessor()
    assert Event("e", 1).valid() is True


# -- broker.Topic("/a/") / broker.Topic("/b/c") ---------------------------------------


@pytest.mark.parametrize(
    "lhs, rhs, joined",
    [  # measured with real Broker 2.8
        ("/a/", "/b/c", "/a//b/c"),
        ("a", "b", "a/b"),
        ("a/", "b", "a//b"),
        ("a", "/b", "a/b"),
        ("", "b", "b"),
        ("a", "", "a"),
        ("a//", "b", "a///b"),
        ("a", "//b", "a//b"),
        ("/", "/", "/"),
    ],
)
def test_topics_join_as_real_broker(lhs, rhs, joined):
    result = broker.Topic(lhs) / broker.Topic(rhs)
    assert isinstance(result, broker.Topic)
    assert result.string() == joined


# -- broker.Port(80, broker.Port.TCP).get_type() -----------------------------------------


def test_port_get_type_returns_the_protocol():
    proto = broker.Port(80, broker.Port.TCP).get_type()
    assert proto is broker.Port.Protocol.TCP
    assert str(proto) == "Protocol.TCP"
    assert repr(proto) == "<Protocol.TCP: 1>"
    assert (proto.name, proto.value, int(proto)) == ("TCP", 1, 1)
    assert broker.Port(53, broker.Port.UDP).get_type() is broker.Port.UDP
    assert broker.Port().get_type() is broker.Port.Unknown
    # As on real Broker's pybind11 enum, name and value exist on the class.
    assert hasattr(broker.Port.Protocol, "name") and hasattr(broker.Port.Protocol, "value")


# -- str(broker.Data(1e18)) --------------------------------------------------------------


@pytest.mark.parametrize(
    "value, text",
    [  # measured with real Broker 2.8: C's %f
        (1e18, "1000000000000000000.000000"),
        (1.5, "1.500000"),
        (-0.0, "-0.000000"),
        (1e-7, "0.000000"),
        (float("nan"), "nan"),
        (float("inf"), "inf"),
        (1e300, "1" + "0" * 300),
    ],
)
def test_reals_print_as_c_percent_f(value, text):
    if value == 1e300:
        # %f prints the double's exact decimal expansion.
        assert str(Data(value)) == f"{value:f}"
    else:
        assert str(Data(value)) == text


def test_reals_inside_containers_print_the_same():
    assert str(Data([1.5, {2.25}])) == "(1.500000, {2.250000})"


# -- broker.now() ------------------------------------------------------------------------


def test_now_is_the_current_time_as_timestamp():
    before = time.time_ns()
    t = broker.now()
    after = time.time_ns()
    assert isinstance(t, broker.Timestamp)
    assert before <= t.time_since_epoch().count() <= after
    assert Data(t).get_type() == Data.Type.Timestamp


# -- Zeek event metadata keys on the wire --------------------------------------------------


def _metadata_keys_on_the_wire(ev) -> list:
    wire = Data.from_bytes(Data(ev).to_bytes())
    return [entry[0] for entry in wire.to_py()[2][2]]


def test_event_metadata_keys_are_counts_on_the_wire():
    ev = Event("e", metadata=[(MetadataType.NetworkTimestamp, broker.Timestamp(1.0)),
                              (200, "user"), (Count(201), 1)])
    keys = _metadata_keys_on_the_wire(ev)
    assert keys == [Count(1), Count(200), Count(201)]
    assert all(type(k) is Count for k in keys)
    # The bytes: each entry is encoded as [count key, value] (tag 2), which
    # differs from [integer key, value] (tag 3).
    wire = Data(ev).to_bytes()
    assert Data((Count(200), "user")).to_bytes() in wire
    assert Data((200, "user")).to_bytes() not in wire
    # Read back, as real Broker: Count keys, MetadataType values are Counts.
    md = ev.metadata()
    assert [type(k) for k, _ in md] == [Count, Count, Count]
    assert md[0][0] == MetadataType.NetworkTimestamp
    assert isinstance(MetadataType.NetworkTimestamp, Count)
    assert MetadataType.UserMetadataStart == Count(200)


def test_golden_event_metadata_keys_are_counts():
    frames = {topic: payload for topic, payload, _ in golden_data_frames("zeek-messages.json")}
    payload = frames["/golden/zeek/event-metadata"]
    ev = Event(Data.from_bytes(payload))
    assert [type(k) for k, _ in ev.metadata()] == [Count, Count, Count]
    assert _metadata_keys_on_the_wire(ev) == [Count(1), Count(200), Count(201)]
