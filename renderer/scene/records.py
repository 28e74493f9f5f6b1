"""Per-object label records of a frame: what labels compute, writers store, readers and torch give back.

Plain data and numpy only, so every stage that passes records on (channels, io, export, torch) can use them
without importing the label computation (which needs meshes).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from renderer.scene.description import PersonAttributes
from renderer.scene.plain import OMIT_IF_NONE, array_shape

# A landmark is occluded when the surface seen at its pixel, extended as a plane (the pixel's depth and
# normal) to the landmark's own ray, lies in front of it by more than this fraction of the landmark's
# depth (5 mm at 1 m). The plane removes the half-pixel offset between pixel centre and landmark.
OCCLUSION_TOLERANCE = 0.005


@dataclass(frozen=True)
class LandmarkLabels:
    """Landmarks of one object in one frame (N named points).

    xyz_world, xyz_camera: (N, 3) float64 metres. uv: (N, 2) float64 pixels, K @ xyz_camera / z, not
    rounded. in_frame: (N,) bool, in front of the camera and uv inside the image (pixel centres
    -0.5 <= u < W - 0.5, same for v). visible: (N,) bool, in frame and not occluded (see
    OCCLUSION_TOLERANCE).
    """

    names: tuple[str, ...]
    xyz_world: NDArray[np.float64] = field(metadata=array_shape(-1, 3))
    xyz_camera: NDArray[np.float64] = field(metadata=array_shape(-1, 3))
    uv: NDArray[np.float64] = field(metadata=array_shape(-1, 2))
    in_frame: NDArray[np.bool_] = field(metadata=array_shape(-1))
    visible: NDArray[np.bool_] = field(metadata=array_shape(-1))


@dataclass(frozen=True)
class FaceLabels:
    """A person's face in one frame (people.face.labels; docs/faces.md).

    landmarks: the 68 iBUG 300-W points (visible 0 where the face's own cheek, nose or hair, or anything
    else, hides them). box: [x, y, w, h] whole pixels covering the 68 points' pixels, clipped to the
    image ([0, 0, 0, 0] when none is in frame). head_rotation: (3, 3) the head frame in the camera frame
    (identity: looking straight into the camera); head_euler_deg: its (yaw, pitch, roll) with
    R = Ry(yaw) Rx(pitch) Rz(roll); head_position: the head frame's origin (between the eyeball
    centres) in the camera frame, metres. gaze_camera: (2, 3) unit gaze of the left and right eye in
    the camera frame; gaze_deg: (yaw, pitch) of their mean in the head frame. expression: its name and
    the facial-action weights it was built with. Stored (renderer.scene.plain) with the angles as
    objects {yaw, pitch, roll} and {yaw, pitch}, and the weights as {action: weight}.
    """

    landmarks: LandmarkLabels
    box: tuple[int, int, int, int]
    head_rotation: NDArray[np.float64] = field(metadata=array_shape(3, 3))
    head_euler_deg: tuple[float, float, float] = field(metadata={"keys": ("yaw", "pitch", "roll")})
    head_position: NDArray[np.float64] = field(metadata=array_shape(3))
    gaze_camera: NDArray[np.float64] = field(metadata=array_shape(2, 3))
    gaze_deg: tuple[float, float] = field(metadata={"keys": ("yaw", "pitch")})
    expression: str
    expression_weights: tuple[tuple[str, float], ...] = field(metadata={"pairs": True})


@dataclass(frozen=True, kw_only=True)
class ObjectLabels:
    """Per-object labels of one frame (a meta file's object record, fields in the order it stores them;
    renderer.scene.plain writes and reads it).

    bbox: visible 2D box [x, y, w, h] from the instance mask ([0, 0, 0, 0] if not visible).
    visible_pixels: pixels of the instance mask. unoccluded_pixels: pixels it covers rendered alone.
    visible_fraction: visible_pixels / unoccluded_pixels (0 when it covers no pixel at all).
    ignore: visible_fraction below the scene's constraints.min_visible_fraction.
    object_to_camera: 4x4 rigid. box3d_camera: (8, 3) corners of the scaled mesh's axis-aligned box in
    its own frame, in the camera frame, ordered like the computed landmarks box_000 .. box_111.
    asset_bounds: (2, 3) [min, max] corners of the asset's axis-aligned box in its own unscaled frame,
    metres: what NOCS normalises by (None in datasets written before format 5).
    """

    instance_id: int
    category: str
    category_id: int
    object_to_world: NDArray[np.float64] = field(metadata=array_shape(4, 4))
    object_to_camera: NDArray[np.float64] = field(metadata=array_shape(4, 4))
    bbox: tuple[int, int, int, int]
    visible_pixels: int
    unoccluded_pixels: int
    visible_fraction: float
    ignore: bool = False  # seen less than constraints.min_visible_fraction: crowd / ignore in exports
    box3d_camera: NDArray[np.float64] = field(metadata=array_shape(8, 3))
    asset_bounds: NDArray[np.float64] | None = field(default=None, metadata={**OMIT_IF_NONE, **array_shape(2, 3)})
    person: PersonAttributes | None = field(default=None, metadata=OMIT_IF_NONE)  # a person's labels (renderer.humans)
    landmarks: LandmarkLabels
    face: FaceLabels | None = field(default=None, metadata=OMIT_IF_NONE)  # where the scene asks for face labels


# Derived labels are stored at the precision they carry, not 17 digits: poses to 1e-9 (rotation entries;
# nanometres), points to 0.1 µm, image coordinates to 1e-4 px. The frame description, which rebuilds
# the frame, keeps every float exactly.
POSE_DECIMALS, POINT_DECIMALS, PIXEL_DECIMALS = 9, 7, 4


def as_stored(labels: ObjectLabels) -> ObjectLabels:
    """The labels at the precision a dataset stores them (what a reader gets back, bit for bit)."""
    lm = labels.landmarks
    face = labels.face
    if face is not None:
        flm = face.landmarks
        face = dataclasses.replace(
            face, landmarks=dataclasses.replace(flm, xyz_world=np.round(flm.xyz_world, POINT_DECIMALS),
                                                xyz_camera=np.round(flm.xyz_camera, POINT_DECIMALS),
                                                uv=np.round(flm.uv, PIXEL_DECIMALS)),
            head_rotation=np.round(face.head_rotation, POSE_DECIMALS),
            head_euler_deg=tuple(round(a, 6) for a in face.head_euler_deg),  # type: ignore[arg-type]
            head_position=np.round(face.head_position, POINT_DECIMALS),
            gaze_camera=np.round(face.gaze_camera, POSE_DECIMALS),
            gaze_deg=tuple(round(a, 6) for a in face.gaze_deg))  # type: ignore[arg-type]
    return dataclasses.replace(
        labels, face=face, object_to_world=np.round(labels.object_to_world, POSE_DECIMALS),
        object_to_camera=np.round(labels.object_to_camera, POSE_DECIMALS),
        box3d_camera=np.round(labels.box3d_camera, POINT_DECIMALS),
        landmarks=dataclasses.replace(lm, xyz_world=np.round(lm.xyz_world, POINT_DECIMALS),
                                      xyz_camera=np.round(lm.xyz_camera, POINT_DECIMALS),
                                      uv=np.round(lm.uv, PIXEL_DECIMALS)))
