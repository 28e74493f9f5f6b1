"""Rain and snow (renderer.render.conditions): particles behind a surface never show on it, particles in
front of it do, the sky behind shows them, rain wets the materials, and no label changes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from renderer.config.schema import scene_from_dict
from renderer.io.dataset import Dataset
from renderer.pipeline.run import generate

WALL = {  # a floor seen straight down from 2 m, filling the middle of the frame, sky around it
    "image": {"width": 160, "height": 120},
    "camera": {"fov_deg": 45, "distance": 2.0, "elevation_deg": 90, "azimuth_deg": 0, "target_jitter": 0.0},
    "table": {"size": [1.2, 1.0], "thickness": 0.05, "texture": "checker"},
    "objects": {"count": 0},
    "lights": {"count": 1, "intensity": 3.0, "ambient": 0.5},
    "background": [0.3, 0.35, 0.4],
    "outputs": ["rgb", "depth", "instance"],
}


def _run(root: Path, **precipitation: object) -> Dataset:
    scene = dict(WALL, precipitation=precipitation)
    generate(scene_from_dict(scene), root, frames=2, seed=6, workers=1)
    return Dataset(root)


def test_particles_show_only_in_front_of_the_surfaces(tmp_path: Path) -> None:
    clear = _run(tmp_path / "clear", probability=0.0)
    for kind in ("rain", "snow"):
        behind = _run(tmp_path / f"{kind}_behind", probability=1.0, kinds=kind, count=4000, near_m=2.5, far_m=8.0,
                      opacity=0.6, snow_radius_m=0.02, wetness=0.0)
        front = _run(tmp_path / f"{kind}_front", probability=1.0, kinds=kind, count=4000, near_m=0.3, far_m=1.8,
                     opacity=0.6, snow_radius_m=0.02, wetness=0.0)
        for i in range(2):
            floor = clear[i].depth > 0
            assert floor.mean() > 0.2 and (~floor).mean() > 0.2
            changed_behind = np.any(behind[i].rgb != clear[i].rgb, axis=-1)
            changed_front = np.any(front[i].rgb != clear[i].rgb, axis=-1)
            assert not changed_behind[floor].any()  # every particle beyond the floor is hidden by it
            assert changed_behind[~floor].mean() > 0.01  # but shows against the sky
            assert changed_front[floor].mean() > 0.01  # particles before the floor show on it
            assert np.array_equal(behind[i].depth, clear[i].depth) and np.array_equal(front[i].instance,
                                                                                      clear[i].instance)
            meta = json.loads((tmp_path / f"{kind}_front" / "meta" / f"{i:06d}.json").read_text())
            base = json.loads((tmp_path / "clear" / "meta" / f"{i:06d}.json").read_text())
            assert meta["description"]["precipitation"]["kind"] == kind
            assert [o["bbox"] for o in meta["objects"]] == [o["bbox"] for o in base["objects"]]


def test_rain_wets_the_materials(tmp_path: Path) -> None:
    _run(tmp_path / "clear", probability=0.0)
    _run(tmp_path / "wet", probability=1.0, kinds="rain", wetness=1.0)
    dry = json.loads((tmp_path / "clear" / "meta" / "000000.json").read_text())["description"]["objects"][0]
    wet = json.loads((tmp_path / "wet" / "meta" / "000000.json").read_text())["description"]["objects"][0]
    assert np.allclose(np.array(wet["material"]["base_color"][:3]), 0.65 * np.array(dry["material"]["base_color"][:3]))
    assert np.isclose(wet["material"]["roughness"], 0.3 * dry["material"]["roughness"])
