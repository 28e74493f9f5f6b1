"""Colours of light sources."""

from __future__ import annotations

import numpy as np


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
