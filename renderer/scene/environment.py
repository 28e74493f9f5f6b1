"""Environment light as an equirectangular map of linear radiance, and what each engine takes from it.

Pure numpy. One map serves both engines: the path engine is lit by it (Mitsuba's envmap emitter); the
raster engine gets its cosine-weighted mean over the upper hemisphere as an ambient term; both show it
behind the scene through the same per-pixel lookup (environment_background).

Map convention (docs/format.md): world z up. A direction d = (x, y, z) has polar angle theta = acos(z)
and azimuth phi = atan2(y, x); it is at u = phi / 2pi (wrapped to [0, 1)), v = theta / pi, i.e. column
u * W - 0.5 and row v * H - 0.5 (pixel centres at integers), so row 0 is the zenith and the map's
centre column looks along -x. A map turned by ``rotation_deg`` shows at world azimuth phi + rotation.
"""

from __future__ import annotations

import functools
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from renderer.errors import RendererError
from renderer.scene.camera import camera_model
from renderer.scene.color import color_from_temperature, display_from_linear
from renderer.scene.description import CameraDescription, EnvironmentDescription
from renderer.scene.image_files import image_size_problem

SKY_MAP_HEIGHT = 128  # rows of the computed sky map (a smooth function: more rows change nothing)
MAX_MAP_HEIGHT = 1024  # larger HDR maps are reduced (area average) to this many rows when read


class EnvironmentMapError(RendererError, ValueError):
    """An environment map that cannot be read; the message names the file."""


# -- maps ---------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=16)
def environment_map(environment: EnvironmentDescription) -> NDArray[np.float32]:
    """(H, 2H, 3) float32 linear radiance in the map's own frame (before rotation), intensity applied."""
    kind = environment.kind
    if kind == "uniform":
        return np.full((2, 4, 3), environment.intensity, dtype=np.float32)
    if kind == "sky":
        return (preetham_sky(np.array(environment.sun_direction), environment.turbidity)
                * np.float32(environment.intensity)).astype(np.float32)
    if kind == "hdri":
        return (read_hdr_map(environment.path) * np.float32(environment.intensity)).astype(np.float32)
    raise ValueError(f"environment kind {kind!r} has no map")


@functools.lru_cache(maxsize=8)
def read_hdr_map(path: str) -> NDArray[np.float32]:
    """An equirectangular .hdr (Radiance RGBE, through OpenCV) or .exr (OpenEXR) file as float32 RGB."""
    suffix = Path(path).suffix.lower()
    problem = image_size_problem(path, hdr=True)
    if problem is not None:
        raise EnvironmentMapError(f"{path}: {problem}")
    image: NDArray[np.float32] | None
    try:
        if suffix == ".exr":
            image = _read_exr(path)
        else:
            raw = cv2.imread(path, cv2.IMREAD_ANYDEPTH | cv2.IMREAD_COLOR)
            image = None if raw is None else np.ascontiguousarray(raw[..., ::-1], dtype=np.float32)
    except Exception as exc:  # the readers raise a variety of types on damaged files
        raise EnvironmentMapError(f"{path}: unreadable environment map ({exc})") from None
    if image is None or image.ndim != 3 or image.shape[0] < 2 or image.shape[1] < 2:
        raise EnvironmentMapError(f"{path}: missing or unreadable environment map")
    if not np.all(np.isfinite(image)) or image.min() < 0:
        raise EnvironmentMapError(f"{path}: environment map holds negative or non-finite values")
    if image.shape[0] > MAX_MAP_HEIGHT:
        size = (2 * MAX_MAP_HEIGHT, MAX_MAP_HEIGHT)
        image = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.float32)
    return image


def _read_exr(path: str) -> NDArray[np.float32]:
    import OpenEXR

    with OpenEXR.File(path) as exr:
        channels = exr.channels()
        if "RGB" in channels:
            pixels = np.asarray(channels["RGB"].pixels, dtype=np.float32)
        elif "RGBA" in channels:
            pixels = np.asarray(channels["RGBA"].pixels, dtype=np.float32)[..., :3]
        elif all(c in channels for c in "RGB"):
            pixels = np.stack([np.asarray(channels[c].pixels, dtype=np.float32) for c in "RGB"], axis=-1)
        else:
            raise EnvironmentMapError(f"{path}: no R, G, B channels (found {', '.join(channels)})")
    return np.ascontiguousarray(pixels)


def write_hdr_map(path: str | Path, radiance: NDArray[np.float32]) -> None:
    """Write linear RGB as .hdr (Radiance) or .exr (OpenEXR, float32), by suffix: for tests and tools."""
    path = Path(path)
    if path.suffix.lower() == ".exr":
        import OpenEXR

        header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
        with OpenEXR.File(header, {"RGB": np.ascontiguousarray(radiance, dtype=np.float32)}) as exr:
            exr.write(str(path))
    elif not cv2.imwrite(str(path), np.ascontiguousarray(radiance[..., ::-1], dtype=np.float32)):
        raise EnvironmentMapError(f"{path}: could not write")


