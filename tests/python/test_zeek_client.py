"""zeek-client (from PyPI, unchanged) against our demo controller,
``python -m broker controller``: get-instances, get-nodes, test-timeout
and monitor, over ws:// (ssl.enable = false) and wss:// (ssl.enable =
true, anonymous AECDH-AES256-SHA), each checked by its JSON output and exit
code (websocket-api.md §8.2, §8.3, §9 item 11); and wss:// with
certificates on both sides (ssl.certificate, ssl.keyfile, ssl.cafile).

Both run as subprocesses with sys.executable: the controller logs its
port (it listens on port 0), zeek-client gets it through --set. Every wait
is bounded: zeek-client's own request timeout is set low where no answer
is expected, and each process has a deadline. The controller's own
tests (bad requests, the encoding limits of zeek-client's decoder, its
command line) need only the `websockets` library."""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import re
import select
import signal
import socket
import subprocess
import sys
import time

import pytest
from websockets.sync.client import connect

# The zeek-client command is a script file (not an entry point) installed
# beside the interpreter; it runs with this interpreter. Tests that need it
# skip without it; the controller's own tests run regardless.
ZEEK_CLIENT = pathlib.Path(sys.executable).parent / "zeek-client"
if importlib.util.find_spec("zeekclient") is None:
    NO_ZEEK_CLIENT = (
        "zeek-client is not installed (scripts/setup-env --test installs zeek-client==1.5.0)"
    )
elif not ZEEK_CLIENT.is_file():
    NO_ZEEK_CLIENT = f"zeekclient is importable but its script {ZEEK_CLIENT} is missing"
else:
    NO_ZEEK_CLIENT = None

TIMEOUT = 30.0
REQUEST_TIMEOUT = 0.5  # the controller's delay for test-timeout --with-state
API = "Management::Controller::API::"


class Process:
    """A subprocess whose stdout and stderr are read line by line with
    deadlines (unbuffered Python, so lines arrive as they are printed)."""

    def __init__(self, args, cwd, env):
        self.proc = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            env=env,
        )
        self.lines = {"out": [], "err": []}
        self._fds = {self.proc.stdout.fileno(): "out", self.proc.stderr.fileno(): "err"}
        self._partial = {"out": b"", "err": b""}

    def _read(self, timeout: float) -> bool:
        """Reads what is there (waiting up to `timeout`); False at EOF."""
        ready, _, _ = select.select(list(self._fds), [], [], timeout)
        for fd in ready:
            chunk = os.read(fd, 65536)
            name = self._fds[fd]
            if not chunk:
                del self._fds[fd]
                continue
            data = self._partial[name] + chunk
            *complete, self._partial[name] = data.split(b"\n")
            self.lines[name] += [line.decode() for line in complete]
        return bool(self._fds)

    def wait_for(self, stream: str, pattern: str, timeout: float = TIMEOUT) -> re.Match:
        """The first line of `stream` ("out" or "err") matching `pattern`."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.lines[stream]:
                if m := re.search(pattern, line):
                    return m
            left = deadline - time.monotonic()
            if left <= 0 or not self._read(left):
                raise AssertionError(
                    f"no line matching {pattern!r} within {timeout} s in {stream}: {self.lines}"
                )

    def stop(self, sig, timeout: float = TIMEOUT) -> int:
        """Sends `sig`, waits (bounded) for the exit; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        deadline = time.monotonic() + timeout
        while self._fds and (left := deadline - time.monotonic()) > 0:
            self._read(left)
        try:
            return self.proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"{self.proc.args} did not exit within {timeout} s after {sig!r}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


@pytest.fixture
def env(tmp_path):
    """zeek-client isolated from any config file or settings of this machine."""
    e = dict(
        os.environ,
        PYTHONUNBUFFERED="1",
        ZEEK_CLIENT_CONFIG_FILE=str(tmp_path / "no-such-zeek-client.cfg"),
    )
    e.pop("ZEEK_CLIENT_CONFIG_SETTINGS", None)
    return e


