"""Zeek message layouts: built byte for byte as real Broker builds them."""

from __future__ import annotations

import datetime as dt
import ipaddress

import pytest

import broker
from broker import Count, Data, Enum, Port, Timespan, Timestamp
from broker.zeek import (
    Batch,
    Event,
    IdentifierUpdate,
    LogCreate,
    LogWrite,
    MessageType,
    MetadataType,
    SafeEvent,
    message_type,
)

from conftest import golden_data_frames, wait_until

GOLDEN = {topic: payload for topic, payload, _ in golden_data_frames("zeek-messages.json")}
TS = Timestamp(Timespan(1_700_000_000_250_000_000))
UTC = dt.timezone.utc


def wire(value) -> bytes:
    return Data(value).to_bytes()


def test_event_layout_matches_real_broker():
    ev = Event("ping", "hi", Count(7))
    assert wire(ev) == GOLDEN["/golden/zeek/event"]
    assert ev.name() == "ping"
    assert ev.args() == ["hi", Count(7)]
    assert ev.metadata() is None


def test_event_with_many_argument_types():
    ev = Event(
        "demo_alert",
        ipaddress.IPv4Address("198.51.100.23"),
        Port(22, Port.TCP),
        dt.timedelta(seconds=1.5),
        {"brute-force", "external"},
        [TS, None],
        -3,
        2.5,
        Enum("Demo::HIGH"),
    )
    assert wire(ev) == GOLDEN["/golden/zeek/event-args"]


def test_event_without_arguments():
    assert wire(Event("no_args")) == GOLDEN["/golden/zeek/event-noargs"]
    assert Event("no_args").args() == []


@pytest.mark.parametrize(
    "metadata",
    [
        [(MetadataType.NetworkTimestamp, TS), (200, "user-value"), (201, Count(99))],
        {1: TS, 200: "user-value", 201: Count(99)},
        [(Count(1), TS), (Count(200), "user-value"), (Count(201), Count(99))],
    ],
)
def test_event_metadata_as_list_or_dict(metadata):
    ev = Event("with_meta", "x", Count(1), metadata=metadata)
    assert wire(ev) == GOLDEN["/golden/zeek/event-metadata"]
    md = ev.metadata()
    assert md[0] == (1, dt.datetime(2023, 11, 14, 22, 13, 20, 250000, tzinfo=UTC))
    assert md[1:] == [(200, "user-value"), (201, Count(99))]


def test_parsing_received_messages():
    for topic, payload in GOLDEN.items():
        value = Data.from_bytes(payload).to_py()
        if message_type(value) == MessageType.Event:
            ev = Event(value)
            assert wire(ev) == payload
    ev = Event(Data.from_bytes(GOLDEN["/golden/zeek-b/event-from-a"]).to_py())
    assert ev.name() == "pong" and ev.args() == [Count(3)]


def test_safe_event_returns_hashable_arguments():
    ev = SafeEvent(Event("e", {"a": {1}}).to_py())
    (arg,) = ev.args()
    hash(arg)
    assert isinstance(arg, broker.FrozenTable)


@pytest.mark.parametrize(
    "bad, message",
    [
        (5, "expected a vector"),
        (Data("not a message"), "expected a vector"),
        ((Count(2), Count(1), ("e", ())), "unsupported format version 2"),
        ((Count(1), Count(9), ("e", ())), "unknown message type 9"),
        ((Count(1), Count(2), ("e", ())), "expected message type 1"),
        ((Count(1), Count(1), ()), "2 or 3 fields"),
        ((Count(1), Count(1), (5, ())), "name must be a string"),
        ((Count(1), Count(1), ("e", 5)), "arguments must be a vector"),
        ((Count(1), Count(1), ("e", (), ((1, 2),))), r"\[count key, value\]"),
        ((1, Count(1), ("e", ())), "version must be a count"),
    ],
)
def test_invalid_layouts_raise_a_clear_error(bad, message):
    # As in real Broker, parsing never raises; the accessors of a value
    # that is not an event do, naming what is wrong.
    ev = Event(bad)
    assert ev.valid() is False
    for accessor in (ev.name, ev.args, ev.metadata):
        with pytest.raises(ValueError, match=message):
            accessor()


def test_bad_arguments_name_the_problem():
    with pytest.raises(TypeError, match="unsupported type object"):
        Event("e", object())
    with pytest.raises(TypeError, match="metadata keys must be ints"):
        Event("e", metadata=[("k", 1)])
    with pytest.raises(TypeError, match="event name must be a str"):
        Event(b"e", 1)


def test_other_zeek_messages_match_real_broker():
    lc = LogCreate.make(
        Enum("Conn::LOG"),
        Enum("Log::WRITER_ASCII"),
        ("conn", True),
        (("ts", "time"), ("uid", "string")),
    )
    assert lc.to_bytes() == GOLDEN["/golden/zeek/log-create"]
    assert lc.stream_id() == Enum("Conn::LOG")
    lw = LogWrite.make(
        Enum("Conn::LOG"), Enum("Log::WRITER_ASCII"), "conn", b"\x00\x01opaque-zeek-serialization"
    )
    assert lw.to_bytes() == GOLDEN["/golden/zeek/log-write"]
    assert lw.path() == "conn"
    iu = IdentifierUpdate.make("Site::local_nets", {ipaddress.IPv4Network("10.0.0.0/8")})
    assert iu.to_bytes() == GOLDEN["/golden/zeek/identifier-update"]
    assert iu.id_name() == "Site::local_nets"
    batch = Batch.make(Event("ev1", Count(1)), Event("ev2", "two"))
    assert batch.to_bytes() == GOLDEN["/golden/zeek/batch"]
    assert [Event(m).name() for m in batch.messages()] == ["ev1", "ev2"]
    # Parsing them back from received values.
    for cls, topic in [
        (LogCreate, "/golden/zeek/log-create"),
        (LogWrite, "/golden/zeek/log-write"),
        (IdentifierUpdate, "/golden/zeek/identifier-update"),
        (Batch, "/golden/zeek/batch"),
    ]:
        received = Data.from_bytes(GOLDEN[topic]).to_py()
        assert message_type(received) == cls.TYPE
        assert cls(received).to_bytes() == GOLDEN[topic]
    with pytest.raises(ValueError, match="expected message type 3"):
        LogWrite(lc.to_py())


def test_events_travel_between_endpoints(pair):
    a, b = pair
    sub = b.make_subscriber("/zeek/event/")
    assert wait_until(lambda: len(a.peer_subscriptions()) > 0)
    a.publish("/zeek/event/ping", Event("ping", "text", Count(5)))
    a.publish("/zeek/event/other", "not an event")
    a.publish("/zeek/event/ping", Event("ping", "text", Count(6)))
    got = sub.get(3, 5.0)
    events = []
    for _, value in got:
        if message_type(value) == MessageType.Event:
            events.append(Event(value))
    assert [(e.name(), e.args()) for e in events] == [
        ("ping", ["text", Count(5)]),
        ("ping", ["text", Count(6)]),
    ]
