"""nocs: float32 (H, W, 3), object coordinates normalised as in NOCS (Wang et al. 2019): (p - c) / d + 0.5
with c the centre and d the diagonal of the asset's axis-aligned box, so every object lies in [0, 1]^3;
0 = no surface; bit-exact .npy in a zstd frame (.npy.zst)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from renderer.channels.motion_common import float_image_channel


def nocs_panel(nocs: NDArray[np.float32]) -> NDArray[np.uint8]:
    return np.asarray(np.clip(nocs * 255.0, 0, 255), dtype=np.uint8)


CHANNEL = float_image_channel(
    "nocs", "float32 H×W×3, (p − box centre) / box diagonal + 0.5 in the asset frame, 0 = no surface; .npy.zst",
    nocs_panel)
