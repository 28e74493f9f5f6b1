"""Sun glare (renderer.render.conditions.apply_glare): the halo peaks where OpenCV projects the sun's
direction, falls off as documented, and vanishes when a surface hides the sun or it is behind the camera;
only sky frames draw it."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from renderer.assets.catalog import AssetCatalog
from renderer.config.schema import load_scene
from renderer.render.conditions import apply_glare
from renderer.sampling.frame import sample_frame
from renderer.scene.camera import Pinhole
from renderer.scene.description import GlareDescription

ROOT = Path(__file__).resolve().parents[1]
K = np.array([[200.0, 0, 79.5], [0, 200.0, 59.5], [0, 0, 1]])
CAMERA = Pinhole(K, 160, 120)
GLARE = GlareDescription(strength=0.8, halo_px=10.0, ghosts=())


def _linear_added(out: np.ndarray) -> np.ndarray:
    return np.power(out.astype(np.float64), 2.2)[..., 0]


def test_the_halo_is_centred_on_the_projected_sun() -> None:
    world_to_camera = np.eye(4)
    world_to_camera[:3, :3] = cv2.Rodrigues(np.array([0.1, -0.2, 0.05]))[0]
    sun = world_to_camera[:3, :3].T @ np.array([0.1234, -0.0567, 1.0])
    sun /= np.linalg.norm(sun)
    expected, _ = cv2.projectPoints(sun[None] * 1e6, cv2.Rodrigues(world_to_camera[:3, :3])[0], np.zeros(3), K, None)
    u, v = expected.ravel()
    colour = np.zeros((120, 160, 3), np.float32)
    depth = np.zeros((120, 160), np.float32)
    added = _linear_added(apply_glare(colour, depth, CAMERA, world_to_camera, tuple(sun), GLARE))
    row, col = np.unravel_index(np.argmax(added), added.shape)
    assert abs(col - u) <= 0.5 and abs(row - v) <= 0.5
    r = np.hypot(np.arange(160)[None] - u, np.arange(120)[:, None] - v)
    model = 0.8 * (1 + (r / 10.0) ** 2) ** -1.5
    assert np.allclose(added, model, atol=2e-4)  # float32 and the encode/decode round trip
    hidden = depth.copy()
    hidden[int(np.floor(v + 0.5)), int(np.floor(u + 0.5))] = 2.0
    assert not apply_glare(colour, hidden, CAMERA, world_to_camera, tuple(sun), GLARE).any()
    assert not apply_glare(colour, depth, CAMERA, world_to_camera, tuple(-sun), GLARE).any()


def test_only_frames_under_a_sky_draw_glare() -> None:
    sky = load_scene(ROOT / "scenes" / "photoreal.yaml", ["glare.probability=1"])
    plain = load_scene(ROOT / "scenes" / "tabletop.yaml", ["glare.probability=1"])
    assert sample_frame(sky, AssetCatalog(sky), seed=0, index=0).glare is not None
    assert sample_frame(plain, AssetCatalog(plain), seed=0, index=0).glare is None
