"""``python -m broker COMMAND [ARGS]``: runs one of the tools in broker/tools/."""

from __future__ import annotations

import importlib
import sys

from .tools import TOOLS


def usage() -> str:
    lines = ["usage: python -m broker COMMAND [ARGS...]", "", "commands:"]
    width = max(map(len, TOOLS)) + 2
    lines += [f"  {name:<{width}}{text}" for name, text in TOOLS.items()]
    lines += ["", "'python -m broker COMMAND --help' explains each command."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command not in TOOLS:
        print(f"python -m broker: unknown command {command!r}\n\n{usage()}", file=sys.stderr)
        return 2
    tool = importlib.import_module(f".tools.{command}", __package__)
    return tool.main(rest, prog=f"python -m broker {command}")


if __name__ == "__main__":
    sys.exit(main())
