"""Command-line tools: ``python -m broker {demo,pipe,node,bench,controller}``.

Each module has ``main(argv=None) -> int``; pipe, node and bench are also
console scripts (``broker-pipe``, ``broker-node``, ``broker-bench``). Exit
codes: 0 success, 1 runtime or peering failure, 2 usage error, 3 bad input
(``pipe publish``).
"""

TOOLS = {
    "demo": "two processes exchanging Zeek ping/pong events",
    "pipe": "publish JSON lines from stdin, or print subscribed messages as JSON lines",
    "node": "a standalone relay: listen, peer, forward topics, log peerings",
    "bench": "run the benchmarks in benchmarks/ with a progress display",
    "controller": "a demo Zeek management controller for zeek-client (WebSocket API)",
}
