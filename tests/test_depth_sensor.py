"""The depth_sensor channel against its model: the axial noise measured over a flat floor at several
distances against sigma(z), a structured-light sensor's disparities on its quantisation grid, returns
missing exactly where the floor is seen at grazing incidence (computed here from the plane), and exact
depth untouched."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from renderer.config.schema import scene_from_dict
from renderer.io.dataset import Dataset
from renderer.pipeline.run import generate


def _floor(root: Path, distance: float, sensor: dict, elevation: float = 90.0) -> tuple[Dataset, dict]:
    scene = {
        "image": {"width": 320, "height": 240},
        "camera": {"fov_deg": 40, "distance": distance, "elevation_deg": elevation, "azimuth_deg": 0,
                   "target_jitter": 0.0, "far": 100},
        "table": {"size": [200, 200], "thickness": 0.05, "texture": "none"},
        "objects": {"count": 0},
        "lights": {"count": 1, "intensity": 3.0, "ambient": 0.5},
        "outputs": ["rgb", "depth", "normals", "instance", "depth_sensor"],
        "depth_sensor": sensor,
    }
    generate(scene_from_dict(scene), root, frames=1, seed=2, workers=1)
    return Dataset(root), json.loads((root / "meta" / "000000.json").read_text())


def test_axial_noise_grows_as_the_model_says(tmp_path: Path) -> None:
    sigma_0, sigma_2, step = 0.0015, 0.002, 0.0005
    for distance in (0.8, 1.5, 2.5, 4.0):
        data, meta = _floor(tmp_path / f"d{distance}", distance, {"kind": "tof", "sigma_0": sigma_0,
                                                                  "sigma_2": sigma_2, "depth_step_m": step})
        frame = data[0]
        exact, measured = frame.depth.astype(float), frame.array("depth_sensor").astype(float)
        inside = (exact > 0) & (measured > 0)
        inside[:3], inside[-3:], inside[:, :3], inside[:, -3:] = False, False, False, False
        error = measured[inside] - exact[inside]
        z = float(np.median(exact[inside]))
        predicted = np.sqrt((sigma_0 + sigma_2 * z ** 2) ** 2 + step ** 2 / 12)
        print(f"depth sensor at {z:.2f} m: sigma measured {error.std() * 1000:.2f} mm, model {predicted * 1000:.2f} mm")
        assert abs(error.mean()) < 0.1 * predicted
        assert abs(error.std() / predicted - 1) < 0.05
        assert inside.sum() > 0.9 * exact.size * 0.9


def test_structured_light_disparities_lie_on_their_grid(tmp_path: Path) -> None:
    data, meta = _floor(tmp_path / "sl", 2.0, {"kind": "structured_light", "baseline_m": 0.075,
                                              "disparity_step_px": 0.125})
    measured = data[0].array("depth_sensor").astype(float)
    fx = np.array(meta["camera"]["K"])[0][0]
    disparity = fx * 0.075 / measured[measured > 0]
    steps = disparity / 0.125
    assert np.abs(steps - np.round(steps)).max() < 1e-3  # float32 storage of the depth
    assert np.array_equal(data[0].depth, data[0].depth)  # exact depth is still written beside it


def test_grazing_returns_are_missing_where_the_plane_says(tmp_path: Path) -> None:
    data, meta = _floor(tmp_path / "graze", 3.0, {"kind": "tof", "max_incidence_deg": 70, "dark_dropout": 0.0,
                                                  "max_range_m": 100}, elevation=12.0)
    frame = data[0]
    K = np.array(meta["camera"]["K"])
    R = np.array(meta["camera"]["world_to_camera"])[:3, :3]
    rows, cols = np.mgrid[0:240, 0:320]
    rays = np.stack([cols, rows, np.ones_like(cols)], -1).reshape(-1, 3) @ np.linalg.inv(K).T @ R  # world
    incidence = np.degrees(np.arccos(np.abs(rays[:, 2]) / np.linalg.norm(rays, axis=1))).reshape(240, 320)
    floor = frame.depth > 0
    clear = floor & (np.abs(incidence - 70) > 0.5)
    measured = frame.array("depth_sensor")
    grazing = clear & (incidence > 70)
    assert grazing.sum() > 1000 and (clear & (incidence < 70)).sum() > 1000
    assert not measured[grazing].any()
    returned = measured[clear & (incidence < 70)] > 0
    assert returned.mean() > 0.97  # (the frayed edge at the horizon aside)
