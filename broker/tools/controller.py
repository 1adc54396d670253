"""A demo Zeek management controller for zeek-client.

Serves the WebSocket JSON API (port 2149 by default, like Zeek's controller)
and answers zeek-client's Management::Controller::API requests on topic
zeek/management/controller with canned but well-formed data for a small
imaginary cluster:

  get-instances   two instances: agent-standalone (127.0.0.1, listening on
                  2151/tcp) and agent-remote (192.0.2.10, connects to us)
  get-nodes       the nodes running at each instance, with their states,
                  roles, pids and ports (the "controller" node is this
                  process: its real pid and WebSocket port)
  test-timeout    as Zeek's controller: without --with-state no answer at
                  all (zeek-client gives up after its own timeout); with
                  --with-state the "request timed out" error after
                  --request-timeout seconds
  monitor         needs nothing from us: zeek-client prints the events it
                  sees on the topic (other clients' requests, our answers)

Other requests are logged and left unanswered; there is no real cluster
behind this. TLS by default, matching zeek-client's ssl.enable = true:
without certificates the anonymous AECDH-AES256-SHA mode zeek-client offers
(encrypted, NOT authenticated: anyone who can reach the port can connect);
with --certificate, --key and --ca-file (as Broker's ssl.* settings) both
sides authenticate, for zeek-client's ssl.certificate, ssl.keyfile and
ssl.cafile (zeek-client also checks that our certificate names the host
it connects to); --plain serves ws:// for ssl.enable = false (zeek-client's
default).

Logs to stderr (--verbose: every message). Stops cleanly on SIGINT or
SIGTERM and exits 0; exits 1 if it cannot listen or use its certificate
files, 2 on a usage error.

Example:
  python -m broker controller --plain &
  zeek-client get-instances
"""

from __future__ import annotations

import argparse
import heapq
import ipaddress
import logging
import os
import select
import sys
import time

import broker
from broker.zeek import Event

from ._common import StopSignals, describe_event

TOPIC = "zeek/management/controller"
API = "Management::Controller::API::"
DEFAULT_PORT = 2149
PATH = "/v1/messages/json"

# What Zeek's controller says when request state expires
# (Management::Request::request_expired in controller/main.zeek); its
# Management::Request::timeout_interval is 10 s.
TIMEOUT_ERROR = "request timed out"
DEFAULT_REQUEST_TIMEOUT = 10.0

log = logging.getLogger("broker.controller")


# -- canned cluster ---------------------------------------------------------------
#
# Records are vectors with Zeek's field order (websocket-api.md §8.3); None
# is `none` for an unset optional field. zeek-client rejects port 0 and
# `us` timespans, so every port here is non-zero or None.


def _tcp(number: int) -> broker.Port:
    return broker.Port(number, broker.Port.TCP)


def _state(name: str) -> broker.Enum:
    return broker.Enum(f"Management::{name}")


def _mgmt_role(name: str) -> broker.Enum:
    return broker.Enum(f"Management::{name}")


def _cluster_role(name: str) -> broker.Enum:
    return broker.Enum(f"Supervisor::{name}")


# Management::Instance: name, host, listen_port (none: the agent connects
# to the controller).
INSTANCES = [
    ("agent-remote", ipaddress.ip_address("192.0.2.10"), None),
    ("agent-standalone", ipaddress.ip_address("127.0.0.1"), _tcp(2151)),
]


def node_statuses(controller_port: int) -> dict[str, list[tuple]]:
    """Management::NodeStatus records by instance: node, state, management
    role, cluster role, pid, port, metrics port."""
    running = _state("RUNNING")
    none_c = _cluster_role("NONE")
    none_m = _mgmt_role("NONE")
    return {
        "agent-standalone": [
            (
                "controller",
                running,
                _mgmt_role("CONTROLLER"),
                none_c,
                os.getpid(),
                _tcp(controller_port) if controller_port else None,
                None,
            ),
            ("agent-standalone", running, _mgmt_role("AGENT"), none_c, 4101, None, None),
            ("manager", running, none_m, _cluster_role("MANAGER"), 4110, _tcp(2200), _tcp(9000)),
            ("logger-01", running, none_m, _cluster_role("LOGGER"), 4111, _tcp(2201), _tcp(9001)),
            ("proxy-01", running, none_m, _cluster_role("PROXY"), 4112, _tcp(2202), _tcp(9002)),
            ("worker-01", running, none_m, _cluster_role("WORKER"), 4113, None, _tcp(9003)),
        ],
        "agent-remote": [
            ("agent-remote", running, _mgmt_role("AGENT"), none_c, 7301, None, None),
            ("worker-02", running, none_m, _cluster_role("WORKER"), 7310, None, _tcp(9004)),
            ("worker-03", _state("CRASHED"), none_m, _cluster_role("WORKER"), None, None, None),
        ],
    }


