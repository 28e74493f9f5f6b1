"""precipitation: rain or snow (``precipitation:``): with its probability a frame gets falling particles
(renderer.render.conditions draws them, occluded by the scene's exact depth); rain also wets the surfaces:
darker and glossier materials (both engines)."""

from __future__ import annotations

import dataclasses

from renderer.sampling.randomizers.base import FrameDraft, Randomizer
from renderer.scene.description import PrecipitationDescription

WET_DARKENING, WET_SMOOTHING = 0.35, 0.7  # at wetness 1: base colour x 0.65, roughness x 0.3


def _draw(draft: FrameDraft) -> None:
    config = draft.config.precipitation
    rng = draft.stream_if("precipitation", config.probability)
    if rng is None:
        return
    kind = str(config.kinds.sample(rng))
    rain = kind == "rain"
    draft.precipitation = PrecipitationDescription(
        kind=kind, count=int(config.count.sample(rng)), near_m=config.near_m, far_m=config.far_m,
        radius_m=config.rain_radius_m if rain else float(config.snow_radius_m.sample(rng)),
        fall_speed=float((config.rain_speed if rain else config.snow_speed).sample(rng)),
        exposure_s=float(config.exposure_s.sample(rng)), wind_deg=float(config.wind_deg.sample(rng)),
        opacity=float(config.opacity.sample(rng)), brightness=0.8 if rain else 0.95,
        seed=int(rng.integers(0, 2**31)))
    if rain:
        wet = float(config.wetness.sample(rng))
        draft.objects = [_wet(o, wet) for o in draft.objects]


def _wet(obj, wetness: float):  # type: ignore[no-untyped-def]
    material = obj.material
    if material.use_asset_material or material.kind != "pbr":
        return obj
    r, g, b, a = material.base_color
    dark = 1.0 - WET_DARKENING * wetness
    return dataclasses.replace(obj, material=dataclasses.replace(
        material, base_color=(r * dark, g * dark, b * dark, a),
        roughness=material.roughness * (1.0 - WET_SMOOTHING * wetness)))


RANDOMIZER = Randomizer("precipitation", ("precipitation",), rank=58, draw=_draw)
