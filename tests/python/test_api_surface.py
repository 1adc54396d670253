"""Every public name of real Broker's Python API exists in ours.

data/python-api-surface.md lists real Broker's surface, measured from its
own bindings (2.8, plus the names only 1.4 had). This test reads that file
and walks every name it lists: module attributes, class attributes and
nested classes, so a name we lose fails here. Where the listed kind says
more than "exists" (a class, a module, an enum member, a method, a
property, an unhashable None), ours must be of that kind too.
"""

from __future__ import annotations

import inspect
import pathlib
import re
import subprocess
import sys
import types

import pytest

import broker

SURFACE = pathlib.Path(__file__).resolve().parent / "data" / "python-api-surface.md"

_SECTION = re.compile(r"^## `(broker(?:\.\w+)*)`\s*$")
_ROW = re.compile(r"^\| `([^`]+)` \| (.*?) \|\s*$")
_OLD_NAME = re.compile(r"^- `(broker(?:\.\w+)+)`")


def _parse():
    """(section, name, kind) rows, and the dotted names of the 1.4 list."""
    rows, old_names, sections = [], [], set()
    section = None
    for line in SURFACE.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            m = _SECTION.match(line)
            section = m[1] if m else None
            if section:
                sections.add(section)
            continue
        m = _ROW.match(line)
        if m and section:
            rows.append((section, m[1], m[2].replace(" **missing**", "").strip()))
            continue
        m = _OLD_NAME.match(line)
        if m:
            old_names.append(m[1])
    return rows, old_names, sections


ROWS, OLD_NAMES, SECTIONS = _parse()

# Deliberate differences of kind, each explained in
# docs/decisions/0006-drop-in-names.md.
DEVIATIONS = {
    ("broker.Table", "__hash__"): "tables compare by value, so they are unhashable "
    "(real Broker's compare by identity, an accident of its bindings)",
}


def resolve(path: str):
    obj = broker
    for part in path.split(".")[1:]:
        obj = getattr(obj, part)
    return obj


def _class_named(section_obj, name: str):
    """The class a kind names: the section's own class, one nested in it, or
    a broker class (e.g. the MetadataType values are broker.Count)."""
    if inspect.isclass(section_obj) and section_obj.__name__ == name:
        return section_obj
    nested = getattr(section_obj, name, None)
    if inspect.isclass(nested):
        return nested
    return getattr(broker, name)


_CALLABLE_KINDS = {
    "function",
    "instancemethod",
    "builtin_function_or_method",
    "method_descriptor",
    "wrapper_descriptor",
}


def test_the_surface_file_was_read():
    # A parser that finds nothing would make every test below vacuous.
    assert len(SECTIONS) >= 45
    assert len(ROWS) >= 590
    assert {s for s, _, _ in ROWS} == SECTIONS
    assert OLD_NAMES == ["broker.bro", "broker.Backend.RocksDB"]
    assert ("broker.Data.Type", "None", "Type") in ROWS


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_section_exists(section):
    resolve(section)


@pytest.mark.parametrize(
    "section, name, kind", ROWS, ids=[f"{s}.{n}" for s, n, _ in ROWS]
)
def test_name_exists_with_its_kind(section, name, kind):
    owner = resolve(section)
    assert hasattr(owner, name), f"{section}.{name} is missing"
    value = getattr(owner, name)
    word = kind.split()[0]
    if (section, name) in DEVIATIONS:
        return
    if word in ("pybind11_type", "type"):
        assert inspect.isclass(value), f"{section}.{name} is not a class"
    elif word == "module":
        assert isinstance(value, types.ModuleType)
    elif word == "NoneType":
        assert value is None, f"{section}.{name} should be None (unhashable)"
    elif word == "int":
        assert isinstance(value, int) and not isinstance(value, bool)
    elif word == "property":
        static = inspect.getattr_static(owner, name)
        assert inspect.isdatadescriptor(static), f"{section}.{name} is not a property"
    elif word in _CALLABLE_KINDS:
        assert callable(value), f"{section}.{name} is not callable"
    else:  # an enum member or constant of the class the kind names
        cls = _class_named(owner, word)
        assert isinstance(value, cls), f"{section}.{name} is not a {word}"


@pytest.mark.parametrize("path", OLD_NAMES)
def test_broker_1_4_names_exist(path):
    resolve(path)


def test_deviations_name_listed_rows():
    listed = {(s, n) for s, n, _ in ROWS}
    assert set(DEVIATIONS) <= listed


# -- the type stub of the extension ------------------------------------------------


def _stub_names(body, prefix=""):
    import ast

    for node in body:
        if isinstance(node, ast.ClassDef):
            yield prefix + node.name
            yield from _stub_names(node.body, prefix + node.name + ".")
        elif isinstance(node, ast.FunctionDef):
            yield prefix + node.name
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            yield prefix + node.target.id


def test_the_type_stub_names_only_what_the_extension_has():
    import ast

    stub = pathlib.Path(broker.__file__).with_name("_broker.pyi")
    names = set(_stub_names(ast.parse(stub.read_text(encoding="utf-8")).body))
    names.discard("__all__")  # the stub's export list, not an attribute
    assert "Data.as_vector" in names and "EndpointInfo.node_id" in names
    missing = []
    for dotted in sorted(names):
        obj = broker._broker
        try:
            for part in dotted.split("."):
                obj = getattr(obj, part)
        except AttributeError:
            missing.append(dotted)
    assert missing == []


def test_the_type_stub_is_generated_from_the_extension():
    # scripts/gen-stubs regenerates broker/_broker.pyi from the installed
    # extension; a binding changed without regenerating it fails here.
    root = pathlib.Path(__file__).resolve().parents[2]
    run = subprocess.run(
        [sys.executable, str(root / "scripts" / "gen-stubs"), "--check"],
        capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
