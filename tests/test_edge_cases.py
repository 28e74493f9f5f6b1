"""The edge-case mode (config edge_cases): the chosen rate of frames, each of their ranged draws in the
outer tail of its distribution, recorded in the description; every other frame exactly as without the
mode."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import scipy.stats

from renderer.assets.catalog import AssetCatalog
from renderer.config.schema import load_scene
from renderer.sampling.frame import sample_frame
from renderer.scene.description import FrameDescription

ROOT = Path(__file__).resolve().parents[1]


def test_edge_frames_draw_from_the_tails_and_the_rest_are_unchanged() -> None:
    plain = load_scene(ROOT / "scenes" / "tabletop.yaml")
    edged = load_scene(ROOT / "scenes" / "tabletop.yaml", ["edge_cases.rate=0.3", "edge_cases.tail=0.1"])
    catalog = AssetCatalog(plain)
    flagged = 0
    frames = 120
    for index in range(frames):
        frame = sample_frame(edged, catalog, seed=1, index=index)
        if not frame.extreme_draws:
            assert frame == sample_frame(plain, catalog, seed=1, index=index)  # untouched by the mode
            continue
        flagged += 1
        assert FrameDescription.from_dict(json.loads(json.dumps(frame.to_dict()))) == frame
        randomizers = {d.randomizer for d in frame.extreme_draws}
        assert {"camera", "lights"} <= randomizers
        for draw in frame.extreme_draws:
            dist = json.loads(draw.distribution)
            if isinstance(dist, list):  # [low, high]: a uniform range
                low, high = dist
                width = high - low
                if isinstance(low, int) and isinstance(high, int):
                    assert draw.value in (low, high)
                else:
                    assert low <= draw.value <= low + 0.05 * width or high - 0.05 * width <= draw.value <= high
    # Binomial: 30 % of 120 frames.
    assert scipy.stats.binomtest(flagged, frames, 0.3).pvalue > 0.001, flagged
    # The camera's field of view, for one, sits at its ends in edge frames.
    fovs = [np.degrees(2 * np.arctan(240 / sample_frame(edged, catalog, seed=1, index=i).camera.K[1][1]))
            for i in range(frames) if sample_frame(edged, catalog, seed=1, index=i).extreme_draws]
    assert all(min(abs(f - 45), abs(f - 60)) <= 0.75 + 1e-6 for f in fovs)
