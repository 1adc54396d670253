"""Golden replay of tests/golden/store-master-clone.json against our stores.

The capture shows a real Broker master on A and its clone on B. Here a raw
socket peer (rawpeer.py) plays one side frame by frame and our endpoint the
other:

* ``test_our_master_answers_the_clone_side``: the raw peer is B. Our
  endpoint hosts the master; the master's own API calls of the capture
  (steps 1, 3-17, 33, 34) are made through the Python API, the clone's
  command frames (steps 2, 18-35) are re-encoded with our ids and sent.
  Every answer our master sends must match the real master's frame
  structurally: command kind, sequence number, keys, values, expiry,
  entities up to a consistent renaming, envelope receiver set or not.
* ``test_our_clone_answers_the_master_side``: the raw peer is A. Our
  endpoint hosts a clone; the clone's API calls of steps 18-32 go through
  the Python API and the master's frames of the capture are sent back.
  The clone's contents must follow the capture's observations, and its own
  frames (cumulative_ack, attach_writer, writes) must match the real
  clone's.

Pacing: before sending a frame of the replayed side we wait for every
"answer" frame that precedes it in the capture (actions, ack_clone,
routing updates, the attach handshake). Periodic keepalives and
cumulative_acks are timing-dependent: they are checked for consistency
(seq 0, right entities, the right sequence number) whenever they arrive,
not matched one to one. Every wait is bounded.
"""

from __future__ import annotations

import dataclasses
import struct
import threading
import time

import pytest

import broker
from broker import Count

import rawpeer
from conftest import load_golden, plain_config, wait_until
from rawpeer import RawPeer

GOLDEN = "store-master-clone.json"
STORE = "golden-store"
MASTER_TOPIC = STORE + "/<$>/data/master"
CLONE_TOPIC = STORE + "/<$>/data/clone"

# The raw peer's id: larger than any random id, so our endpoint originates.
RAW_ID = rawpeer.LARGE_ID

TIMEOUT = 5.0  # per awaited frame or condition


# -- store command codec (wire-protocol.md §5) ---------------------------------------

KINDS = [
    "put", "put_unique", "put_unique_result", "erase", "expire", "add",
    "subtract", "clear", "attach_writer", "keepalive", "cumulative_ack",
    "nack", "ack_clone", "retransmit_failed",
]
ACTIONS = set(KINDS[:8])


def skip_value(buf: bytes, pos: int) -> int:
    """The end of the value starting at `pos` (wire-protocol.md §4)."""
    tag = buf[pos]
    pos += 1
    fixed = {0: 0, 1: 1, 2: 8, 3: 8, 4: 8, 6: 16, 7: 17, 8: 3, 9: 8, 10: 8}
    if tag in fixed:
        end = pos + fixed[tag]
    elif tag in (5, 11):
        n, pos = rawpeer.read_varbyte(buf, pos)
        end = pos + n
    elif tag in (12, 13, 14):
        n, pos = rawpeer.read_varbyte(buf, pos)
        for _ in range(n * (2 if tag == 13 else 1)):
            pos = skip_value(buf, pos)
        end = pos
    else:
        raise ValueError(f"bad value tag {tag}")
    if end > len(buf):
        raise ValueError("truncated value")
    return end


def to_python(raw: bytes):
    """The few value types of the capture as the Python API returns them."""
    value, end = _to_python(raw, 0)
    assert end == len(raw)
    return value


def _to_python(buf: bytes, pos: int):
    tag = buf[pos]
    pos += 1
    if tag == 0:
        return None, pos
    if tag == 1:
        return bool(buf[pos]), pos + 1
    if tag == 2:
        return Count(struct.unpack(">Q", buf[pos : pos + 8])[0]), pos + 8
    if tag == 3:
        return struct.unpack(">q", buf[pos : pos + 8])[0], pos + 8
    if tag == 5:
        n, pos = rawpeer.read_varbyte(buf, pos)
        return buf[pos : pos + n].decode(), pos + n
    if tag in (12, 13, 14):
        n, pos = rawpeer.read_varbyte(buf, pos)
        items = []
        for _ in range(n * (2 if tag == 13 else 1)):
            item, pos = _to_python(buf, pos)
            items.append(item)
        if tag == 12:
            return set(items), pos
        if tag == 13:
            return dict(zip(items[::2], items[1::2])), pos
        return tuple(items), pos
    raise ValueError(f"value tag {tag} not used by the capture")


