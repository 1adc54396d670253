"""Parent-side plumbing of the interop tests (test_interop.py): finding the
real Broker, starting it in a child process, and our own endpoints driven
through the same interface.

Every endpoint in a test, ours or real Broker's, is an `interop_node.Node`
(tests/python/interop_scripts/): ours live in the pytest process, real ones
in a child running agent.py under `real-broker python`, reached through an
`Agent` proxy. Both expose the same methods and exchange values as typed
descriptions (typed_values.py), so a scenario is written once and run in
either direction.

The real Broker is found at $REAL_BROKER, else ../shared/reference/real-broker
next to the repository root. Tests skip, saying why, when it is absent.

What the two sides use to talk (today plain TCP; later TLS) is a `Transport`:
it produces the options of both sides, so a TLS variant only adds one.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import pathlib
import queue
import subprocess
import sys
import tempfile
import threading
import time

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPTS = pathlib.Path(__file__).resolve().parent / "interop_scripts"

if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

import typed_values  # noqa: E402
from interop_node import Node  # noqa: E402

__all__ = ["Agent", "Endpoints", "Node", "Transport", "TRANSPORTS", "real_broker", "typed_values"]


def real_broker() -> tuple[pathlib.Path | None, str]:
    """(path of the real-broker launcher, or None; how it was looked up)."""
    env = os.environ.get("REAL_BROKER")
    path = pathlib.Path(env) if env else REPO_ROOT.parent / "shared" / "reference" / "real-broker"
    how = f"$REAL_BROKER={env}" if env else str(path)
    if path.is_file() and os.access(path, os.X_OK):
        return path, how
    return None, how


def prepare_real_broker(path: pathlib.Path, timeout: float = 900.0) -> None:
    """Lets the launcher unpack itself (and install its few Debian libraries)
    once, up front: on a fresh machine that takes longer than any test's own
    time limit. Cheap when already done."""
    done = subprocess.run(
        [str(path), "env"], capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{path} env failed ({done.returncode}): {done.stderr.strip()}")


@dataclasses.dataclass(frozen=True)
class Transport:
    """How both sides connect: the options each side's endpoint gets
    (BrokerOptions or Configuration attributes, by name)."""

    name: str
    ours: dict
    real: dict


def cert_options(pki, node: str) -> dict:
    """Configuration attributes authenticating as `node` of the test PKI
    (conftest.Pki), trusting its CA."""
    return {"openssl_certificate": pki.path(f"{node}.pem"),
            "openssl_key": pki.path(f"{node}.key"),
            "openssl_cafile": pki.path("ca.pem")}


TRANSPORTS = {
    "plain": Transport("plain", ours={"disable_ssl": True}, real={"disable_ssl": True}),
    # Both Brokers' default: anonymous ECDH, encrypted, not authenticated.
    "tls": Transport("tls", ours={}, real={}),
    # Mutual certificate authentication; filled in by with_pki().
    "tls-certs": Transport("tls-certs", ours={}, real={}),
}


def with_pki(transport: Transport, pki) -> Transport:
    """The transport with certificates from the test PKI where it needs
    them: each side authenticates with a certificate of the same CA."""
    if transport.name != "tls-certs":
        return transport
    return Transport(transport.name, ours=cert_options(pki, "node1"),
                     real=cert_options(pki, "node2"))


def our_node(transport: Transport) -> Node:
    """An endpoint of our package in this process."""
    import broker

    return Node(broker, transport.ours)


class AgentError(RuntimeError):
    pass


class Agent:
    """A Node in a child process (agent.py), called like a local one:
    `agent.listen()` sends {"cmd": "listen"} and returns the result.
    Every call waits at most `timeout` seconds (a call's own timeout
    argument plus a margin)."""

    MARGIN = 15.0

    def __init__(self, launcher: list[str], options: dict, max_seconds: float = 300.0):
        self._err = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in close())
        self.proc = subprocess.Popen(
            [*launcher, str(SCRIPTS / "agent.py"), json.dumps(options), str(max_seconds)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._err,
            text=True,
            bufsize=1,
        )
        self._lines: queue.Queue = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._next_id = 0
        try:
            hello = self._receive(30.0)
        except Exception:
            self.close()
            raise
        if not hello.get("ready"):
            self.close()
            raise AgentError(f"agent did not start: {hello}")
        self.info = hello
        self.node_id_ = hello["node_id"]

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _receive(self, timeout: float) -> dict:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AgentError(f"agent silent for {timeout:g} s; stderr: {self.stderr()}") from None
        if line is None:
            raise AgentError(f"agent exited (rc={self.proc.wait(5)}); stderr: {self.stderr()}")
        return json.loads(line)

    def stderr(self) -> str:
        self._err.seek(0)
        text = self._err.read().strip()
        self._err.seek(0, 2)
        return "\n".join(text.splitlines()[-20:]) or "(empty)"

    def call(self, cmd: str, *args, **kwargs):
        """Calls Node.<cmd> in the child; arguments as for the local method."""
        method = getattr(Node, cmd, None)
        if cmd.startswith("_") or not callable(method):
            raise AttributeError(f"Node has no method {cmd!r}")
        bound = inspect.signature(method).bind(None, *args, **kwargs)
        bound.apply_defaults()
        params = dict(bound.arguments)
        params.pop("self")
        wait = float(params.get("timeout") or params.get("window") or 0.0) + self.MARGIN
        self._next_id += 1
        rid = self._next_id
        self.proc.stdin.write(json.dumps({"id": rid, "cmd": cmd, **params}) + "\n")
        self.proc.stdin.flush()
        reply = self._receive(wait)
        if reply.get("id") != rid:
            raise AgentError(f"reply to another request: {reply}")
        if "error" in reply:
            raise AgentError(f"{cmd} failed in the agent: {reply['error']}\n{reply['traceback']}")
        return reply["result"]

    def __getattr__(self, cmd: str):
        if cmd.startswith("_"):
            raise AttributeError(cmd)
        return lambda *args, **kwargs: self.call(cmd, *args, **kwargs)

    def node_id(self) -> str:
        return self.node_id_

    def __repr__(self) -> str:
        return f"<real Broker {self.info.get('version')} {self.node_id_[:8]}>"

    def close(self) -> None:
        """Asks the agent to shut down, kills it if it does not exit in time."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(json.dumps({"id": 0, "cmd": "shutdown"}) + "\n")
                self.proc.stdin.flush()
                self.proc.wait(10.0)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(10.0)
        try:
            self.proc.stdin.close()
        except OSError:  # the child is gone: nothing to flush to
            pass
        # The reader sees end of file now that the child has exited; close
        # its pipe only after it stopped, never under its feet.
        self._reader.join(10.0)
        if not self._reader.is_alive():
            self.proc.stdout.close()
        self._err.close()


