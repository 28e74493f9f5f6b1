"""What a backend returns for one frame: RGB plus label buffers sampled at pixel centres."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class RenderBuffers:
    """Buffers of one frame, rows top to bottom (image order), H x W.

    rgb: uint8 (H, W, 3), antialiased colour image.
    depth: float32 (H, W), metres along the optical axis (camera z) at the pixel centre; 0 = no surface.
    normals: float32 (H, W, 3), unit geometric (face) normals in the OpenCV camera frame, turned to face
        the camera; 0 = no surface.
    instance: uint16 (H, W), instance id of the surface at the pixel centre; 0 = background.
    unoccluded_pixels: int64 (N,), for the frame's N objects in order, the pixel centres each object
        covers when rendered alone (nothing in front of it).
    The label buffers come from one non-multisampled pass, so id, depth and normal at a pixel all
    describe the same surface point: the one the ray through the pixel centre hits first.
    """

    rgb: NDArray[np.uint8]
    depth: NDArray[np.float32]
    normals: NDArray[np.float32]
    instance: NDArray[np.uint16]
    unoccluded_pixels: NDArray[np.int64]
