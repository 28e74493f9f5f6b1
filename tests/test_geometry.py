"""Camera maths against closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from renderer.scene.geometry import (
    clip_from_opencv,
    intrinsics_from_fov,
    look_at_world_to_camera,
    opengl_from_opencv_pose,
    project_points,
    rigid_inverse,
)


@pytest.mark.parametrize("fov", [20.0, 60.0, 120.0])
def test_fov_reaches_the_image_edges(fov: float) -> None:
    width, height = 640, 480
    K = intrinsics_from_fov(fov, width, height)
    half = np.deg2rad(fov) / 2
    # A point at half the vertical fov above the axis projects onto the top edge of the image (v = -0.5).
    uv = project_points(K, np.array([[0.0, -np.tan(half), 1.0], [0.0, np.tan(half), 1.0]]))
    np.testing.assert_allclose(uv[:, 1], [-0.5, height - 0.5], atol=1e-9)
    np.testing.assert_allclose(uv[:, 0], [(width - 1) / 2] * 2, atol=1e-9)


def test_look_at_puts_target_on_the_optical_axis() -> None:
    eye, target = np.array([0.3, -1.0, 0.8]), np.array([0.05, 0.02, 0.0])
    w2c = look_at_world_to_camera(eye, target)
    np.testing.assert_allclose(w2c[:3, :3] @ w2c[:3, :3].T, np.eye(3), atol=1e-12)
    cam = w2c[:3, :3] @ target + w2c[:3, 3]
    np.testing.assert_allclose(cam[:2], 0, atol=1e-12)
    assert cam[2] == pytest.approx(np.linalg.norm(target - eye))
    # world up (z) appears pointing up in the image: negative camera y
    up_cam = w2c[:3, :3] @ np.array([0, 0, 1.0])
    assert up_cam[1] < 0
    np.testing.assert_allclose(rigid_inverse(w2c) @ w2c, np.eye(4), atol=1e-12)


def test_clip_matrix_rasterises_where_K_projects() -> None:
    rng = np.random.default_rng(0)
    width, height, near, far = 320, 240, 0.1, 10.0
    K = intrinsics_from_fov(55.0, width, height)
    K[0, 2] += 3.3  # off-centre principal point
    points = np.column_stack([rng.uniform(-1, 1, 50), rng.uniform(-1, 1, 50), rng.uniform(0.5, 5, 50)])
    clip = np.column_stack([points, np.ones(50)]) @ clip_from_opencv(K, width, height, near, far).T
    ndc = clip[:, :3] / clip[:, 3:4]
    window_x = (ndc[:, 0] + 1) / 2 * width
    window_y = (ndc[:, 1] + 1) / 2 * height
    uv = project_points(K, points)
    np.testing.assert_allclose(window_x, uv[:, 0] + 0.5, atol=1e-9)  # pixel centre c sits at c + 0.5
    np.testing.assert_allclose(height - window_y, uv[:, 1] + 0.5, atol=1e-9)
    # near and far map to the ends of the depth range
    ends = np.array([[0, 0, near, 1.0], [0, 0, far, 1.0]]) @ clip_from_opencv(K, width, height, near, far).T
    np.testing.assert_allclose(ends[:, 2] / ends[:, 3], [-1, 1], atol=1e-12)


def test_opengl_pose_projects_where_opencv_does() -> None:
    """The OpenGL camera pose made from an OpenCV one, used as pyrender uses it (view = its inverse,
    pyrender's own IntrinsicsCamera projection, OpenGL's viewport transform), puts world points on the
    pixels where OpenCV's cv2.projectPoints puts them with the OpenCV pose; they are in front of it."""
    import cv2
    import pyrender

    rng = np.random.default_rng(3)
    width, height = 320, 240
    K = np.array([[300.0, 0.0, 161.3], [0.0, 290.0, 118.6], [0.0, 0.0, 1.0]])
    gl_camera = pyrender.IntrinsicsCamera(K[0, 0], K[1, 1], K[0, 2], K[1, 2], znear=0.05, zfar=50.0)
    projection = gl_camera.get_projection_matrix(width, height)
    for _ in range(5):
        eye = rng.uniform(-2, 2, 3) + np.array([0.0, 0.0, 2.5])
        target = rng.uniform(-0.3, 0.3, 3)
        world_to_camera = look_at_world_to_camera(eye, target)
        points = target + rng.uniform(-0.4, 0.4, (20, 3))
        expected, _ = cv2.projectPoints(points, cv2.Rodrigues(world_to_camera[:3, :3])[0],
                                        world_to_camera[:3, 3], K, np.zeros(5))
        pose = opengl_from_opencv_pose(rigid_inverse(world_to_camera))
        eye_space = np.column_stack([points, np.ones(len(points))]) @ np.linalg.inv(pose).T
        assert np.all(eye_space[:, 2] < 0)  # OpenGL cameras look down their -z
        clip = eye_space @ projection.T
        ndc = clip[:, :3] / clip[:, 3:4]
        window = np.column_stack([(ndc[:, 0] + 1) / 2 * width, (ndc[:, 1] + 1) / 2 * height])
        pixel = np.column_stack([window[:, 0], height - window[:, 1]])  # image rows grow downwards
        np.testing.assert_allclose(pixel, expected.reshape(-1, 2), atol=1e-6)
        assert np.all(np.abs(ndc[:, 2]) < 1)  # inside the depth range
