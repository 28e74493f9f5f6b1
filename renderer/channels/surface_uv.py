"""surface_uv: float32 (H, W, 2), the seen mesh's own texture coordinates (u, v) at each pixel centre,
exact for the surface point (perspective-correct over its triangle); 0 where there is no surface or the
mesh has none per vertex. Every person shares anny's UV layout, so with body_parts it gives DensePose-style
correspondences: the same (u, v) is the same point of the body for every person, shape and pose.
Bit-exact .npy in a zstd frame (.npy.zst)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from renderer.channels.base import array_panel
from renderer.channels.motion_common import float_image_channel
from renderer.scene.fragments import FrameSurfaces


def uv_panel(uv: NDArray[np.float32]) -> NDArray[np.uint8]:
    """u as red, v as green (each over [0, 1]), blue where there is a surface with UV."""
    out = np.zeros((*uv.shape[:2], 3), dtype=np.uint8)
    out[..., :2] = np.clip(np.rint(uv * 255), 0, 255).astype(np.uint8)
    out[..., 2] = np.where(np.any(uv != 0, axis=-1), 96, 0).astype(np.uint8)
    return out


def surface_uv(surfaces: FrameSurfaces) -> NDArray[np.float32]:
    """The seen mesh's own (u, v) at each pixel centre, interpolated over its triangle; 0 where none."""
    uv = surfaces.vertex_attribute(lambda mesh: mesh.uv, 2)
    return surfaces.image(uv.astype(np.float32), np.float32)


CHANNEL = float_image_channel(
    "surface_uv", "float32 H×W×2, the mesh's texture coordinates (u, v) at the pixel centre (people: anny's UV "
    "layout, DensePose-style), 0 = none; .npy.zst", uv_panel, rank=92, surface=surface_uv,
    preview=array_panel("surface_uv", uv_panel),
    title="surface UV")