@dataclasses.dataclass
class Command:
    """A decoded store command. Values stay encoded (bytes): the encoding is
    canonical (sets and tables sorted), so equal bytes = equal values.
    Entities are (endpoint id bytes, object id)."""

    seq: int
    sender: tuple
    receiver: tuple
    kind: str
    args: dict

    def __str__(self) -> str:
        def show(v):
            if isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], bytes):
                return f"{v[0].hex()[:8]}#{v[1]}"
            if isinstance(v, bytes):
                try:
                    return repr(to_python(v))
                except (ValueError, AssertionError, IndexError):
                    return v.hex()
            if isinstance(v, list) and v and isinstance(v[0], tuple):
                return "{" + ", ".join(f"{show(k)}: {show(x)}" for k, x in v) + "}"
            return repr(v)

        args = ", ".join(f"{k}={show(v)}" for k, v in self.args.items())
        return f"seq={self.seq} {show(self.sender)}->{show(self.receiver)} {self.kind}({args})"


NIL_ENTITY = (rawpeer.NIL_ID, 0)


class _Reader:
    def __init__(self, buf: bytes):
        self.buf, self.pos = buf, 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.buf):
            raise ValueError("truncated command")
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return struct.unpack(">H", self.take(2))[0]

    def u64(self) -> int:
        return struct.unpack(">Q", self.take(8))[0]

    def entity(self) -> tuple:
        return (self.take(16), self.u64())

    def value(self) -> bytes:
        end = skip_value(self.buf, self.pos)
        return self.take(end - self.pos)

    def expiry(self):
        tag = self.u8()
        assert tag in (0, 1)
        return struct.unpack(">q", self.take(8))[0] if tag else None

    def varbyte(self) -> int:
        n, self.pos = rawpeer.read_varbyte(self.buf, self.pos)
        return n


def decode_command(payload: bytes) -> Command:
    r = _Reader(payload)
    seq, sender, receiver = r.u64(), r.entity(), r.entity()
    kind = KINDS[r.u8()]
    a: dict = {}
    if kind in ("put", "put_unique", "add", "subtract"):
        a["key"], a["value"] = r.value(), r.value()
        if kind == "add":
            a["init_type"] = r.u8()
        a["expiry"] = r.expiry()
        if kind == "put_unique":
            a["who"], a["req_id"] = r.entity(), r.u64()
        a["publisher"] = r.entity()
    elif kind == "put_unique_result":
        a["inserted"] = bool(r.u8())
        a["who"], a["req_id"], a["publisher"] = r.entity(), r.u64(), r.entity()
    elif kind in ("erase", "expire"):
        a["key"], a["publisher"] = r.value(), r.entity()
    elif kind == "clear":
        a["publisher"] = r.entity()
    elif kind == "attach_writer":
        a["offset"], a["heartbeat_interval"] = r.u64(), r.u16()
    elif kind in ("keepalive", "cumulative_ack", "retransmit_failed"):
        a["seq"] = r.u64()
    elif kind == "nack":
        a["seqs"] = [r.u64() for _ in range(r.varbyte())]
    elif kind == "ack_clone":
        a["offset"], a["heartbeat_interval"] = r.u64(), r.u16()
        a["state"] = [(r.value(), r.value()) for _ in range(r.varbyte())]
    assert r.pos == len(payload), f"trailing bytes after {kind}"
    return Command(seq, sender, receiver, kind, a)


