"""Night (renderer.sampling.randomizers.night): the day's light scaled by the drawn dimming, warm lamps
added within pyrender's limits, the image darker, every label as in daylight."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from renderer.config.schema import load_scene
from renderer.io.dataset import Dataset
from renderer.pipeline.run import generate

ROOT = Path(__file__).resolve().parents[1]


def test_night_dims_the_day_and_adds_lamps_and_leaves_labels(tmp_path: Path) -> None:
    small = ["image.width=160", "image.height=120", "lights.count=2"]
    day_config = load_scene(ROOT / "scenes" / "tabletop.yaml", small)
    night_config = load_scene(ROOT / "scenes" / "tabletop.yaml", [*small, "night.probability=1", "night.dim=0.05",
                                                                  "night.lamps=3", "night.lamp_type=point"])
    generate(day_config, tmp_path / "day", frames=3, seed=2, workers=1)
    generate(night_config, tmp_path / "night", frames=3, seed=2, workers=1)
    day_data, night_data = Dataset(tmp_path / "day"), Dataset(tmp_path / "night")
    for i in range(3):
        day = json.loads((tmp_path / "day" / "meta" / f"{i:06d}.json").read_text())
        night = json.loads((tmp_path / "night" / "meta" / f"{i:06d}.json").read_text())
        d, n = day["description"], night["description"]
        assert n["ambient"] == d["ambient"] * 0.05
        sun = len(d["lights"])
        scaled = [0.05 * light["intensity"] for light in d["lights"]]
        assert [light["intensity"] for light in n["lights"][:sun]] == scaled
        lamps = n["lights"][sun:]
        assert 1 <= len(lamps) <= 3 and all(light["kind"] == "point" for light in lamps)
        assert sum(light["kind"] == "point" for light in n["lights"]) <= 4
        assert all(light["color"][0] > light["color"][2] for light in lamps)  # warm
        assert night["objects"] == day["objects"]
        assert np.array_equal(night_data[i].instance, day_data[i].instance)
        luminance = [f.rgb.astype(float).mean() for f in (day_data[i], night_data[i])]
        assert luminance[1] < 0.8 * luminance[0]