@pytest.fixture
def spawn(tmp_path, env):
    started = []

    def spawn(*args) -> Process:
        p = Process([sys.executable, *map(str, args)], cwd=tmp_path, env=env)
        started.append(p)
        return p

    yield spawn
    for p in started:
        p.kill()


class Controller:
    def __init__(self, proc: Process, port: int, tls: bool):
        self.proc, self.port, self.tls = proc, port, tls

    def client_args(self, *settings: str) -> list[str]:
        """zeek-client's options for reaching us."""
        args = [
            "--set",
            "controller.host=127.0.0.1",
            "--set",
            f"controller.port={self.port}",
            "--set",
            f"ssl.enable={'true' if self.tls else 'false'}",
        ]
        for s in settings:
            args += ["--set", s]
        return args


def start_controller(spawn, tls: bool, *extra) -> Controller:
    args = ["-m", "broker", "controller", "--port", 0, "--request-timeout", REQUEST_TIMEOUT]
    if not tls:
        args.append("--plain")
    proc = spawn(*args, *extra)
    m = proc.wait_for(
        "err", r"controller listening on (wss?)://127\.0\.0\.1:(\d+)/v1/messages/json"
    )
    assert m[1] == ("wss" if tls else "ws")
    return Controller(proc, int(m[2]), tls)


@pytest.fixture(params=["plain", "tls"])
def controller(request, spawn):
    """The controller over ws:// or wss://; stopped with SIGTERM (plain) or
    SIGINT (tls) at the end, which must be a clean exit."""
    ctl = start_controller(spawn, request.param == "tls")
    yield ctl
    sig = signal.SIGTERM if request.param == "plain" else signal.SIGINT
    assert ctl.proc.stop(sig) == 0, ctl.proc.lines
    assert any(line.endswith(" stopped") for line in ctl.proc.lines["err"]), ctl.proc.lines


@pytest.fixture
def zeek_client(tmp_path, env):
    """Runs zeek-client to completion (bounded); returns the CompletedProcess."""
    if NO_ZEEK_CLIENT:
        pytest.skip(NO_ZEEK_CLIENT)

    def run(ctl: Controller, *command, settings=(), timeout: float = TIMEOUT):
        return subprocess.run(
            [sys.executable, ZEEK_CLIENT, *ctl.client_args(*settings), *command],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=timeout,
            check=False,
        )

    return run


# -- the three commands -----------------------------------------------------------------


def test_get_instances(controller, zeek_client):
    r = zeek_client(controller, "get-instances")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {
        "agent-remote": {"host": "192.0.2.10"},
        "agent-standalone": {"host": "127.0.0.1", "port": 2151},
    }
    assert r.stderr == ""
    controller.proc.wait_for("err", r"rx get_instances_request ")


def test_get_nodes(controller, zeek_client):
    r = zeek_client(controller, "get-nodes")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["errors"] == []
    standalone, remote = out["results"]["agent-standalone"], out["results"]["agent-remote"]
    assert sorted(standalone) == [
        "agent-standalone",
        "controller",
        "logger-01",
        "manager",
        "proxy-01",
        "worker-01",
    ]
    assert sorted(remote) == ["agent-remote", "worker-02", "worker-03"]
    # The controller node is the controller process itself.
    assert standalone["controller"] == {
        "state": "RUNNING",
        "mgmt_role": "CONTROLLER",
        "cluster_role": None,
        "pid": controller.proc.proc.pid,
        "port": controller.port,
    }
    assert standalone["manager"] == {
        "state": "RUNNING",
        "mgmt_role": None,
        "cluster_role": "MANAGER",
        "pid": 4110,
        "port": 2200,
        "metrics_port": 9000,
    }
    assert standalone["worker-01"] == {
        "state": "RUNNING",
        "mgmt_role": None,
        "cluster_role": "WORKER",
        "pid": 4113,
        "metrics_port": 9003,
    }
    # Unset optionals (pid, ports) are left out.
    assert remote["worker-03"] == {"state": "CRASHED", "mgmt_role": None, "cluster_role": "WORKER"}
    assert remote["agent-remote"] == {
        "state": "RUNNING",
        "mgmt_role": "AGENT",
        "cluster_role": None,
        "pid": 7301,
    }


