"""Camera models: how camera-frame points map to pixels and back, one protocol for every consumer.

The label pass, the engines, landmark labels, the environment background and the exports ask a
``CameraModel`` (``camera_model(frame.camera)``) instead of reading K themselves, so a lens with
distortion, a fisheye or a stereo rig is a new model here, not an edit in each consumer.

Conventions (docs/format.md): OpenCV camera frame (x right, y down, z forward), metres, the centre of
pixel (row r, column c) at (u, v) = (c, r). ``depth`` is z along the optical axis.
"""

from __future__ import annotations

from collections.abc import Callable
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

    def directions(self, uv: Array) -> Array:
        """(N, 3) unit camera-frame directions through pixels (u, v), any angle off the axis (a fisheye
        sees past 90 degrees, where ``rays`` cannot be scaled to z = 1); NaN where no ray passes: the
        lens does not reach that pixel (outside a fisheye's image circle, or where its distortion
        folds back and projection has no inverse)."""
        ...

    def intrinsics(self) -> dict[str, Any]:
        """The model in OpenCV's form for exports: ``model``, ``K`` (3x3 list), ``distortion`` (list)."""
        ...

    def pinhole_K(self) -> Array:
        """The 3x3 K of the pinhole a rasteriser draws (for pinhole itself: its K). A model that a
        rasteriser cannot draw directly renders this pinhole's image and resamples it."""
        ...


class _RaysToPoints:
    """unproject and pixel_rays of any model, from its ``rays`` (shared by the models below)."""

    width: int
    height: int

    def rays(self, uv: Array) -> Array:
        raise NotImplementedError

    def unproject(self, uv: Array, depth: Array) -> Array:
        return self.rays(uv) * np.asarray(depth, float)[:, None]

    def pixel_rays(self) -> Array:
        v, u = np.mgrid[0:self.height, 0:self.width].astype(np.float64)
        return self.rays(np.stack([u.ravel(), v.ravel()], axis=1)).reshape(self.height, self.width, 3)

    def project(self, points_camera: Array) -> Array:
        raise NotImplementedError

    def directions(self, uv: Array) -> Array:
        rays = self.rays(uv)
        with np.errstate(invalid="ignore", divide="ignore"):
            unit = rays / np.linalg.norm(rays, axis=1, keepdims=True)
        return _where_inverse(self, unit, uv)


ROUND_TRIP_PX = 1e-3  # a direction is the pixel's ray where it projects back within this


def _where_inverse(model: _RaysToPoints, unit: Array, uv: Array) -> Array:
    """``unit`` with NaN rows where projecting them back misses their pixel (no inverse there)."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        back = model.project(unit)
        missed = ~(np.linalg.norm(back - np.asarray(uv, float), axis=1) <= ROUND_TRIP_PX)
    out = unit.copy()
    out[missed] = np.nan
    return out


@dataclass(frozen=True)
class Pinhole(_RaysToPoints):
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

    def intrinsics(self) -> dict[str, Any]:
        return {"model": self.name, "K": self.K.tolist(), "distortion": []}

    def pinhole_K(self) -> Array:
        return self.K


def camera_model(camera: CameraDescription) -> CameraModel:
    """The model of a frame's camera: a pinhole of K, or its lens (camera.lens, by LENS_MODELS)."""
    K = np.asarray(camera.K, dtype=np.float64)
    lens = camera.lens
    if lens is None:
        return Pinhole(K, camera.width, camera.height)
    if lens.model not in LENS_MODELS:
        raise ValueError(f"lens model {lens.model!r} is not one of {', '.join(LENS_MODELS)}")
    return LENS_MODELS[lens.model].make(K, camera.width, camera.height, tuple(lens.distortion),
                                        lens.field_of_view_deg)


