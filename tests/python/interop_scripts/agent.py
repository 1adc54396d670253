"""A Broker endpoint in a child process, driven over stdin/stdout.

    python agent.py '<options as JSON>' [max_seconds]

Creates one endpoint (interop_node.Node) with the options (e.g.
{"disable_ssl": true}), prints {"ready": true, ...info} and then answers
each request line {"id": n, "cmd": "method", ...keyword arguments} with one
line {"id": n, "result": ...} or {"id": n, "error": "...", "traceback": "..."}.
It exits after "shutdown", at end of input (the parent is gone) or after
max_seconds (default 300) whatever happens, so no child outlives a broken
test. Runs under real Broker's interpreter or ours alike.
"""

import json
import os
import sys
import threading
import traceback


def say(obj) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main() -> None:
    options = json.loads(sys.argv[1])
    max_seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 300.0
    watchdog = threading.Timer(max_seconds, lambda: os._exit(3))
    watchdog.daemon = True
    watchdog.start()

    import broker
    from interop_node import Node

    node = Node(broker, options)
    say({"ready": True, **node.info()})
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        rid = req.pop("id", None)
        cmd = req.pop("cmd")
        try:
            if cmd.startswith("_") or not callable(getattr(node, cmd, None)):
                raise AttributeError(f"no command {cmd!r}")
            say({"id": rid, "result": getattr(node, cmd)(**req)})
        except Exception as e:  # noqa: BLE001 (reported to the parent)
            error = f"{type(e).__name__}: {e}"
            say({"id": rid, "error": error, "traceback": traceback.format_exc()})
        if cmd == "shutdown":
            break
    else:
        node.shutdown()
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown: real Broker's bindings can crash in it


if __name__ == "__main__":
    main()
