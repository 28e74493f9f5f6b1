"""Shoes (people.shoes): painted over the feet (boots up the shins)."""

from __future__ import annotations

from renderer.humans.wardrobe.base import Garment

_FEET = ("left_foot", "right_foot")
_SHINS = ("left_lower_leg", "right_lower_leg")

KINDS = (
    Garment("shoes", "shoes", {p: (0.0, 1.0) for p in _FEET}),
    Garment("boots", "shoes", {**{p: (0.0, 1.0) for p in _FEET}, **{p: (0.72, 1.0) for p in _SHINS}}),
)