# -- lookups ------------------------------------------------------------------------------------------

def map_rotation(environment: EnvironmentDescription) -> NDArray[np.float64]:
    """3x3 map frame -> world: a turn by rotation_deg about world z."""
    a = np.deg2rad(environment.rotation_deg)
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def lookup(radiance: NDArray[np.float32], directions: NDArray[np.float64]) -> NDArray[np.float32]:
    """Bilinear radiance of a map at (..., 3) unit directions in its own frame (wrapping in azimuth)."""
    h, w = radiance.shape[:2]
    x, y, z = directions[..., 0], directions[..., 1], directions[..., 2]
    u = np.mod(np.arctan2(y, x) / (2 * np.pi), 1.0)
    v = np.arccos(np.clip(z, -1.0, 1.0)) / np.pi
    col = u * w - 0.5
    row = np.clip(v * h - 0.5, 0.0, h - 1.0)
    c0 = np.floor(col).astype(np.int64)
    r0 = np.minimum(np.floor(row).astype(np.int64), h - 2) if h > 1 else np.zeros_like(c0)
    tc = (col - c0)[..., None].astype(np.float32)
    tr = (row - r0)[..., None].astype(np.float32)
    c0w, c1w = np.mod(c0, w), np.mod(c0 + 1, w)
    r1 = np.minimum(r0 + 1, h - 1)
    top = radiance[r0, c0w] * (1 - tc) + radiance[r0, c1w] * tc
    bottom = radiance[r1, c0w] * (1 - tc) + radiance[r1, c1w] * tc
    return (top * (1 - tr) + bottom * tr).astype(np.float32)


def camera_ray_directions(camera: CameraDescription) -> NDArray[np.float64]:
    """(H, W, 3) unit world directions of the rays through every pixel centre (its camera model and world_to_camera)."""
    rays_camera = camera_model(camera).pixel_rays()
    rays_world = rays_camera @ np.asarray(camera.world_to_camera)[:3, :3]  # R^T applied to each row
    return rays_world / np.linalg.norm(rays_world, axis=-1, keepdims=True)


def environment_background(environment: EnvironmentDescription, camera: CameraDescription,
                           where: NDArray[np.bool_] | None = None) -> NDArray[np.float32]:
    """(H, W, 3) display-encoded background: the environment seen through each pixel centre; only at
    the ``where`` pixels when given (0 elsewhere: pixels a surface covers wholly never show it)."""
    rays = camera_ray_directions(camera)
    if where is None:
        return np.asarray(display_from_linear(lookup(environment_map(environment), rays @ map_rotation(environment))),
                          dtype=np.float32)
    out = np.zeros((camera.height, camera.width, 3), dtype=np.float32)
    out[where] = display_from_linear(lookup(environment_map(environment), rays[where] @ map_rotation(environment)))
    return out


def _cosine_weighted_mean(radiance: NDArray[np.float64]) -> NDArray[np.float64]:
    """(3,) mean of a map's radiance over the upper hemisphere weighted by cos(theta) (= E / pi),
    each row's weight its solid angle times cos(theta), normalised so that a constant map gives itself."""
    h = radiance.shape[0]
    theta = (np.arange(h) + 0.5) / h * np.pi
    weight = np.where(theta < np.pi / 2, np.cos(theta) * np.sin(theta), 0.0)
    rows = radiance.mean(axis=1)  # every column of a row has the same solid angle
    return np.asarray(weight @ rows / weight.sum())


@functools.lru_cache(maxsize=16)
def _ambient(environment: EnvironmentDescription) -> tuple[float, float, float]:
    radiance = environment_map(environment).astype(np.float64)
    # Rotation about z leaves the upper hemisphere's cosine weights unchanged.
    mean = _cosine_weighted_mean(radiance)  # E / pi: what a white Lambertian surface facing up sends back
    return (float(mean[0]), float(mean[1]), float(mean[2]))


def ambient_radiance(environment: EnvironmentDescription) -> NDArray[np.float64]:
    """The raster engine's stand-in for environment light: (3,) cosine-weighted mean radiance over the
    upper hemisphere (E/pi of a surface facing up); zeros for kind none."""
    if environment.kind == "none":
        return np.zeros(3)
    return np.array(_ambient(environment))


# -- sky ------------------------------------------------------------------------------------------------

# Perez coefficients (A..E) as linear functions of turbidity T: rows Y, x, y; columns (slope, offset).
_PEREZ = np.array([
    [[0.1787, -1.4630], [-0.3554, 0.4275], [-0.0227, 5.3251], [0.1206, -2.5771], [-0.0670, 0.3703]],
    [[-0.0193, -0.2592], [-0.0665, 0.0008], [-0.0004, 0.2125], [-0.0641, -0.8989], [-0.0033, 0.0452]],
    [[-0.0167, -0.2608], [-0.0950, 0.0092], [-0.0079, 0.2102], [-0.0441, -1.6537], [-0.0109, 0.0529]],
])
_XYZ_TO_LINEAR_SRGB = np.array([[3.2406, -1.5372, -0.4986], [-0.9689, 1.8758, 0.0415], [0.0557, -0.2040, 1.0570]])
GROUND_FACTOR = 0.3  # below the horizon: the horizon's colour times this (a dim ground)