def encode_command(c: Command) -> bytes:
    def entity(e):
        return e[0] + struct.pack(">Q", e[1])

    def expiry(x):
        return b"\x00" if x is None else b"\x01" + struct.pack(">q", x)

    a = c.args
    out = struct.pack(">Q", c.seq) + entity(c.sender) + entity(c.receiver)
    out += bytes([KINDS.index(c.kind)])
    if c.kind in ("put", "put_unique", "add", "subtract"):
        out += a["key"] + a["value"]
        if c.kind == "add":
            out += bytes([a["init_type"]])
        out += expiry(a["expiry"])
        if c.kind == "put_unique":
            out += entity(a["who"]) + struct.pack(">Q", a["req_id"])
        out += entity(a["publisher"])
    elif c.kind == "put_unique_result":
        out += bytes([a["inserted"]]) + entity(a["who"])
        out += struct.pack(">Q", a["req_id"]) + entity(a["publisher"])
    elif c.kind in ("erase", "expire"):
        out += a["key"] + entity(a["publisher"])
    elif c.kind == "clear":
        out += entity(a["publisher"])
    elif c.kind == "attach_writer":
        out += struct.pack(">QH", a["offset"], a["heartbeat_interval"])
    elif c.kind in ("keepalive", "cumulative_ack", "retransmit_failed"):
        out += struct.pack(">Q", a["seq"])
    elif c.kind == "nack":
        out += rawpeer.varbyte(len(a["seqs"]))
        out += b"".join(struct.pack(">Q", s) for s in a["seqs"])
    elif c.kind == "ack_clone":
        out += struct.pack(">QH", a["offset"], a["heartbeat_interval"])
        out += rawpeer.varbyte(len(a["state"]))
        out += b"".join(k + v for k, v in a["state"])
    return out


def entities_of(c: Command):
    """(path, entity) for every entity in a command."""
    yield "sender", c.sender
    yield "receiver", c.receiver
    for k in ("who", "publisher"):
        if k in c.args:
            yield k, c.args[k]


def with_entities(c: Command, fn) -> Command:
    args = dict(c.args)
    for k in ("who", "publisher"):
        if k in args:
            args[k] = fn(args[k])
    return Command(c.seq, fn(c.sender), fn(c.receiver), c.kind, args)


# -- the capture ---------------------------------------------------------------------


@dataclasses.dataclass
class Frame:
    """One phase-3 frame of the capture."""

    index: int
    step: int
    direction: str  # "A->B" / "B->A"
    env: dict  # rawpeer.parse_envelope
    cmd: Command | None  # command frames only
    filter: list | None  # routing updates only


def capture_frames() -> list[Frame]:
    out = []
    for i, f in enumerate(load_golden(GOLDEN)["frames"]):
        m = f["meaning"]
        if not (m.startswith("command ") or m.startswith("routing_update")):
            continue
        payload = bytes.fromhex(f["hex"])[4:]
        env = rawpeer.parse_envelope(payload)
        cmd = filt = None
        if env["type"] == rawpeer.COMMAND:
            cmd = decode_command(env["payload"])
        else:
            assert env["type"] == rawpeer.ROUTING_UPDATE
            filt = rawpeer.decode_filter(env["payload"])
        out.append(Frame(i, f["step"], f["dir"], env, cmd, filt))
    return out


def capture_ids() -> tuple[bytes, bytes]:
    eps = load_golden(GOLDEN)["endpoints"]
    return bytes.fromhex(eps["A"]["id_hex"]), bytes.fromhex(eps["B"]["id_hex"])


def observations() -> dict[int, list[tuple[str, str, list]]]:
    """step -> [(side, label, [(key, expected python value)])] for the
    "clone: ..." / "master: ..." store observations."""
    out: dict = {}
    for o in load_golden(GOLDEN)["observations"]:
        text = o["text"]
        label, sep, rest = text.partition(": ")
        side = label.split()[0]
        if not sep or side not in ("clone", "master"):
            continue
        out.setdefault(o["step"], []).append((side, label, parse_assignments(rest)))
    return out