def result(reqid: str, success: bool = True, instance=None, data=None, error=None, node=None):
    """Management::Result: reqid, success, instance, data, error, node."""
    return (reqid, success, instance, data, error, node)


# -- the controller ---------------------------------------------------------------


class Controller:
    """Answers Management::Controller::API requests arriving on `TOPIC` at
    endpoint `ep`. Not thread-safe: one thread calls fd(), next_wakeup()
    and process(), which never block."""

    def __init__(
        self,
        ep: broker.Endpoint,
        *,
        ws_port: int = 0,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    ):
        self._ep = ep
        self._ws_port = ws_port
        self._request_timeout = request_timeout
        self._sub = ep.make_subscriber(TOPIC, qsize=256)
        # test_timeout requests with state: (deadline, sequence, reqid).
        self._expiring: list[tuple[float, int, str]] = []
        self._seq = 0
        # Each handler takes the request's arguments after reqid, checked
        # for count and type first (as Zeek would before dispatching).
        self._handlers = {
            API + "get_instances_request": ((), self._get_instances),
            API + "get_nodes_request": ((), self._get_nodes),
            API + "test_timeout_request": ((bool,), self._test_timeout),
        }

    def fd(self) -> int:
        """Readable while requests wait."""
        return self._sub.fd()

    def next_wakeup(self) -> float | None:
        """Seconds until a pending request expires, None if none."""
        if not self._expiring:
            return None
        return max(0.0, self._expiring[0][0] - time.monotonic())

    def process(self) -> None:
        """Handles whatever arrived and whatever expired."""
        for _topic, value in self._sub.poll():
            self._handle(value)
        now = time.monotonic()
        while self._expiring and self._expiring[0][0] <= now:
            _, _, reqid = heapq.heappop(self._expiring)
            log.info("request %s timed out; tx test_timeout_response", reqid)
            self._respond("test_timeout_response", reqid, result(reqid, False, error=TIMEOUT_ERROR))

    def _respond(self, name: str, reqid: str, *args) -> None:
        self._ep.publish(TOPIC, Event(API + name, reqid, *args))

    def _handle(self, value) -> None:
        log.debug("message: %s", value)
        ev = Event(value)
        if not ev.valid():
            log.warning("ignoring a message that is not a Zeek event: %s", value)
            return
        name = ev.name()
        if not name.endswith("_request"):
            # Our own responses (a local subscriber sees local publications)
            # and anything else clients say on the topic.
            log.debug("not a request: %s", name)
            return
        handler = self._handlers.get(name)
        if handler is None:
            log.warning("unsupported request %s, not answering", name)
            return
        types, method = handler
        args = ev.args()
        if (
            len(args) != 1 + len(types)
            or not isinstance(args[0], str)
            or not all(isinstance(a, t) for a, t in zip(args[1:], types))
        ):
            log.warning("malformed %s%r, not answering", name, tuple(args))
            return
        log.info("rx %s %s", name.removeprefix(API), " ".join(map(str, args)))
        method(*args)

    def _get_instances(self, reqid: str) -> None:
        instances = [list(inst) for inst in INSTANCES]
        self._respond("get_instances_response", reqid, result(reqid, data=instances))

    def _get_nodes(self, reqid: str) -> None:
        results = [
            result(reqid, instance=name, data=[list(n) for n in nodes])
            for name, nodes in node_statuses(self._ws_port).items()
        ]
        self._respond("get_nodes_response", reqid, results)

    def _test_timeout(self, reqid: str, with_state: bool) -> None:
        if not with_state:
            # Zeek's controller keeps no state for it, so nothing ever
            # expires and nobody answers: zeek-client reports its timeout.
            log.info("test_timeout_request %s without state: no response", reqid)
            return
        self._seq += 1
        heapq.heappush(self._expiring, (time.monotonic() + self._request_timeout, self._seq, reqid))


