"""environment: light from all around (``environment:``): none, uniform, an HDR map, or a sky whose sun
joins the frame's lights (after the scene's own)."""

from __future__ import annotations

import numpy as np

from renderer.assets.catalog import AssetCatalog
from renderer.config.schema import SceneConfig
from renderer.sampling.randomizers.base import FrameDraft, Randomizer, light_pose, unit_direction
from renderer.scene.description import EnvironmentDescription, LightDescription
from renderer.scene.environment import sun_color


def _draw(draft: FrameDraft) -> None:
    draft.environment, sun = _environment(draft.config, draft.catalog, draft.stream("environment"))
    draft.lights.extend(sun)


RANDOMIZER = Randomizer("environment", ("environment",), rank=60, draw=_draw)


def _environment(config: SceneConfig, catalog: AssetCatalog,
                 rng: np.random.Generator) -> tuple[EnvironmentDescription, list[LightDescription]]:
    """The frame's environment, and for a sky its sun as a directional light."""
    env = config.environment
    kind = env.kind.sample(rng)
    intensity = float(env.intensity.sample(rng))
    rotation = float(env.rotation_deg.sample(rng))
    if kind == "none":
        return EnvironmentDescription(), []
    if kind == "uniform":
        return EnvironmentDescription("uniform", intensity=intensity, visible=env.visible), []
    if kind == "hdri":
        maps = catalog.image_choices("environment.images")
        return EnvironmentDescription("hdri", intensity=intensity, rotation_deg=rotation,
                                      path=str(maps[int(rng.integers(len(maps)))]), visible=env.visible), []
    elevation = float(env.sun_elevation_deg.sample(rng))
    direction = unit_direction(elevation, float(env.sun_azimuth_deg.sample(rng)))
    turbidity = float(env.turbidity.sample(rng))
    sun_intensity = float(env.sun_intensity.sample(rng))
    sky = EnvironmentDescription("sky", intensity=intensity, sun_direction=(float(direction[0]), float(direction[1]),
                                 float(direction[2])), turbidity=turbidity, visible=env.visible)
    if sun_intensity <= 0:
        return sky, []
    sun = LightDescription(kind="directional", color=sun_color(elevation), intensity=sun_intensity,
                           light_to_world=light_pose(np.array(config.camera.target, dtype=float), direction, 10.0))
    return sky, [sun]
