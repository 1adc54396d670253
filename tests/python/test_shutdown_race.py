"""shutdown() raced against every public call: no hang, no crash, and calls
during or after the shutdown return an error value or raise at once.

Each round starts worker threads that call one API function in a loop,
shuts the endpoint down in the middle, and requires every worker to finish
within a bound (a hung call fails the test instead of hanging it)."""

from __future__ import annotations

import threading
import time

import pytest

import broker

pytestmark = pytest.mark.timeout(120)

ROUNDS = 15


def calls(ep: broker.Endpoint, port: int):
    """One callable per public call that talks to the core (or, for the
    store calls, to a store's thread)."""
    stores = {}

    def master():
        # Made on first use, by whichever worker gets there first (a second
        # attach of the same name shares the master).
        if "m" not in stores:
            stores["m"] = ep.attach_master("race-store")
        return stores["m"]

    return {
        "listen": lambda: ep.listen("127.0.0.1", 0),
        "peer": lambda: ep.peer("127.0.0.1", port, 0),
        "peer_nosync": lambda: ep.peer_nosync("127.0.0.1", port, 0),
        "unpeer": lambda: ep.unpeer("127.0.0.1", port),
        "peers": lambda: ep.peers(),
        "peer_subscriptions": lambda: ep.peer_subscriptions(),
        "publish": lambda: ep.publish("/race/x", 1),
        "make_subscriber": lambda: ep.make_subscriber("/race"),
        "add_topic": lambda: ep.make_subscriber("/race").add_topic("/race2", block=True),
        "status_subscriber": lambda: ep.make_status_subscriber(True).get(0.01),
        "await_peer": lambda: ep.await_peer(ep.node_id(), 0.01),
        "forward": lambda: ep.forward(["/race"]),
        "attach_master": lambda: ep.attach_master(f"race-{threading.get_ident()}"),
        "attach_clone": lambda: ep.attach_clone("race-clone"),
        "store_put": lambda: master().put("k", 1),
        "store_get": lambda: master().get("k"),
        "store_await_idle": lambda: master().await_idle(0.01),
    }


NAMES = ["listen", "peer", "peer_nosync", "unpeer", "peers", "peer_subscriptions",
         "publish", "make_subscriber", "add_topic", "status_subscriber", "await_peer",
         "forward", "attach_master", "attach_clone", "store_put", "store_get",
         "store_await_idle"]


def test_every_call_is_covered():
    assert sorted(NAMES) == sorted(calls(None, 0))


@pytest.mark.parametrize("name", NAMES)
def test_shutdown_racing(name):
    with broker.Endpoint() as other:
        port = other.listen("127.0.0.1", 0)
        for _ in range(ROUNDS):
            ep = broker.Endpoint()
            call = calls(ep, port)[name]
            stop = threading.Event()
            errors = []

            def work():
                while not stop.is_set():
                    try:
                        call()
                    except (RuntimeError, ValueError) as e:
                        # A clear error is allowed during or after shutdown.
                        errors.append(e)
                        if not ep_is_down():
                            raise

            def ep_is_down() -> bool:
                return shut.is_set()

            shut = threading.Event()
            workers = [threading.Thread(target=work, daemon=True) for _ in range(2)]
            for w in workers:
                w.start()
            time.sleep(0.02)
            shut.set()  # from here on, an error is a fine answer
            ep.shutdown()
            time.sleep(0.02)  # calls after the shutdown too
            stop.set()
            for w in workers:
                w.join(10)
                assert not w.is_alive(), f"{name} hung across shutdown()"
            # After shutdown every call returns at once.
            started = time.monotonic()
            try:
                call()
            except (RuntimeError, ValueError):
                pass
            assert time.monotonic() - started < 1.0