def call_results() -> dict[int, bool]:
    return {
        o["step"]: o["text"] == "call returned True"
        for o in load_golden(GOLDEN)["observations"]
        if o["text"].startswith("call returned ")
    }


def parse_assignments(text: str) -> list:
    """`k=v, k2=v2` with Python-literal values (plus Count(n)), splitting
    only at top-level commas."""
    parts, depth, quote, cur = [], 0, None, ""
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        cur += ch
    parts.append(cur)
    result = []
    for p in parts:
        key, _, value = p.strip().partition("=")
        result.append((key, eval(value, {"Count": Count})))  # noqa: S307 (test data)
    return result


class Model:
    """The store contents implied by the master's broadcasts of the capture
    (what the real clone held)."""

    def __init__(self):
        self.state: dict = {}
        self.ready = False  # known from the snapshot on

    def apply(self, c: Command) -> None:
        if c.kind == "ack_clone":
            self.ready = True
            self.state = {to_python(k): to_python(v) for k, v in c.args["state"]}
        elif c.kind == "put":
            self.state[to_python(c.args["key"])] = to_python(c.args["value"])
        elif c.kind in ("erase", "expire"):
            self.state.pop(to_python(c.args["key"]), None)
        elif c.kind == "clear":
            self.state.clear()


# -- replay engine --------------------------------------------------------------------


