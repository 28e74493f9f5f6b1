"""Camera and pose maths, in the conventions of docs/format.md.

Camera frame: OpenCV (x right, y down, z forward). Pixel coordinates: (u, v) with u along columns and
v along rows; the centre of pixel (row r, column c) is at (u, v) = (c, r). Units: metres.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

# Flips y and z: converts between OpenCV (y down, z forward) and OpenGL (y up, z backward) frames.
_CV_GL = np.diag([1.0, -1.0, -1.0, 1.0])


def intrinsics_from_fov(fov_y_deg: float, width: int, height: int) -> Array:
    """K (3x3) for square pixels, principal point at the image centre, vertical field of view given."""
    fy = 0.5 * height / np.tan(np.deg2rad(fov_y_deg) / 2.0)
    return np.array([[fy, 0.0, (width - 1) / 2.0], [0.0, fy, (height - 1) / 2.0], [0.0, 0.0, 1.0]])


def look_at_world_to_camera(eye: Array, target: Array, up: Array | None = None) -> Array:
    """World->camera (4x4, OpenCV frame) for a camera at ``eye`` whose optical axis passes ``target``."""
    up = np.array([0.0, 0.0, 1.0]) if up is None else np.asarray(up, dtype=float)
    z = np.asarray(target, float) - np.asarray(eye, float)
    z /= np.linalg.norm(z)
    x = np.cross(z, up)
    if np.linalg.norm(x) < 1e-9:  # looking straight along `up`: any perpendicular will do
        x = np.cross(z, np.array([0.0, 1.0, 0.0]))
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    rotation = np.stack([x, y, z])  # rows: camera axes in world coordinates
    world_to_camera = np.eye(4)
    world_to_camera[:3, :3] = rotation
    world_to_camera[:3, 3] = -rotation @ np.asarray(eye, float)
    return world_to_camera


def opengl_from_opencv_pose(camera_to_world_cv: Array) -> Array:
    """Camera->world pose with OpenGL camera axes (what pyrender wants) from the OpenCV one."""
    return np.asarray(camera_to_world_cv, float) @ _CV_GL


def rigid_inverse(transform: Array) -> Array:
    """Inverse of a 4x4 rotation+translation, exact up to rounding."""
    inverse = np.eye(4)
    inverse[:3, :3] = transform[:3, :3].T
    inverse[:3, 3] = -transform[:3, :3].T @ transform[:3, 3]
    return inverse


def transform_points(transform: Array, points: Array) -> Array:
    """Apply a 4x4 affine transform to (N, 3) points."""
    points = np.asarray(points, float)
    return points @ transform[:3, :3].T + transform[:3, 3]


def project_points(K: Array, points_camera: Array) -> Array:
    """Pixel (u, v) of (N, 3) camera-frame points: K @ xyz / z, not rounded."""
    points_camera = np.asarray(points_camera, float)
    homogeneous = points_camera @ np.asarray(K, float).T
    with np.errstate(divide="ignore", invalid="ignore"):
        return homogeneous[:, :2] / homogeneous[:, 2:3]


def rotation_z(angle: float) -> Array:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def clip_from_opencv(K: Array, width: int, height: int, near: float, far: float) -> Array:
    """OpenGL clip-space projection that rasterises OpenCV camera-frame points exactly where K puts them.

    Pixel centre (c, r) has OpenGL window coordinates (c + 0.5, height - r - 0.5); with this matrix a
    point that K projects to (u, v) = (c, r) lands on that centre. Window y grows upwards, so the image
    read back from OpenGL must be flipped vertically.
    """
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    skew = K[0, 1]
    proj = np.zeros((4, 4))
    proj[0, 0] = 2.0 * fx / width
    proj[0, 1] = 2.0 * skew / width
    proj[0, 2] = 2.0 * (cx + 0.5) / width - 1.0
    proj[1, 1] = -2.0 * fy / height
    proj[1, 2] = 1.0 - 2.0 * (cy + 0.5) / height
    proj[2, 2] = (far + near) / (far - near)
    proj[2, 3] = -2.0 * far * near / (far - near)
    proj[3, 2] = 1.0
    return proj
