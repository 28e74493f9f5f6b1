"""Procedural textures made with numpy: a TextureDescription always gives the same pixels."""

from __future__ import annotations

import functools

import cv2
import numpy as np
from numpy.typing import NDArray

from renderer.errors import quiet_stderr
from renderer.scene.description import TextureDescription
from renderer.scene.image_files import image_size_problem


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
    """Greyscale uint8 image (size x size) for a texture description; cached since it is pure."""
    rng = np.random.default_rng(texture.seed)
    size = texture.size
    y, x = np.mgrid[0:size, 0:size] / size
    if texture.kind == "wood":
        # Long grain along x: stretch noise along x, rings across y bent slowly by it.
        warp = _fractal_noise(rng, size)[:, ::8].repeat(8, axis=1)
        planks = np.floor(y * 5) / 5
        rings = np.sin(2 * np.pi * (14 * y + 1.2 * warp + 3.0 * planks))
        fibre = _smooth_noise(rng, size, 64)[:, ::16].repeat(16, axis=1)
        seams = (np.abs(y * 5 - np.round(y * 5)) < 0.006).astype(float)
        value = 0.78 + 0.1 * rings + 0.12 * (fibre - 0.5) - 0.25 * seams
    elif texture.kind == "checker":
        value = 0.35 + 0.5 * ((np.floor(x * 8) + np.floor(y * 8)) % 2)
    elif texture.kind == "noise":
        value = 0.4 + 0.6 * _fractal_noise(rng, size)
    elif texture.kind == "stripes":
        count = int(rng.integers(4, 16))
        angle = rng.uniform(0, np.pi)
        # Whole stripe counts along both axes keep the texture seamless when it repeats.
        fx, fy = np.round(count * np.cos(angle)), np.round(count * np.sin(angle))
        value = 0.4 + 0.5 * (np.sin(2 * np.pi * (fx * x + fy * y)) > 0)
    else:
        raise ValueError(f"unknown texture kind {texture.kind!r}")
    return np.ascontiguousarray((np.clip(value, 0.0, 1.0) * 255 + 0.5).astype(np.uint8))


@functools.lru_cache(maxsize=32)
def load_image(path: str, width: int, height: int) -> NDArray[np.uint8]:
    """An image file as RGB uint8 (height, width): scaled to cover the size, then centre-cropped. ValueError
    for a file that cannot be read or has more pixels than MAX_IMAGE_PIXELS (judged from its header)."""
    problem = image_size_problem(path)
    if problem is not None:
        raise ValueError(f"{path}: {problem}")
    with quiet_stderr():  # libjpeg and libpng print their complaints themselves
        image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"{path}: missing or unreadable image")
    h, w = image.shape[:2]
    factor = max(width / w, height / h)
    size = (max(width, int(np.ceil(w * factor))), max(height, int(np.ceil(h * factor))))
    resized = cv2.resize(image, size, interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR)
    top, left = (size[1] - height) // 2, (size[0] - width) // 2
    return np.ascontiguousarray(resized[top:top + height, left:left + width, ::-1])


def texture_rgb(texture: TextureDescription) -> NDArray[np.uint8]:
    """RGB uint8 pixels of a texture: procedural greyscale repeated, or the image file (square)."""
    if texture.kind == "image":
        return load_image(texture.path, texture.size, texture.size)
    return np.repeat(make_texture(texture)[..., None], 3, axis=2)