class Replay:
    """Plays one side of the capture over a RawPeer against our endpoint,
    which plays the other side ("impl")."""

    def __init__(self, peer: RawPeer, impl_side: str, impl_id: bytes):
        self.peer = peer
        self.impl_side = impl_side
        self.raw_side = "B" if impl_side == "A" else "A"
        self.impl_dir = f"{impl_side}->{self.raw_side}"
        self.impl_id = impl_id
        a_id, b_id = capture_ids()
        self.capture_id = {"A": a_id, "B": b_id}
        # Capture endpoint id -> ours.
        self.id_map = {
            self.capture_id[impl_side]: impl_id,
            self.capture_id[self.raw_side]: RAW_ID,
            rawpeer.NIL_ID: rawpeer.NIL_ID,
        }
        # Capture entity -> ours: the raw side keeps its object ids, the
        # implementation's are learned (a bijection) from its frames.
        self.entities: dict = {NIL_ENTITY: NIL_ENTITY}
        self.periodic: list = []  # keepalive/cumulative_ack seen from impl
        # Consistency state for periodic frames.
        self.impl_last_action = None  # last action seq the impl produced
        self.raw_last_action = None  # last action seq we sent
        self.impl_entity = None  # the impl's store actor entity
        self.awaiting: list = []  # what expect() waits for
        self.answered = 0  # frames matched by expect()
        self.attached = False  # a clone's attach handshake is complete

    # entities

    def ours(self, e: tuple) -> tuple:
        """A capture entity in our network (sending side)."""
        if e in self.entities:
            return self.entities[e]
        ep, obj = e
        assert ep == self.capture_id[self.raw_side], f"unknown impl entity {e}"
        mapped = (RAW_ID, obj)
        self.entities[e] = mapped
        return mapped

    def bind(self, capture: tuple, got: tuple, where: str) -> None:
        """Checks (and learns) that `got` plays the role of `capture`."""
        if capture[0] == self.capture_id[self.raw_side] or capture == NIL_ENTITY:
            assert got == self.ours(capture), f"{where}: {got} for {capture}"
            return
        assert got[0] == self.id_map[capture[0]], f"{where}: endpoint of {got}"
        if capture in self.entities:
            assert self.entities[capture] == got, f"{where}: {got} for {capture}"
        else:
            assert got not in self.entities.values(), f"{where}: {got} reused"
            self.entities[capture] = got

    # sending

    def send(self, f: Frame) -> None:
        receiver = self.id_map[f.env["receiver"]]
        if f.cmd is not None:
            cmd = with_entities(f.cmd, self.ours)
            payload = encode_command(cmd)
            if cmd.kind in ACTIONS or cmd.kind == "ack_clone":
                self.raw_last_action = cmd.seq
            elif cmd.kind == "attach_writer":
                self.raw_last_action = cmd.args["offset"]
        else:
            payload = f.env["payload"]
        self.peer.send_frame(
            rawpeer.envelope(RAW_ID, receiver, f.env["type"], f.env["topic"], payload)
        )

    # receiving

    def _read_one(self, timeout: float):
        env = self.peer.recv_envelope(timeout)
        assert env["sender"] == self.impl_id, env
        if env["type"] == rawpeer.ROUTING_UPDATE:
            assert env["receiver"] == RAW_ID and env["topic"] == "<$>"
            return env, rawpeer.decode_filter(env["payload"])
        assert env["type"] == rawpeer.COMMAND, env
        cmd = decode_command(env["payload"])
        if cmd.kind in ("keepalive", "cumulative_ack") and not self._wanted(cmd):
            self.check_periodic(env, cmd)
            return None
        return env, cmd

    def _wanted(self, cmd: Command) -> bool:
        """Whether an awaited frame is this control message."""
        return any(
            isinstance(c, Command) and c.kind == cmd.kind for c in self.awaiting
        )

    def check_periodic(self, env: dict, cmd: Command) -> None:
        """A keepalive or cumulative_ack at an arbitrary moment."""
        self.periodic.append(cmd)
        assert cmd.seq == 0, cmd
        if self.impl_entity is not None:
            assert cmd.sender == self.impl_entity, cmd
        if cmd.kind == "keepalive":
            # Producer heartbeat: routed by topic, nil receiver, last seq.
            assert env["receiver"] == rawpeer.NIL_ID, cmd
            assert cmd.receiver == NIL_ENTITY, cmd
            if self.impl_last_action is not None:
                assert cmd.args["seq"] == self.impl_last_action, (
                    f"{cmd}: last action was {self.impl_last_action}"
                )
        else:
            # Consumer ack: sent to us directly, never beyond what we sent.
            assert env["receiver"] == RAW_ID, cmd
            assert cmd.receiver == self.ours(self.raw_entity), cmd
            assert self.raw_last_action is not None, cmd
            assert cmd.args["seq"] <= self.raw_last_action, cmd

    @property
    def raw_entity(self) -> tuple:
        return (self.capture_id[self.raw_side], 9)

    def expect(self, f: Frame) -> Command | list:
        """Waits for the implementation's counterpart of capture frame `f`
        and checks it. Returns what arrived."""
        self.awaiting = [f.cmd if f.cmd is not None else f.filter]
        deadline = time.monotonic() + TIMEOUT
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"no answer within {TIMEOUT}s to capture frame {f.index} "
                        f"(step {f.step}): {f.cmd or f.filter}"
                    )
                got = self._read_one(left)
                if got is None:
                    continue
                env, x = got
                if (
                    isinstance(x, Command)
                    and x.kind == "nack"
                    and x.args["seqs"] == [0]
                    and f.cmd is not None
                    and f.cmd.kind != "nack"
                    and self.impl_side == "B"
                    and not self.attached
                ):
                    continue  # the clone's resync timer re-asked meanwhile
                break
        finally:
            self.awaiting = []
        where = f"capture frame {f.index} (step {f.step})"
        if f.filter is not None:
            assert isinstance(x, list), f"{where}: expected a routing update, got {x}"
            assert x == f.filter, where
            self.answered += 1
            return x
        assert isinstance(x, Command), f"{where}: expected {f.cmd}, got routing update {x}"
        self.compare(f, env, x, where)
        self.answered += 1
        return x

    def compare(self, f: Frame, env: dict, got: Command, where: str) -> None:
        want = f.cmd
        assert got.kind == want.kind, f"{where}: expected {want}, got {got}"
        assert got.seq == want.seq, f"{where}: expected {want}, got {got}"
        # Envelope: direct (receiver set) exactly when the capture's was.
        want_rcv = self.id_map[f.env["receiver"]]
        assert env["receiver"] == want_rcv, f"{where}: envelope receiver"
        assert env["topic"] == f.env["topic"], f"{where}: topic"
        for (path, w), (_, g) in zip(entities_of(want), entities_of(got)):
            self.bind(w, g, f"{where} {path}")
        if self.impl_entity is None:
            self.impl_entity = got.sender
        assert got.sender == self.impl_entity, f"{where}: sender"
        wa, ga = dict(want.args), dict(got.args)
        for k in ("who", "publisher"):
            wa.pop(k, None)
            ga.pop(k, None)
        if want.kind == "ack_clone":
            # The snapshot is an unordered map: compare contents only.
            ws, gs = wa.pop("state"), ga.pop("state")
            assert len(gs) == len(set(k for k, _ in gs)), f"{where}: duplicate keys"
            assert dict(gs) == dict(ws), (
                f"{where}: snapshot {[(to_python(k), to_python(v)) for k, v in gs]}"
            )
        assert ga == wa, f"{where}: expected {want}, got {got}"
        if got.kind in ACTIONS or got.kind == "ack_clone":
            self.impl_last_action = got.seq
        elif got.kind == "attach_writer":
            # A clone's writer channel starts at its offset.
            self.impl_last_action = got.args["offset"]
            self.attached = True

    def drain(self, duration: float) -> list:
        """Reads for `duration` seconds; returns the non-periodic frames."""
        extra = []
        deadline = time.monotonic() + duration
        while (left := deadline - time.monotonic()) > 0:
            try:
                got = self._read_one(left)
            except TimeoutError:
                break
            if got is not None:
                extra.append(got[1])
        return extra

    def run(self, frames: list[Frame], steps: range, actions: dict, checks) -> None:
        """Replays `steps`: the implementation side's API calls of a step
        first (`actions[step]`), then the capture's frames in order, sending
        ours and awaiting theirs. `checks(step, when)` runs with when =
        "before_expire" (before an expire frame) and "end"."""
        for step in steps:
            step_frames = [f for f in frames if f.step == step]
            if step in actions:
                actions[step]()
            for f in step_frames:
                if f.cmd is not None and f.cmd.kind == "expire":
                    checks(step, "before_expire")
                if f.direction == self.impl_dir:
                    if self.awaited(f, step_frames):
                        self.expect(f)
                else:
                    self.send(f)
            checks(step, "end")

    def awaited(self, f: Frame, step_frames: list[Frame]) -> bool:
        """Which of the implementation's frames are answers (matched one to
        one) rather than periodic traffic."""
        if f.cmd is None or f.cmd.kind not in ("keepalive", "cumulative_ack"):
            return True
        if f.cmd.kind == "keepalive":
            return False
        # The cumulative_ack answering ack_clone (clone) or attach_writer
        # (master) is part of the attach handshake.
        prev = [g for g in step_frames if g.index < f.index and g.cmd is not None]
        return bool(prev) and prev[-1].cmd.kind in ("ack_clone", "attach_writer")


