"""The command-line tools (python -m broker demo|pipe|node|bench), each run
as a subprocess (controller's runs with zeek-client: test_zeek_client.py).

They run with sys.executable from a temporary folder (so that "-m" does
not pick up the source tree's broker/, which has no compiled extension)
and inherit PYTHONPATH through env=os.environ. Every wait is bounded;
processes wait for each other through the tools' own options (--count,
--wait-peers, publish waiting for a subscriber), not through sleeps.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import select
import signal
import subprocess
import sys
import time

import pytest

import broker

REPO = pathlib.Path(__file__).resolve().parent.parent.parent
TIMEOUT = 30.0


class Tool:
    """`python -m broker ARGS` in the background; stdout and stderr read
    line by line with timeouts."""

    def __init__(self, *args, cwd, stdin=subprocess.DEVNULL):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "broker", *map(str, args)],
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=os.environ,
            cwd=cwd,
        )
        self._out, self._err = self.proc.stdout.fileno(), self.proc.stderr.fileno()
        self._bufs = {self._out: b"", self._err: b""}

    def _line(self, stream, timeout: float) -> str:
        fd = stream.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._bufs[fd]:
            left = deadline - time.monotonic()
            assert left > 0, f"{self.proc.args[3:]}: no line within {timeout} s"
            if select.select([fd], [], [], left)[0]:
                chunk = os.read(fd, 4096)
                assert chunk, f"{self.proc.args[3:]} exited early: {self.finish()}"
                self._bufs[fd] += chunk
        line, self._bufs[fd] = self._bufs[fd].split(b"\n", 1)
        return line.decode()

    def send_and_close(self, data: bytes) -> None:
        self.proc.stdin.write(data)
        self.proc.stdin.close()
        self.proc.stdin = None  # communicate() must not touch it again

    def line(self, timeout: float = TIMEOUT) -> str:
        return self._line(self.proc.stdout, timeout)

    def err_line(self, timeout: float = TIMEOUT) -> str:
        return self._line(self.proc.stderr, timeout)

    def wait_for_line(self, pattern: str, timeout: float = TIMEOUT) -> re.Match:
        deadline = time.monotonic() + timeout
        while True:
            line = self.line(max(0.01, deadline - time.monotonic()))
            if m := re.search(pattern, line):
                return m

    def finish(self, timeout: float = TIMEOUT) -> tuple[int, str, str]:
        """Exit code, rest of stdout, rest of stderr."""
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            pytest.fail(f"{self.proc.args[3:]} did not exit within {timeout} s: {err.decode()}")
        return (
            self.proc.returncode,
            (self._bufs[self._out] + out).decode(),
            (self._bufs[self._err] + err).decode(),
        )


@pytest.fixture
def tool(tmp_path):
    started = []

    def start(*args, **kwargs):
        t = Tool(*args, cwd=tmp_path, **kwargs)
        started.append(t)
        return t

    yield start
    for t in started:
        if t.proc.poll() is None:
            t.proc.kill()
            t.proc.communicate()


@pytest.fixture
def run(tmp_path):
    def run(*args, input: str | None = None, timeout: float = TIMEOUT):
        return subprocess.run(
            [sys.executable, "-m", "broker", *map(str, args)],
            input=input,
            capture_output=True,
            text=True,
            env=os.environ,
            cwd=tmp_path,
            timeout=timeout,
            check=False,
        )

    return run


def listening_subscriber(tool, *args) -> tuple[Tool, int]:
    """`pipe subscribe ... --listen 0`, and the port it printed on stderr."""
    sub = tool("pipe", "subscribe", *args, "--listen", "0", "--timeout", TIMEOUT)
    return sub, int(sub.err_line())


def free_port() -> int:
    with broker.Endpoint() as ep:
        return ep.listen("127.0.0.1", 0)


# -- python -m broker, --help ---------------------------------------------------------


def test_main_lists_the_commands(run):
    r = run("--help")
    assert r.returncode == 0
    for name in ("demo", "pipe", "node", "bench", "controller"):
        assert re.search(rf"^\s+{name}\s", r.stdout, re.MULTILINE), r.stdout
    assert run().returncode == 2
    r = run("nonsense")
    assert r.returncode == 2 and "unknown command" in r.stderr


@pytest.mark.parametrize(
    "args, words",
    [
        (["demo"], ["ping", "pong", "--role", "--timeout"]),
        (["pipe"], ["publish", "subscribe", "--plain", "Exit codes"]),
        (["pipe", "publish"], ["--peer", "--listen", "--keep-going", "--timeout"]),
        (["pipe", "subscribe"], ["--count", "--wait-peers", "--plain"]),
        (["node"], ["--listen", "--peer", "--forward", "SIGTERM"]),
        (["bench"], ["--list", "--quick", "benchmarks/"]),
        (["controller"], ["--plain", "--port", "2149", "zeek-client", "SIGTERM"]),
    ],
)
def test_help_explains_each_tool(run, args, words):
    r = run(*args, "--help")
    assert r.returncode == 0, r.stderr
    for word in words:
        assert word in r.stdout


def test_console_scripts_point_at_main_functions():
    tomllib = pytest.importorskip("tomllib")
    with open(REPO / "pyproject.toml", "rb") as f:
        scripts = tomllib.load(f)["project"]["scripts"]
    assert set(scripts) == {"broker-pipe", "broker-node", "broker-bench"}
    import importlib

    for target in scripts.values():
        module, _, func = target.partition(":")
        assert callable(getattr(importlib.import_module(module), func))


# -- demo -------------------------------------------------------------------------------


def test_demo_runs_ping_pong_across_two_processes(run):
    r = run("demo", "--timeout", 20, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    received = [x for x in r.stdout.splitlines() if x.startswith("received")]
    assert received == [f"received pong[{n}]" for n in range(5)]
    assert "pong side with 0" in r.stdout
    # The two processes share a store: the pinger's clone sees the master.
    assert "clone of store 'demo' sees pings=Count(5), last_ping=4" in r.stdout


def test_demo_fails_cleanly_without_a_pong_side(run):
    r = run("demo", "--role", "ping", "--port", free_port(), "--timeout", 1)
    assert r.returncode == 1
    assert "could not peer" in r.stdout


# -- pipe -------------------------------------------------------------------------------

JSON_VALUES = [
    '{"@data-type": "count", "data": 42}',
    '{"@data-type": "integer", "data": -7}',
    '{"@data-type": "string", "data": "h\\u00e9llo"}',
    (
        '{"@data-type": "vector", "data": [{"@data-type": "address", "data": "192.0.2.1"},'
        ' {"@data-type": "port", "data": "22/tcp"}, {"@data-type": "none", "data": {}}]}'
    ),
    (
        '{"@data-type": "table", "data": [{"key": {"@data-type": "string", "data": "a"},'
        ' "value": {"@data-type": "real", "data": 2.5}}]}'
    ),
    '{"@data-type": "set", "data": [{"@data-type": "subnet", "data": "10.0.0.0/8"}]}',
]


def test_pipe_json_lines_cross_two_processes(tool, run):
    sub, port = listening_subscriber(tool, "/demo", "--count", len(JSON_VALUES))
    r = run(
        "pipe",
        "publish",
        "/demo/x",
        "--peer",
        f"127.0.0.1:{port}",
        input="\n".join(JSON_VALUES) + "\n\n",
    )  # a blank line is skipped
    assert r.returncode == 0, r.stderr
    rc, out, err = sub.finish()
    assert rc == 0, err
    lines = [json.loads(x) for x in out.splitlines()]
    assert [x.pop("topic") for x in lines] == ["/demo/x"] * len(JSON_VALUES)
    got = [broker.Data.from_json(json.dumps(x)) for x in lines]
    assert got == [broker.Data.from_json(x) for x in JSON_VALUES]
    assert lines[0] == {"@data-type": "count", "data": 42}


def test_pipe_plain_json_cross_two_processes(tool, run):
    values = [None, True, 42, 2.5, "text", [1, "a", [None]], {"k": [1, 2], "n": {"x": False}}]
    sub, port = listening_subscriber(tool, "/plain", "--plain", "--count", len(values))
    r = run(
        "pipe",
        "publish",
        "/plain/x",
        "--plain",
        "--peer",
        f"127.0.0.1:{port}",
        input="".join(json.dumps(v) + "\n" for v in values),
    )
    assert r.returncode == 0, r.stderr
    rc, out, err = sub.finish()
    assert rc == 0, err
    assert [json.loads(x) for x in out.splitlines()] == [
        {"topic": "/plain/x", "value": v} for v in values
    ]


def test_pipe_plain_output_of_broker_types(tool, run):
    sub, port = listening_subscriber(tool, "/t", "--plain", "--count", 1)
    value = (
        '{"@data-type": "vector", "data": ['
        '{"@data-type": "count", "data": 3}, {"@data-type": "address", "data": "::1"},'
        '{"@data-type": "port", "data": "53/udp"},'
        '{"@data-type": "enum-value", "data": "Notice::LOG"},'
        '{"@data-type": "timespan", "data": "1500ms"},'
        '{"@data-type": "set", "data": [{"@data-type": "integer", "data": 2},'
        ' {"@data-type": "integer", "data": 1}]}]}'
    )
    r = run("pipe", "publish", "/t", "--peer", f"127.0.0.1:{port}", input=value + "\n")
    assert r.returncode == 0, r.stderr
    rc, out, err = sub.finish()
    assert rc == 0, err
    assert json.loads(out) == {
        "topic": "/t",
        "value": [3, "::1", "53/udp", "Notice::LOG", 1.5, [1, 2]],
    }


@pytest.mark.parametrize("keep_going", [False, True])
def test_pipe_bad_input_line_exits_3(tool, run, keep_going):
    # Stops at line 3 (or skips it with --keep-going); a later publisher's
    # "end" marks the end of what the subscriber gets.
    expected = [1, 2, 4, "end"] if keep_going else [1, 2, "end"]
    sub, port = listening_subscriber(tool, "/bad", "--plain", "--count", len(expected))
    args = ["pipe", "publish", "/bad", "--plain", "--peer", f"127.0.0.1:{port}"]
    r = run(*args, *(["--keep-going"] if keep_going else []), input="1\n2\n{oops\n4\n")
    assert r.returncode == 3
    assert "line 3" in r.stderr
    assert run(*args, input='"end"\n').returncode == 0
    rc, out, err = sub.finish()
    assert rc == 0, err
    assert [json.loads(x)["value"] for x in out.splitlines()] == expected


def test_pipe_bad_json_encoding_exits_3(tool, run):
    sub, port = listening_subscriber(tool, "/bad", "--count", 1)
    r = run(
        "pipe",
        "publish",
        "/bad",
        "--peer",
        f"127.0.0.1:{port}",
        input='{"@data-type": "count", "data": -1}\n',
    )
    assert r.returncode == 3
    assert "line 1" in r.stderr
    sub.proc.send_signal(signal.SIGTERM)  # stops it, exit 0
    assert sub.finish()[0] == 0


def test_pipe_publish_listens_and_waits_for_peers(tool):
    pub = tool(
        "pipe",
        "publish",
        "/w",
        "--plain",
        "--listen",
        "0",
        "--wait-peers",
        1,
        "--timeout",
        TIMEOUT,
        stdin=subprocess.PIPE,
    )
    port = int(pub.err_line())
    sub = tool(
        "pipe",
        "subscribe",
        "/w",
        "--plain",
        "--peer",
        f"127.0.0.1:{port}",
        "--count",
        2,
        "--timeout",
        TIMEOUT,
    )
    pub.send_and_close(b'"a"\n"b"\n')
    assert pub.finish()[0] == 0
    rc, out, err = sub.finish()
    assert rc == 0, err
    assert [json.loads(x)["value"] for x in out.splitlines()] == ["a", "b"]


def test_pipe_publish_stops_after_count(tool, run):
    sub, port = listening_subscriber(tool, "/n", "--plain", "--count", 3)
    r = run(
        "pipe",
        "publish",
        "/n",
        "--plain",
        "--peer",
        f"127.0.0.1:{port}",
        "--count",
        2,
        input="1\n2\n3\n",
    )
    assert r.returncode == 0, r.stderr
    assert (
        run(
            "pipe", "publish", "/n", "--plain", "--peer", f"127.0.0.1:{port}", input="4\n"
        ).returncode
        == 0
    )
    rc, out, err = sub.finish()
    assert rc == 0, err
    assert [json.loads(x)["value"] for x in out.splitlines()] == [1, 2, 4]


def test_pipe_runtime_failures_exit_1(run):
    r = run(
        "pipe", "publish", "/x", "--peer", f"127.0.0.1:{free_port()}", "--timeout", 0.5, input="1\n"
    )
    assert r.returncode == 1 and "cannot peer" in r.stderr
    r = run("pipe", "publish", "/x", "--listen", "0", "--timeout", 0.5, input="1\n")
    assert r.returncode == 1 and "no peer subscribed to /x" in r.stderr
    r = run("pipe", "subscribe", "/x", "--listen", "0", "--count", 1, "--timeout", 0.5)
    assert r.returncode == 1 and "received 0 of 1" in r.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["pipe"],
        ["pipe", "publish", "/x"],  # neither --peer nor --listen
        ["pipe", "publish", "/x", "--peer", "1:2", "--listen", "3"],
        ["pipe", "subscribe", "/x", "--peer", "host:port"],
        ["pipe", "subscribe", "/x", "--listen", "0", "--count", "-1"],
        ["node"],
        ["node", "--peer", "9999"],  # --peer needs a host
        ["bench", "--max-time", "soon"],
    ],
)
def test_usage_errors_exit_2(run, args):
    r = run(*args)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "usage:" in r.stderr


# -- node -------------------------------------------------------------------------------


def test_node_relays_between_two_endpoints_and_stops_on_sigterm(tool, run):
    # B listens and subscribes; the node peers with B and listens; A peers
    # with the node and publishes: A - node - B, the node forwarding /relay.
    sub, b_port = listening_subscriber(tool, "/relay", "--count", 2)
    node = tool("node", "--listen", "0", "--peer", f"127.0.0.1:{b_port}", "--forward", "/relay")
    node_port = int(node.wait_for_line(r"listening on 127\.0\.0\.1:(\d+)").group(1))
    node.wait_for_line(r"PeerAdded .*127\.0\.0\.1:" + str(b_port))
    r = run(
        "pipe",
        "publish",
        "/relay/a",
        "--plain",
        "--peer",
        f"127.0.0.1:{node_port}",
        input='"one"\n"two"\n',
    )
    assert r.returncode == 0, r.stderr
    rc, out, err = sub.finish()
    assert rc == 0, err
    assert [json.loads(x) for x in out.splitlines()] == [
        {"topic": "/relay/a", "@data-type": "string", "data": v} for v in ("one", "two")
    ]
    node.proc.send_signal(signal.SIGTERM)
    rc, out, err = node.finish()
    assert rc == 0, err
    assert "stopping (SIGTERM)" in out and out.rstrip().endswith("stopped")


def test_node_logs_peerings_and_stops_on_sigint(tool):
    node = tool("node", "--listen", "0")
    port = int(node.wait_for_line(r"listening on 127\.0\.0\.1:(\d+)").group(1))
    with broker.Endpoint() as ep:
        assert ep.peer("127.0.0.1", port, 1.0)
        node.wait_for_line("PeerAdded")
    node.wait_for_line("PeerLost|PeerRemoved")
    node.proc.send_signal(signal.SIGINT)
    rc, out, _ = node.finish()
    assert rc == 0
    assert "stopping (SIGINT)" in out


# -- bench ------------------------------------------------------------------------------


def test_bench_lists_the_benchmarks(run):
    r = run("bench", "--list", "--dir", REPO / "benchmarks")
    assert r.returncode == 0, r.stderr
    names = re.findall(r"^\s+(\w+)\s", r.stdout, re.MULTILINE)
    assert {"convert", "zeek"} <= set(names)


def test_bench_runs_selected_benchmarks_with_progress(run, tmp_path):
    d = tmp_path / "benches"
    d.mkdir()
    (d / "bench_fast.py").write_text(
        '"""A fake benchmark."""\nimport sys, broker\n'
        'print("fast:", repr(broker.Count(1)), sys.argv[1:])\n'
    )
    (d / "bench_broken.py").write_text('"""Fails."""\nraise SystemExit(4)\n')
    r = run("bench", "--dir", d, "--list")
    assert "fast      A fake benchmark." in r.stdout
    r = run("bench", "--dir", d, "--quick", "fast", "--", "--extra")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "fast: Count(1) ['--quick', '--extra']" in r.stdout
    assert "[1/1] fast" in r.stdout and "summary:" in r.stdout
    r = run("bench", "--dir", d)
    assert r.returncode == 1
    assert re.search(r"broken\s+FAILED \(exit 4\)", r.stdout)
    assert run("bench", "--dir", d, "nosuch").returncode == 2


def test_every_benchmark_takes_the_options_bench_passes_on():
    # broker-bench hands --quick, --no-real and --real-python to each one.
    scripts = sorted((REPO / "benchmarks").glob("bench_*.py"))
    assert len(scripts) >= 6
    for script in scripts:
        r = subprocess.run([sys.executable, script, "--help"], capture_output=True,
                           text=True, timeout=60, check=False)
        assert r.returncode == 0, (script.name, r.stderr)
        for option in ("--quick", "--no-real", "--real-python"):
            assert option in r.stdout, (script.name, option)


def test_bench_refuses_no_real_with_real_python(run):
    r = run("bench", "--no-real", "--real-python", "/usr/bin/python3", "--list")
    assert r.returncode == 2
    assert "contradict" in r.stderr


def test_bench_says_where_it_looked_for_benchmarks(run, tmp_path):
    r = run("bench", "--dir", tmp_path / "nowhere")
    assert r.returncode == 1
    assert "no benchmarks/ folder" in r.stderr and "--dir" in r.stderr
