"""Values captured from a real Broker decode to what its Python side got."""

from __future__ import annotations

import datetime  # noqa: F401  (used by eval of the golden reprs)
import math
import re
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network  # noqa: F401

import pytest

from broker import Count, Data, Enum, FrozenTable, Port  # noqa: F401

from conftest import golden_data_frames

DATA_FRAMES = list(golden_data_frames("data-values.json"))
ZEEK_FRAMES = list(golden_data_frames("zeek-messages.json"))

_PORT = re.compile(r"\b(\d+)/(tcp|udp|icmp|\?)")
_PROTO = {"tcp": "Port.TCP", "udp": "Port.UDP", "icmp": "Port.ICMP", "?": "Port.Unknown"}


def evaluate(text: str):
    """Evaluates a repr() printed by real Broker's Python bindings."""
    text = _PORT.sub(lambda m: f"Port({m.group(1)}, {_PROTO[m.group(2)]})", text)
    text = text.replace("Notice::ACTION_LOG", "Enum('Notice::ACTION_LOG')")
    return eval(text, globals(), {"nan": math.nan, "inf": math.inf})


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


@pytest.mark.parametrize("topic, payload, frame", DATA_FRAMES, ids=[f[0] for f in DATA_FRAMES])
def test_golden_value_decodes_as_real_broker_did(topic, payload, frame):
    data = Data.from_bytes(payload)
    assert data.to_bytes() == payload  # byte for byte
    safe = topic.startswith("/golden/safe/")
    ours = (topic, data.to_py(safe=safe))
    if topic == "/golden/safe/set-of-tables":
        # Its repr (a frozenset of dict-like tables) cannot be eval'ed.
        assert ours[1] == frozenset({FrozenTable({"a": 1}), FrozenTable({"b": 2})})
        return
    theirs = evaluate(frame["received"])
    assert ours[0] == theirs[0]
    assert same(ours[1], theirs[1]), (ours, frame["received"])
    assert type(ours[1]) is type(theirs[1]) or safe


@pytest.mark.parametrize("topic, payload, frame", ZEEK_FRAMES, ids=[f[0] for f in ZEEK_FRAMES])
def test_golden_zeek_message_round_trips(topic, payload, frame):
    data = Data.from_bytes(payload)
    assert data.to_bytes() == payload
    assert Data(data.to_py()).to_bytes() == payload or "timestamp" in frame["meaning"].lower()
