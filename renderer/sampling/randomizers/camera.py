"""camera: field of view (or fixed intrinsics), distance, elevation, azimuth and roll about the target,
with jitter (``camera:``)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from renderer.config.schema import SceneConfig
from renderer.sampling.randomizers.base import FrameDraft, Randomizer, unit_direction
from renderer.scene.description import CameraDescription, as_matrix
from renderer.scene.geometry import intrinsics_from_fov, look_at_world_to_camera, rotation_z


def _draw(draft: FrameDraft) -> None:
    draft.camera = camera_description(draft.config, draft.stream("camera"))


RANDOMIZER = Randomizer("camera", ("camera",), rank=30, draw=_draw)


def camera_description(config: SceneConfig, rng: np.random.Generator) -> CameraDescription:
    cam = config.camera
    width, height = config.image.width, config.image.height
    fov = float(cam.fov_deg.sample(rng))
    distance = float(cam.distance.sample(rng))
    direction = unit_direction(float(cam.elevation_deg.sample(rng)), float(cam.azimuth_deg.sample(rng)))
    roll = np.deg2rad(float(cam.roll_deg.sample(rng)))
    target = np.array(cam.target, dtype=float)
    if cam.target_jitter > 0:
        target[:2] += rng.normal(0.0, cam.target_jitter, size=2)
    eye = target + distance * direction
    world_to_camera = look_at_world_to_camera(eye, target)
    if roll:
        world_to_camera = _roll(roll) @ world_to_camera
    if cam.intrinsics is not None:
        i = cam.intrinsics
        K = np.array([[i.fx, 0.0, i.cx], [0.0, i.fy, i.cy], [0.0, 0.0, 1.0]])
    else:
        K = intrinsics_from_fov(fov, width, height)
    return CameraDescription(width=width, height=height, K=as_matrix(K), world_to_camera=as_matrix(world_to_camera),
                             near=cam.near, far=cam.far)

def _roll(angle: float) -> NDArray[np.float64]:
    """Turn the camera by angle about its optical axis (image content turns the other way)."""
    turn = np.eye(4)
    turn[:3, :3] = rotation_z(-angle)
    return turn
