"""rgb: the image, uint8 (H, W, 3), display-encoded (docs/format.md), an 8-bit PNG."""

from __future__ import annotations

import numpy as np

from renderer.channels.base import Channel, PanelSource, channels_first
from renderer.channels.codecs import png_array, png_bytes
from renderer.channels.panels import Image, boxes_and_landmarks


def _preview(frame: PanelSource) -> Image:
    return boxes_and_landmarks(frame.array("rgb"), frame.objects)

CHANNEL = Channel(
    name="rgb", suffix=".png", dtype=np.dtype(np.uint8), ndim=3,
    extract=lambda frame, buffers: buffers.rgb,
    encode=lambda rgb: png_bytes(rgb[..., ::-1]),
    decode=lambda data: np.ascontiguousarray(png_array(data)[..., ::-1]),
    doc="uint8 RGB, 8-bit PNG",
    rank=0, sample_key="image", to_sample=lambda rgb: channels_first(rgb).astype(np.float32) / np.float32(255),
    preview=_preview, title="rgb, boxes, landmarks",
)