def test_test_timeout_with_state_gets_the_timeout_error(controller, zeek_client):
    start = time.monotonic()
    r = zeek_client(controller, "test-timeout", "--with-state")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"success": False, "error": "request timed out"}
    assert time.monotonic() - start >= REQUEST_TIMEOUT
    controller.proc.wait_for("err", r"timed out; tx test_timeout_response")


def test_test_timeout_without_state_is_not_answered(controller, zeek_client):
    # As with Zeek's controller: no state, nothing expires, no response;
    # zeek-client gives up after client.request_timeout_secs.
    r = zeek_client(controller, "test-timeout", settings=["client.request_timeout_secs=1"])
    assert r.returncode == 1
    assert r.stdout == ""
    assert "error: no response received: websocket connection to" in r.stderr
    assert "timed out" in r.stderr
    controller.proc.wait_for("err", r"test_timeout_request \S+ without state: no response")


# -- monitor, other requests, failures --------------------------------------------------


def test_monitor_shows_other_clients_requests_and_our_responses(controller, spawn, zeek_client):
    monitor = spawn(ZEEK_CLIENT, *controller.client_args("client.verbosity=2"), "monitor")
    monitor.wait_for("err", rf"info: peered with controller 127\.0\.0\.1:{controller.port}$")
    r = zeek_client(controller, "get-instances")
    assert r.returncode == 0, r.stderr
    # zeek-client prints each event with its argument types.
    string, vector = (
        "<class 'zeekclient.brokertypes.String'>",
        "<class 'zeekclient.brokertypes.Vector'>",
    )
    monitor.wait_for("out", re.escape(f'received "{API}get_instances_request(reqid: {string})"'))
    monitor.wait_for(
        "out",
        re.escape(f'received "{API}get_instances_response(reqid: {string}, result: {vector})"'),
    )
    # zeek-client turns Ctrl-C into a clean exit.
    assert monitor.stop(signal.SIGINT) == 0


def test_unsupported_request_is_logged_and_not_answered(controller, zeek_client):
    r = zeek_client(controller, "get-config", settings=["client.request_timeout_secs=1"])
    assert r.returncode == 1
    assert "no response received" in r.stderr
    controller.proc.wait_for(
        "err", rf"unsupported request {API}get_configuration_request, not answering"
    )


@pytest.mark.parametrize("server_tls", [False, True])
def test_plaintext_and_tls_mismatch_fails(spawn, zeek_client, server_tls):
    ctl = start_controller(spawn, server_tls)
    ctl.tls = not server_tls  # what the client is told
    start = time.monotonic()
    r = zeek_client(ctl, "get-instances", settings=["client.peering_attempts=2"])
    assert r.returncode == 1
    assert r.stdout == ""
    assert "error:" in r.stderr
    assert time.monotonic() - start < 15
    assert ctl.proc.stop(signal.SIGTERM) == 0


# -- certificates (zeek-client's ssl.certificate / ssl.keyfile / ssl.cafile) ------------


def start_cert_controller(spawn, pki) -> Controller:
    """Authenticates with a certificate for 127.0.0.1 (zeek-client checks
    the host name) and accepts clients that our test CA signed."""
    return start_controller(
        spawn,
        True,
        "--certificate",
        pki.path("localhost.pem"),
        "--key",
        pki.path("localhost.key"),
        "--ca-file",
        pki.path("ca.pem"),
    )


def cert_settings(pki, node: str) -> list[str]:
    return [
        f"ssl.certificate={pki.path(node + '.pem')}",
        f"ssl.keyfile={pki.path(node + '.key')}",
        f"ssl.cafile={pki.path('ca.pem')}",
    ]


