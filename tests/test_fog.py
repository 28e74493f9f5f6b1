"""Fog (renderer.render.conditions): the transmittance recovered from a fogged flat floor against
Koschmieder's law over the analytic distance to the plane, and labels untouched by fog."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from renderer.config.schema import ConfigError, load_scene, scene_from_dict
from renderer.io.dataset import Dataset
from renderer.pipeline.run import generate

FLOOR = {
    "image": {"width": 160, "height": 120},
    "camera": {"fov_deg": 50, "distance": 6.0, "elevation_deg": 25, "azimuth_deg": 0, "target_jitter": 0.0,
               "far": 200},
    "table": {"size": [400, 400], "thickness": 0.05, "texture": "none"},
    "objects": {"count": 0},
    "lights": {"count": 1, "intensity": 3.0, "elevation_deg": 80, "ambient": 0.5},
    "outputs": ["rgb", "depth", "instance"],
}


def _dataset(root: Path, probability: float) -> Dataset:
    scene = dict(FLOOR, fog={"probability": probability, "visibility_m": [25, 40], "airlight": 0.05})
    generate(scene_from_dict(scene), root, frames=3, seed=4, workers=1)
    return Dataset(root)


def test_transmittance_of_a_fogged_floor_follows_koschmieder(tmp_path: Path) -> None:
    clear, fogged = _dataset(tmp_path / "clear", 0.0), _dataset(tmp_path / "fog", 1.0)
    errors = []
    for i in range(3):
        meta = json.loads((tmp_path / "fog" / "meta" / f"{i:06d}.json").read_text())
        fog = meta["description"]["fog"]
        assert fog["beta"] == pytest.approx(3.912 / fog["visibility_m"])
        clear_meta = json.loads((tmp_path / "clear" / "meta" / f"{i:06d}.json").read_text())
        assert "fog" not in clear_meta["description"]
        # The same frame otherwise (fog draws from its own stream): same objects, camera, labels.
        assert clear_meta["objects"] == meta["objects"] and clear_meta["camera"] == meta["camera"]
        assert np.array_equal(clear[i].depth, fogged[i].depth)
        # The floor's distance along each pixel centre's ray: the plane z = 0, solved here.
        K = np.array(meta["camera"]["K"])
        world_to_camera = np.array(meta["camera"]["world_to_camera"])
        R, t = world_to_camera[:3, :3], world_to_camera[:3, 3]
        centre = -R.T @ t
        rows, cols = np.mgrid[0:120, 0:160]
        rays = np.stack([cols, rows, np.ones_like(cols)], -1).reshape(-1, 3) @ np.linalg.inv(K).T @ R  # world
        along = -centre[2] / rays[:, 2]
        distance = (along * np.linalg.norm(rays, axis=1)).reshape(120, 160)
        on_floor = (along > 0).reshape(120, 160) & (clear[i].instance > 0)
        linear_clear = (clear[i].rgb.astype(float) / 255) ** 2.2
        linear_fog = (fogged[i].rgb.astype(float) / 255) ** 2.2
        airlight = np.array(fog["airlight"])
        contrast = linear_clear - airlight
        usable = on_floor[..., None] & (contrast > 0.15)
        measured = (linear_fog - airlight)[usable] / contrast[usable]
        expected = np.broadcast_to(np.exp(-fog["beta"] * distance)[..., None], usable.shape)[usable]
        assert usable.sum() > 3000
        errors.append(np.abs(measured - expected))
    errors = np.concatenate(errors)
    print(f"fog transmittance: median error {np.median(errors):.4f}, 99th percentile {np.percentile(errors, 99):.4f}")
    assert np.median(errors) < 0.01 and np.percentile(errors, 99) < 0.04


def test_bad_fog_settings_are_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("fog: {probability: 1.5}\n")
    with pytest.raises(ConfigError, match="fog.probability"):
        load_scene(path)
    path.write_text("fog: {visibility_m: [0, 10]}\n")
    with pytest.raises(ConfigError, match="fog.visibility_m"):
        load_scene(path)
