"""The label pass's caches as objects of their own: GL buffers per mesh, and the last few passes.

Passes are kept per mesh lookup *object* (held weakly), not per ``id()``: a lookup that is gone can never
lend its passes to a new one that happens to get the same address.
"""

from __future__ import annotations

import itertools
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from renderer.assets.meshes import MeshLookup
from renderer.caching import LruCache
from renderer.scene.buffers import LabelBuffers
from renderer.scene.description import FrameDescription, MeshSource


@dataclass(frozen=True)
class KeptPass:
    buffers: LabelBuffers


class RecentPasses:
    """The last ``size`` full passes, least recently used dropped first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._tokens: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
        self._counter = itertools.count(1)
        self._passes: OrderedDict[tuple[int, FrameDescription], KeptPass] = OrderedDict()

    def _key(self, lookup: MeshLookup, frame: FrameDescription) -> tuple[int, FrameDescription]:
        token = self._tokens.get(lookup)
        if token is None:
            token = self._tokens[lookup] = next(self._counter)  # never reused, unlike id()
        return token, frame

    def get(self, lookup: MeshLookup, frame: FrameDescription) -> KeptPass | None:
        key = self._key(lookup, frame)
        kept = self._passes.get(key)
        if kept is not None:
            self._passes.move_to_end(key)
        return kept

    def put(self, lookup: MeshLookup, frame: FrameDescription, kept: KeptPass) -> None:
        key = self._key(lookup, frame)
        self._passes[key] = kept
        self._passes.move_to_end(key)
        while len(self._passes) > self.size:
            self._passes.popitem(last=False)

    def clear(self) -> None:
        self._passes.clear()

    def __len__(self) -> int:
        return len(self._passes)


@dataclass(frozen=True)
class MeshBuffers:
    """A mesh uploaded for drawing: vertex array, its buffers, index count, the mesh's box centre and
    diagonal (for drawing order), and the bytes its buffers hold."""

    vao: int
    buffers: list[int]
    count: int
    centre: NDArray[np.float32]
    diagonal: float
    nbytes: int = 0
    vertices: int = 0


KEPT_BUFFER_BYTES = 128 * 2**20  # GL buffers kept between passes (people: new bodies every frame)


class MeshBufferCache:
    """GL buffers per mesh source, uploaded on first use by ``upload`` and freed by ``free``; the least
    recently used are freed once they hold more than ``budget`` bytes, at ``trim`` (called before a
    pass, sparing the meshes that pass draws)."""

    def __init__(self, upload: Callable[[MeshSource, MeshLookup], MeshBuffers],
                 free: Callable[[MeshBuffers], None], budget: int = KEPT_BUFFER_BYTES) -> None:
        self._upload = upload
        self._entries: LruCache[MeshSource, MeshBuffers] = LruCache(budget, release=free,
                                                                    weight=lambda e: e.nbytes, deferred=True)

    def get(self, source: MeshSource, lookup: MeshLookup) -> MeshBuffers:
        return self._entries.get_or_make(source, lambda: self._upload(source, lookup))

    def trim(self, keep: tuple[MeshSource, ...]) -> None:
        self._entries.trim(keep)

    def __len__(self) -> int:
        return len(self._entries)

    def release(self) -> None:
        self._entries.clear()