def connect(ep, topics: list[str]) -> RawPeer:
    port = ep.listen("127.0.0.1", 0)
    assert port > 0
    peer = RawPeer(port, timeout=TIMEOUT)
    theirs = peer.handshake_as_responder(RAW_ID, rawpeer.id_bytes(ep.node_id()), topics)
    assert theirs == []  # nothing attached yet
    return peer


def errors_of(status) -> list:
    return [e for e in status.poll() if isinstance(e, broker.Error)]


# -- tests ---------------------------------------------------------------------------


def test_codec_round_trips_every_command_of_the_capture():
    frames = [f for f in capture_frames() if f.cmd is not None]
    assert len(frames) > 300
    for f in frames:
        assert encode_command(f.cmd) == f.env["payload"], f.index
    kinds = {f.cmd.kind for f in frames}
    assert kinds == set(KINDS) - {"retransmit_failed"}


def check_contents(store, expected: list, label: str) -> None:
    def ok():
        return all(store.get(k) == v for k, v in expected)

    if not wait_until(ok, TIMEOUT):
        got = [(k, store.get(k)) for k, _ in expected]
        raise AssertionError(f"{label}: expected {expected}, got {got}")


def check_model(store, model: Model, label: str) -> None:
    def ok():
        return store.keys() == set(model.state) and all(
            store.get(k) == v for k, v in model.state.items()
        )

    if not wait_until(ok, TIMEOUT):
        got = {k: store.get(k) for k in store.keys()}
        raise AssertionError(f"{label}: expected {model.state}, got {got}")


