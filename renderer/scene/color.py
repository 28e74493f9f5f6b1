"""Colour: the transfer functions between linear radiance and encoded values, and colours of light sources.

Two encodings, each with its own pair of functions named ``<to>_from_<from>`` (docs/format.md, "Colour"):

- **display**: what both engines write (``rgb.png``, EngineImage): linear radiance clamped to [0, 1] and
  raised to 1/2.2 (``DISPLAY_GAMMA``; pyrender's shader does exactly this, and the path engine matches
  it), so an image's 8-bit values are ``round(255 * linear ** (1 / 2.2))``. ``display_from_linear`` and
  ``linear_from_display`` (both clamp to [0, 1] first).
- **sRGB**: the exact IEC 61966-2-1 curve (linear segment near black), for colours drawn or specified
  in sRGB (garment hues, skin swatches) and for texture images, which pyrender's shader decodes with it.
  ``srgb_from_linear`` and ``linear_from_srgb``.

Every function computes in its argument's floating dtype (float32 stays float32; other input becomes
float64), so a caller's precision, and hence its bytes, are its own choice.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

DISPLAY_GAMMA = 2.2  # the display transfer both engines share (linear ** (1 / DISPLAY_GAMMA))


def _floating(values: ArrayLike) -> NDArray[Any]:
    array = np.asarray(values)
    return array if np.issubdtype(array.dtype, np.floating) else array.astype(np.float64)


def display_from_linear(linear: ArrayLike) -> NDArray[Any]:
    """Display-encoded values in [0, 1] of linear radiance: clamped to [0, 1], then ** (1 / 2.2)."""
    x = _floating(linear)
    return np.power(np.clip(x, 0.0, 1.0), x.dtype.type(1.0 / DISPLAY_GAMMA))


def linear_from_display(display: ArrayLike) -> NDArray[Any]:
    """Linear radiance of display-encoded values: clamped to [0, 1], then ** 2.2."""
    x = _floating(display)
    return np.power(np.clip(x, 0.0, 1.0), x.dtype.type(DISPLAY_GAMMA))


def srgb_from_linear(linear: ArrayLike) -> NDArray[Any]:
    """sRGB-encoded values of linear ones (IEC 61966-2-1: 12.92 x below 0.0031308, else
    1.055 x^(1/2.4) - 0.055 with x clamped to [0, 1])."""
    x = _floating(linear)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(np.clip(x, 0, 1), 1 / 2.4) - 0.055)


def linear_from_srgb(srgb: ArrayLike) -> NDArray[Any]:
    """Linear values of sRGB-encoded ones in [0, 1] (IEC 61966-2-1: x / 12.92 up to 0.04045, else
    ((x + 0.055) / 1.055)^2.4)."""
    c = _floating(srgb)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def rgb_tuple(values: ArrayLike) -> tuple[float, float, float]:
    """Three values as a tuple of Python floats (a description's colour)."""
    r, g, b = (float(v) for v in np.asarray(values).reshape(3))
    return (r, g, b)


def color_from_temperature(kelvin: float) -> tuple[float, float, float]:
    """RGB (max channel 1) of a black body at this temperature: Tanner Helland's fit of the CIE data."""
    t = kelvin / 100.0
    if t <= 66:
        r = 255.0
        g = 99.4708025861 * np.log(t) - 161.1195681661
        b = 0.0 if t <= 19 else 138.5177312231 * np.log(t - 10) - 305.0447927307
    else:
        r = 329.698727446 * (t - 60) ** -0.1332047592
        g = 288.1221695283 * (t - 60) ** -0.0755148492
        b = 255.0
    rgb = np.clip(np.array([r, g, b]), 0, 255) / 255.0
    rgb = rgb / rgb.max()
    return (float(rgb[0]), float(rgb[1]), float(rgb[2]))
