"""Weather and atmosphere on the RGB image, from exact depth (fog, then rain or snow): pure numpy functions
of the frame's colour, its label pass's depth and its description, so they are the same for every engine
(labels untouched).

Fog (Koschmieder): in linear radiance, L' = L t + A (1 - t), t = exp(-beta d), d the distance from the
camera centre along the pixel centre's ray to the surface (d = z |ray|, ray scaled to z = 1: exact for
the surface the depth channel labels at that pixel); where no surface is seen, t = 0 (the airlight).
The colour is display-encoded (linear ** (1 / 2.2), the engines' shared transfer: renderer.scene.color),
so it is decoded, fogged and encoded again.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from renderer.scene.camera import CameraModel
from renderer.scene.color import display_from_linear, linear_from_display
from renderer.scene.description import FogDescription, GlareDescription, PrecipitationDescription


def transmittance(depth: NDArray[np.float32], camera: CameraModel, beta: float) -> NDArray[np.float32]:
    """(H, W) exp(-beta d) for the surface at each pixel centre (0 where depth is 0: no surface)."""
    distance = depth.astype(np.float64) * np.linalg.norm(camera.pixel_rays(), axis=2)
    t = np.where(depth > 0, np.exp(-beta * distance), 0.0)
    return t.astype(np.float32)


def apply_fog(colour: NDArray[np.float32], depth: NDArray[np.float32], camera: CameraModel,
              fog: FogDescription) -> NDArray[np.float32]:
    """(H, W, 3) display-encoded colour in [0, 1] through the fog."""
    linear = linear_from_display(colour)
    t = transmittance(depth, camera, fog.beta)[..., None]
    airlight = np.asarray(fog.airlight, dtype=np.float32)
    fogged = linear * t + airlight * (np.float32(1.0) - t)
    return np.asarray(display_from_linear(fogged), dtype=np.float32)


def particle_layer(precipitation: PrecipitationDescription, camera: CameraModel,
                   depth: NDArray[np.float32]) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """(H, W) coverage in [0, 1] and (H, W) camera z of the nearest particle at each pixel (0: none) of
    the rain or snow in front of the scene: particles uniform in the view volume between near_m and
    far_m; a raindrop is its fall during the exposure (a streak, one pixel wide, tilted by the wind), a
    flake a disc of its radius; a particle pixel counts only where the particle is nearer than the
    surface the pixel sees (or none is seen)."""
    import cv2

    rng = np.random.default_rng(precipitation.seed)
    height, width = depth.shape
    n = precipitation.count
    # Uniform in the frustum's volume: z with density ~ z^2 between near and far, (u, v) uniform.
    near, far = precipitation.near_m, precipitation.far_m
    z = np.cbrt(rng.uniform(near ** 3, far ** 3, n))
    uv = np.stack([rng.uniform(-0.5, width - 0.5, n), rng.uniform(-0.5, height - 0.5, n)], axis=1)
    points = camera.unproject(uv, z)
    fall = precipitation.fall_speed * precipitation.exposure_s
    wind = np.deg2rad(precipitation.wind_deg)
    # Down in the image is +y in the camera frame for a level camera; the streak's 3D extent, camera frame.
    step = fall * np.array([np.sin(wind), np.cos(wind), 0.0])
    ends = camera.project(points + step)
    coverage = np.zeros((height, width), np.float32)
    nearest = np.zeros((height, width), np.float32)
    focal = camera_focal(camera)
    order = np.argsort(-z)  # far to near: nearer particles overwrite
    for k in order:
        start = uv[k]
        end = ends[k] if precipitation.kind == "rain" else uv[k]
        if not np.all(np.isfinite(end)):
            continue
        size = focal * precipitation.radius_m / z[k]
        pad = int(np.ceil(size)) + 2
        c0, r0 = int(np.floor(min(start[0], end[0]))) - pad, int(np.floor(min(start[1], end[1]))) - pad
        c1, r1 = int(np.ceil(max(start[0], end[0]))) + pad + 1, int(np.ceil(max(start[1], end[1]))) + pad + 1
        if c1 <= 0 or r1 <= 0 or c0 >= width or r0 >= height:
            continue
        patch = np.zeros((r1 - r0, c1 - c0), np.uint8)
        a = (int(round((start[0] - c0) * 4)), int(round((start[1] - r0) * 4)))
        if precipitation.kind == "rain":
            b = (int(round((end[0] - c0) * 4)), int(round((end[1] - r0) * 4)))
            cv2.line(patch, a, b, 255, max(1, int(round(2 * size))), cv2.LINE_AA, shift=2)
        else:
            cv2.circle(patch, a, max(1, int(round(size * 4))), 255, -1, cv2.LINE_AA, shift=2)
        rs, cs = slice(max(r0, 0), min(r1, height)), slice(max(c0, 0), min(c1, width))
        local = patch[rs.start - r0:rs.stop - r0, cs.start - c0:cs.stop - c0]
        scene = depth[rs, cs]
        in_front = (local > 0) & ((scene == 0) | (scene > z[k]))
        nearest[rs, cs][in_front] = z[k]
        cover = coverage[rs, cs]
        cover[in_front] = np.maximum(cover[in_front], local[in_front] / np.float32(255.0))
    return coverage, nearest


def camera_focal(camera: CameraModel) -> float:
    """The camera's focal length in pixels (fx of the pinhole it draws)."""
    return float(camera.pinhole_K()[0, 0])


