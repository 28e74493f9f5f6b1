"""Scene flow, forward (to the next frame) and backward (to the previous).

scene_flow_*: float32 (H, W, 3), metres: for the surface point seen at the pixel centre, its position in
the other frame's OpenCV camera frame minus its position in this frame's: the 3D motion relative to the
camera, of which optical flow is the image (camera motion included, as in KITTI's scene flow). 0 where
there is no surface or no such frame. Bit-exact .npy in a zstd frame (.npy.zst).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from renderer.channels.base import Channel
from renderer.channels.motion_common import float_image_channel


def scene_flow_panel(flow: NDArray[np.float32]) -> NDArray[np.uint8]:
    """Direction as colour (x red, y green, z blue), saturation the frame's largest motion; grey at rest."""
    scale = max(float(np.abs(flow).max(initial=0.0)), 1e-9)
    return np.asarray(np.clip(127.5 + 127.5 * flow / scale, 0, 255), dtype=np.uint8)


def _channel(direction: str) -> Channel:
    return float_image_channel(
        f"scene_flow_{direction}", f"float32 H×W×3 metres, the point's camera-frame position in the "
        f"{'next' if direction == 'forward' else 'previous'} frame minus here; .npy.zst", scene_flow_panel,
        rank=80 if direction == "forward" else 81)


CHANNELS = (_channel("forward"), _channel("backward"))
