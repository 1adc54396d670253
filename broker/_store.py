"""Data stores: ``Endpoint.attach_master`` / ``attach_clone`` return a
``Store``, the same API for a master and its clones."""

from __future__ import annotations

from typing import Any

_MISSING = object()


class Store:
    """A key-value store replicated from one master to its clones.

    Queries block until answered (a clone answers from its replica), for at
    most 10 s, then raise ``RuntimeError``; a missing key is ``None`` (pass
    ``default=`` to tell it from a stored none). Mutations return once
    queued; a later query through this store sees them, ``await_idle()``
    (default timeout 15 s) waits until they are applied everywhere. After
    ``reset()`` or the endpoint's shutdown every call raises
    ``RuntimeError``. ``expiry`` is in seconds (or a timedelta /
    ``broker.Timespan``) after which the key disappears on master and clones.
    """

    def __init__(self, impl, endpoint):
        self._impl = impl
        self._endpoint = endpoint  # the endpoint outlives its stores

    def name(self) -> str:
        return self._impl.name()

    def is_master(self) -> bool:
        return self._impl.is_master()

    # -- queries ----------------------------------------------------------------

    def exists(self, key) -> bool:
        return self._impl.exists(key)

    def get(self, key, default: Any = None):
        return self._impl.get(key, default)

    def get_index_from_value(self, key, index, default: Any = None):
        return self._impl.get_index_from_value(key, index, default)

    def keys(self) -> set:
        return self._impl.keys()

    def put_unique(self, key, value, expiry=None) -> bool:
        """Inserts only if ``key`` is absent; returns whether it did."""
        return self._impl.put_unique(key, value, expiry)

    def await_idle(self, timeout: float | None = None) -> bool:
        return self._impl.await_idle(timeout)

    # -- mutations --------------------------------------------------------------

    def put(self, key, value, expiry=None) -> None:
        self._impl.put(key, value, expiry)

    def erase(self, data) -> None:
        """Removes the key ``data`` (real Broker's parameter name)."""
        self._impl.erase(data)

    def clear(self) -> None:
        self._impl.clear()

    def increment(self, key, amount=1, expiry=None) -> None:
        self._impl.increment(key, amount, expiry)

    def decrement(self, key, amount=1, expiry=None) -> None:
        self._impl.decrement(key, amount, expiry)

    def append(self, key, s, expiry=None) -> None:
        self._impl.append(key, s, expiry)

    def insert_into(self, key, index, value=_MISSING, expiry=None) -> None:
        """Inserts ``index`` into a set, or ``index -> value`` into a table."""
        has_value = value is not _MISSING
        self._impl.insert_into(key, index, value if has_value else None, expiry, has_value)

    def remove_from(self, key, index, expiry=None) -> None:
        self._impl.remove_from(key, index, expiry)

    def push(self, key, value, expiry=None) -> None:
        self._impl.push(key, value, expiry)

    def pop(self, key, expiry=None) -> None:
        self._impl.pop(key, expiry)

    # -- lifetime -----------------------------------------------------------------

    def reset(self) -> None:
        self._impl.reset()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.reset()
