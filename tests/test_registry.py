"""The one registry helper (renderer.registry): names and ranks unique, rank order kept, entries found
in a package's modules."""

from __future__ import annotations

import pytest

from renderer.registry import add, module_entries


def test_add_refuses_a_name_twice_and_keeps_rank_order() -> None:
    registry: dict[str, int] = {}
    add(registry, "b", 2, what="thing", rank=lambda n: n)
    add(registry, "a", 1, what="thing", rank=lambda n: n)
    assert list(registry) == ["a", "b"]
    with pytest.raises(ValueError, match="thing 'a' registered twice"):
        add(registry, "a", 3, what="thing", rank=lambda n: n)
    with pytest.raises(ValueError, match="rank 2 already taken"):
        add(registry, "c", 2, what="thing", rank=lambda n: n)
    plain: dict[str, int] = {}
    add(plain, "z", 1, what="thing")
    add(plain, "y", 0, what="thing")
    assert list(plain) == ["z", "y"]  # no rank: insertion order


def test_module_entries_finds_the_entries_of_a_package() -> None:
    import renderer.export as export
    from renderer.export.base import Exporter

    found = list(module_entries(export.__name__, export.__path__, "EXPORTER", Exporter))
    assert sorted(e.name for e in found) == sorted(export.EXPORTERS)
