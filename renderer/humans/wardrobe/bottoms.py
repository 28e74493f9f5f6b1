"""Bottoms (people.bottoms): painted over the pelvis and down the legs."""

from __future__ import annotations

from renderer.humans.wardrobe.base import Garment

_THIGHS = ("left_upper_leg", "right_upper_leg")
_SHINS = ("left_lower_leg", "right_lower_leg")

KINDS = (
    Garment("shorts", "bottom", {"pelvis": (0, 1), **{p: (0.0, 0.45) for p in _THIGHS}}),
    Garment("trousers", "bottom", {"pelvis": (0, 1), **{p: (0.0, 1.0) for p in _THIGHS},
                                   **{p: (0.0, 0.93) for p in _SHINS}}),
    Garment("skirt", "bottom", {"pelvis": (0, 1), **{p: (0.0, 0.7) for p in _THIGHS}}),
)