def test_certificates_authenticate_both_sides(spawn, zeek_client, pki):
    ctl = start_cert_controller(spawn, pki)
    ctl.proc.wait_for("err", r"\(TLS, certificates\)")
    r = zeek_client(ctl, "get-instances", settings=cert_settings(pki, "node2"))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {
        "agent-remote": {"host": "192.0.2.10"},
        "agent-standalone": {"host": "127.0.0.1", "port": 2151},
    }
    # zeek-client without a certificate offers only the anonymous suite,
    # which an authenticating server refuses.
    r = zeek_client(ctl, "get-instances", settings=["client.peering_attempts=1"])
    assert r.returncode == 1
    assert "error:" in r.stderr
    assert ctl.proc.stop(signal.SIGTERM) == 0


def test_a_client_certificate_our_ca_did_not_sign_is_refused(spawn, zeek_client, pki):
    ctl = start_cert_controller(spawn, pki)
    settings = [
        f"ssl.certificate={pki.path('rogue.pem')}",
        f"ssl.keyfile={pki.path('rogue.key')}",
        f"ssl.cafile={pki.path('ca.pem')}",
        "client.peering_attempts=1",
    ]
    r = zeek_client(ctl, "get-instances", settings=settings)
    assert r.returncode == 1
    assert r.stdout == ""
    assert "error:" in r.stderr
    # The controller carries on for clients it trusts.
    r = zeek_client(ctl, "get-instances", settings=cert_settings(pki, "node1"))
    assert r.returncode == 0, r.stderr
    assert ctl.proc.stop(signal.SIGTERM) == 0


def test_zeek_client_refuses_a_server_certificate_without_its_host(spawn, zeek_client, pki):
    # node1's certificate names "node1", not 127.0.0.1: this is why the
    # controller needs a certificate for the host clients connect to.
    ctl = start_controller(
        spawn,
        True,
        "--certificate",
        pki.path("node1.pem"),
        "--key",
        pki.path("node1.key"),
        "--ca-file",
        pki.path("ca.pem"),
    )
    r = zeek_client(
        ctl, "get-instances", settings=[*cert_settings(pki, "node2"), "client.peering_attempts=1"]
    )
    assert r.returncode == 1
    assert "127.0.0.1" in r.stderr and "match" in r.stderr, r.stderr
    assert ctl.proc.stop(signal.SIGTERM) == 0


# -- the controller at the protocol level (no zeek-client needed) -----------------------


def event_message(name: str, *args: dict) -> str:
    """A data message carrying a Zeek event, as zeek-client sends it."""
    return json.dumps(
        {
            "topic": "zeek/management/controller",
            "type": "data-message",
            "@data-type": "vector",
            "data": [
                {"@data-type": "count", "data": 1},
                {"@data-type": "count", "data": 1},
                {
                    "@data-type": "vector",
                    "data": [
                        {"@data-type": "string", "data": name},
                        {"@data-type": "vector", "data": list(args)},
                    ],
                },
            ],
        }
    )


def values_of(node: dict, kind: str) -> list:
    """Every `kind` value in a JSON-encoded value, depth first."""
    found = [node["data"]] if node.get("@data-type") == kind else []
    if isinstance(node.get("data"), list):
        for child in node["data"]:
            if isinstance(child, dict) and "key" in child:  # table entry
                found += values_of(child["key"], kind) + values_of(child["value"], kind)
            else:
                found += values_of(child, kind)
    return found


