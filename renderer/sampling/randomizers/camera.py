"""camera: field of view (or fixed intrinsics), distance, elevation, azimuth and roll about the target,
with jitter (``camera:``)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from renderer.config.schema import LensConfig, SceneConfig
from renderer.sampling.randomizers.base import FrameDraft, Randomizer, unit_direction
from renderer.scene.camera import LENS_MODELS
from renderer.scene.description import CameraDescription, LensDescription, as_matrix
from renderer.scene.geometry import intrinsics_from_fov, look_at_world_to_camera, rotation_z


def _draw(draft: FrameDraft) -> None:
    rng = draft.stream("camera")
    aimed = _face_aim(draft, rng) if draft.config.camera.aim == "face" else None
    draft.camera = camera_description(draft.config, rng, aimed)


RANDOMIZER = Randomizer("camera", ("camera",), rank=30, draw=_draw)


def _face_aim(draft: FrameDraft, rng: np.random.Generator) -> tuple[NDArray[np.float64], float] | None:
    """(the head point of one of the frame's people in the world, that person's front as an azimuth in
    degrees), or None when the frame has no person (the camera then aims at ``target``)."""
    people = [o for o in draft.objects if o.mesh.kind == "body" and o.mesh.body is not None]
    if not people:
        return None
    person = people[int(rng.integers(len(people)))] if len(people) > 1 else people[0]
    from renderer.humans.catalog import posed_body_of
    from renderer.humans.head import head_frame

    posed = posed_body_of(draft.catalog, person.mesh)
    object_to_world = np.asarray(person.object_to_world)
    head = object_to_world @ head_frame(posed.head_bone, posed.eye_bones)
    front = object_to_world[:3, :3] @ np.array([0.0, -1.0, 0.0])  # the body's front (before the head turns)
    return head[:3, 3], float(np.rad2deg(np.arctan2(front[1], front[0])))


def camera_description(config: SceneConfig, rng: np.random.Generator,
                       aimed: tuple[NDArray[np.float64], float] | None = None) -> CameraDescription:
    """The frame's camera; ``aimed``: (target point, azimuth offset in degrees) for aim: face."""
    cam = config.camera
    width, height = config.image.width, config.image.height
    fov = float(cam.fov_deg.sample(rng))
    distance = float(cam.distance.sample(rng))
    offset = aimed[1] if aimed is not None else 0.0
    direction = unit_direction(float(cam.elevation_deg.sample(rng)), float(cam.azimuth_deg.sample(rng)) + offset)
    roll = np.deg2rad(float(cam.roll_deg.sample(rng)))
    target = np.array(cam.target, dtype=float) if aimed is None else np.array(aimed[0], dtype=float)
    if cam.target_jitter > 0:
        target[:2 if aimed is None else 3] += rng.normal(0.0, cam.target_jitter, size=2 if aimed is None else 3)
    eye = target + distance * direction
    world_to_camera = look_at_world_to_camera(eye, target)
    if roll:
        world_to_camera = _roll(roll) @ world_to_camera
    if cam.intrinsics is not None:
        i = cam.intrinsics
        K = np.array([[i.fx, 0.0, i.cx], [0.0, i.fy, i.cy], [0.0, 0.0, 1.0]])
    else:
        K = intrinsics_from_fov(fov, width, height)
    lens = None
    if cam.lens is not None:  # drawn last: a scene without a lens draws what it drew before
        lens = lens_description(cam.lens, rng)
        focal_for_fov = LENS_MODELS[cam.lens.model].focal_for_fov
        if focal_for_fov is not None and cam.intrinsics is None:
            K[0, 0] = K[1, 1] = focal_for_fov(fov, height)  # e.g. a fisheye's: r = f theta, fov across the height
    return CameraDescription(width=width, height=height, K=as_matrix(K), world_to_camera=as_matrix(world_to_camera),
                             near=cam.near, far=cam.far, lens=lens)


def lens_description(lens: LensConfig, rng: np.random.Generator) -> LensDescription:
    """A frame's lens: its coefficients drawn, in OpenCV's order for its model."""
    names = LENS_MODELS[lens.model].coefficients
    distortion = tuple(float(getattr(lens, name).sample(rng)) for name in names)
    return LensDescription(model=lens.model, distortion=distortion, field_of_view_deg=lens.field_of_view_deg,
                           supersampling=lens.supersampling)

def _roll(angle: float) -> NDArray[np.float64]:
    """Turn the camera by angle about its optical axis (image content turns the other way)."""
    turn = np.eye(4)
    turn[:3, :3] = rotation_z(-angle)
    return turn
