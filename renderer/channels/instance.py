"""instance: uint16 (H, W) instance ids (1 + index in the frame's object list, 0 = background), 16-bit PNG."""

from __future__ import annotations

import numpy as np

from renderer.channels.base import Channel, PanelSource
from renderer.channels.codecs import png_array, png_bytes
from renderer.channels.panels import Image, tinted_instances


def _preview(frame: PanelSource) -> Image:
    instance = frame.array("instance")
    under = frame.array("rgb") if "rgb" in frame.channels else np.zeros((*instance.shape, 3), np.uint8)
    return tinted_instances(under, instance, frame.objects)

CHANNEL = Channel(
    name="instance", suffix=".png", dtype=np.dtype(np.uint16), ndim=2,
    extract=lambda frame, buffers: buffers.instance,
    encode=png_bytes, decode=png_array,
    doc="uint16 PNG, instance ids, 0 = background",
    rank=30, sample_key="instance", to_sample=lambda instance: instance.astype(np.int64),
    preview=_preview, title="instances",
)
