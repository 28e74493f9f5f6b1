"""Weather and atmosphere on the RGB image, from exact depth: pure numpy functions of the frame's colour,
its label pass's depth and its description, so they are the same for every engine (labels untouched).

Fog (Koschmieder): in linear radiance, L' = L t + A (1 - t), t = exp(-beta d), d the distance from the
camera centre along the pixel centre's ray to the surface (d = z |ray|, ray scaled to z = 1: exact for
the surface the depth channel labels at that pixel); where no surface is seen, t = 0 (the airlight).
The colour is display-encoded (linear ** (1 / 2.2), the engines' shared transfer), so it is decoded,
fogged and encoded again.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from renderer.scene.camera import CameraModel
from renderer.scene.description import FogDescription

DISPLAY_GAMMA = 2.2


def transmittance(depth: NDArray[np.float32], camera: CameraModel, beta: float) -> NDArray[np.float32]:
    """(H, W) exp(-beta d) for the surface at each pixel centre (0 where depth is 0: no surface)."""
    distance = depth.astype(np.float64) * np.linalg.norm(camera.pixel_rays(), axis=2)
    t = np.where(depth > 0, np.exp(-beta * distance), 0.0)
    return t.astype(np.float32)


def apply_fog(colour: NDArray[np.float32], depth: NDArray[np.float32], camera: CameraModel,
              fog: FogDescription) -> NDArray[np.float32]:
    """(H, W, 3) display-encoded colour in [0, 1] through the fog."""
    linear = np.power(np.clip(colour, 0.0, 1.0), np.float32(DISPLAY_GAMMA))
    t = transmittance(depth, camera, fog.beta)[..., None]
    airlight = np.asarray(fog.airlight, dtype=np.float32)
    fogged = linear * t + airlight * (np.float32(1.0) - t)
    return np.asarray(np.power(fogged, np.float32(1.0 / DISPLAY_GAMMA)), dtype=np.float32)
