"""Helpers shared by the float image channels (object coordinates, texture coordinates, flow) and masks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from renderer.channels.base import Channel, attribute_of
from renderer.channels.codecs import npy_zst_array, npy_zst_bytes, png_array, png_bytes
from renderer.scene.buffers import MotionBuffers, RenderBuffers
from renderer.scene.fragments import FrameSurfaces


def motion_of(buffers: RenderBuffers) -> MotionBuffers:
    if buffers.motion is None:
        raise ValueError("motion channels need the label pass's motion buffers (renderer.labels.flow.motion_buffers)")
    return buffers.motion


def float_image_channel(name: str, doc: str, panel: Callable[[Any], NDArray[np.uint8]], rank: int,
                        surface: Callable[[FrameSurfaces], NDArray[Any]] | None = None, **metadata: Any) -> Channel:
    """A channel holding a float32 (H, W, C) image, stored as a bit-exact .npy in a zstd frame; torch
    samples carry it channels first under its own name. Made by ``surface`` from the frame's fragments
    (a surface attribute), else the MotionBuffers field ``name`` (a motion channel)."""
    extract = attribute_of(name) if surface is not None else (lambda frame, buffers: getattr(motion_of(buffers), name))
    return Channel(
        name=name, suffix=".npy.zst", dtype=np.dtype(np.float32), ndim=3, extract=extract,
        encode=npy_zst_bytes, decode=npy_zst_array, doc=doc, panel=panel, rank=rank, motion=surface is None,
        surface=surface, sample_key=name, **metadata)


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
