"""semantic: uint16 (H, W) category ids per pixel (0 = background), from the instance map; 16-bit PNG."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from renderer.channels.base import Channel
from renderer.channels.codecs import png_array, png_bytes
from renderer.scene.description import FrameDescription


def semantic_from_instance(instance: NDArray[np.uint16], frame: FrameDescription) -> NDArray[np.uint16]:
    """Category id per pixel (0 = background) from the instance map."""
    lookup = np.zeros(len(frame.labelled_objects) + 1, dtype=np.uint16)
    for obj in frame.labelled_objects:
        lookup[obj.instance_id] = obj.category_id
    return lookup[instance]


CHANNEL = Channel(
    name="semantic", suffix=".png", dtype=np.dtype(np.uint16), ndim=2,
    extract=lambda frame, buffers: semantic_from_instance(buffers.instance, frame),
    encode=png_bytes, decode=png_array,
    doc="uint16 PNG, category ids, 0 = background",
    rank=40, sample_key="semantic", to_sample=lambda semantic: semantic.astype(np.int64),
)
