"""objects.balance_visible: category weights under which *visible* instances per category come out
equal, although placement and occlusion hide some categories (small objects) more than others.

The plan is made before the first frame from pilot frames with streams of their own (a seed derived
from the dataset seed), drawn with every category equally likely and labelled with the label pass:
per category, the share of drawn objects that end up seen. Each category's weight is the inverse of
that share. The plan is a function of (config, seed) alone, so frame i made alone equals frame i of
any run; it is written into dataset.json's scene as objects.category_weights.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from renderer.assets.catalog import AssetCatalog, draw_probabilities
from renderer.config.schema import SceneConfig
from renderer.labels.objects import frame_labels
from renderer.render.gl.label_pass import LabelPass
from renderer.sampling.frame import sample_frame
from renderer.sampling.randomizers.objects import objects_drawn

PILOT_FRAMES = 128
PILOT_STREAM = 2**31 - 7  # spawn key of the pilot's seed, apart from every frame's streams
MIN_RATE = 0.02  # a category seen less than this (per drawn object) is weighted as if seen this often


def pilot_seed(seed: int) -> int:
    return int(np.random.SeedSequence(seed, spawn_key=(PILOT_STREAM,)).generate_state(1)[0])


def visible_rates(config: SceneConfig, catalog: AssetCatalog, seed: int, label_pass: LabelPass,
                  frames: int = PILOT_FRAMES) -> dict[str, float]:
    """{category: objects seen / objects drawn} over pilot frames drawn with uniform category weights."""
    uniform = dataclasses.replace(config, objects=dataclasses.replace(config.objects, category_weights=(),
                                                                      balance_visible=False))
    p = draw_probabilities(catalog.assets, "categories")
    share: dict[str, float] = {}
    for asset, probability in zip(catalog.assets, p, strict=True):
        share[asset.category] = share.get(asset.category, 0.0) + float(probability)
    seen = dict.fromkeys(share, 0)
    drawn = 0
    pilot = pilot_seed(seed)
    for index in range(frames):
        frame = sample_frame(uniform, catalog, seed=pilot, index=index)
        drawn += objects_drawn(uniform, seed=pilot, index=index)
        buffers = label_pass.render(frame, catalog)
        for label in frame_labels(frame, buffers, catalog, config.constraints.min_visible_fraction):
            if label.category in seen and label.visible_pixels > 0 and not label.ignore:
                seen[label.category] += 1
    return {c: seen[c] / (drawn * share[c]) if drawn else 0.0 for c in share}


def visible_balance_weights(rates: dict[str, float]) -> tuple[tuple[str, float], ...]:
    """Category weights (mean 1, 4 significant digits) that equalise expected visible instances."""
    inverse = {c: 1.0 / max(rate, MIN_RATE) for c, rate in rates.items()}
    mean = sum(inverse.values()) / len(inverse)
    return tuple(sorted((c, float(f"{w / mean:.4g}")) for c, w in inverse.items()))


def planned_config(config: SceneConfig, catalog: AssetCatalog, seed: int) -> SceneConfig:
    """The config with its balance_visible plan filled in as category_weights (unchanged otherwise)."""
    if not config.objects.balance_visible or not catalog.assets:
        return config
    from renderer.render.gl.gl_context import GLContext

    with GLContext(config.image.width, config.image.height) as context:
        rates = visible_rates(config, catalog, seed, LabelPass(context))
    weights = visible_balance_weights(rates)
    return dataclasses.replace(config, objects=dataclasses.replace(config.objects, category_weights=weights))
