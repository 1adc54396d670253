"""Enumerations that behave like real Broker's (pybind11) ones.

Real Broker's enums print as ``Protocol.TCP`` (``str``) and
``<Protocol.TCP: 1>`` (``repr``), have ``name`` and ``value``, convert with
``int()``, and expose ``name``/``value`` on the class too. Python's enums
hide the latter two on the class (``hasattr(E, "name")`` is False), so the
bases below define them as plain properties.
"""

from __future__ import annotations

import enum


class BrokerEnum(enum.Enum):
    """An enum equal only to its own members (as real Broker's are)."""

    # Plain properties: on a member they give its name and value, on the
    # class the property itself, as pybind11's enums do.
    name = property(lambda self: self._name_, doc="The member's name.")
    value = property(lambda self: self._value_, doc="The member's value.")

    def __str__(self) -> str:
        return f"{type(self).__name__}.{self._name_}"

    def __int__(self) -> int:
        return self._value_

    __index__ = __int__


class BrokerIntEnum(enum.IntEnum):
    """An enum whose members are also ints (for values used as numbers)."""

    name = property(lambda self: self._name_, doc="The member's name.")
    value = property(lambda self: self._value_, doc="The member's value.")

    def __str__(self) -> str:
        return f"{type(self).__name__}.{self._name_}"
