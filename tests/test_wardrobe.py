"""The kinds people wear (renderer.humans.wardrobe): one entry per kind, found on import, named as the
config names them, and painting exactly what each entry says."""

from __future__ import annotations

import numpy as np
import pytest

from renderer.config.people import BOTTOMS, SHOES, TOPS, FaceConfig
from renderer.humans.wardrobe import GARMENTS, SLOTS_TABLE, WORN, Garment, garments_of
from renderer.scene.body import COVERINGS, unpack_face_classes


def test_the_config_names_exactly_the_registered_kinds() -> None:
    """renderer.config sits below renderer.humans and keeps its own word lists: they must agree."""
    assert (set(TOPS), set(BOTTOMS), set(SHOES)) == tuple(set(garments_of(slot)) for slot in ("top", "bottom", "shoes"))
    assert set(FaceConfig().accessories) == set(WORN)


def test_worn_things_carry_their_face_class_in_the_catalog() -> None:
    """face_segmentation (a channel, below renderer.humans) reads a worn thing's class from its triangles."""
    from renderer.config.schema import scene_from_dict
    from renderer.humans.catalog import PeopleCatalog
    from renderer.scene.body import FACE_CLASSES, unpack_face_classes
    from renderer.scene.description import MeshSource

    catalog = PeopleCatalog(scene_from_dict({"objects": {"count": 0}, "people": {"count": 1}}))
    for name, kind in WORN.items():
        if name != "glasses":  # shells are fitted over a body; glasses are a mesh of their own
            continue
        source = MeshSource("accessory", path=name, extents=(0.14, 0.05, 0.045))
        parts, coverings, face = unpack_face_classes(catalog.face_classes(source))
        assert not parts.any() and not coverings.any()
        assert set(face.tolist()) == {FACE_CLASSES.index(kind.face_class) + 1}


def test_slots_name_known_classes_and_garments_take_their_slot_s() -> None:
    assert len({slot.name for slot in SLOTS_TABLE}) == len(SLOTS_TABLE)
    for garment in GARMENTS.values():
        if garment.slot is not None:
            assert garment.covering == garment.slot and garment.face_class == "clothing"


def test_a_bad_entry_is_refused() -> None:
    with pytest.raises(ValueError, match="no body part 'tail'"):
        Garment("tail_warmer", "bottom", {"tail": (0.0, 1.0)})
    with pytest.raises(ValueError, match="slot 'hat'"):
        Garment("beanie", "hat", {})
    with pytest.raises(ValueError, match="not within"):
        Garment("socks", "shoes", {"left_foot": (0.5, 0.2)})


@pytest.mark.parametrize("name", sorted(set(GARMENTS) - {"none"}))
def test_each_garment_paints_exactly_the_stretches_it_names(name: str) -> None:
    from renderer.humans.appearance import garment_face_classes
    from renderer.humans.layout import face_layout
    from renderer.humans.parts import BODY_PARTS

    garment = GARMENTS[name]
    assert garment.slot is not None
    kinds = {slot: (name if slot == garment.slot else "none") for slot in ("top", "bottom", "shoes")}
    _, covering, _ = unpack_face_classes(garment_face_classes(kinds["top"], kinds["bottom"], kinds["shoes"], "bald"))
    layout = face_layout()
    expected = np.zeros(len(layout.part), dtype=bool)
    for part, (lo, hi) in garment.covers.items():
        expected |= (layout.part == BODY_PARTS.index(part)) & (layout.along >= lo) & (layout.along <= hi)
    painted = covering == COVERINGS.index(garment.slot) + 1
    soles = painted != expected  # palms and soles stay skin under shoes: nothing else may differ
    assert painted.sum() > 0 and not (painted & ~expected).any()
    assert (layout.part[soles] == BODY_PARTS.index("left_foot")).sum() + \
        (layout.part[soles] == BODY_PARTS.index("right_foot")).sum() == soles.sum()
