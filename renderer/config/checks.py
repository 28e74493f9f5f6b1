"""Field types and range checks that every config section shares (schema.py and the sections beside it)."""

from __future__ import annotations

from typing import Annotated

from renderer.config.distributions import Distribution

# Randomized values: a Distribution (renderer.config.distributions) parsed as real numbers, integers or words.
FloatDist = Annotated[Distribution, "float"]
IntDist = Annotated[Distribution, "int"]
WordDist = Annotated[Distribution, "word"]


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