# Step 4 observes the short-lived key before it expires (the expire frame
# comes later in the same step); other steps observe at their end.
OBSERVE_BEFORE_EXPIRE = {4}


def make_checks(side: str, store, model_frames: list[Frame], frames_seen: Model):
    obs = observations()

    def checks(step: int, when: str) -> None:
        for o_side, label, expected in obs.get(step, []):
            if o_side != side:
                continue
            after_expiry = "after expiry" in label
            if step in OBSERVE_BEFORE_EXPIRE:
                due = "end" if after_expiry else "before_expire"
            else:
                due = "end"
            if when == due:
                check_contents(store, expected, f"step {step} {label}")
        if when == "end":
            for f in model_frames:
                if f.step == step:
                    frames_seen.apply(f.cmd)
            if frames_seen.ready:
                check_model(store, frames_seen, f"step {step} contents")

    return checks


@pytest.mark.parametrize("events", [False, True], ids=["plain", "with-store-events"])
def test_our_master_answers_the_clone_side(events):
    """`events`: a local subscriber to store events exists, which must not
    change what goes on the wire."""
    frames = capture_frames()
    results = call_results()
    master_frames = [
        f for f in frames
        if f.direction == "A->B" and f.cmd is not None
        and (f.cmd.kind in ACTIONS or f.cmd.kind == "ack_clone")
    ]
    with broker.Endpoint(plain_config()) as ep:  # the raw peer speaks plain TCP
        status = ep.make_status_subscriber(True)
        if events:
            store_events = ep.make_subscriber("<$>/local/data/store-events", qsize=1000)
        peer = connect(ep, [CLONE_TOPIC])
        try:
            store = {}

            def attach_and_fill():
                m = ep.attach_master(STORE, broker.Backend.Memory)
                store["m"] = m
                m.put("init", "hello")
                m.put("k-cnt", Count(10))
                m.put("k-str", "abc")
                m.put("k-set", {1, 2})
                m.put("k-tbl", {"a": 1})
                m.put("k-vec", [1, 2])

            def m():
                return store["m"]

            def unique(step, key, value):
                def run():
                    assert m().put_unique(key, value) is results[step]
                return run

            actions = {
                1: attach_and_fill,
                3: lambda: m().put("k-put", "v1"),
                4: lambda: m().put("k-exp", "short-lived", expiry=1.0),
                5: lambda: m().erase("k-put"),
                6: lambda: m().increment("k-cnt", Count(5)),
                7: lambda: m().increment("k-new-cnt", Count(3)),
                8: lambda: m().decrement("k-cnt", Count(2)),
                9: lambda: m().append("k-str", "def"),
                10: lambda: m().insert_into("k-set", 3),
                11: lambda: m().insert_into("k-tbl", "b", 2),
                12: lambda: m().remove_from("k-set", 1),
                13: lambda: m().remove_from("k-tbl", "a"),
                14: lambda: m().push("k-vec", 3),
                15: lambda: m().pop("k-vec"),
                16: unique(16, "k-uniq-m", "x"),
                17: unique(17, "k-uniq-m", "y"),
                33: lambda: m().put("k-last", "before master clear"),
                34: lambda: m().clear(),
            }
            replay = Replay(peer, "A", rawpeer.id_bytes(ep.node_id()))
            model = Model()

            class Lazy:  # the master exists only after step 1
                def get(self, k):
                    return m().get(k)

                def keys(self):
                    return m().keys()

            checks = make_checks("master", Lazy(), master_frames, model)
            replay.run(frames, range(1, 36), actions, checks)

            # Step 35 (idle): only heartbeats, with the final numbers.
            n = len(replay.periodic)
            assert replay.drain(1.5) == []
            idle = replay.periodic[n:]
            assert {(c.kind, c.args["seq"]) for c in idle} == {
                ("keepalive", 37), ("cumulative_ack", 16)
            }, [str(c) for c in idle]
            # Every answer the real master gave, ours gave (frame by frame
            # above); in total the same number of actions.
            assert replay.impl_last_action == 37
            # routing update, ack_clone, cumulative_ack(1), 36 actions
            assert replay.answered == 39
            if events:
                assert store_events.poll(), "no store events delivered"
            assert errors_of(status) == []
        finally:
            peer.close()


