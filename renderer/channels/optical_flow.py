"""Optical flow, forward (to the next frame) and backward (to the previous), with validity masks.

flow_*: float32 (H, W, 2), (du, dv) in pixels from the pixel centre to where the same surface point
projects in the other frame (u right, v down), given wherever the point is in front of that camera;
0 where there is no surface or no such frame. flow_*_valid: bool (H, W), true where the point is
inside the other frame and visible there (renderer.labels.flow). Flow as a bit-exact .npy in a zstd frame
(.npy.zst); masks as 8-bit PNG (255 = valid). ``renderer export --format flo`` writes Middlebury .flo
files (cv2.readOpticalFlow).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from renderer.channels.base import Channel, PanelSource
from renderer.channels.motion_common import float_image_channel, mask_array, mask_bytes, mask_panel, motion_of

# The Middlebury colour wheel (Baker et al., "A Database and Evaluation Methodology for Optical Flow"):
# hue segments red-yellow, yellow-green, green-cyan, cyan-blue, blue-magenta, magenta-red.
_SEGMENTS = (15, 6, 4, 11, 13, 6)


def _colour_wheel() -> NDArray[np.float64]:
    ramps = []
    anchors = [(255, 0, 0), (255, 255, 0), (0, 255, 0), (0, 255, 255), (0, 0, 255), (255, 0, 255), (255, 0, 0)]
    for k, n in enumerate(_SEGMENTS):
        a, b = np.array(anchors[k], float), np.array(anchors[k + 1], float)
        ramps.append(a + (b - a) * (np.arange(n)[:, None] / n))
    return np.concatenate(ramps)


_WHEEL = _colour_wheel()


def flow_panel(flow: NDArray[np.float32], max_magnitude: float | None = None) -> NDArray[np.uint8]:
    """The standard flow colouring: hue = direction, saturation = magnitude over the frame's largest."""
    u, v = flow[..., 0].astype(np.float64), flow[..., 1].astype(np.float64)
    magnitude = np.hypot(u, v)
    scale = max_magnitude if max_magnitude is not None else max(float(magnitude.max()), 1e-9)
    angle = np.arctan2(-v, -u) / np.pi  # in [-1, 1]
    position = (angle + 1) / 2 * (len(_WHEEL) - 1)
    k0 = np.floor(position).astype(int)
    k1 = (k0 + 1) % len(_WHEEL)
    f = (position - k0)[..., None]
    colour = (1 - f) * _WHEEL[k0] + f * _WHEEL[k1]
    radius = np.clip(magnitude / scale, 0, 1)[..., None]
    out = 255 - radius * (255 - colour)  # white at rest, saturated at the largest motion
    return np.asarray(np.clip(out, 0, 255), dtype=np.uint8)


def _preview(frame: PanelSource, direction: str) -> NDArray[np.uint8] | None:
    """Forward flow, or backward where there is no forward flow (a sequence's last frame); pixels whose
    flow is not valid darkened. One flow panel per frame: the backward one gives way to the forward one."""
    forward_valid = frame.array("flow_forward_valid") if "flow_forward_valid" in frame.channels else None
    forward_shown = "flow_forward" in frame.channels and (forward_valid is None or forward_valid.any())
    if (direction == "forward") != forward_shown:
        return None
    valid_name = f"flow_{direction}_valid"
    panel = flow_panel(frame.array(f"flow_{direction}"))
    if valid_name in frame.channels:
        valid = frame.array(valid_name)
        panel[~valid] = (panel[~valid] * 0.35).astype(np.uint8)
    return panel


def _flow_channel(direction: str) -> Channel:
    return float_image_channel(
        f"flow_{direction}",
        f"float32 H×W×2, (du, dv) pixels to the {'next' if direction == 'forward' else 'previous'} frame; .npy.zst",
        flow_panel, rank=70 if direction == "forward" else 72, preview=lambda frame: _preview(frame, direction),
        title="optical flow")


def _valid_channel(direction: str) -> Channel:
    name = f"flow_{direction}_valid"
    return Channel(
        name=name, suffix=".png", dtype=np.dtype(np.bool_), ndim=2,
        extract=lambda frame, buffers: getattr(motion_of(buffers), name),
        encode=mask_bytes, decode=mask_array,
        doc=f"bool H×W, flow_{direction} lands on the same surface point, visible; 8-bit PNG, 255 = valid",
        panel=mask_panel, rank=71 if direction == "forward" else 73, motion=True, sample_key=name,
    )


CHANNELS = (_flow_channel("forward"), _valid_channel("forward"), _flow_channel("backward"), _valid_channel("backward"))


def write_flo(path: str, flow: NDArray[np.float32]) -> None:
    """A Middlebury .flo file (what cv2.readOpticalFlow reads)."""
    import cv2
    if not cv2.writeOpticalFlow(path, np.ascontiguousarray(flow, dtype=np.float32)):
        raise OSError(f"{path}: cannot write")
