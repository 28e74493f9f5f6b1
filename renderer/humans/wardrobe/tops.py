"""Tops (people.tops): painted over the torso and down the arms."""

from __future__ import annotations

from renderer.humans.wardrobe.base import Garment

_ARMS = ("left_upper_arm", "right_upper_arm")
_FOREARMS = ("left_lower_arm", "right_lower_arm")

KINDS = (
    Garment("tshirt", "top", {"torso": (0, 1), **{p: (0.0, 0.45) for p in _ARMS}}),
    Garment("longsleeve", "top", {"torso": (0, 1), **{p: (0.0, 1.0) for p in _ARMS},
                                  **{p: (0.0, 0.92) for p in _FOREARMS}}),
    Garment("tanktop", "top", {"torso": (0, 1)}),
)
