"""(config, seed, frame index) -> frame description. Pure data, no OpenGL.

Every draw comes from streams seeded by (seed, index) (renderer.seeding), so frame i is the same whether
it is made alone, in a long run, or by any worker. The randomizers of renderer.sampling.randomizers
(supports, objects with their materials and placement, lights, camera, background, sensor, environment)
each draw from streams of their own: changing one leaves the others' draws untouched.
"""

from __future__ import annotations

import json

from renderer.assets.catalog import AssetCatalog
from renderer.config.distributions import extreme_draws
from renderer.config.schema import SceneConfig
from renderer.sampling.randomizers import RANDOMIZERS, FrameDraft
from renderer.scene.description import (
    BackgroundDescription,
    EnvironmentDescription,
    ExtremeDraw,
    FrameDescription,
    SensorDescription,
)


def sample_frame(config: SceneConfig, catalog: AssetCatalog, *, seed: int, index: int,
                 attempt: int = 0) -> FrameDescription:
    """The description of frame ``index`` of the dataset made with ``seed`` (``attempt``: its redraw
    after failing the scene's constraints, renderer.labels.constraints): every randomizer, in rank order,
    on one draft."""
    draft = FrameDraft(config, catalog, seed, index, attempt)
    extreme: tuple[ExtremeDraw, ...] = ()
    edge = config.edge_cases
    if edge.rate > 0 and float(draft.stream("edge_cases").uniform()) < edge.rate:
        with extreme_draws(edge.tail) as tails:
            for randomizer in RANDOMIZERS.values():
                tails.where = randomizer.name
                randomizer.draw(draft)
        extreme = tuple(ExtremeDraw(where, json.dumps(plain), value) for where, plain, value in tails.draws)
    else:
        for randomizer in RANDOMIZERS.values():
            randomizer.draw(draft)
    if draft.camera is None:
        raise ValueError("no randomizer drew the camera")
    return FrameDescription(
        index=index, seed=seed, camera=draft.camera, objects=tuple(draft.objects), lights=tuple(draft.lights),
        ambient=draft.ambient, background=draft.background or BackgroundDescription("solid", ((0.0, 0.0, 0.0),)),
        sensor=draft.sensor or SensorDescription(), environment=draft.environment or EnvironmentDescription(),
        attempt=attempt, fog=draft.fog, depth_sensor=draft.depth_sensor,
        precipitation=draft.precipitation, glare=draft.glare,
        extreme_draws=extreme).check_instance_ids()
