"""Skin colour from physiology: a two-layer (epidermis over dermis) spectral model with melanin and
haemoglobin, fitted to the 10 tones of the Monk Skin Tone scale, so that every person's tone is a label.

The model, after Jacques (melanin and baseline absorption of skin) and Donner & Jensen's layered-skin
parameters, kept to what one albedo per region needs:
- epidermis (thickness 0.06 mm): absorption f_mel * mu_mel(l) + (1 - f_mel) * mu_base(l), with
  mu_mel = 6.6e11 * l^-3.33 /mm (eumelanin) and mu_base = 0.0244 + 8.53 exp(-(l - 154) / 66.2) /mm;
  light crosses it twice: T(l)^2.
- dermis: diffuse reflectance of a semi-infinite scattering slab (Kubelka-Munk, R = 1 + K/S -
  sqrt((K/S)^2 + 2 K/S)), absorption f_blood * mu_blood(l) + mu_base(l), reduced scattering
  mu_s' = 2e4 * l^-1.5 + 2e11 * l^-4 ... scaled to /mm (Jacques' fit for dermis).
  mu_blood: whole blood (75 % oxygenated) approximated by Gaussian bands at 415 nm (Soret) and 542 / 577 nm
  (Q bands) over a tail (a smooth stand-in for Prahl's tabulated spectra); a flat surface reflection on top.
- the spectrum is integrated against Wyman, Sloan & Shirley's (2013) analytic fit of the CIE 1931
  colour-matching functions under D65 (approximated as equal energy), to linear sRGB.
Each Monk tone's (f_mel, f_blood) is the grid point nearest its published hex colour in CIELAB; the fitted
table and its Delta-E are in docs/people.md (tests/test_people.py recomputes them against the hex values).
Palms and soles have about a fifth of the melanin (humans.appearance lightens them accordingly).
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import NDArray

from renderer.scene.color import linear_from_srgb

# The Monk Skin Tone scale (Monk 2019; Google's published swatches), tones 1 (lightest) to 10.
MONK_HEX = ("#f6ede4", "#f3e7db", "#f7ead0", "#eadaba", "#d7bd96", "#a07e56", "#825c43", "#604134", "#3a312a",
            "#292420")

WAVELENGTHS = np.arange(400.0, 701.0, 10.0)  # nm
EPIDERMIS_MM = 0.06
# The two constants fitted once over the 10 Monk swatches (mean Delta-E 3.8 against 6.3 without): a global
# scale of the dermis' scattering (Kubelka-Munk's S is not Jacques' reduced scattering) and a spectrally
# flat 3 % reflection of the skin's surface and upper epidermis.
SCATTER_SCALE = 16.0
SURFACE_REFLECTION = 0.03


def _gauss(x: NDArray[np.float64], mu: float, s1: float, s2: float) -> NDArray[np.float64]:
    s = np.where(x < mu, s1, s2)
    return np.exp(-0.5 * ((x - mu) / s) ** 2)


def _cmf(lam: NDArray[np.float64]) -> NDArray[np.float64]:
    """(3, n) CIE 1931 x-bar, y-bar, z-bar (Wyman et al. 2013, multi-lobe fit)."""
    x = 1.056 * _gauss(lam, 599.8, 37.9, 31.0) + 0.362 * _gauss(lam, 442.0, 16.0, 26.7) \
        - 0.065 * _gauss(lam, 501.1, 20.4, 26.2)
    y = 0.821 * _gauss(lam, 568.8, 46.9, 40.5) + 0.286 * _gauss(lam, 530.9, 16.3, 31.1)
    z = 1.217 * _gauss(lam, 437.0, 11.8, 36.0) + 0.681 * _gauss(lam, 459.0, 26.0, 13.8)
    return np.stack([x, y, z])


XYZ_TO_LINEAR_SRGB = np.array([[3.2406, -1.5372, -0.4986], [-0.9689, 1.8758, 0.0415], [0.0557, -0.2040, 1.0570]])


def _mu_base(lam: NDArray[np.float64]) -> NDArray[np.float64]:
    return 0.0244 + 8.53 * np.exp(-(lam - 154.0) / 66.2)


def _mu_melanin(lam: NDArray[np.float64]) -> NDArray[np.float64]:
    return 6.6e10 * lam ** -3.33  # Jacques: 6.6e11 /cm


def _mu_blood(lam: NDArray[np.float64]) -> NDArray[np.float64]:
    """Whole blood absorption /mm (approximate; see the module docstring)."""
    return 0.5 + 30.0 * _gauss(lam, 415.0, 12.0, 18.0) + 25.0 * _gauss(lam, 542.0, 12.0, 12.0) \
        + 27.0 * _gauss(lam, 577.0, 10.0, 10.0) + 8.0 * _gauss(lam, 480.0, 40.0, 30.0)


def _mu_s_dermis(lam: NDArray[np.float64]) -> NDArray[np.float64]:
    return SCATTER_SCALE * 0.1 * (2e5 * lam ** -1.5 + 2e12 * lam ** -4.0)  # Jacques' fit, /cm -> /mm


def reflectance(melanin: NDArray[np.float64] | float, blood: NDArray[np.float64] | float) -> NDArray[np.float64]:
    """(..., len(WAVELENGTHS)) diffuse reflectance of skin with melanin and blood volume fractions."""
    lam = WAVELENGTHS
    f_mel = np.asarray(melanin, dtype=float)[..., None]
    f_blood = np.asarray(blood, dtype=float)[..., None]
    epidermis = f_mel * _mu_melanin(lam) + (1.0 - f_mel) * _mu_base(lam)
    transmit = np.exp(-epidermis * EPIDERMIS_MM)
    k = 2.0 * (f_blood * _mu_blood(lam) + (1.0 - f_blood) * _mu_base(lam))
    s = _mu_s_dermis(lam)
    ratio = k / s
    dermis = 1.0 + ratio - np.sqrt(ratio * ratio + 2.0 * ratio)
    return SURFACE_REFLECTION + (1.0 - SURFACE_REFLECTION) * transmit ** 2 * dermis


def linear_rgb(spectra: NDArray[np.float64]) -> NDArray[np.float64]:
    """Linear sRGB of reflectance spectra under an equal-energy white (white -> (1, 1, 1))."""
    cmf = _cmf(WAVELENGTHS)
    xyz = spectra @ cmf.T
    white = cmf.sum(axis=1) @ XYZ_TO_LINEAR_SRGB.T
    return np.clip((xyz @ XYZ_TO_LINEAR_SRGB.T) / white, 0.0, 1.0)


def hex_linear(code: str) -> NDArray[np.float64]:
    return linear_from_srgb(np.array([int(code[i:i + 2], 16) for i in (1, 3, 5)], dtype=float) / 255.0)


def lab(linear: NDArray[np.float64]) -> NDArray[np.float64]:
    """CIELAB (D65) of linear sRGB."""
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = np.asarray(linear, dtype=float) @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


MELANIN_GRID = np.geomspace(0.002, 1.0, 150)
BLOOD_GRID = np.geomspace(0.002, 0.2, 40)


@functools.cache
def _grid_colours() -> NDArray[np.float64]:
    mel, blood = np.meshgrid(MELANIN_GRID, BLOOD_GRID, indexing="ij")
    return linear_rgb(reflectance(mel, blood))


@functools.cache
def monk_fit() -> tuple[tuple[float, float, float], ...]:
    """Per Monk tone 1-10: (melanin fraction, blood fraction, Delta-E 1976 of the model to the swatch)."""
    grid = _grid_colours()
    grid_lab = lab(grid)
    out = []
    for code in MONK_HEX:
        delta = np.linalg.norm(grid_lab - lab(hex_linear(code)), axis=-1)
        i, j = np.unravel_index(int(np.argmin(delta)), delta.shape)
        out.append((float(MELANIN_GRID[i]), float(BLOOD_GRID[j]), float(delta[i, j])))
    return tuple(out)


def skin_albedo(tone: int, rng: np.random.Generator, variation: float = 0.08) -> tuple[float, float, float]:
    """Linear RGB albedo of a person of Monk tone 1-10: the tone's fitted melanin and blood, each varied
    by a log-normal factor of ``variation`` (people of one tone differ a little)."""
    if not 1 <= tone <= 10:
        raise ValueError(f"Monk tone {tone} is outside 1-10")
    melanin, blood, _ = monk_fit()[tone - 1]
    factors = np.exp(rng.normal(0.0, variation, size=2))
    rgb = linear_rgb(reflectance(melanin * factors[0], blood * factors[1]))
    return (float(rgb[0]), float(rgb[1]), float(rgb[2]))


def palm_albedo(tone: int) -> tuple[float, float, float]:
    """Palms and soles: a fifth of the tone's melanin."""
    melanin, blood, _ = monk_fit()[tone - 1]
    rgb = linear_rgb(reflectance(melanin / 5.0, blood))
    return (float(rgb[0]), float(rgb[1]), float(rgb[2]))
