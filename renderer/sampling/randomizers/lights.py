"""lights: count, kind, intensity, colour temperature and direction of the scene's lights
(``lights:``), aimed at the camera target, and the ambient term."""

from __future__ import annotations

import numpy as np

from renderer.config.schema import SceneConfig
from renderer.sampling.randomizers.base import FrameDraft, Randomizer, light_pose, unit_direction
from renderer.scene.color import color_from_temperature
from renderer.scene.description import LightDescription


def _draw(draft: FrameDraft) -> None:
    rng = draft.stream("lights")
    draft.lights.extend(_lights(draft.config, rng))
    draft.ambient = float(draft.config.lights.ambient.sample(rng))


RANDOMIZER = Randomizer("lights", ("lights",), rank=20, draw=_draw)


def _lights(config: SceneConfig, rng: np.random.Generator) -> list[LightDescription]:
    lc = config.lights
    target = np.array(config.camera.target)
    lights = []
    for _ in range(int(lc.count.sample(rng))):
        kind = lc.type.sample(rng)
        intensity = float(lc.intensity.sample(rng))
        color = color_from_temperature(float(lc.color_temperature_k.sample(rng)))
        direction = unit_direction(float(lc.elevation_deg.sample(rng)), float(lc.azimuth_deg.sample(rng)))
        distance = float(lc.distance.sample(rng))
        spot_angle = float(lc.spot_angle_deg.sample(rng)) if kind == "spot" else 0.0
        if kind != "directional":
            intensity *= distance**2  # the same illuminance at the target as a directional light
        lights.append(LightDescription(kind=kind, color=color, intensity=intensity,
                                       light_to_world=light_pose(target, direction, distance),
                                       spot_angle_deg=spot_angle))
    return lights