def test_bad_messages_are_logged_and_answers_are_decodable_by_zeek_client(spawn):
    ctl = start_controller(spawn, tls=False)
    url = f"ws://127.0.0.1:{ctl.port}/v1/messages/json"
    with connect(url, open_timeout=10) as ws, connect(url, open_timeout=10) as watcher:
        for c in (ws, watcher):
            c.send(json.dumps(["zeek/management/controller"]))
            assert json.loads(c.recv(timeout=10))["type"] == "ack"
        reqid = {"@data-type": "string", "data": "r-1"}
        ws.send(event_message(API + "get_nodes_request", {"@data-type": "count", "data": 7}))
        ws.send(event_message(API + "test_timeout_request", reqid))  # with_state missing
        ws.send(
            json.dumps(
                {
                    "topic": "zeek/management/controller",
                    "type": "data-message",
                    "@data-type": "count",
                    "data": 1,
                }
            )
        )
        ws.send(event_message(API + "get_nodes_request", reqid))
        # The first (and only) answer is to the well-formed request.
        msg = json.loads(ws.recv(timeout=10))
        assert msg["topic"] == "zeek/management/controller"
        name, args = (e["data"] for e in msg["data"][2]["data"])
        assert name == API + "get_nodes_response"
        assert args[0] == reqid
        results = args[1]["data"]
        assert [r["data"][2]["data"] for r in results] == ["agent-standalone", "agent-remote"]
        # What zeek-client can decode (websocket-api.md §8.2): ports 1-65535,
        # no timespans at all here; enums with their module.
        ports = values_of(msg, "port")
        assert len(ports) == 9
        assert all(re.fullmatch(r"[1-9]\d*/tcp", p) and int(p[:-4]) <= 65535 for p in ports)
        assert values_of(msg, "timespan") == []
        assert {e.split("::")[0] for e in values_of(msg, "enum-value")} == {
            "Management",
            "Supervisor",
        }
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.3)
        # Another client (zeek-client monitor, say) sees every event on the
        # topic but not the plain value (events_only), which would end
        # zeek-client's command with "invalid event data".
        seen = [json.loads(watcher.recv(timeout=10))["data"][2]["data"][0]["data"]]
        while seen[-1] != API + "get_nodes_response":
            seen.append(json.loads(watcher.recv(timeout=10))["data"][2]["data"][0]["data"])
        assert seen == [
            API + "get_nodes_request",
            API + "test_timeout_request",
            API + "get_nodes_request",
            API + "get_nodes_response",
        ]
    ctl.proc.wait_for("err", rf"malformed {API}get_nodes_request\(Count\(7\),\), not answering")
    ctl.proc.wait_for("err", rf"malformed {API}test_timeout_request\('r-1',\), not answering")
    ctl.proc.wait_for("err", r"ignoring a message that is not a Zeek event: 1$")
    assert ctl.proc.stop(signal.SIGTERM) == 0


# -- the controller's command line ------------------------------------------------------


def test_controller_exits_1_when_it_cannot_listen(spawn):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        proc = spawn("-m", "broker", "controller", "--plain", "--port", busy.getsockname()[1])
        code = proc.proc.wait(TIMEOUT)
    assert code == 1
    proc.wait_for("err", r"cannot listen on 127\.0\.0\.1:")


def test_controller_exits_1_with_certificate_files_it_cannot_read(spawn, tmp_path):
    missing = str(tmp_path / "missing.pem")
    proc = spawn("-m", "broker", "controller", "--port", 0, "--certificate", missing,
                 "--key", missing, "--ca-file", missing)
    assert proc.proc.wait(TIMEOUT) == 1
    proc.wait_for("err", rf"ERROR openssl_certificate: cannot read {re.escape(missing)}")
    assert not any("Traceback" in line for line in proc.lines["err"])


@pytest.mark.parametrize(
    "args",
    [
        ["--port", "70000"],
        ["--request-timeout", "0"],
        ["--nope"],
        ["--plain", "--certificate", "a.pem", "--key", "a.key", "--ca-file", "ca.pem"],
        ["--certificate", "a.pem"],
    ],
)
def test_controller_usage_errors_exit_2(spawn, args):
    proc = spawn("-m", "broker", "controller", *args)
    assert proc.proc.wait(TIMEOUT) == 2
    proc.wait_for("err", r"usage: python -m broker controller")
