"""Zeek's message layouts: events, logs, identifier updates, batches.

``Event("ping", "hi", broker.Count(1))`` builds the message Zeek expects;
``Event(value)`` parses a received one. An ``Event`` is a ``broker.Data``, so
``endpoint.publish(topic, event)`` sends it as is. Arguments are converted in
C++.
"""

from __future__ import annotations

from typing import Any

from . import _broker
from ._values import Count

__all__ = [
    "Batch",
    "Event",
    "IdentifierUpdate",
    "LogCreate",
    "LogWrite",
    "MessageType",
    "MetadataType",
    "SafeEvent",
    "message_type",
]

_zeek = _broker.zeek
MessageType = _zeek.MessageType


class MetadataType:
    """Well-known event metadata keys, as ``broker.Count`` (real Broker's
    values; metadata() returns keys as Count too)."""

    NetworkTimestamp = Count(1)
    UserMetadataStart = Count(200)


class Event(_zeek.Event):
    """A Zeek event: ``Event(name, *args, metadata=None)`` or ``Event(message)``.

    ``metadata`` is a dict or a list of ``(key, value)`` pairs with int keys
    (e.g. ``MetadataType.NetworkTimestamp``); they go on the wire as counts.
    ``Event(message)`` takes any value, as real Broker does: ``valid()`` says
    whether it is an event, and ``name()``, ``args()`` and ``metadata()`` of
    one that is not raise ``ValueError`` naming what is wrong.
    """

    _safe = False

    def __init__(self, *args: Any, metadata=None):
        if not args:
            raise TypeError("Event needs a name or a message")
        if len(args) == 1 and not isinstance(args[0], str):
            if metadata is not None:
                raise TypeError("metadata cannot be given when parsing a message")
            _zeek.Event.__init__(self, args[0])
        else:
            if not isinstance(args[0], str):
                raise TypeError(f"event name must be a str, not {type(args[0]).__name__}")
            _zeek.Event.__init__(self, args[0], args[1:], metadata)

    def args(self) -> list:
        return _zeek.Event.args(self, self._safe)

    def metadata(self):
        """A list of ``(broker.Count key, value)`` pairs, or None without
        metadata."""
        return _zeek.Event.metadata(self, self._safe)

    def as_data(self) -> _broker.Data:
        """The whole message as a plain ``broker.Data``."""
        return _broker.Data(self)

    def __repr__(self) -> str:
        if not self.valid():
            return f"Event(<not an event: {_broker.Data.__str__(self)}>)"
        return f"Event({self.name()!r}, args={self.args()!r})"


class SafeEvent(Event):
    """An Event whose args and metadata use the safe (hashable) conversion."""

    _safe = True


class _Message(_broker.Data):
    """Base of the other Zeek messages: a ``broker.Data`` holding the whole
    message (so it can be published as is), with its validated content."""

    TYPE: MessageType

    def __init__(self, message):
        _broker.Data.__init__(self, message)
        self._content = _zeek.check_message(self, self.TYPE)

    def as_data(self) -> _broker.Data:
        return self

    def content(self) -> tuple:
        return self._content


class LogCreate(_Message):
    """``[stream_id, writer_id, writer_info, fields]``"""

    TYPE = MessageType.LogCreate

    @classmethod
    def make(cls, stream_id, writer_id, writer_info, fields) -> LogCreate:
        return cls((Count(1), Count(2), (stream_id, writer_id, writer_info, fields)))

    def stream_id(self):
        return self._content[0]

    def writer_id(self):
        return self._content[1]

    def writer_info(self):
        return self._content[2]

    def fields(self):
        return self._content[3]


class LogWrite(_Message):
    """``[stream_id, writer_id, path, serialized records]``"""

    TYPE = MessageType.LogWrite

    @classmethod
    def make(cls, stream_id, writer_id, path: str, serial_data) -> LogWrite:
        return cls((Count(1), Count(3), (stream_id, writer_id, path, serial_data)))

    def stream_id(self):
        return self._content[0]

    def writer_id(self):
        return self._content[1]

    def path(self):
        return self._content[2]

    def serial_data(self):
        return self._content[3]


class IdentifierUpdate(_Message):
    """``[identifier name, new value]``"""

    TYPE = MessageType.IdentifierUpdate

    @classmethod
    def make(cls, id_name: str, id_value) -> IdentifierUpdate:
        return cls((Count(1), Count(4), (id_name, id_value)))

    def id_name(self) -> str:
        return self._content[0]

    def id_value(self):
        return self._content[1]


class Batch(_Message):
    """A batch of complete Zeek messages."""

    TYPE = MessageType.Batch

    @classmethod
    def make(cls, *messages) -> Batch:
        return cls((Count(1), Count(5), tuple(messages)))

    def messages(self) -> tuple:
        return self._content


def message_type(message) -> MessageType:
    """The Zeek message type of a received value (``Invalid`` if none)."""
    return _zeek.message_type(message)
