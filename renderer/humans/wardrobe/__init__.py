"""What people wear, one registry per kind of thing: ``GARMENTS`` (painted into the body's texture:
renderer.humans.appearance) and ``WORN`` (objects of their own fitted to a person: a shell over the skin,
or rigid glasses), every entry holding its config name, geometry or paint rule, covering class and face
class (renderer.humans.wardrobe.base).

Each module of this package that defines ``KINDS`` (a tuple of Garment and WornKind entries) is found
and registered on import: a new garment or worn thing is one module here plus its test. The config's
word lists (renderer.config.people: TOPS, BOTTOMS, SHOES and people.face's probabilities) are below this
layer and cannot read the registry; a test checks that they name exactly its kinds.
"""

from __future__ import annotations

from renderer.humans.wardrobe.base import (
    GARMENT_SLOTS,
    SLOT_OF,
    SLOTS_TABLE,
    Fitted,
    Garment,
    Shell,
    Slot,
    Wearer,
    WornKind,
)
from renderer.registry import add, module_entries

NONE = Garment("none", None, {})  # bare: fits every slot
GARMENTS: dict[str, Garment] = {NONE.name: NONE}
WORN: dict[str, WornKind] = {}


def _register_modules() -> None:
    for kinds in module_entries(__name__, __path__, "KINDS", tuple):
        for kind in kinds:
            if isinstance(kind, Garment):
                add(GARMENTS, kind.name, kind, what="garment")
            elif isinstance(kind, WornKind):
                add(WORN, kind.name, kind, what="worn thing")
            else:
                raise TypeError(f"{kind!r} is neither a Garment nor a WornKind")


def garments_of(slot: str) -> tuple[str, ...]:
    """The names of the garments of one slot (GARMENT_SLOTS), none first."""
    return tuple(name for name, garment in GARMENTS.items() if garment.slot in (None, slot))


_register_modules()

__all__ = ["GARMENTS", "GARMENT_SLOTS", "NONE", "SLOTS_TABLE", "SLOT_OF", "WORN", "Fitted", "Garment", "Shell", "Slot",
           "Wearer", "WornKind", "garments_of"]
