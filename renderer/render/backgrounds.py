"""Background images (what shows where no surface is), from a BackgroundDescription. Pure numpy."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from renderer.scene.description import BackgroundDescription
from renderer.scene.textures import load_image, make_texture


def background_image(background: BackgroundDescription, width: int, height: int) -> NDArray[np.float32]:
    """(height, width, 3) float32 RGB in [0, 1], on the same scale as the rendered colours."""
    colors = np.array(background.colors, dtype=np.float32)
    if background.kind == "solid":
        return np.broadcast_to(colors[0], (height, width, 3)).astype(np.float32)
    if background.kind == "gradient":
        t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
        return np.broadcast_to((1 - t) * colors[0] + t * colors[1], (height, width, 3)).astype(np.float32)
    if background.kind == "texture":
        assert background.texture is not None
        grey = make_texture(background.texture).astype(np.float32) / 255.0
        reps = (int(np.ceil(height / grey.shape[0])), int(np.ceil(width / grey.shape[1])))
        tiled = np.tile(grey, reps)[:height, :width]
        return (tiled[..., None] * colors[0]).astype(np.float32)
    image = load_image(background.path, width, height)
    return image.astype(np.float32) / 255.0
