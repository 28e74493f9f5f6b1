"""night: with its probability a frame's daylight dimmed and artificial lamps added (``night:``): the
frame's lights, ambient term, environment and background scaled by ``dim``, then warm point or spot lamps
above the scene, aimed at the camera target (within pyrender's 4 lights of a type)."""

from __future__ import annotations

import dataclasses

import numpy as np

from renderer.config.schema import MAX_NIGHT_LAMPS
from renderer.sampling.randomizers.base import FrameDraft, Randomizer, light_pose, unit_direction
from renderer.scene.color import color_from_temperature
from renderer.scene.description import BackgroundDescription, LightDescription


def _draw(draft: FrameDraft) -> None:
    night = draft.config.night
    rng = draft.stream_if("night", night.probability)
    if rng is None:
        return
    dim = float(night.dim.sample(rng))
    draft.lights = [dataclasses.replace(light, intensity=light.intensity * dim) for light in draft.lights]
    draft.ambient *= dim
    if draft.environment is not None:
        draft.environment = dataclasses.replace(draft.environment, intensity=draft.environment.intensity * dim)
    if draft.background is not None:
        colors = tuple(tuple(c * dim for c in rgb) for rgb in draft.background.colors)
        kind: str = "solid" if draft.background.kind == "image" else draft.background.kind  # images cannot dim
        draft.background = BackgroundDescription(kind=kind, colors=colors or ((0.0, 0.0, 0.0),),  # type: ignore[arg-type]
                                                 texture=draft.background.texture if kind == "texture" else None)
    target = np.array(draft.config.camera.target, dtype=float)
    for _ in range(int(night.lamps.sample(rng))):
        lamp = str(night.lamp_type.sample(rng))
        taken = sum(light.kind == lamp for light in draft.lights)
        colour = color_from_temperature(float(night.lamp_temperature_k.sample(rng)))
        direction = unit_direction(float(night.lamp_elevation_deg.sample(rng)), float(rng.uniform(0.0, 360.0)))
        distance = float(night.lamp_distance.sample(rng))
        intensity = float(night.lamp_intensity.sample(rng)) * distance ** 2
        spot = float(night.lamp_spot_angle_deg.sample(rng)) if lamp == "spot" else 0.0
        if taken >= MAX_NIGHT_LAMPS:
            continue  # pyrender draws at most 4 of a kind (the draws above are made all the same)
        draft.lights.append(LightDescription(kind=lamp, color=colour, intensity=intensity,  # type: ignore[arg-type]
                                             light_to_world=light_pose(target, direction, distance),
                                             spot_angle_deg=spot))


RANDOMIZER = Randomizer("night", ("night",), rank=62, draw=_draw)
