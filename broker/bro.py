"""Broker 1.4's name of ``broker.zeek`` (from when Zeek was called Bro):
the same classes, so ``broker.bro.Event is broker.zeek.Event``."""

from __future__ import annotations

from .zeek import *  # noqa: F401,F403
from .zeek import __all__  # noqa: F401
