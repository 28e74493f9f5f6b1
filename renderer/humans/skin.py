"""Skin colour from physiology: a two-layer (epidermis over dermis) spectral model with melanin and
haemoglobin, fitted to the 10 tones of the Monk Skin Tone scale, so that every person's tone is a label.

The model, after Jacques (melanin and baseline absorption of skin) and Donner & Jensen's layered-skin
parameters, kept to what one albedo per region needs:
- epidermis (thickness 0.06 mm): absorption f_mel * mu_mel(l) + (1 - f_mel) * mu_base(l), with
  mu_mel = 6.6e11 * l^-3.33 /mm (eumelanin) and mu_base = 0.0244 + 8.53 exp(-(l - 154) / 66.2) /mm;
  light crosses it twice: T(l)^2.
- dermis: diffuse reflectance of a semi-infinite scattering slab (Kubelka-Munk, R = 1 + K/S -
  sqrt((K/S)^2 + 2 K/S)), absorption f_blood * mu_blood(l) + f_dermal * mu_mel(l) + mu_base(l) (f_dermal:
  melanin in the papillary dermis, "melanin dust" and melanophages, which very dark skin carries: the
  chromophore the epidermis-only model lacked, without which tones 9 and 10 could not be dark enough
  and were fitted to the same saturated melanin), reduced scattering
  mu_s' = 2e4 * l^-1.5 + 2e11 * l^-4 ... scaled to /mm (Jacques' fit for dermis).
  mu_blood: whole blood (75 % oxygenated) approximated by Gaussian bands at 415 nm (Soret) and 542 / 577 nm
  (Q bands) over a tail (a smooth stand-in for Prahl's tabulated spectra); a flat surface reflection on top.
- the spectrum is integrated against Wyman, Sloan & Shirley's (2013) analytic fit of the CIE 1931
  colour-matching functions under D65 (approximated as equal energy), to linear sRGB.
Each Monk tone's (f_mel, f_blood, f_dermal) is the grid point nearest its published hex colour in CIEDE2000
among those whose lightness L* is within LIGHTNESS_TOLERANCE of the swatch's and whose luminance is below
the lighter tone's (so every tone is as dark as its swatch, and the scale is monotonic: the swatches of
tones 2 and 3 themselves are not); the fitted table and its CIEDE2000 are in docs/people.md
(tests/test_people.py recomputes them from rendered albedo against the hex values).
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
EPIDERMIS_MM = 0.1  # facial epidermis, 0.06-0.12 mm
# Constants chosen once over the 10 Monk swatches (scripts-free: a grid over them, CIEDE2000 mean 3.5 with
# every tone's lightness matched): a global scale of the dermis' scattering (Kubelka-Munk's S is not
# Jacques' reduced scattering) and a spectrally flat 1.5 % diffuse reflection of the stratum corneum
# (the mirror-like part of the surface reflection is the engines' specular lobe, not albedo). Above 1.5 %
# that floor alone would keep tone 10 (luminance 0.018) lighter than its swatch.
SCATTER_SCALE = 16.0
SURFACE_REFLECTION = 0.015
LIGHTNESS_TOLERANCE = 1.5  # CIELAB L* between a tone's fitted skin and its swatch


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


def reflectance(melanin: NDArray[np.float64] | float, blood: NDArray[np.float64] | float,
                dermal_melanin: NDArray[np.float64] | float = 0.0) -> NDArray[np.float64]:
    """(..., len(WAVELENGTHS)) diffuse reflectance of skin with epidermal melanin, dermal blood and dermal
    melanin volume fractions."""
    lam = WAVELENGTHS
    f_mel = np.asarray(melanin, dtype=float)[..., None]
    f_blood = np.asarray(blood, dtype=float)[..., None]
    f_dermal = np.asarray(dermal_melanin, dtype=float)[..., None]
    epidermis = f_mel * _mu_melanin(lam) + (1.0 - f_mel) * _mu_base(lam)
    transmit = np.exp(-epidermis * EPIDERMIS_MM)
    k = 2.0 * (f_blood * _mu_blood(lam) + f_dermal * _mu_melanin(lam) + (1.0 - f_blood - f_dermal) * _mu_base(lam))
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


def delta_e_2000(lab1: NDArray[np.float64], lab2: NDArray[np.float64]) -> NDArray[np.float64]:
    """CIEDE2000 colour difference of CIELAB colours (..., 3) (Sharma, Wu & Dalal 2005; tested on their
    published pairs)."""
    L1, a1, b1 = np.moveaxis(np.asarray(lab1, dtype=float), -1, 0)
    L2, a2, b2 = np.moveaxis(np.asarray(lab2, dtype=float), -1, 0)
    c_mean = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_mean ** 7 / (c_mean ** 7 + 25.0 ** 7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p, h2p = np.degrees(np.arctan2(b1, a1p)) % 360, np.degrees(np.arctan2(b2, a2p)) % 360
    chromatic = c1p * c2p != 0
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(chromatic, dh, 0.0)
    d_l, d_c = L2 - L1, c2p - c1p
    d_h = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh) / 2)
    l_mean, cp_mean = (L1 + L2) / 2, (c1p + c2p) / 2
    h_sum = h1p + h2p
    h_mean = np.where(np.abs(h1p - h2p) > 180, np.where(h_sum < 360, (h_sum + 360) / 2, (h_sum - 360) / 2), h_sum / 2)
    h_mean = np.where(chromatic, h_mean, h_sum)
    t = (1 - 0.17 * np.cos(np.radians(h_mean - 30)) + 0.24 * np.cos(np.radians(2 * h_mean))
         + 0.32 * np.cos(np.radians(3 * h_mean + 6)) - 0.20 * np.cos(np.radians(4 * h_mean - 63)))
    rotation = 30 * np.exp(-(((h_mean - 275) / 25) ** 2))
    r_c = 2 * np.sqrt(cp_mean ** 7 / (cp_mean ** 7 + 25.0 ** 7))
    s_l = 1 + 0.015 * (l_mean - 50) ** 2 / np.sqrt(20 + (l_mean - 50) ** 2)
    s_c, s_h = 1 + 0.045 * cp_mean, 1 + 0.015 * cp_mean * t
    r_t = -np.sin(np.radians(2 * rotation)) * r_c
    return np.asarray(np.sqrt((d_l / s_l) ** 2 + (d_c / s_c) ** 2 + (d_h / s_h) ** 2 + r_t * (d_c / s_c) * (d_h / s_h)))


def luminance(linear: NDArray[np.float64]) -> NDArray[np.float64]:
    """Relative luminance Y of linear sRGB (..., 3)."""
    return np.asarray(np.asarray(linear, dtype=float) @ np.array([0.2126, 0.7152, 0.0722]))


MELANIN_GRID = np.geomspace(0.002, 1.0, 120)
BLOOD_GRID = np.geomspace(0.002, 0.2, 30)
DERMAL_MELANIN_GRID = np.array([0.0, 0.001, 0.003, 0.01, 0.03, 0.1])


@functools.cache
def _grid_colours() -> NDArray[np.float64]:
    mel, blood, dermal = np.meshgrid(MELANIN_GRID, BLOOD_GRID, DERMAL_MELANIN_GRID, indexing="ij")
    return linear_rgb(reflectance(mel, blood, dermal))


@functools.cache
def monk_fit() -> tuple[tuple[float, float, float, float], ...]:
    """Per Monk tone 1-10: (epidermal melanin, blood, dermal melanin fractions, CIEDE2000 of the model to
    the swatch), each the nearest in CIEDE2000 with L* within LIGHTNESS_TOLERANCE of the swatch and a
    luminance below the lighter tone's (a swatch lighter than the tone before it: the nearest skin darker
    than that tone's; module docstring)."""
    grid = _grid_colours()
    grid_lab = lab(grid)
    grid_luminance = luminance(grid)
    out = []
    lighter = np.inf
    for code in MONK_HEX:
        swatch = lab(hex_linear(code))
        delta = delta_e_2000(grid_lab, swatch)
        darker = grid_luminance < lighter
        allowed = (np.abs(grid_lab[..., 0] - swatch[0]) <= LIGHTNESS_TOLERANCE) & darker
        if not allowed.any():  # a swatch lighter than the tone before it (tone 3): the nearest darker skin
            allowed = darker
        delta = np.where(allowed, delta, np.inf)
        i, j, k = np.unravel_index(int(np.argmin(delta)), delta.shape)
        if not np.isfinite(delta[i, j, k]):
            raise RuntimeError(f"no skin of the model matches Monk swatch {code}")
        lighter = float(grid_luminance[i, j, k])
        out.append((float(MELANIN_GRID[i]), float(BLOOD_GRID[j]), float(DERMAL_MELANIN_GRID[k]), float(delta[i, j, k])))
    return tuple(out)


def skin_albedo(tone: int, rng: np.random.Generator, variation: float = 0.08) -> tuple[float, float, float]:
    """Linear RGB albedo of a person of Monk tone 1-10: the tone's fitted melanin and blood, each varied
    by a log-normal factor of ``variation`` (people of one tone differ a little)."""
    if not 1 <= tone <= 10:
        raise ValueError(f"Monk tone {tone} is outside 1-10")
    melanin, blood, dermal, _ = monk_fit()[tone - 1]
    factors = np.exp(rng.normal(0.0, variation, size=2))
    rgb = linear_rgb(reflectance(melanin * factors[0], blood * factors[1], dermal * factors[0]))
    return (float(rgb[0]), float(rgb[1]), float(rgb[2]))


def palm_albedo(tone: int) -> tuple[float, float, float]:
    """Palms and soles: a fifth of the tone's melanin (epidermal and dermal)."""
    melanin, blood, dermal, _ = monk_fit()[tone - 1]
    rgb = linear_rgb(reflectance(melanin / 5.0, blood, dermal / 5.0))
    return (float(rgb[0]), float(rgb[1]), float(rgb[2]))
