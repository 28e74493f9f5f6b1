"""object_coords: float32 (H, W, 3), the surface point at each pixel centre in its object's own
(unscaled asset) frame, metres, 0 = no surface (the pixel-wise correspondences of Pix2Pose, SurfEmb,
ZebraPose); bit-exact .npy in a zstd frame (.npy.zst)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from renderer.channels.base import PanelSource
from renderer.channels.motion_common import float_image_channel
from renderer.scene.fragments import FrameSurfaces


def coords_panel(coords: NDArray[np.float32]) -> NDArray[np.uint8]:
    """Each axis scaled over the frame's own range, as RGB; background black."""
    surface = np.any(coords != 0, axis=-1)
    out = np.zeros(coords.shape, dtype=np.uint8)
    if surface.any():
        lo, hi = coords[surface].min(axis=0), coords[surface].max(axis=0)
        out[surface] = np.clip(255 * (coords[surface] - lo) / np.maximum(hi - lo, 1e-9), 0, 255).astype(np.uint8)
    return out


def _preview(frame: PanelSource) -> NDArray[np.uint8] | None:
    """Shown where NOCS (the same points, normalised) is not."""
    return None if "nocs" in frame.channels else coords_panel(frame.array("object_coords"))


def object_coords(surfaces: FrameSurfaces) -> NDArray[np.float32]:
    """The surface point at each pixel centre in its object's unscaled asset frame."""
    return surfaces.image(surfaces.object_points.astype(np.float32), np.float32)


CHANNEL = float_image_channel(
    "object_coords", "float32 H×W×3, the surface point in its object's unscaled asset frame, metres, 0 = no surface; "
    ".npy.zst", coords_panel, rank=50, surface=object_coords, preview=_preview, title="object coordinates")
