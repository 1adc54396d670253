#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets from the golden captures.

    make_seeds.py OUTDIR

creates OUTDIR/bin (value payloads of the data messages in
tests/golden/data-values.json, plus a few hand-made non-canonical encodings)
and OUTDIR/json (the text frames of tests/golden/websocket-*.json that carry a
value, whole and reduced to the bare value object), OUTDIR/wsapi (JSON API
messages behind a selector byte) and OUTDIR/wsframe (client WebSocket byte
streams). Existing files in these folders are replaced; nothing else is touched. Seeds are generated rather
than committed so that the repository holds no binary blobs.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
import struct
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"

# Envelope of a data message after the 4-byte frame length (wire-protocol.md):
# sender (16), receiver (16), message type (1), ttl (2), topic length (2).
ENVELOPE = 16 + 16 + 1 + 2 + 2
DATA_MESSAGE_TYPE = 0x01


def value_payloads() -> list[tuple[str, bytes]]:
    doc = json.loads((GOLDEN / "data-values.json").read_text())
    result = []
    for frame in doc["frames"]:
        raw = bytes.fromhex(frame["hex"])
        body = raw[4:]
        if len(body) < ENVELOPE or body[32] != DATA_MESSAGE_TYPE:
            continue
        (frame_len,) = struct.unpack(">I", raw[:4])
        assert frame_len == len(body), frame["meaning"]
        (topic_len,) = struct.unpack(">H", body[35:37])
        topic = body[ENVELOPE : ENVELOPE + topic_len].decode()
        result.append((topic.rsplit("/", 1)[-1], body[ENVELOPE + topic_len :]))
    return result


def be64(x: int) -> bytes:
    return struct.pack(">Q", x & 0xFFFFFFFFFFFFFFFF)


def count(x: int) -> bytes:
    return b"\x02" + be64(x)


def real_bits(bits: int) -> bytes:
    return b"\x04" + be64(bits)


def handmade() -> list[tuple[str, bytes]]:
    """Valid inputs that do not re-encode byte for byte, and edge cases."""
    v4 = bytes(10) + b"\xff\xff"
    return [
        ("set-unsorted", b"\x0c\x03" + count(3) + count(1) + count(2)),
        ("set-duplicates", b"\x0c\x02" + count(1) + count(1)),
        ("set-zero-and-minus-zero", b"\x0c\x02" + real_bits(0) + real_bits(1 << 63)),
        ("table-repeated-key", b"\x0d\x02" + b"\x05\x01a" + count(1) + b"\x05\x01a" + count(2)),
        ("string-overlong-varbyte", b"\x05\x81\x00a"),
        ("vector-overlong-size", b"\x0e\x80\x80\x00"),
        ("real-nan-quiet", real_bits(0x7FF8000000000000)),
        ("real-canonical-nan", real_bits(0xFFFFFFFFFFFFFFFF)),
        ("real-exp-zero", real_bits(0x0000000000000001)),
        ("real-exp-max", real_bits(0x7FF0000000000001)),
        ("real-min-subnormal", b"\x0e\x02" + real_bits(0x0010000000000000) + real_bits(0x8000000000000001)),
        ("subnet-host-bits", b"\x07" + v4 + b"\xc0\x00\x02\x4d" + bytes([120])),
        ("port-max", b"\x08\xff\xff\x03"),
        ("deep-vector", b"\x0e\x01" * 99 + b"\x00"),
        ("too-deep-vector", b"\x0e\x01" * 101 + b"\x00"),
        ("bool-invalid", b"\x01\x02"),
        ("trailing-byte", b"\x00\x00"),
    ]


def json_frames() -> list[tuple[str, str]]:
    result = []
    for name in ("websocket-server-output.json", "websocket-client-input.json"):
        doc = json.loads((GOLDEN / name).read_text())
        for frame in doc["frames"]:
            text = frame.get("text")
            if frame.get("opcode") != "text" or text is None or "@data-type" not in text:
                continue
            topic = frame.get("meaning", "")
            result.append((topic, text))
            # The bare value object, as Data.from_json() takes it.
            try:
                obj = json.loads(text)
            except ValueError:
                continue  # NaN tokens etc.: keep the frame only
            if isinstance(obj, dict) and "@data-type" in obj:
                bare = {k: obj[k] for k in ("@data-type", "data") if k in obj}
                result.append((topic + " bare", json.dumps(bare, separators=(",", ":"), ensure_ascii=False)))
    return result


def ws_api_messages() -> list[tuple[str, bytes]]:
    """fuzz_wsapi_decoder inputs: a selector byte (0 subscription, 1 client
    data message, 2 server message) plus the text."""
    subs = ['[]', '[""]', '["a","a/b"]', '{"topics":["a"]}', '["a",1]', '["<$>/local"]']
    result = [("sub", b"\x00" + s.encode()) for s in subs]
    for topic, text in json_frames():
        result.append((topic, b"\x01" + text.encode()))
        result.append((topic, b"\x02" + text.encode()))
    for text in ('{"type":"ack","endpoint":"e","version":"1"}',
                 '{"type":"error","code":"invalid_uri","message":"m"}'):
        result.append(("server", b"\x02" + text.encode()))
    return result


def ws_frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    """A masked client frame (RFC 6455 §5.2), mask 0 for readability."""
    n = len(payload)
    head = bytes([(0x80 if fin else 0) | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    return head + b"\0\0\0\0" + payload


def ws_frames() -> list[tuple[str, bytes]]:
    """fuzz_wsframe_decoder inputs: client byte streams after the upgrade."""
    text = [t.encode() for _, t in json_frames()[:8]]
    return [
        ("text", ws_frame(1, b'["a"]') + b"".join(ws_frame(1, t) for t in text)),
        ("fragmented", ws_frame(1, b'["a', fin=False) + ws_frame(0, b'"]')),
        ("ping", ws_frame(9, b"abc") + ws_frame(1, b"[]")),
        ("binary", ws_frame(2, b'["a"]')),
        ("close", ws_frame(1, b"[]") + ws_frame(8, struct.pack(">H", 1000) + b"bye")),
        ("big", ws_frame(1, b"x" * 70000)),
    ]


def write(folder: pathlib.Path, items: list[tuple[str, bytes]]) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        if old.is_file():
            old.unlink()
    names = set()
    for _, payload in items:
        # Content-addressed, as libFuzzer names corpus files.
        name = hashlib.sha1(payload).hexdigest()
        names.add(name)
        (folder / name).write_bytes(payload)
    return len(names)


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    out = pathlib.Path(sys.argv[1])
    n_bin = write(out / "bin", value_payloads() + handmade())
    n_json = write(out / "json", [(t, s.encode()) for t, s in json_frames()])
    n_api = write(out / "wsapi", ws_api_messages())
    n_frame = write(out / "wsframe", ws_frames())
    print(f"seeds: {n_bin} binary in {out / 'bin'}, {n_json} JSON in {out / 'json'}, "
          f"{n_api} in {out / 'wsapi'}, {n_frame} in {out / 'wsframe'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
