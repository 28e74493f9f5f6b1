"""How a scene looks: ``materials:`` of objects, ``lights:``, ``background:`` and ``environment:`` (light
from all around). Image folders are kept as written; renderer.config.files checks that they hold images."""

from __future__ import annotations

import colorsys
from dataclasses import dataclass
from typing import Any

from renderer.config.checks import (
    MAX_INTENSITY,
    MAX_LENGTH,
    MAX_LIGHTS,
    MAX_TURN_DEG,
    MIN_ANGLE_DEG,
    MIN_LENGTH,
    FloatDist,
    IntDist,
    WordDist,
    within,
    words,
)
from renderer.config.distributions import Distribution, constant, int_uniform, uniform

TEXTURE_KINDS = ("wood", "checker", "noise", "stripes")


@dataclass(frozen=True)
class MaterialsConfig:
    """Materials of objects whose mesh brings no texture of its own (colour in HSV, PBR factors)."""

    hue: FloatDist = uniform(0.0, 1.0)
    saturation: FloatDist = uniform(0.25, 0.9)
    value: FloatDist = uniform(0.35, 0.95)
    roughness: FloatDist = uniform(0.25, 0.8)
    metallic: FloatDist = Distribution("choice", (0.0, 0.6), weights=(0.75, 0.25))
    texture_probability: float = 0.0
    textures: WordDist = Distribution("choice", TEXTURE_KINDS)
    texture_images: str = ""
    keep_asset_textures: bool = True
    glass_probability: float = 0.0
    ior: FloatDist = constant(1.5)

    def __post_init__(self) -> None:
        for name in ("hue", "saturation", "value", "roughness", "metallic"):
            within(name, getattr(self, name), 0.0, 1.0)
        for name in ("texture_probability", "glass_probability"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name}: {getattr(self, name):g} is outside [0, 1]")
        within("ior", self.ior, 1.0, 4.0)
        words("textures", self.textures, (*TEXTURE_KINDS, "image"))


LIGHT_TYPES = ("directional", "point", "spot")


@dataclass(frozen=True)
class LightsConfig:
    """Lights above the scene. ``intensity`` is the illuminance each light gives at the target (point
    and spot lights are made brighter with the square of their distance), so types compare directly."""

    count: IntDist = int_uniform(1, 3)
    type: WordDist = constant("directional")
    intensity: FloatDist = uniform(2.0, 4.0)
    color_temperature_k: FloatDist = uniform(4000.0, 8000.0)
    elevation_deg: FloatDist = uniform(30.0, 80.0)
    azimuth_deg: FloatDist = uniform(0.0, 360.0)
    distance: FloatDist = uniform(1.5, 3.0)
    spot_angle_deg: FloatDist = uniform(20.0, 45.0)
    ambient: FloatDist = uniform(0.15, 0.35)

    def __post_init__(self) -> None:
        within("count", self.count, 0, MAX_LIGHTS)
        words("type", self.type, LIGHT_TYPES)
        within("intensity", self.intensity, 0.0, MAX_INTENSITY)
        within("ambient", self.ambient, 0.0, MAX_INTENSITY)
        within("color_temperature_k", self.color_temperature_k, 1000.0, 40000.0)
        within("distance", self.distance, MIN_LENGTH, MAX_LENGTH)
        within("spot_angle_deg", self.spot_angle_deg, MIN_ANGLE_DEG, 90.0, open_high=True)
        within("elevation_deg", self.elevation_deg, -MAX_TURN_DEG, MAX_TURN_DEG)
        within("azimuth_deg", self.azimuth_deg, -MAX_TURN_DEG, MAX_TURN_DEG)


BACKGROUND_KINDS = ("solid", "gradient", "texture", "images")


@dataclass(frozen=True)
class BackgroundConfig:
    """What shows where no surface is: a colour, a vertical gradient of two, a procedural texture
    (tinted), or images from a folder (scaled to cover the frame). ``[r, g, b]`` is a fixed colour."""

    kind: WordDist = constant("solid")
    hue: FloatDist = constant(0.58)
    saturation: FloatDist = constant(0.15)
    value: FloatDist = constant(0.65)
    images: str = ""

    def __post_init__(self) -> None:
        words("kind", self.kind, BACKGROUND_KINDS)
        for name in ("hue", "saturation", "value"):
            within(name, getattr(self, name), 0.0, 1.0)
        if "images" in self.kind.params and not self.images:
            raise ValueError("images: a folder of images is needed for kind images")

    @classmethod
    def from_short_form(cls, value: Any) -> Any:
        """The mapping the short form ``background: [r, g, b]`` (a fixed colour) stands for; any other
        value as it is (the parser's hook, renderer.config.parse: also used by ``--set``)."""
        if not isinstance(value, list | tuple):
            return value
        if len(value) != 3 or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
            raise ValueError("expected [r, g, b] or a mapping")
        if not all(0 <= v <= 1 for v in value):
            raise ValueError("colour channels must lie in [0, 1]")
        h, sat, v = colorsys.rgb_to_hsv(*(float(c) for c in value))
        return {"kind": "solid", "hue": h, "saturation": sat, "value": v}


ENVIRONMENT_KINDS = ("none", "uniform", "sky", "hdri")


@dataclass(frozen=True)
class EnvironmentConfig:
    """Light from all around (renderer.scene.environment): none, a uniform radiance, a Preetham sky with a
    sun, or equirectangular HDR maps (.hdr, .exr) from a folder. ``intensity``: the uniform radiance,
    the sky's ambient luminance (its E / pi, comparable to lights.ambient), or the HDR map's scale.
    ``visible``: it shows behind the scene in place of the background."""

    kind: WordDist = constant("none")
    intensity: FloatDist = constant(1.0)
    rotation_deg: FloatDist = uniform(0.0, 360.0)
    sun_elevation_deg: FloatDist = uniform(20.0, 70.0)
    sun_azimuth_deg: FloatDist = uniform(0.0, 360.0)
    sun_intensity: FloatDist = constant(3.0)
    turbidity: FloatDist = uniform(2.0, 5.0)
    images: str = ""
    visible: bool = True

    def __post_init__(self) -> None:
        words("kind", self.kind, ENVIRONMENT_KINDS)
        within("intensity", self.intensity, 0.0, MAX_INTENSITY)
        within("sun_intensity", self.sun_intensity, 0.0, MAX_INTENSITY)
        within("sun_elevation_deg", self.sun_elevation_deg, 0.0, 90.0)
        within("rotation_deg", self.rotation_deg, -MAX_TURN_DEG, MAX_TURN_DEG)
        within("sun_azimuth_deg", self.sun_azimuth_deg, -MAX_TURN_DEG, MAX_TURN_DEG)
        within("turbidity", self.turbidity, 1.7, 10.0)
        if "hdri" in self.kind.params and not self.images:
            raise ValueError("images: a folder of .hdr or .exr maps is needed for kind hdri")


