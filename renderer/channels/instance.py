"""instance: uint16 (H, W) instance ids (1 + index in the frame's object list, 0 = background), 16-bit PNG."""

from __future__ import annotations

import numpy as np

from renderer.channels import Channel
from renderer.channels.codecs import png_array, png_bytes

CHANNEL = Channel(
    name="instance", suffix=".png", dtype=np.dtype(np.uint16), ndim=2,
    extract=lambda frame, buffers: buffers.instance,
    encode=png_bytes, decode=png_array,
    doc="uint16 PNG, instance ids, 0 = background",
)
