#!/usr/bin/env python3
"""A data store shared by two endpoints: a master and a clone.

The master lives on one endpoint (memory backend; pass --sqlite PATH for a
persistent one), the clone on a second endpoint peered with it. Writes on
either side reach both; expiring keys disappear everywhere.

    python examples/stores.py [--sqlite PATH]
"""

import argparse
import time

import broker


def wait_for(predicate, timeout=30.0):
    # Generous: a clone that misses the master at first retries after its
    # resync interval (seconds) before it finds it.
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(0.01)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sqlite", metavar="PATH", help="keep the master in SQLite")
    args = ap.parse_args()

    with broker.Endpoint() as server, broker.Endpoint() as client:
        port = server.listen("127.0.0.1", 0)
        client.peer("127.0.0.1", port)
        # Both sides know each other before the stores attach. Real Broker
        # needs this: a master attached before the listening side has
        # registered the peer can leave the clone without it for good
        # (under load, about 1 run in 6 without these two lines; 0 in 74
        # with them).
        if not (client.await_peer(server.node_id(), 10.0)
                and server.await_peer(client.node_id(), 10.0)):
            raise SystemExit("the endpoints did not peer")

        if args.sqlite:
            master = server.attach_master("inventory", broker.Backend.SQLite, {"path": args.sqlite})
        else:
            master = server.attach_master("inventory", broker.Backend.Memory)
        clone = client.attach_clone("inventory")

        # Leaving the block detaches both handles (the clone first).
        with master, clone:
            master.put("apples", broker.Count(3))
            master.put("tags", {"fresh"})
            wait_for(lambda: clone.get("apples") == broker.Count(3))
            print("clone sees apples =", clone.get("apples"))

            clone.increment("apples", broker.Count(2))  # goes to the master
            clone.insert_into("tags", "local")
            wait_for(lambda: master.get("apples") == broker.Count(5))
            print("master sees apples =", master.get("apples"), "tags =", sorted(master.get("tags")))

            print("put_unique from the clone:", clone.put_unique("owner", "client"))
            print("again:", clone.put_unique("owner", "someone else"))

            master.put("session", "short-lived", expiry=0.5)
            wait_for(lambda: clone.get("session") == "short-lived")
            wait_for(lambda: clone.get("session") is None)
            print("the expiring key disappeared on the clone too")
            print("keys:", sorted(map(str, clone.keys())))


if __name__ == "__main__":
    main()
