"""A per-process cache of values derived from a case's workflow state (its live workflow, its
variables), each valid only for the exact state text it came from.

Any command that changes a case writes new state text, so an entry from before is simply missed
(whichever process or worker wrote it): no invalidation messages between processes are needed.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

T = TypeVar("T")


class CaseStateCache(Generic[T]):
    """Least recently used entries keyed by case id, each tagged with its case's state text."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._entries: OrderedDict[str, tuple[str, T]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, case_id: str, state: str) -> T | None:
        """The value for this exact state, left in place (shared: do not change it)."""
        with self._lock:
            entry = self._entries.get(case_id)
            if entry is None or entry[0] != state:
                return None
            self._entries.move_to_end(case_id)
            return entry[1]

    def take(self, case_id: str, state: str) -> T | None:
        """The value for this exact state, removed: the caller has it to itself (e.g. a live
        workflow a command is about to change) until it puts it back."""
        with self._lock:
            entry = self._entries.pop(case_id, None)
            return entry[1] if entry is not None and entry[0] == state else None

    def put(self, case_id: str, state: str, value: T) -> None:
        with self._lock:
            self._entries[case_id] = (state, value)
            self._entries.move_to_end(case_id)
            self._trim()

    def give_back(self, case_id: str, state: str, value: T) -> None:
        """Return an unchanged value taken for reading, unless a newer one was put meanwhile."""
        with self._lock:
            if case_id not in self._entries:
                self._entries[case_id] = (state, value)
                self._trim()

    def discard(self, case_id: str) -> None:
        with self._lock:
            self._entries.pop(case_id, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _trim(self) -> None:
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
