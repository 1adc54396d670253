#!/usr/bin/env python3
"""Publish/subscribe between two endpoints: topics, typed values, batches.

Endpoint ``alice`` listens, ``bob`` peers with it. Alice subscribes to the
topic prefix /demo/alerts, so she receives /demo/alerts/high but not
/demo/metrics. Values keep their Broker types (count vs integer, addresses,
ports, sets, tables) across the wire. Then a batch, received with get(n).

    python examples/pubsub.py
"""

import ipaddress
import sys

import broker


def main() -> int:
    with broker.Endpoint() as alice, broker.Endpoint() as bob:
        # Subscribe before peering: the subscriptions travel in the handshake.
        alerts = alice.make_subscriber("/demo/alerts")  # a topic prefix
        replies = bob.make_subscriber("/demo/replies")
        port = alice.listen("127.0.0.1", 0)
        if not bob.peer("127.0.0.1", port, 1.0):  # blocks until peered
            print("could not peer")
            return 1
        print(f"bob peered with alice on port {port}")

        bob.publish("/demo/metrics", 42)  # nobody subscribes: not sent
        bob.publish(
            "/demo/alerts/high",
            {
                "host": ipaddress.ip_address("192.0.2.7"),
                "port": broker.Port(22, broker.Port.TCP),
                "attempts": broker.Count(31),
                "tags": {"ssh", "brute-force"},
            },
        )
        topic, value = alerts.get(5.0)
        print(f"alice got {topic}: {value}")

        # A batch goes out in one call; get(n, timeout) returns a list.
        bob.publish_batch(*[("/demo/alerts/low", [i, "x", 3.14]) for i in range(3)])
        for topic, value in alerts.get(3, 5.0):
            print(f"alice got {topic}: {value}")

        # And back: alice publishes, bob receives.
        alice.publish("/demo/replies", "thanks, bob")
        received = replies.get(5.0)
        print(f"bob got {received[0]}: {received[1]!r}" if received else "bob got nothing")
        leftover = alerts.poll()
        print(f"alice has {len(leftover)} messages left (/demo/metrics never reached her)")
        return 0 if received and not leftover else 1


if __name__ == "__main__":
    sys.exit(main())