def apply_precipitation(colour: NDArray[np.float32], depth: NDArray[np.float32], camera: CameraModel,
                        precipitation: PrecipitationDescription) -> NDArray[np.float32]:
    """(H, W, 3) display-encoded colour with the rain or snow over it (blended in linear radiance)."""
    coverage, _ = particle_layer(precipitation, camera, depth)
    alpha = (coverage * np.float32(precipitation.opacity))[..., None]
    linear = linear_from_display(colour)
    out = linear * (np.float32(1.0) - alpha) + np.float32(precipitation.brightness) * alpha
    return np.asarray(display_from_linear(out), dtype=np.float32)


def sun_pixel(sun_direction_world: tuple[float, float, float], world_to_camera: NDArray[np.float64],
              camera: CameraModel) -> NDArray[np.float64] | None:
    """(u, v) of the sun's image (a direction at infinity), or None when it is behind the camera."""
    direction = np.asarray(world_to_camera, dtype=np.float64)[:3, :3] @ np.asarray(sun_direction_world, float)
    if direction[2] <= 1e-6:
        return None
    return np.asarray(camera.project(direction[None])[0], dtype=np.float64)


def apply_glare(colour: NDArray[np.float32], depth: NDArray[np.float32], camera: CameraModel,
                world_to_camera: NDArray[np.float64], sun_direction: tuple[float, float, float],
                glare: GlareDescription) -> NDArray[np.float32]:
    """(H, W, 3) display-encoded colour with the sun's veiling halo and ghosts added in linear radiance;
    unchanged when the sun is behind the camera or its image pixel shows a surface (exact depth)."""
    height, width = depth.shape
    sun = sun_pixel(sun_direction, world_to_camera, camera)
    if sun is None:
        return colour
    col, row = int(np.floor(sun[0] + 0.5)), int(np.floor(sun[1] + 0.5))
    if 0 <= row < height and 0 <= col < width and depth[row, col] > 0:
        return colour  # the sun is hidden behind a surface
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float64)
    r2 = (cols - sun[0]) ** 2 + (rows - sun[1]) ** 2
    added = (glare.strength * (1.0 + r2 / glare.halo_px ** 2) ** -1.5)[..., None] * np.ones(3)
    centre = np.array([(width - 1) / 2, (height - 1) / 2])
    for t, radius, r, g, b, intensity in glare.ghosts:
        x, y = centre + t * (centre - sun)
        disc = np.clip(radius + 0.5 - np.sqrt((cols - x) ** 2 + (rows - y) ** 2), 0.0, 1.0)  # antialiased edge
        added += (intensity * disc)[..., None] * np.array([r, g, b])
    linear = linear_from_display(colour) + added.astype(np.float32)
    return np.asarray(display_from_linear(linear), dtype=np.float32)
