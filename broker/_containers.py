"""Real Broker's container classes: ``Set``, ``Table`` and ``Vector``.

They hold ``broker.Data`` elements (what ``Data.as_set()`` & co. return and
what scripts build values from, e.g. ``Data(Vector([Data(1)]))``); plain
Python values given to them are converted with ``broker.Data(x)``. Sets and
tables keep Broker's order (sorted by ``Data``'s total order).

Each keeps its elements in the slot ``_value`` as a Python set, dict or list
of ``Data``, which the C++ converter reads directly (they are registered as
value holders in broker/__init__.py), so ``Data(container)`` and
``publish(topic, container)`` cost no Python loop.
"""

from __future__ import annotations

import collections.abc as _abc
from typing import Any, Iterable, Iterator

from ._broker import Data


def _data(x: Any) -> Data:
    # Data values are immutable from Python, so they can be shared.
    return x if isinstance(x, Data) else Data(x)


def _text(xs: Iterable) -> str:
    return ", ".join(str(x) for x in xs)


class _Sorted:
    """What Set and Table share: elements (keys) in ``_value``, iterated in
    Broker's order."""

    __slots__ = ()

    def clear(self) -> None:
        self._value.clear()

    def __contains__(self, x: Any) -> bool:
        return _data(x) in self._value

    def __iter__(self) -> Iterator[Data]:
        return iter(sorted(self._value))

    def __len__(self) -> int:
        return len(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


class Set(_Sorted):
    """A mutable set of ``broker.Data``, iterated in Broker's order.

    As in real Broker, ``remove()`` of an absent element does nothing.
    """

    __slots__ = ("_value",)
    __hash__ = None  # mutable

    def __init__(self, elements: Iterable = ()):
        if isinstance(elements, (str, bytes)):
            raise TypeError("Set takes an iterable of elements, not a string")
        self._value = {_data(x) for x in elements}

    def add(self, x: Any) -> None:
        self._value.add(_data(x))

    def remove(self, x: Any) -> None:
        self._value.discard(_data(x))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Set):
            return self._value == other._value
        return NotImplemented

    def __repr__(self) -> str:
        return "Set{" + _text(self) + "}"

    def __reduce__(self):
        return (Set, (list(self),))


class Table(_Sorted, _abc.MutableMapping):
    """A mutable mapping from ``broker.Data`` to ``broker.Data``, iterated in
    Broker's key order. ``Table()`` is empty; ``Table(mapping)`` and
    ``Table(pairs)`` fill it.

    Tables compare by value (and so are unhashable); real Broker's compare
    by identity, an accident of its bindings.
    """

    __slots__ = ("_value",)
    __hash__ = None  # mutable

    def __init__(self, items: Any = ()):
        self._value: dict = {}
        if isinstance(items, (str, bytes)):
            raise TypeError("Table takes a mapping or (key, value) pairs, not a string")
        pairs = items.items() if isinstance(items, _abc.Mapping) else items
        for pair in pairs:
            try:
                k, v = pair
            except (TypeError, ValueError):
                raise TypeError(f"Table takes (key, value) pairs, got {pair!r}") from None
            self[k] = v

    def __getitem__(self, key: Any) -> Data:
        return self._value[_data(key)]

    def __setitem__(self, key: Any, value: Any) -> None:
        self._value[_data(key)] = _data(value)

    def __delitem__(self, key: Any) -> None:
        del self._value[_data(key)]

    # MutableMapping's clear() pops one by one; _Sorted's clears at once.
    clear = _Sorted.clear

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Table):
            return self._value == other._value
        return NotImplemented

    def __repr__(self) -> str:
        return "Table{" + ", ".join(f"{k}: {self._value[k]}" for k in self) + "}"

    def __reduce__(self):
        return (Table, (list(self.items()),))


class Vector(_abc.MutableSequence):
    """A mutable sequence of ``broker.Data``; indexes and slices as a list
    (a slice is a ``Vector``)."""

    __slots__ = ("_value",)
    __hash__ = None  # mutable

    def __init__(self, elements: Iterable = ()):
        if isinstance(elements, (str, bytes)):
            raise TypeError("Vector takes an iterable of elements, not a string")
        self._value = [_data(x) for x in elements]

    def __getitem__(self, i):
        if isinstance(i, slice):
            result = Vector()
            result._value = self._value[i]
            return result
        return self._value[i]

    def __setitem__(self, i, x) -> None:
        if isinstance(i, slice):
            self._value[i] = [_data(y) for y in x]
        else:
            self._value[i] = _data(x)

    def __delitem__(self, i) -> None:
        del self._value[i]

    def __len__(self) -> int:
        return len(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __iter__(self) -> Iterator[Data]:
        return iter(self._value)

    def __contains__(self, x: object) -> bool:
        return _data(x) in self._value

    def insert(self, i: int, x: Any) -> None:
        self._value.insert(i, _data(x))

    def append(self, x: Any) -> None:
        self._value.append(_data(x))

    def extend(self, xs: Iterable) -> None:
        self._value.extend([_data(x) for x in xs])

    def count(self, x: Any) -> int:
        return self._value.count(_data(x))

    def index(self, x: Any, *args) -> int:
        return self._value.index(_data(x), *args)

    def remove(self, x: Any) -> None:
        try:
            self._value.remove(_data(x))
        except ValueError:
            raise ValueError(f"{x!r} is not in the Vector") from None

    def clear(self) -> None:
        self._value.clear()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Vector):
            return self._value == other._value
        return NotImplemented

    def __repr__(self) -> str:
        return "Vector[" + _text(self._value) + "]"

    def __reduce__(self):
        return (Vector, (list(self._value),))
