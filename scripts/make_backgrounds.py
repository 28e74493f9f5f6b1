"""Write the shipped background images: assets/backgrounds/bg_NN.jpg (procedural, made with numpy).

Stand-ins for photographs (which we do not ship): soft colour fields, blobs, stripes and noise, so a
scene with ``background: {kind: images}`` works out of the box. Point ``background.images`` at a
folder of your own photos for real clutter.

    .venv/bin/python scripts/make_backgrounds.py
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

OUT = Path(__file__).resolve().parent.parent / "assets" / "backgrounds"
SIZE = 384


def image(rng: np.random.Generator) -> np.ndarray:
    y, x = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    base = rng.uniform(0.2, 0.8, 3)
    out = np.ones((SIZE, SIZE, 3)) * base
    out += (x[..., None] - 0.5) * rng.uniform(-0.4, 0.4, 3) + (y[..., None] - 0.5) * rng.uniform(-0.4, 0.4, 3)
    for _ in range(int(rng.integers(6, 20))):  # soft blobs and hard-edged boxes of other colours
        cx, cy, r = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.03, 0.2)
        color = rng.uniform(0, 1, 3)
        if rng.random() < 0.5:
            weight = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r**2))[..., None]
        else:
            weight = ((np.abs(x - cx) < r) & (np.abs(y - cy) < r * rng.uniform(0.3, 1.5)))[..., None] * 0.9
        out = out * (1 - weight) + color * weight
    if rng.random() < 0.5:
        freq = rng.integers(5, 30)
        out *= 0.85 + 0.15 * (np.sin(2 * np.pi * freq * (x + rng.uniform(-0.5, 0.5) * y)) > 0)[..., None]
    out += rng.normal(0, 0.03, out.shape)
    return (np.clip(out, 0, 1) * 255).astype(np.uint8)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2026)
    for n in range(8):
        cv2.imwrite(str(OUT / f"bg_{n:02d}.jpg"), image(rng)[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 85])


if __name__ == "__main__":
    main()
