"""Skin that varies over the face (renderer.humans.skin_map), checked on rendered labels: the albedo and
roughness channels read at places found from the 68 face landmarks (anny's geometry, independent of the
painter): cheeks redder than the forehead on light skin, darker under the eyes, the forehead less rough
than the cheeks; the same identity has the same marks in every frame."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from renderer.config.schema import load_scene
from renderer.io.dataset import Dataset
from renderer.pipeline.run import generate

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def portraits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("skin") / "ds"
    config = load_scene(ROOT / "scenes" / "faces.yaml", [
        "image.width=256", "image.height=256", "people.monk_tones=[1, 3]", "people.balance=[]",
        "people.face.head_yaw_deg=[-10, 10]", "people.face.head_pitch_deg=[-8, 8]",
        "people.face.head_roll_deg=[-5, 5]", "camera.azimuth_deg=[-5, 5]", "camera.elevation_deg=[-3, 3]",
        "people.face.expressions=neutral", "people.identities=3",
        "outputs=[rgb, instance, albedo, roughness, body_covering]"])
    generate(config, out, frames=6, seed=2)
    return out


def _lab(linear: np.ndarray) -> np.ndarray:
    srgb = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * np.clip(linear, 0, 1) ** (1 / 2.4) - 0.055)
    return cv2.cvtColor(srgb.reshape(-1, 1, 3).astype(np.float32), cv2.COLOR_RGB2Lab).reshape(-1, 3)


def _patch(image: np.ndarray, skin: np.ndarray, centre: np.ndarray, radius: int) -> np.ndarray:
    u, v = int(round(centre[0])), int(round(centre[1]))
    window = (slice(max(v - radius, 0), v + radius + 1), slice(max(u - radius, 0), u + radius + 1))
    return image[window][skin[window]]


def test_cheeks_flush_eyes_shadow_and_the_forehead_shines(portraits: Path) -> None:
    data = Dataset(portraits)
    cheek_minus_forehead_a, under_eye_minus_forehead_l, forehead_minus_cheek_roughness = [], [], []
    for index in range(len(data)):
        frame = data[index]
        person = next(o for o in frame.objects if o.category == "person")
        assert person.face is not None
        uv = person.face.landmarks.uv
        if not person.face.landmarks.visible[[2, 14, 19, 24, 36, 45, 30]].all():
            continue
        skin = frame.array("body_covering") == 1
        albedo, roughness = frame.array("albedo"), frame.array("roughness")
        eye_distance = float(np.linalg.norm(uv[45] - uv[36]))
        radius = max(2, int(eye_distance / 12))
        cheeks = [(uv[2] + uv[31]) / 2 + np.array([0.0, -0.1]) * eye_distance,
                  (uv[14] + uv[35]) / 2 + np.array([0.0, -0.1]) * eye_distance]
        brows = (uv[19] + uv[24]) / 2
        forehead = brows + (brows - uv[30]) * 0.35  # above the brows, away from the nose tip
        under_eyes = [uv[41] + np.array([0.0, 0.18]) * eye_distance, uv[46] + np.array([0.0, 0.18]) * eye_distance]
        patches = {name: [_patch(albedo, skin, c, radius) for c in centres]
                   for name, centres in (("cheek", cheeks), ("forehead", [forehead]), ("under_eye", under_eyes))}
        if any(len(p) < 3 for group in patches.values() for p in group):
            continue
        lab = {name: np.mean([np.median(_lab(p), axis=0) for p in group], axis=0) for name, group in patches.items()}
        cheek_minus_forehead_a.append(lab["cheek"][1] - lab["forehead"][1])
        under_eye_minus_forehead_l.append(lab["under_eye"][0] - lab["forehead"][0])
        rough = {name: np.median(np.concatenate([_patch(roughness, skin, c, radius) for c in centres]))
                 for name, centres in (("cheek", cheeks), ("forehead", [forehead]))}
        forehead_minus_cheek_roughness.append(rough["forehead"] - rough["cheek"])
    print("a* cheek - forehead:", np.round(cheek_minus_forehead_a, 2), "L* under eye - forehead:",
          np.round(under_eye_minus_forehead_l, 2), "roughness forehead - cheek:",
          np.round(forehead_minus_cheek_roughness, 3))
    assert len(cheek_minus_forehead_a) >= 4
    assert np.median(cheek_minus_forehead_a) > 1.0  # redder cheeks (CIELAB a*)
    assert np.median(under_eye_minus_forehead_l) < -0.5  # darker under the eyes
    assert np.median(forehead_minus_cheek_roughness) < -0.1  # an oilier forehead


def test_an_identity_keeps_its_skin_from_frame_to_frame() -> None:
    from renderer.humans.skin_map import skin_marks

    first = skin_marks("0123456789abcdef", 2, 30.0)
    assert skin_marks("0123456789abcdef", 2, 30.0) == first
    others = {skin_marks(f"{k:016x}", 2, 30.0) for k in range(40)}
    assert len(others) == 40  # different people, different marks
    freckled = [skin_marks(f"{k:016x}", tone, 30.0).freckle_density > 0 for k in range(400) for tone in (1, 9)]
    light, dark = np.mean(freckled[0::2]), np.mean(freckled[1::2])
    assert light > 0.3 > 0.1 > dark  # freckles on light skin
