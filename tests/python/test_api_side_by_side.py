"""The same expressions, evaluated with real Broker 2.8 and with ours, give
the same results (names, values, reprs of the API surface).

Real Broker runs in a child process (two ``broker`` modules cannot share an
interpreter) through the reference launcher: ``$REAL_BROKER``, else
``../shared/reference/real-broker`` next to the repository. Skipped, saying
why, when it is absent. Only expressions both implementations define are
here; where ours deliberately differs (docs/decisions/0006-drop-in-names.md)
the other test files check ours alone.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
REAL_BROKER = pathlib.Path(
    os.environ.get("REAL_BROKER", REPO.parent / "shared" / "reference" / "real-broker")
)

A4 = "broker.Address(b'\\x0a\\x01\\x02\\x03', 4)"

EXPRESSIONS = [
    # Topic joins
    "str(broker.Topic('/a/') / broker.Topic('/b/c'))",
    "str(broker.Topic('a/') / broker.Topic('b'))",
    "str(broker.Topic('a') / broker.Topic('/b'))",
    "str(broker.Topic('') / broker.Topic('b'))",
    "str(broker.Topic('a') / broker.Topic(''))",
    "str(broker.Topic('/') / broker.Topic('/'))",
    # Reals print as %f
    "str(broker.Data(1e18))",
    "str(broker.Data(1.5))",
    "str(broker.Data(-0.0))",
    "str(broker.Data(1e-7))",
    "str(broker.Data(float('inf')))",
    "str(broker.Data(1e300))",
    # Ports
    "str(broker.Port(80, broker.Port.TCP).get_type())",
    "repr(broker.Port(80, broker.Port.TCP).get_type())",
    "(broker.Port.Protocol.UDP.name, broker.Port.Protocol.UDP.value)",
    "str(broker.Port(53, broker.Port.UDP))",
    # Addresses and subnets
    f"str({A4})",
    f"{A4}.bytes()",
    f"({A4}.is_v4(), {A4}.is_v6())",
    f"(lambda a: (a.mask(104), str(a)))({A4})",
    f"(lambda a: (a.mask(8), str(a)))({A4})",
    f"(lambda a: (a.mask(129), str(a)))({A4})",
    "str(broker.Address(bytes.fromhex('20010db8000000000000000000000001'), 6))",
    "str(broker.Address())",
    f"{A4} == broker.Address(b'\\x0a\\x01\\x02\\x03', 4)",
    f"{A4} < broker.Address(b'\\x0a\\x01\\x02\\x04', 4)",
    f"str(broker.Subnet({A4}, 8))",
    f"broker.Subnet({A4}, 8).length()",
    f"str(broker.Subnet({A4}, 8).network())",
    f"broker.Subnet({A4}, 8).contains(broker.Address(b'\\x0a\\x09\\x09\\x09', 4))",
    f"broker.Subnet({A4}, 8).contains(broker.Address(b'\\x0b\\x09\\x09\\x09', 4))",
    "str(broker.Subnet())",
    f"str(broker.Data(broker.Subnet({A4}, 8)))",
    # Containers
    "repr(broker.Data({1, 2}).as_set())",
    "repr(broker.Data({1: 'a', 0: 'b'}).as_table())",
    "repr(broker.Data([1, 'x']).as_vector())",
    "[str(x) for x in broker.Vector([broker.Data(1), broker.Data('x')])]",
    "[str(x) for x in broker.Set([broker.Data(2), broker.Data(1), broker.Data('a')])]",
    "len(broker.Set([broker.Data(1), broker.Data(1)]))",
    "broker.Data.to_py(broker.Data(broker.Set([broker.Data(1)])))",
    "broker.Data.to_py(broker.Data(broker.Vector([broker.Data(1), broker.Data('x')])))",
    "(lambda v: (v.pop().as_integer(), len(v)))(broker.Vector([broker.Data(1), broker.Data(2)]))",
    "broker.Vector([broker.Data(1), broker.Data(1)]).count(broker.Data(1))",
    "(lambda t: (t.__setitem__(broker.Data(1), broker.Data('a')), str(t[broker.Data(1)])))"
    "(broker.Table())",
    # Data accessors
    "broker.Data('str').as_string()",
    "broker.Data(broker.Count(3)).as_count()",
    "broker.Data(-5).as_integer()",
    "broker.Data(2.5).as_real()",
    "broker.Data(True).as_boolean()",
    "broker.Data(broker.Timespan(1500)).as_timespan()",
    "broker.Data(broker.Timestamp(1.5)).as_timestamp()",
    "str(broker.Data(broker.Enum('a::B')).as_enum_value())",
    "str(broker.Data(broker.Port(53, broker.Port.UDP)).as_port())",
    f"str(broker.Data({A4}).as_address())",
    "getattr(broker.Data.Type, 'None').name",
    "broker.Data(None).get_type() == getattr(broker.Data.Type, 'None')",
    # Enums
    "[(n, m.value) for n, m in broker.APIFlags.__members__.items()]",
    "[(n, m.value) for n, m in broker.Frontend.__members__.items()]",
    "[(n, m.value) for n, m in broker.Address.Family.__members__.items()]",
    "[(n, m.value) for n, m in broker.Address.ByteOrder.__members__.items()]",
    "str(broker.Frontend.Master)",
    "broker.APIFlags.Blocking == 1",
    "(broker.EC.RequestTimeOut.value, str(broker.EC.RequestTimeOut))",
    "(str(broker.PeerFlags.Remote), repr(broker.PeerFlags.Remote))",
    # Timespans
    "broker.Timespan(10) / broker.Timespan(3)",
    "broker.Timespan(-10) / broker.Timespan(3)",
    "(broker.Timespan(10) / 3).count()",
    "(broker.Timespan(-10) / 3).count()",
    "(broker.Timespan(10) % broker.Timespan(3)).count()",
    "(broker.Timespan(10) + broker.Timespan(3)).count()",
    "(3 * broker.Timespan(10)).count()",
    # Zeek events
    "broker.zeek.Event(broker.Data(1)).valid()",
    "[type(k).__name__ for k, v in "
    "broker.zeek.Event('e', 1, metadata=[(1, broker.Timestamp(1.0))]).metadata()]",
    "type(broker.zeek.MetadataType.NetworkTimestamp).__name__",
    "broker.Data.to_py(broker.zeek.Event('e', 1).as_data())",
    # Keyword names
    "str(broker.Data(x=5))",
    "str(broker.Data.from_py(x=[1, 'a']))",
    # Odds and ends
    "broker.BrokerOptions().disable_forwarding",
    "type(broker.now()).__name__",
    "broker.Version.compatible(broker.Version.PROTOCOL)",
    "broker.Message.__name__",
    "broker.ImmutableData.to_py(broker.Data({1: 2})) == {1: 2}",
    "hash(broker.ImmutableData.to_py(broker.Data({1: 2}))) == hash(frozenset({(1, 2)}))",
]

CHILD = """
import json, sys
import broker
out = []
for expr in json.load(sys.stdin):
    try:
        out.append(repr(eval(expr)))
    except Exception as e:
        out.append("!" + type(e).__name__)
print(json.dumps(out))
"""


def evaluate(command: list[str]) -> list[str]:
    proc = subprocess.run(command + ["-c", CHILD], input=json.dumps(EXPRESSIONS),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def real_results():
    if not REAL_BROKER.exists():
        pytest.skip(f"real Broker's launcher {REAL_BROKER} is absent")
    return evaluate([str(REAL_BROKER), "python"])


@pytest.fixture(scope="module")
def our_results():
    return evaluate([sys.executable])


def test_every_expression_evaluates_in_ours(our_results):
    failed = [(e, r) for e, r in zip(EXPRESSIONS, our_results) if r.startswith("!")]
    assert failed == []


@pytest.mark.parametrize("i", range(len(EXPRESSIONS)), ids=EXPRESSIONS)
def test_same_result_as_real_broker(i, real_results, our_results):
    assert our_results[i] == real_results[i], EXPRESSIONS[i]
