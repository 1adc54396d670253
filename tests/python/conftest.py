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


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.01) -> bool:
    """Polls `predicate` until it is true or `timeout` seconds passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


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