# -- command line -----------------------------------------------------------------


def make_config(plain: bool, tls_files: dict[str, str] | None = None) -> broker.Configuration:
    """`tls_files` maps Configuration's openssl_* names to their values."""
    opts = broker.BrokerOptions()
    opts.disable_ssl = plain
    cfg = broker.Configuration(opts)
    for name, value in (tls_files or {}).items():
        setattr(cfg, name, value)
    return cfg


def status_level(ev) -> int:
    """Clients coming and going are worth a line; Discovered/Unreachable
    repeat them."""
    if isinstance(ev, broker.Error):
        return logging.WARNING
    if ev.code() in (broker.SC.PeerAdded, broker.SC.PeerLost, broker.SC.PeerRemoved):
        return logging.INFO
    return logging.DEBUG


def run(
    address: str,
    port: int,
    plain: bool,
    request_timeout: float,
    tls_files: dict[str, str] | None = None,
) -> int:
    try:
        endpoint = broker.Endpoint(make_config(plain, tls_files))
    except ValueError as err:  # a certificate or key it cannot use
        log.error("%s", err)
        return 1
    with StopSignals() as stop, endpoint as ep:
        statuses = ep.make_status_subscriber(True)
        # events_only: a client that publishes plain values on the topic
        # must not break zeek-client, which takes every message for an event.
        bound = ep.web_socket_listen(address, port, events_only=True)
        if not bound:
            log.error("cannot listen on %s:%d", address, port)
            return 1
        ctl = Controller(ep, ws_port=bound, request_timeout=request_timeout)
        scheme = "ws" if plain else "wss"
        host = f"[{address}]" if ":" in address else address
        log.info(
            "controller listening on %s://%s:%d%s (%s), endpoint %s",
            scheme,
            host,
            bound,
            PATH,
            "plain" if plain else "TLS, certificates" if tls_files else "TLS, anonymous",
            ep.node_id(),
        )
        while stop.stopped is None:
            select.select([ctl.fd(), statuses.fd(), stop.fd()], [], [], ctl.next_wakeup())
            ctl.process()
            for ev in statuses.poll():
                log.log(status_level(ev), "%s", describe_event(ev))
        log.info("stopping (%s)", stop.stopped)
    log.info("stopped")
    return 0


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog=prog or "python -m broker controller",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "--address",
        default="127.0.0.1",
        help="address to listen on (default %(default)s; 0.0.0.0 for all)",
    )
    ap.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help="WebSocket port (default %(default)s; 0 picks a free one, logged)",
    )
    ap.add_argument(
        "--plain",
        action="store_true",
        help="serve ws:// instead of wss:// (for zeek-client's ssl.enable = false)",
    )
    ap.add_argument(
        "--request-timeout",
        type=float,
        default=DEFAULT_REQUEST_TIMEOUT,
        metavar="SECONDS",
        help="when test-timeout --with-state gets its error (default %(default)s)",
    )
    for flag, what in (
        ("--certificate", "our certificate (PEM)"),
        ("--key", "its private key (PEM)"),
        ("--ca-file", "the CAs that sign clients' certificates (PEM)"),
        ("--passphrase", "the key's passphrase, if it is encrypted"),
    ):
        ap.add_argument(flag, metavar="FILE" if flag != "--passphrase" else "TEXT", help=what)
    ap.add_argument("-v", "--verbose", action="store_true", help="log every message")
    args = ap.parse_args(argv)
    tls_files = {
        f"openssl_{name}": value
        for name, value in (
            ("certificate", args.certificate),
            ("key", args.key),
            ("cafile", args.ca_file),
            ("passphrase", args.passphrase),
        )
        if value is not None
    }
    if tls_files and args.plain:
        ap.error("--plain cannot be combined with certificate options")
    if tls_files and not (args.certificate and args.key and args.ca_file):
        ap.error("certificates need --certificate, --key and --ca-file together")
    if not 0 <= args.port <= 65535:
        ap.error("--port must be 0-65535")
    if not args.request_timeout > 0:
        ap.error("--request-timeout must be positive")
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    return run(args.address, args.port, args.plain, args.request_timeout, tls_files)


if __name__ == "__main__":
    sys.exit(main())