def start_real(transport: Transport) -> Agent:
    """A real Broker endpoint in a child process (the caller closes it)."""
    path, how = real_broker()
    if path is None:
        raise FileNotFoundError(f"real Broker not found at {how}")
    return Agent([str(path), "python"], transport.real)


class Endpoints:
    """Makes endpoints of either kind and closes them all at the end."""

    def __init__(self, transport: Transport):
        self.transport = transport
        self.made: list = []

    def __call__(self, kind: str):
        if kind == "ours":
            ep = our_node(self.transport)
        elif kind == "real":
            ep = start_real(self.transport)
        else:
            raise ValueError(kind)
        self.made.append(ep)
        return ep

    def close(self) -> None:
        errors = []
        for ep in reversed(self.made):
            try:
                ep.close()
            except Exception as e:  # noqa: BLE001 (close the rest, then report)
                errors.append(e)
        self.made.clear()
        if errors:
            raise errors[0]


def wait_peered(*pairs, timeout: float = 10.0) -> None:
    """Each (x, y): x reports y as a peer (await_peer on x's side)."""
    for x, y in pairs:
        r = x.await_peer(node=y.node_id(), timeout=timeout)
        assert r["result"], f"{x!r} never saw {y.node_id()} as a peer: {r}"


def link(connector, acceptor, timeout: float = 10.0) -> int:
    """`connector` peers with `acceptor` (which listens on 127.0.0.1); both
    sides see each other before this returns. Returns the port."""
    port = acceptor.listen()
    assert port > 0, "listen failed"
    assert connector.peer(port), f"peering with port {port} failed"
    wait_peered((connector, acceptor), (acceptor, connector), timeout=timeout)
    return port


def deadline_loop(timeout: float, interval: float = 0.05):
    """Yields until `timeout` seconds passed (for bounded retry loops)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        yield
        time.sleep(interval)