def _perez(coefficients: NDArray[np.float64], theta: NDArray[np.float64], gamma: NDArray[np.float64]) -> NDArray[
        np.float64]:
    a, b, c, d, e = coefficients
    return (1 + a * np.exp(b / np.maximum(np.cos(theta), 0.01))) * (1 + c * np.exp(d * gamma) + e * np.cos(gamma) ** 2)


@functools.lru_cache(maxsize=16)
def _sky(sun: tuple[float, float, float], turbidity: float) -> NDArray[np.float32]:
    h, w = SKY_MAP_HEIGHT, 2 * SKY_MAP_HEIGHT
    theta = (np.arange(h) + 0.5) / h * np.pi
    phi = (np.arange(w) + 0.5) / w * 2 * np.pi
    t, p = np.meshgrid(theta, phi, indexing="ij")
    dirs = np.stack([np.sin(t) * np.cos(p), np.sin(t) * np.sin(p), np.cos(t)], axis=-1)
    s = np.asarray(sun, dtype=np.float64)
    s = s / np.linalg.norm(s)
    theta_sun = float(np.arccos(np.clip(s[2], -1, 1)))
    theta_sun = min(theta_sun, np.pi / 2 - 0.01)
    above = np.minimum(t, np.pi / 2 - 0.001)
    dirs_above = np.stack([np.sin(above) * np.cos(p), np.sin(above) * np.sin(p), np.cos(above)], axis=-1)
    gamma = np.arccos(np.clip(dirs_above @ s, -1, 1))
    T = turbidity
    coeff = _PEREZ[..., 0] * T + _PEREZ[..., 1]  # (3, 5)
    chi = (4.0 / 9.0 - T / 120.0) * (np.pi - 2 * theta_sun)
    zenith_Y = (4.0453 * T - 4.9710) * np.tan(chi) - 0.2155 * T + 2.4192
    ts = theta_sun
    zenith_x = (T * T * (0.00166 * ts**3 - 0.00375 * ts**2 + 0.00209 * ts)
                + T * (-0.02903 * ts**3 + 0.06377 * ts**2 - 0.03202 * ts + 0.00394)
                + (0.11693 * ts**3 - 0.21196 * ts**2 + 0.06052 * ts + 0.25886))
    zenith_y = (T * T * (0.00275 * ts**3 - 0.00610 * ts**2 + 0.00317 * ts)
                + T * (-0.04214 * ts**3 + 0.08970 * ts**2 - 0.04153 * ts + 0.00516)
                + (0.15346 * ts**3 - 0.26756 * ts**2 + 0.06670 * ts + 0.26688))
    values = []
    for k, zenith in enumerate((zenith_Y, zenith_x, zenith_y)):
        ratio = _perez(coeff[k], above, gamma) / _perez(coeff[k], np.zeros(1), np.array([theta_sun]))
        values.append(zenith * ratio)
    Y, x, y = values
    X = x / y * Y
    Z = (1 - x - y) / y * Y
    rgb = np.stack([X, Y, Z], axis=-1) @ _XYZ_TO_LINEAR_SRGB.T
    rgb = np.maximum(rgb, 0.0)
    rgb[t > np.pi / 2] *= GROUND_FACTOR
    del dirs
    # Normalise: the sky's cosine-weighted mean radiance over the upper hemisphere (its E / pi) has
    # luminance 1, so intensity means the same as lights.ambient (docs/engines.md).
    mean = _cosine_weighted_mean(rgb)
    luminance = float(mean @ np.array([0.2126, 0.7152, 0.0722]))
    return (rgb / max(luminance, 1e-9)).astype(np.float32)


def preetham_sky(sun_direction: NDArray[np.float64], turbidity: float) -> NDArray[np.float32]:
    """(SKY_MAP_HEIGHT, 2 * SKY_MAP_HEIGHT, 3) linear radiance of the Preetham et al. (1999) clear sky
    for a sun towards ``sun_direction`` (world, z up), normalised to unit ambient luminance."""
    sun = tuple(float(c) for c in sun_direction)
    return _sky((sun[0], sun[1], sun[2]), float(turbidity))


def sun_color(elevation_deg: float) -> tuple[float, float, float]:
    """The sun's colour (max channel 1) by its elevation: a black body from 2000 K at the horizon to
    5800 K at 60 degrees and above, a simple stand-in for the longer path through the atmosphere."""
    t = np.clip(elevation_deg / 60.0, 0.0, 1.0)
    return color_from_temperature(2000.0 + 3800.0 * float(np.sqrt(t)))
