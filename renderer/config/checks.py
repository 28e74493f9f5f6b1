"""What every config section shares: field types, sane ranges and range checks.

A section's ``__post_init__`` raises ValueError with one line that starts with the field's name
(``count: draws from [-1, 3], outside [0, 500]``); the parser (renderer.config.parse) prefixes the key path.
"""

from __future__ import annotations

from typing import Annotated

from renderer.config.distributions import Distribution

# Randomized values: a Distribution (renderer.config.distributions) parsed as real numbers, integers or words.
FloatDist = Annotated[Distribution, "float"]
IntDist = Annotated[Distribution, "int"]
WordDist = Annotated[Distribution, "word"]

# Sane ranges (docs/scenes.md): every length, scale, count and ratio has one, so that no value that
# passes validation can overflow into non-finite numbers, blank frames or unbounded work.
MAX_LENGTH = 1000.0  # metres: any length, position or distance
MAX_SCALE = 1000.0  # asset scale factor
MIN_NEAR, MAX_FAR = 1e-4, 1e5  # metres
MAX_DEPTH_RATIO = 1e6  # far / near
MAX_PIXELS = 1e6  # focal lengths and principal points, pixels
MAX_INTENSITY = 1e6  # light intensities and radiances
MAX_OBJECTS = 500  # objects (and distractors) per frame
MAX_LIGHTS = 64  # lights per frame (the raster engine: at most RASTER_MAX_LIGHTS of each type)
RASTER_MAX_LIGHTS = 4  # pyrender 0.1.45's shader has this many slots per light type
MAX_SETTLE_SECONDS = 60.0  # simulated seconds of physics settling
# Lower bounds where a positive value is needed: nothing smaller is physical here, and 1e-300 would reach
# pyrender and numpy as a singular matrix or a zero near plane.
MIN_LENGTH = 1e-4  # metres (0.1 mm): any length, size or distance that must be positive
MIN_SCALE = 1e-3  # asset scale factor (a 1 m mesh at 1 mm)
MIN_ANGLE_DEG = 1e-3  # fields of view, spot cones, incidence limits
MIN_FOCAL_PX = 1.0  # focal lengths, pixels (1 px: a view of ~180 degrees across a few pixels)
MAX_TURN_DEG = 3600.0  # angles that wrap (azimuths, rolls, rotations): ten turns either way


def within(name: str, dist: Distribution, low: float, high: float, open_low: bool = False,
            open_high: bool = False) -> None:
    """Every value dist can draw must lie in [low, high] (or the open ends): else one error line."""
    lo_ok = dist.min > low if open_low else dist.min >= low
    hi_ok = dist.max < high if open_high else dist.max <= high
    if not (lo_ok and hi_ok):
        interval = f"{'(' if open_low else '['}{low:g}, {high:g}{')' if open_high else ']'}"
        hint = " (clip the normal)" if dist.kind == "normal" and dist.clip is None else ""
        raise ValueError(f"{name}: draws from [{dist.min:g}, {dist.max:g}], outside {interval}{hint}")


def fraction(name: str, value: float) -> None:
    """A probability or rate must lie in [0, 1] (NaN does not): else one error line."""
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name}: {value:g} is outside [0, 1]")


def words(name: str, dist: Distribution, allowed: tuple[str, ...]) -> None:
    bad = [v for v in dist.params if v not in allowed]
    if bad:
        raise ValueError(f"{name}: {bad[0]!r} is not one of {', '.join(allowed)}")
