"""Camera models: how camera-frame points map to pixels and back, one protocol for every consumer.

The label pass, the engines, landmark labels, the environment background and the exports ask a
``CameraModel`` (``camera_model(frame.camera)``) instead of reading K themselves, so a lens with
distortion, a fisheye or a stereo rig is a new model here, not an edit in each consumer.

Conventions (docs/format.md): OpenCV camera frame (x right, y down, z forward), metres, the centre of
pixel (row r, column c) at (u, v) = (c, r). ``depth`` is z along the optical axis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from renderer.scene.description import CameraDescription

Array = NDArray[np.float64]


class CameraModel(Protocol):
    """What a camera model gives. ``name`` and ``intrinsics()`` are what exports write (OpenCV's form)."""

    @property
    def name(self) -> str: ...

    @property
    def width(self) -> int: ...

    @property
    def height(self) -> int: ...

    def project(self, points_camera: Array) -> Array:
        """(N, 2) pixel (u, v) of (N, 3) camera-frame points, not rounded; NaN or inf where undefined."""
        ...

    def rays(self, uv: Array) -> Array:
        """(N, 3) camera-frame directions through pixels (u, v), scaled to z = 1."""
        ...

    def unproject(self, uv: Array, depth: Array) -> Array:
        """(N, 3) camera-frame points seen at pixels (u, v) at depth z."""
        ...

    def pixel_rays(self) -> Array:
        """(H, W, 3) directions (z = 1) through every pixel centre."""
        ...

    def intrinsics(self) -> dict[str, Any]:
        """The model in OpenCV's form for exports: ``model``, ``K`` (3x3 list), ``distortion`` (list)."""
        ...

    def pinhole_K(self) -> Array:
        """The 3x3 K of the pinhole a rasteriser draws (for pinhole itself: its K). A model that a
        rasteriser cannot draw directly renders this pinhole's image and resamples it."""
        ...


@dataclass(frozen=True)
class Pinhole:
    """The ideal pinhole, u = fx x / z + s y / z + cx, v = fy y / z + cy (K, with optional skew s)."""

    K: Array
    width: int
    height: int
    name: str = "pinhole"

    def project(self, points_camera: Array) -> Array:
        homogeneous = np.asarray(points_camera, float) @ self.K.T
        with np.errstate(divide="ignore", invalid="ignore"):
            return homogeneous[:, :2] / homogeneous[:, 2:3]

    def rays(self, uv: Array) -> Array:
        uv = np.asarray(uv, float)
        pixels = np.concatenate([uv, np.ones((len(uv), 1))], axis=1)
        return np.asarray(pixels @ np.linalg.inv(self.K).T)

    def unproject(self, uv: Array, depth: Array) -> Array:
        return self.rays(uv) * np.asarray(depth, float)[:, None]

    def pixel_rays(self) -> Array:
        v, u = np.mgrid[0:self.height, 0:self.width].astype(np.float64)
        return self.rays(np.stack([u.ravel(), v.ravel()], axis=1)).reshape(self.height, self.width, 3)

    def intrinsics(self) -> dict[str, Any]:
        return {"model": self.name, "K": self.K.tolist(), "distortion": []}

    def pinhole_K(self) -> Array:
        return self.K


def camera_model(camera: CameraDescription) -> CameraModel:
    """The model of a frame's camera (today every camera is a pinhole of K)."""
    return Pinhole(np.asarray(camera.K, dtype=np.float64), camera.width, camera.height)
