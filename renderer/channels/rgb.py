"""rgb: the image, uint8 (H, W, 3), display-encoded (docs/format.md), an 8-bit PNG."""

from __future__ import annotations

import numpy as np

from renderer.channels import Channel
from renderer.channels.codecs import png_array, png_bytes

CHANNEL = Channel(
    name="rgb", suffix=".png", dtype=np.dtype(np.uint8), ndim=3,
    extract=lambda frame, buffers: buffers.rgb,
    encode=lambda rgb: png_bytes(rgb[..., ::-1]),
    decode=lambda data: np.ascontiguousarray(png_array(data)[..., ::-1]),
    doc="uint8 RGB, 8-bit PNG",
)
