"""A least-recently-used cache with a size budget and a release hook: the one rule every per-mesh cache
follows (engines, label pass, people), so that a run whose meshes change every frame (people: a new
body per person per frame) holds a bounded amount of memory, GL buffers and temporary files."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LruCache(Generic[K, V]):
    """Values by key, the least recently used dropped (``release(value)`` called) once more than
    ``budget`` is held, where each value weighs ``weight(value)`` (default 1: a count).

    ``pinned`` keys (those in use by the pass being drawn) are never dropped by ``trim``; ``put`` trims
    at once unless ``deferred`` (then the owner calls ``trim`` when nothing it holds is in use)."""

    def __init__(self, budget: float, release: Callable[[V], None] | None = None,
                 weight: Callable[[V], float] | None = None, deferred: bool = False) -> None:
        self.budget = budget
        self._release = release
        self._weight = weight or (lambda value: 1.0)
        self._deferred = deferred
        self._entries: OrderedDict[K, tuple[V, float]] = OrderedDict()
        self.held = 0.0

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key: K, value: V) -> V:
        old = self._entries.pop(key, None)
        if old is not None:
            self.held -= old[1]
            if old[0] is not value and self._release is not None:
                self._release(old[0])
        weight = float(self._weight(value))
        self._entries[key] = (value, weight)
        self.held += weight
        if not self._deferred:
            self.trim(keep=(key,))
        return value

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        value = self.get(key)
        return value if value is not None else self.put(key, make())

    def trim(self, keep: tuple[K, ...] = ()) -> None:
        """Drop the least recently used entries until the budget holds (never those in ``keep``)."""
        for key in list(self._entries):
            if self.held <= self.budget:
                break
            if key in keep:
                continue
            value, weight = self._entries.pop(key)
            self.held -= weight
            if self._release is not None:
                self._release(value)

    def clear(self) -> None:
        """Drop everything (each value released)."""
        entries, self._entries = self._entries, OrderedDict()
        self.held = 0.0
        if self._release is not None:
            for value, _ in entries.values():
                self._release(value)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def values(self) -> Iterator[V]:
        return (value for value, _ in self._entries.values())
