#!/usr/bin/env python3
"""Typed Broker values crossing the C++ boundary and the wire format.

Each Python value is converted to a Broker value in C++, encoded in Broker's
wire format v1 (the bytes a real Zeek would send), decoded again, converted
back to Python, and also shown in the WebSocket API's JSON encoding.

    python examples/typed_values.py
"""

import datetime as dt
import ipaddress

import broker

VALUES = [
    None,
    True,
    broker.Count(42),
    -7,
    3.14,
    "héllo",
    ipaddress.ip_address("192.0.2.1"),
    ipaddress.ip_network("2001:db8::/32"),
    broker.Port(443, broker.Port.TCP),
    dt.datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=dt.timezone.utc),
    dt.timedelta(milliseconds=1500),
    broker.Enum("Notice::ACTION_LOG"),
    {broker.Count(1), broker.Count(2)},
    {"a": 1, "b": [1, "two"]},
    [1, "x", 3.14],
]


def main() -> None:
    print(f"broker {broker.Version.string()} from {broker.__file__}\n")
    for value in VALUES:
        data = broker.Data(value)
        wire = data.to_bytes()
        back = broker.Data.from_bytes(wire).to_py()
        print(f"{data.get_type().name:<10} {value!r}")
        print(f"{'':<10} wire v1 {wire.hex()}")
        print(f"{'':<10} json    {data.to_json()}")
        print(f"{'':<10} back    {back!r}\n")
        expected = tuple(value) if isinstance(value, list) else value
        if isinstance(value, dict):
            expected = {k: tuple(v) if isinstance(v, list) else v for k, v in value.items()}
        assert back == expected, (value, back)
    print("all values survived the round trip")


if __name__ == "__main__":
    main()
