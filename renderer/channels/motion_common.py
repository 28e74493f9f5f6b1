"""Helpers shared by the motion channels (object coordinates, NOCS, optical flow)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from renderer.buffers import MotionBuffers, RenderBuffers
from renderer.channels.codecs import png_array, png_bytes


def motion_of(buffers: RenderBuffers) -> MotionBuffers:
    if buffers.motion is None:
        raise ValueError("motion channels need the label pass's motion buffers (renderer.flow.motion_buffers)")
    return buffers.motion


def mask_bytes(mask: NDArray[np.bool_]) -> bytes:
    """A bool mask as an 8-bit PNG, 255 = true (viewable as is)."""
    return png_bytes(mask.astype(np.uint8) * 255)


def mask_array(data: bytes) -> NDArray[np.bool_]:
    image = png_array(data)
    if image.dtype != np.uint8 or image.ndim != 2:
        raise ValueError(f"expected an 8-bit greyscale mask, found {image.dtype} {image.shape}")
    return np.asarray(image > 0)


def mask_panel(mask: NDArray[Any]) -> NDArray[np.uint8]:
    return np.repeat((mask.astype(np.uint8) * 255)[..., None], 3, axis=-1)