def test_our_clone_answers_the_master_side():
    frames = capture_frames()
    results = call_results()
    master_frames = [
        f for f in frames
        if f.direction == "A->B" and f.cmd is not None
        and (f.cmd.kind in ACTIONS or f.cmd.kind == "ack_clone")
    ]
    with broker.Endpoint(plain_config()) as ep:  # the raw peer speaks plain TCP
        status = ep.make_status_subscriber(True)
        peer = connect(ep, [MASTER_TOPIC])
        try:
            store = {}
            pending = {}

            def c():
                return store["c"]

            def attach():
                store["c"] = ep.attach_clone(STORE)

            def unique(step, key, value):
                # put_unique blocks until the master's result: run it aside
                # while the replay feeds the master's answer.
                def run():
                    out = {}
                    t = threading.Thread(
                        target=lambda: out.setdefault("r", c().put_unique(key, value)),
                        daemon=True,
                    )
                    t.start()
                    pending[step] = (t, out)
                return run

            actions = {
                2: attach,
                18: unique(18, "k-uniq-c", "first"),
                19: unique(19, "k-uniq-c", "second"),
                20: lambda: c().put("k-from-clone", "via clone"),
                21: lambda: c().erase("init"),
                22: lambda: c().increment("k-cnt", Count(100)),
                23: lambda: c().decrement("k-cnt", Count(13)),
                24: lambda: c().append("k-str", "ghi"),
                25: lambda: c().insert_into("k-set", 4),
                26: lambda: c().insert_into("k-tbl", "c", 3),
                27: lambda: c().remove_from("k-set", 2),
                28: lambda: c().remove_from("k-tbl", "b"),
                29: lambda: c().push("k-vec", 9),
                30: lambda: c().pop("k-vec"),
                31: lambda: c().put("k-exp-c", "clone expiring", expiry=0.5),
                32: lambda: c().clear(),
            }
            replay = Replay(peer, "B", rawpeer.id_bytes(ep.node_id()))
            model = Model()

            class Lazy:  # the clone exists only from step 2 on
                def get(self, k):
                    return c().get(k)

                def keys(self):
                    return c().keys()

            base_checks = make_checks("clone", Lazy(), master_frames, model)

            def checks(step, when):
                if step < 2:
                    return
                base_checks(step, when)
                if when == "end" and step in pending:
                    t, out = pending.pop(step)
                    t.join(TIMEOUT)
                    assert not t.is_alive(), f"step {step}: put_unique hangs"
                    assert out["r"] is results[step], f"step {step}"

            replay.run(frames, range(1, 36), actions, checks)

            # Step 35 (idle): the clone acknowledges everything (37) and its
            # writer channel reports its last action (16).
            n = len(replay.periodic)
            assert replay.drain(1.5) == []
            idle = replay.periodic[n:]
            assert {(x.kind, x.args["seq"]) for x in idle} == {
                ("keepalive", 16), ("cumulative_ack", 37)
            }, [str(x) for x in idle]
            assert replay.impl_last_action == 16
            # routing update, nack([0]), cumulative_ack(1), attach_writer,
            # 15 writes
            assert replay.answered == 19
            assert errors_of(status) == []
        finally:
            peer.close()