@dataclass(frozen=True)
class BrownConrady(_RaysToPoints):
    """OpenCV's radial-tangential lens (cv2.projectPoints' model): distortion (k1, k2, p1, p2, k3, k4, k5,
    k6), applied to the normalised coordinates (x / z, y / z) before K. The lens models the next step
    renders through (resampling a pinhole render, docs/conditions.md); here: projection and its inverse."""

    K: Array
    width: int
    height: int
    distortion: tuple[float, ...]
    field_of_view_deg: float = 0.0
    name: str = "brown_conrady"

    def _coefficients(self) -> tuple[float, ...]:
        d = tuple(self.distortion) + (0.0,) * (8 - len(self.distortion))
        return d[:8]

    def distort(self, normalised: Array) -> Array:
        """(N, 2) distorted normalised coordinates of (N, 2) ideal ones."""
        k1, k2, p1, p2, k3, k4, k5, k6 = self._coefficients()
        x, y = normalised[:, 0], normalised[:, 1]
        r2 = x * x + y * y
        radial = (1 + k1 * r2 + k2 * r2 ** 2 + k3 * r2 ** 3) / (1 + k4 * r2 + k5 * r2 ** 2 + k6 * r2 ** 3)
        xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
        yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
        return np.stack([xd, yd], axis=1)

    def undistort(self, distorted: Array, iterations: int = 100) -> Array:
        """(N, 2) ideal normalised coordinates of distorted ones (fixed-point iteration, OpenCV's method,
        each point until it moves by less than 1e-14 or ``iterations``; where it does not converge,
        directions() finds the round trip missing its pixel)."""
        k1, k2, p1, p2, k3, k4, k5, k6 = self._coefficients()
        out = np.array(distorted, dtype=np.float64, copy=True)
        active = np.arange(len(out))
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            for _ in range(iterations):
                if not len(active):
                    break
                x, y = out[active, 0], out[active, 1]
                r2 = x * x + y * y
                radial = (1 + r2 * (k1 + r2 * (k2 + r2 * k3))) / (1 + r2 * (k4 + r2 * (k5 + r2 * k6)))
                dx = 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
                dy = p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
                x_next = (distorted[active, 0] - dx) / radial
                y_next = (distorted[active, 1] - dy) / radial
                moving = ~(np.abs(x_next - x) + np.abs(y_next - y) <= 1e-14)
                out[active, 0], out[active, 1] = x_next, y_next
                active = active[moving]
        return out

    def project(self, points_camera: Array) -> Array:
        points = np.asarray(points_camera, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            normalised = points[:, :2] / points[:, 2:3]
        distorted = self.distort(normalised)
        return np.asarray(distorted @ self.K[:2, :2].T + self.K[:2, 2])

    def rays(self, uv: Array) -> Array:
        distorted = (np.asarray(uv, float) - self.K[:2, 2]) @ np.linalg.inv(self.K[:2, :2]).T
        ideal = self.undistort(distorted)
        return np.concatenate([ideal, np.ones((len(ideal), 1))], axis=1)

    def directions(self, uv: Array) -> Array:
        return _within_field(super().directions(uv), self.field_of_view_deg)

    def intrinsics(self) -> dict[str, Any]:
        return {"model": self.name, "K": self.K.tolist(), "distortion": list(self._coefficients()),
                **({"field_of_view_deg": self.field_of_view_deg} if self.field_of_view_deg > 0 else {})}

    def pinhole_K(self) -> Array:
        return self.K


@dataclass(frozen=True)
class Fisheye(_RaysToPoints):
    """OpenCV's fisheye (equidistant) lens, cv2.fisheye.projectPoints' model: theta = atan(r) of the
    normalised radius, theta_d = theta (1 + k1 theta^2 + k2 theta^4 + k3 theta^6 + k4 theta^8), the point
    moved to radius theta_d; fields of view up to 180 degrees (points with z <= 0 beyond)."""

    K: Array
    width: int
    height: int
    distortion: tuple[float, float, float, float]
    field_of_view_deg: float = 0.0
    name: str = "fisheye"

    def project(self, points_camera: Array) -> Array:
        k1, k2, k3, k4 = self.distortion
        points = np.asarray(points_camera, float)
        radius = np.hypot(points[:, 0], points[:, 1])
        theta = np.arctan2(radius, points[:, 2])
        theta_d = theta * (1 + k1 * theta ** 2 + k2 * theta ** 4 + k3 * theta ** 6 + k4 * theta ** 8)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(radius > 0, theta_d / radius, 1.0 / np.maximum(points[:, 2], 1e-300))
        normalised = points[:, :2] * scale[:, None]
        return np.asarray(normalised @ self.K[:2, :2].T + self.K[:2, 2])

    def rays(self, uv: Array) -> Array:
        """Directions scaled to z = 1 (infinite where the pixel looks 90 degrees off the axis or more)."""
        distorted, theta = self._angles(uv)
        theta_d = np.hypot(distorted[:, 0], distorted[:, 1])
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(theta_d > 0, np.tan(theta) / theta_d, 1.0)
        return np.concatenate([distorted * scale[:, None], np.ones((len(theta), 1))], axis=1)

    def _angles(self, uv: Array) -> tuple[Array, Array]:
        """(normalised distorted coordinates (N, 2), the angle theta off the axis of each pixel's ray)."""
        k1, k2, k3, k4 = self.distortion
        distorted = (np.asarray(uv, float) - self.K[:2, 2]) @ np.linalg.inv(self.K[:2, :2]).T
        theta_d = np.hypot(distorted[:, 0], distorted[:, 1])
        theta = theta_d.copy()
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            for _ in range(40):  # Newton on theta (1 + k1 theta^2 + ...) = theta_d
                t2 = theta * theta
                f = theta * (1 + t2 * (k1 + t2 * (k2 + t2 * (k3 + t2 * k4)))) - theta_d
                df = 1 + t2 * (3 * k1 + t2 * (5 * k2 + t2 * (7 * k3 + t2 * 9 * k4)))
                step = f / df
                theta = theta - step
                if not (np.nanmax(np.abs(step), initial=0.0) > 1e-15):
                    break
        return distorted, theta

    def directions(self, uv: Array) -> Array:
        distorted, theta = self._angles(uv)
        theta_d = np.hypot(distorted[:, 0], distorted[:, 1])
        with np.errstate(invalid="ignore", divide="ignore"):
            across = np.where(theta_d > 0, np.sin(theta) / theta_d, 1.0)
        unit = np.concatenate([distorted * across[:, None], np.cos(theta)[:, None]], axis=1)
        unit[~((theta >= 0) & (theta <= np.pi))] = np.nan
        return _within_field(_where_inverse(self, unit, uv), self.field_of_view_deg)

    def intrinsics(self) -> dict[str, Any]:
        return {"model": self.name, "K": self.K.tolist(), "distortion": list(self.distortion),
                **({"field_of_view_deg": self.field_of_view_deg} if self.field_of_view_deg > 0 else {})}

    def pinhole_K(self) -> Array:
        return self.K


def _within_field(unit: Array, field_of_view_deg: float) -> Array:
    """``unit`` with NaN rows beyond half the field of view off the axis (0: no limit)."""
    if field_of_view_deg <= 0:
        return unit
    with np.errstate(invalid="ignore"):
        outside = ~(unit[:, 2] >= np.cos(np.deg2rad(field_of_view_deg / 2)) - 1e-12)
    out = unit.copy()
    out[outside] = np.nan
    return out


@dataclass(frozen=True)
class LensModel:
    """A lens model's one entry (LENS_MODELS): everything the config, the randomizer, the camera and the
    meta need to know of it.

    name: ``camera.lens.model`` in scene files and the meta's camera ``model``.
    coefficients: the scene file's coefficient keys it takes, in OpenCV's order (the order of
        LensDescription.distortion); the config refuses a non-zero key that is not among them.
    make: its CameraModel from (K, width, height, distortion, field_of_view_deg).
    focal_for_fov: where the model's field of view is not a pinhole's, the focal length (pixels) that
        spans ``fov_deg`` across ``height`` at zero distortion (a fisheye's equidistant r = f theta); None:
        the pinhole's.
    """

    name: str
    coefficients: tuple[str, ...]
    make: Callable[[Array, int, int, tuple[float, ...], float], CameraModel]
    focal_for_fov: Callable[[float, int], float] | None = None


def _fisheye(K: Array, width: int, height: int, distortion: tuple[float, ...], field_of_view_deg: float) -> Fisheye:
    k = tuple(distortion) + (0.0,) * (4 - len(distortion))
    return Fisheye(K, width, height, (k[0], k[1], k[2], k[3]), field_of_view_deg)


LENS_MODELS: dict[str, LensModel] = {
    "brown_conrady": LensModel("brown_conrady", ("k1", "k2", "p1", "p2", "k3", "k4", "k5", "k6"),
                               lambda K, w, h, d, fov: BrownConrady(K, w, h, d, fov)),
    "fisheye": LensModel("fisheye", ("k1", "k2", "k3", "k4"), _fisheye,
                         focal_for_fov=lambda fov_deg, height: (height / 2) / float(np.deg2rad(fov_deg / 2))),
}
LENS_COEFFICIENTS = ("k1", "k2", "k3", "k4", "k5", "k6", "p1", "p2")  # every key of camera.lens a model may take
