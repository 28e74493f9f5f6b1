"""normals: float32 (H, W, 3), unit face normals in the OpenCV camera frame, facing the camera, 0 = no surface.

Stored bit-exact in a numpy .npz (deflate): face normals are piecewise constant, so they compress about
24 times on the default scene. An octahedral 2x16-bit PNG is a third of that size but lossy (0.028 deg
at worst, measured); every frame stays under 1 MB without it (docs/format.md).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from renderer.channels.base import Channel, array_panel
from renderer.channels.codecs import npy_array, npz_array, npz_bytes


def normals_panel(normals: NDArray[np.float32]) -> NDArray[np.uint8]:
    """Camera-frame normals as colour, (n + 1) / 2; background black."""
    surface = np.any(normals != 0, axis=-1)
    out = np.zeros(normals.shape, dtype=np.uint8)
    out[surface] = np.clip((normals[surface] + 1.0) * 127.5, 0, 255).astype(np.uint8)
    return out


CHANNEL = Channel(
    name="normals", suffix=".npz", dtype=np.dtype(np.float32), ndim=3,
    extract=lambda frame, buffers: buffers.normals,
    encode=lambda normals: npz_bytes(normals, "normals"),
    decode=lambda data: npz_array(data, "normals"),
    doc="float32 H×W×3 camera frame, numpy .npz (`np.load(f)[\"normals\"]`), bit-exact",
    panel=normals_panel, legacy={".npy": npy_array},
    rank=20, sample_key="normals", preview=array_panel("normals", normals_panel), title="normals (camera frame)",
)
