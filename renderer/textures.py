"""Procedural textures made with numpy: a TextureDescription always gives the same pixels."""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import NDArray

from renderer.scene import TextureDescription


def _smooth_noise(rng: np.random.Generator, size: int, cells: int) -> NDArray[np.float64]:
    """Value noise: a random grid of cells x cells, bilinearly upsampled and tiled seamlessly."""
    grid = rng.random((cells, cells))
    coords = np.arange(size) * cells / size
    i0 = np.floor(coords).astype(int)
    t = coords - i0
    t = t * t * (3 - 2 * t)
    i1 = (i0 + 1) % cells
    rows = grid[i0][:, i0] * (1 - t)[None, :] + grid[i0][:, i1] * t[None, :]
    rows1 = grid[i1][:, i0] * (1 - t)[None, :] + grid[i1][:, i1] * t[None, :]
    return rows * (1 - t)[:, None] + rows1 * t[:, None]


def _fractal_noise(rng: np.random.Generator, size: int) -> NDArray[np.float64]:
    total = np.zeros((size, size))
    weight = 1.0
    for cells in (4, 8, 16, 32):
        total += weight * _smooth_noise(rng, size, cells)
        weight *= 0.5
    return (total - total.min()) / max(np.ptp(total), 1e-9)


@functools.lru_cache(maxsize=64)
def make_texture(texture: TextureDescription) -> NDArray[np.uint8]:
    """RGB uint8 image (size x size x 3) for a texture description; cached since it is pure."""
    rng = np.random.default_rng(texture.seed)
    size = texture.size
    y, x = np.mgrid[0:size, 0:size] / size
    if texture.kind == "wood":
        warp = _fractal_noise(rng, size)
        rings = np.sin(2 * np.pi * (8 * y + 3.0 * warp + 0.3 * np.sin(2 * np.pi * x)))
        grain = _fractal_noise(rng, size)
        value = 0.72 + 0.14 * rings + 0.14 * (grain - 0.5)
    elif texture.kind == "checker":
        value = 0.35 + 0.5 * ((np.floor(x * 8) + np.floor(y * 8)) % 2)
    elif texture.kind == "noise":
        value = 0.4 + 0.6 * _fractal_noise(rng, size)
    else:
        raise ValueError(f"unknown texture kind {texture.kind!r}")
    rgb = np.clip(value[..., None] * np.asarray(texture.tint)[None, None, :], 0.0, 1.0)
    return np.ascontiguousarray((rgb * 255 + 0.5).astype(np.uint8))
