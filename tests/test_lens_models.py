"""Lens models (renderer.scene.camera.BrownConrady, Fisheye) against OpenCV: projections equal
cv2.projectPoints / cv2.fisheye.projectPoints, and rays invert them (cv2.undistortPoints agrees)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from renderer.scene.camera import BrownConrady, Fisheye

K = np.array([[420.0, 0.0, 319.5], [0.0, 410.0, 239.5], [0.0, 0.0, 1.0]])


def _points(rng: np.random.Generator, n: int, half_angle_deg: float) -> np.ndarray:
    """Points in front of the camera within half_angle_deg of the axis, 0.5-5 m away."""
    theta = np.deg2rad(rng.uniform(0, half_angle_deg, n))
    phi = rng.uniform(0, 2 * np.pi, n)
    directions = np.stack([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)], axis=1)
    return directions * rng.uniform(0.5, 5.0, (n, 1))


BROWN = [(-0.28, 0.07, 0.001, -0.0008, 0.0), (0.1, -0.05, 0.0, 0.0, 0.01, 0.02, 0.0, 0.0),
         (-0.35, 0.12, 0.002, 0.001, -0.02, 0.0, 0.0, 0.0)]


@pytest.mark.parametrize("distortion", BROWN)
def test_brown_conrady_matches_opencv(distortion: tuple[float, ...]) -> None:
    lens = BrownConrady(K, 640, 480, distortion)
    points = _points(np.random.default_rng(0), 2000, 35.0)
    ours = lens.project(points)
    theirs, _ = cv2.projectPoints(points, np.zeros(3), np.zeros(3), K, np.array(distortion))
    assert np.abs(ours - theirs.reshape(-1, 2)).max() < 1e-6
    rays = lens.rays(ours)
    assert np.allclose(rays[:, :2], points[:, :2] / points[:, 2:3], atol=1e-7)  # rays invert the projection
    undistorted = cv2.undistortPoints(ours.reshape(-1, 1, 2), K, np.array(distortion),
                                      criteria=(cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 100, 1e-12))
    assert np.allclose(undistorted.reshape(-1, 2), rays[:, :2], atol=1e-6)


@pytest.mark.parametrize("distortion", [(0.0, 0.0, 0.0, 0.0), (-0.02, 0.004, -0.001, 0.0002), (0.05, -0.01, 0.0, 0.0)])
def test_fisheye_matches_opencv_to_near_180_degrees(distortion: tuple[float, float, float, float]) -> None:
    lens = Fisheye(K, 640, 480, distortion)
    points = _points(np.random.default_rng(1), 2000, 85.0)
    ours = lens.project(points)
    theirs, _ = cv2.fisheye.projectPoints(points.reshape(-1, 1, 3), np.zeros(3), np.zeros(3), K, np.array(distortion))
    assert np.abs(ours - theirs.reshape(-1, 2)).max() < 1e-6
    rays = lens.rays(ours)
    assert np.allclose(rays[:, :2], points[:, :2] / points[:, 2:3], rtol=1e-6, atol=1e-6)
    # Beyond 90 degrees off axis (a 180-degree-plus lens) the projection is still defined.
    behind = np.array([[1.0, 0.0, -0.1]])
    assert np.isfinite(lens.project(behind)).all()
