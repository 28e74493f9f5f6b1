"""objects and distractors: how many (``objects.count``, ``distractors.count``), which assets (balance,
category weights), their scales and materials (``materials:``), then where they go (``objects.placement``:
surface, air or physics), in a random order so that distractors are not always the ones left out."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from renderer.assets.catalog import Asset, AssetCatalog, draw_probabilities
from renderer.config.distributions import Distribution
from renderer.config.schema import SceneConfig
from renderer.sampling.materials import object_material
from renderer.sampling.physics import drop_and_settle
from renderer.sampling.placement import Draft, place_in_air, place_on_surface
from renderer.sampling.randomizers.base import FrameDraft, Randomizer
from renderer.scene.description import ObjectDescription, as_matrix
from renderer.seeding import randomizer_rng

Placed = list[tuple[Draft, NDArray[np.float64]]]  # drafts that fit, with their object_to_world
Placer = Callable[[SceneConfig, AssetCatalog, np.random.Generator, list[Draft]], Placed]
PLACERS: dict[str, Placer] = {"surface": place_on_surface, "air": place_in_air, "physics": drop_and_settle}


def _draw(draft: FrameDraft) -> None:
    config, catalog = draft.config, draft.catalog
    drafts = _drafts(config, catalog, draft.stream("objects"), catalog.assets, config.objects.count)
    distractor_drafts = _drafts(config, catalog, draft.stream("distractors"), catalog.distractors,
                                config.distractors.count)
    rng = draft.stream("placement")
    order = rng.permutation(len(drafts) + len(distractor_drafts))
    placed = PLACERS[config.objects.placement](config, catalog, rng, [(drafts + distractor_drafts)[k] for k in order])
    next_id = len(draft.objects) + 1
    for chosen, pose in placed:
        labelled = not chosen.distractor or config.distractors.labelled
        instance_id = next_id if labelled else 0
        next_id += labelled
        draft.objects.append(ObjectDescription(
            instance_id=instance_id, asset_id=chosen.asset.asset_id, category=chosen.asset.category,
            category_id=catalog.categories[chosen.asset.category] if labelled else 0, mesh=chosen.asset.source,
            scale=chosen.scale, object_to_world=as_matrix(pose), material=chosen.material))


RANDOMIZER = Randomizer("objects", ("objects", "distractors", "placement"), rank=10, draw=_draw)


def objects_drawn(config: SceneConfig, *, seed: int, index: int, attempt: int = 0) -> int:
    """How many objects frame ``index`` draws before placement (the first draw of its objects stream,
    as _drafts makes it); placement may keep fewer."""
    if not config.objects.assets:
        return 0
    return int(config.objects.count.sample(randomizer_rng(seed, index, "objects", attempt)))

def _drafts(config: SceneConfig, catalog: AssetCatalog, rng: np.random.Generator, assets: list[Asset],
            count: Distribution) -> list[Draft]:
    n = int(count.sample(rng))
    if n == 0 or not assets:
        return []
    distractor = assets is catalog.distractors
    weights = draw_probabilities(assets, "none" if distractor else config.objects.balance,
                                 dict(config.objects.category_weights))
    drafts = []
    for _ in range(n):
        asset = assets[int(rng.choice(len(assets), p=weights))]
        scale = float(asset.scale.sample(rng))
        drafts.append(Draft(asset, scale, object_material(config, rng, catalog, asset), distractor))
    return drafts
