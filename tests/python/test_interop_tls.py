"""TLS against the real Broker 2.8: what must fail between the two
implementations fails fast, on both sides, and hurts no other peering.

The successful cases (anonymous TLS, certificates of one CA) run every test
of test_interop.py over the "tls" and "tls-certs" transports."""

from __future__ import annotations

import time

import pytest

import interop
from interop import Transport, cert_options
from tlsproxy import RecordingProxy, negotiated_cipher

pytestmark = [pytest.mark.timeout(120)]

PLAIN = {"disable_ssl": True}


@pytest.fixture
def make():
    """make(kind, options): an endpoint of either implementation."""
    made = []

    def factory(kind: str, options: dict):
        t = Transport("custom", ours=options, real=options)
        ep = interop.our_node(t) if kind == "ours" else interop.start_real(t)
        made.append(ep)
        return ep

    yield factory
    for ep in reversed(made):
        ep.close()


@pytest.fixture(autouse=True)
def _need_real_broker():
    path, how = interop.real_broker()
    if path is None:
        pytest.skip(f"real Broker not available: {how}")


def refused(connector, acceptor) -> None:
    """The connector's peer() fails within a few seconds; neither side lists
    the other."""
    port = acceptor.listen()
    assert port > 0
    started = time.monotonic()
    assert connector.peer(port, retry=0.0) is False
    assert time.monotonic() - started < 10
    assert connector.peers() == [] or all(p["status"] != "Peered" for p in connector.peers())
    assert all(p["status"] != "Peered" for p in acceptor.peers())


@pytest.mark.parametrize("ours_tls", [True, False], ids=["ours-tls-real-plain", "ours-plain-real-tls"])
@pytest.mark.parametrize("listener", ["ours", "real"])
def test_tls_against_plain_fails(make, ours_tls, listener):
    ours = make("ours", {} if ours_tls else PLAIN)
    real = make("real", PLAIN if ours_tls else {})
    if listener == "ours":
        refused(real, ours)
    else:
        refused(ours, real)


@pytest.mark.parametrize("listener", ["ours", "real"])
def test_anonymous_tls_with_real_broker_uses_its_suite(make, listener):
    # Real Broker offers only AECDH-AES256-SHA; we negotiate it, whichever
    # side listens.
    ours, real = make("ours", {}), make("real", {})
    acc, con = (ours, real) if listener == "ours" else (real, ours)
    port = acc.listen()
    proxy = RecordingProxy(port)
    try:
        assert con.peer(proxy.port, retry=0.0) is True
        assert negotiated_cipher(proxy.from_server()) == "AECDH-AES256-SHA"
    finally:
        proxy.close()


@pytest.mark.parametrize("rogue", ["ours", "real"])
def test_untrusted_certificate_is_refused(make, pki, rogue):
    rogue_opts = {"openssl_certificate": pki.path("rogue.pem"),
                  "openssl_key": pki.path("rogue.key"),
                  "openssl_cafile": pki.path("ca.pem")}
    ours = make("ours", rogue_opts if rogue == "ours" else cert_options(pki, "node1"))
    real = make("real", rogue_opts if rogue == "real" else cert_options(pki, "node2"))
    # Either side dialling: the honest side refuses the rogue certificate.
    refused(ours, real)
    refused(real, ours)


def test_encrypted_key_with_passphrase_peers_with_real_broker(make, pki):
    opts = cert_options(pki, "node1")
    opts["openssl_key"] = pki.path("node1-encrypted.key")
    opts["openssl_passphrase"] = pki.passphrase
    ours = make("ours", opts)
    real = make("real", cert_options(pki, "node2"))
    sub = real.subscribe("/tls")
    interop.link(ours, real)
    assert wait_for(lambda: "/tls" in ours_peer_topics(ours))
    ours.publish("/tls/x", SECRET)
    got = real.recv(sub, 1, timeout=10.0)
    assert [m["topic"] for m in got] == ["/tls/x"]


def test_a_refused_peer_does_not_disturb_a_good_one(make, pki):
    real = make("real", cert_options(pki, "node2"))
    good = make("ours", cert_options(pki, "node1"))
    rogue = make("ours", {"openssl_certificate": pki.path("rogue.pem"),
                          "openssl_key": pki.path("rogue.key"),
                          "openssl_cafile": pki.path("ca.pem")})
    sub = good.subscribe("/still")
    port = interop.link(good, real)
    assert rogue.peer(port, retry=0.0) is False
    real.publish("/still/here", SECRET)
    got = good.recv(sub, 1, timeout=10.0)
    assert [m["topic"] for m in got] == ["/still/here"]


SECRET = ["string", b"secret".hex(), "str"]


def ours_peer_topics(node) -> set:
    return {t.string() for t in node.ep.peer_subscriptions()}


def wait_for(predicate, timeout: float = 10.0) -> bool:
    for _ in interop.deadline_loop(timeout):
        if predicate():
            return True
    return bool(predicate())
