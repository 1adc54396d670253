"""Shared fixtures and helpers for the Python tests."""

from __future__ import annotations

import json
import os
import pathlib
import time

import pytest

GOLDEN_DIR = pathlib.Path(__file__).resolve().parent.parent / "golden"


def load_golden(name: str) -> dict:
    with open(GOLDEN_DIR / name, encoding="utf-8") as f:
        return json.load(f)


def golden_data_frames(name: str):
    """Yields (topic, payload bytes, frame dict) for each data frame."""
    for frame in load_golden(name)["frames"]:
        if not frame["meaning"].startswith("data "):
            continue
        raw = bytes.fromhex(frame["hex"])
        tlen = int.from_bytes(raw[39:41], "big")
        topic = raw[41 : 41 + tlen].decode()
        yield topic, raw[41 + tlen :], frame


def make_config(*, disable_ssl: bool = False, **options):
    """A Configuration with these BrokerOptions set."""
    import broker

    opts = broker.BrokerOptions()
    opts.disable_ssl = disable_ssl
    for name, value in options.items():
        setattr(opts, name, value)
    return broker.Configuration(opts)


def plain_config(**options):
    """A Configuration for plain TCP (``disable_ssl``): raw-socket peers and
    captures speak the wire protocol without TLS."""
    return make_config(disable_ssl=True, **options)


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.01) -> bool:
    """Polls `predicate` until it is true or `timeout` seconds passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def get_until(sub, publish, timeout=10.0):
    """Publishes (via `publish`) until `sub` receives something: for a
    subscription that takes effect asynchronously. Bounded by `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        publish()
        msg = sub.get(timeout=0.1)
        if msg is not None:
            return msg
    return None


def collect(sub, n: int, timeout: float = 10.0) -> list:
    """The values of the next `n` messages of `sub`, fewer if `timeout`
    seconds pass first."""
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        msg = sub.get(timeout=0.2)
        if msg:
            got.append(msg[1])
    return got


@pytest.fixture(autouse=True, scope="session")
def _run_outside_the_source_tree(tmp_path_factory):
    """Child processes (``python -c``) put their working directory first on
    sys.path; from the repository root that would be the source package
    (without the compiled extension) instead of the installed one."""
    old = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("cwd"))
    yield
    os.chdir(old)


@pytest.fixture
def golden():
    return load_golden


@pytest.fixture
def endpoint():
    import broker

    with broker.Endpoint() as ep:
        yield ep


@pytest.fixture
def pair():
    """Two endpoints, b listening on 127.0.0.1 and a peered with it."""
    import broker

    with broker.Endpoint() as a, broker.Endpoint() as b:
        port = b.listen("127.0.0.1", 0)
        assert port > 0
        assert a.peer("127.0.0.1", port, 1.0)
        yield a, b


class Pki:
    """Test certificates made with the ``openssl`` command (never committed):
    one CA that signs two nodes' certificates and one for 127.0.0.1, an
    encrypted copy of a key, a self-signed certificate no one trusts, and a
    hashed CA directory."""

    passphrase = "correct horse"

    def __init__(self, root: pathlib.Path):
        import subprocess

        self.root = root

        def ossl(*args: str) -> None:
            subprocess.run(["openssl", *args], check=True, cwd=root,
                           capture_output=True, timeout=60)

        ec_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        ossl("req", "-x509", *ec_key, "-keyout", "ca.key", "-out", "ca.pem",
             "-days", "2", "-subj", "/CN=broker test CA")
        for name in ("node1", "node2"):
            ossl("req", *ec_key, "-keyout", f"{name}.key", "-out", f"{name}.csr",
                 "-subj", f"/CN={name}")
            ossl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey",
                 "ca.key", "-CAcreateserial", "-out", f"{name}.pem", "-days", "2")
        # A server certificate that names 127.0.0.1, for clients that check
        # the host they connect to (zeek-client).
        (root / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        ossl("req", *ec_key, "-keyout", "localhost.key", "-out", "localhost.csr",
             "-subj", "/CN=localhost")
        ossl("x509", "-req", "-in", "localhost.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "localhost.pem", "-days", "2", "-extfile", "san.ext")
        ossl("pkey", "-in", "node1.key", "-aes256", "-passout",
             f"pass:{self.passphrase}", "-out", "node1-encrypted.key")
        ossl("req", "-x509", *ec_key, "-keyout", "rogue.key", "-out", "rogue.pem",
             "-days", "2", "-subj", "/CN=rogue")
        (root / "capath").mkdir()
        (root / "capath" / "ca.pem").write_bytes((root / "ca.pem").read_bytes())
        ossl("rehash", str(root / "capath"))

    def path(self, name: str) -> str:
        return str(self.root / name)

    def config(self, node: str = "node1", *, cafile: bool = True,
               capath: bool = False, key: str | None = None,
               passphrase: str | None = None, cert: str | None = None):
        """A Configuration authenticating as `node` and trusting our CA."""
        import broker

        cfg = broker.Configuration(broker.BrokerOptions())
        cfg.openssl_certificate = self.path(cert or f"{node}.pem")
        cfg.openssl_key = self.path(key or f"{node}.key")
        if cafile:
            cfg.openssl_cafile = self.path("ca.pem")
        if capath:
            cfg.openssl_capath = self.path("capath")
        if passphrase is not None:
            cfg.openssl_passphrase = passphrase
        return cfg


@pytest.fixture(scope="session")
def pki(tmp_path_factory) -> Pki:
    return Pki(tmp_path_factory.mktemp("pki"))
