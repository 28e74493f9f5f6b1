"""Registries of kinds: the one rule every extension point follows (channels, randomizers, exporters, the
garments and worn things of people), so that a new kind is one module that defines its entry.

A registry is a plain ``dict`` from name to entry. ``add`` puts an entry in (a name registered twice is
an error, as is a rank taken twice where the registry is ordered by rank); ``module_entries`` finds the
entries the modules of a package define under an attribute name, in module-name order.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def add(registry: dict[str, T], name: str, entry: T, *, what: str,
        rank: Callable[[T], float] | None = None) -> T:
    """Add ``entry`` under ``name``; with ``rank``, keep the registry in rank order (ranks unique).
    ValueError naming the ``what`` (e.g. "channel") on a name or rank registered twice."""
    if name in registry:
        raise ValueError(f"{what} {name!r} registered twice")
    if rank is None:
        registry[name] = entry
        return entry
    if any(rank(other) == rank(entry) for other in registry.values()):
        raise ValueError(f"{what} {name!r}: rank {rank(entry)} already taken")
    ordered = sorted([*registry.items(), (name, entry)], key=lambda item: rank(item[1]))
    registry.clear()
    registry.update(ordered)
    return entry


def module_entries(package: str, path: Iterable[str], attribute: str, kind: type[T]) -> Iterator[T]:
    """The ``attribute`` of every module of a package (its ``__name__`` and ``__path__``) that defines
    one of type ``kind``, modules imported in name order (helpers without one are skipped)."""
    for info in sorted(pkgutil.iter_modules(path), key=lambda m: m.name):
        entry = getattr(importlib.import_module(f"{package}.{info.name}"), attribute, None)
        if isinstance(entry, kind):
            yield entry
