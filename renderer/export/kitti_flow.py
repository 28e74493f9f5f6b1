"""Optical flow as KITTI's 16-bit PNGs, what the KITTI flow devkit and most flow training code read:
``<out>/forward/NNNNNN.png`` and ``<out>/backward/NNNNNN.png`` (default out ``<root>/kitti_flow``).

Each is a 3-channel uint16 PNG: channel 1 (red) = u * 64 + 2^15, channel 2 (green) = v * 64 + 2^15,
channel 3 (blue) = 1 where the flow is valid. Valid means what our validity means (the point is inside
the other frame and visible there: KITTI's ``flow_noc``), and also that the flow fits the format's
range, |u|, |v| < 512 px; values are rounded to 1/64 px (the format's step).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from renderer.channels.codecs import png_bytes
from renderer.export.base import Exporter
from renderer.io.dataset import Dataset
from renderer.io.format import atomic_write_bytes, frame_name

SCALE = 64.0
OFFSET = 2**15


def kitti_flow_png(flow: NDArray[np.float32], valid: NDArray[np.bool_]) -> bytes:
    """A KITTI flow PNG of (H, W, 2) flow in pixels and its (H, W) validity."""
    scaled = np.rint(flow.astype(np.float64) * SCALE + OFFSET)
    representable = np.all((scaled >= 0) & (scaled <= 65535), axis=-1)
    image = np.zeros((*flow.shape[:2], 3), dtype=np.uint16)
    image[..., :2] = np.clip(scaled, 0, 65535)
    image[..., 2] = valid & representable
    return png_bytes(np.ascontiguousarray(image[..., ::-1]))  # OpenCV writes BGR: red = u


def export_kitti_flow(root: str | Path, out: str | Path | None = None) -> Path:
    dataset = Dataset(root)
    target = Path(out) if out is not None else Path(root) / "kitti_flow"
    directions = [d for d in ("forward", "backward")
                  if f"flow_{d}" in dataset.channels and f"flow_{d}_valid" in dataset.channels]
    if not directions:
        dataset.require(("flow_forward", "flow_forward_valid"), "the KITTI flow export")
    for direction in directions:
        (target / direction).mkdir(parents=True, exist_ok=True)
    for i in range(len(dataset)):
        frame = dataset[i]
        for direction in directions:
            data = kitti_flow_png(frame.array(f"flow_{direction}"), frame.array(f"flow_{direction}_valid"))
            atomic_write_bytes(target / direction / f"{frame_name(frame.index)}.png", data)
    return target


EXPORTER = Exporter("kitti_flow", export_kitti_flow, "KITTI 2015 flow PNGs (16-bit, with validity)")
