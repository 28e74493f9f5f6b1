"""Scene file -> frozen, validated config.

A scene file is YAML. Every mapping in it is parsed into one of the frozen dataclasses below, driven by
their type hints: unknown keys, wrong types and impossible values raise :class:`ConfigError` whose
message names the file and the key path, e.g. ``scenes/x.yaml: objects.count: min 5 > max 2``.

Randomized values are distributions (renderer.config.distributions): a constant, ``[min, max]`` (uniform),
or ``{normal: [mean, std], clip: [lo, hi]}`` and friends. Paths are relative to the scene file.
"""

from __future__ import annotations

import colorsys
import copy
import dataclasses
import glob
import os
import re
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import yaml

from renderer.channels import resolve_outputs
from renderer.config.checks import FloatDist, IntDist, WordDist, fraction, within, words
from renderer.config.distributions import (
    Distribution,
    DistributionError,
    constant,
    int_uniform,
    parse_distribution,
    uniform,
)
from renderer.config.people import MAX_PEOPLE, PeopleConfig
from renderer.errors import RendererError
from renderer.scene.body import KEYPOINTS


class ConfigError(RendererError, ValueError):
    """A scene file that cannot be used; the message is one line naming the key path."""


# Sane ranges (docs/scenes.md): every length, scale, count and ratio has one, so that no value that
# passes validation can overflow into non-finite numbers, blank frames or unbounded work.
MAX_LENGTH = 1000.0  # metres: any length, position or distance
MAX_SCALE = 1000.0  # asset scale factor
MIN_NEAR, MAX_FAR = 1e-4, 1e5  # metres
MAX_DEPTH_RATIO = 1e6  # far / near
MAX_PIXELS = 1e6  # focal lengths and principal points, pixels
MAX_INTENSITY = 1e6  # light intensities and radiances
MAX_OBJECTS = 500  # objects (and distractors) per frame
MAX_LIGHTS = 64  # lights per frame (the raster engine: at most RASTER_MAX_LIGHTS of each type)
RASTER_MAX_LIGHTS = 4  # pyrender 0.1.45's shader has this many slots per light type
MAX_SETTLE_SECONDS = 60.0  # simulated seconds of physics settling

@dataclass(frozen=True)
class ImageConfig:
    width: int = 640
    height: int = 480

    def __post_init__(self) -> None:
        for name in ("width", "height"):
            value = getattr(self, name)
            if not 8 <= value <= 8192:
                raise ValueError(f"{name}: {value} is outside [8, 8192]")


@dataclass(frozen=True)
class IntrinsicsConfig:
    """Fixed pinhole intrinsics in pixels (pixel centres at integers); replaces fov_deg when given."""

    fx: float
    fy: float
    cx: float
    cy: float

    def __post_init__(self) -> None:
        if not (0 < self.fx <= MAX_PIXELS and 0 < self.fy <= MAX_PIXELS):
            raise ValueError(f"fx and fy must lie in (0, {MAX_PIXELS:g}]")
        if not (abs(self.cx) <= MAX_PIXELS and abs(self.cy) <= MAX_PIXELS):
            raise ValueError(f"cx and cy must lie in [-{MAX_PIXELS:g}, {MAX_PIXELS:g}]")


CAMERA_AIMS = ("target", "face")
LENS_MODELS = ("brown_conrady", "fisheye")
MAX_DISTORTION = 100.0  # |coefficient| of any distortion term
MAX_SUPERSAMPLING = 4


@dataclass(frozen=True)
class LensConfig:
    """Lens distortion (``camera.lens:``, docs/conditions.md): ``model`` brown_conrady (OpenCV's k1..k6,
    p1, p2, applied as cv2.projectPoints does) or fisheye (OpenCV's fisheye k1..k4, the equidistant
    projection: the camera's fov_deg is then the angle across the image's height at k = 0), each
    coefficient a distribution. ``field_of_view_deg``: pixels looking further than half of it off the
    axis see nothing (a fisheye's image circle; 0: no limit; up to 360). ``supersampling``: the pinhole
    views the frame is rendered through sample at this many times the lens's finest pixel spacing."""

    model: str = "brown_conrady"
    k1: FloatDist = constant(0.0)
    k2: FloatDist = constant(0.0)
    k3: FloatDist = constant(0.0)
    k4: FloatDist = constant(0.0)
    k5: FloatDist = constant(0.0)
    k6: FloatDist = constant(0.0)
    p1: FloatDist = constant(0.0)
    p2: FloatDist = constant(0.0)
    field_of_view_deg: float = 0.0
    supersampling: int = 2

    def __post_init__(self) -> None:
        if self.model not in LENS_MODELS:
            raise ValueError(f"model: {self.model!r} is not one of {', '.join(LENS_MODELS)}")
        for name in ("k1", "k2", "k3", "k4", "k5", "k6", "p1", "p2"):
            within(name, getattr(self, name), -MAX_DISTORTION, MAX_DISTORTION)
        if self.model == "fisheye":
            for name in ("k5", "k6", "p1", "p2"):
                dist = getattr(self, name)
                if dist.min != 0 or dist.max != 0:
                    raise ValueError(f"{name}: the fisheye model has only k1..k4")
        if not 0.0 <= self.field_of_view_deg <= 360.0:
            raise ValueError(f"field_of_view_deg: {self.field_of_view_deg:g} is outside [0, 360]")
        if not 1 <= self.supersampling <= MAX_SUPERSAMPLING:
            raise ValueError(f"supersampling: {self.supersampling} is outside [1, {MAX_SUPERSAMPLING}]")


@dataclass(frozen=True)
class CameraConfig:
    """Camera on a sphere around a look-at target, rolled about its optical axis; a pinhole unless
    ``lens`` gives it distortion.

    aim: target (the point ``target``) or face: a person's head (one of the frame's people, drawn
    uniformly), the point between their eyes; then distance is from that point and azimuth_deg counts
    from the person's front (0: facing them), elevation_deg from their eye level (docs/faces.md).
    """

    fov_deg: FloatDist = uniform(45.0, 60.0)
    intrinsics: IntrinsicsConfig | None = None
    distance: FloatDist = uniform(0.8, 1.4)
    elevation_deg: FloatDist = uniform(30.0, 70.0)
    azimuth_deg: FloatDist = uniform(0.0, 360.0)
    roll_deg: FloatDist = constant(0.0)
    target: tuple[float, float, float] = (0.0, 0.0, 0.0)
    target_jitter: float = 0.05
    near: float = 0.05
    far: float = 20.0
    aim: str = "target"
    lens: LensConfig | None = None

    def __post_init__(self) -> None:
        if self.aim not in CAMERA_AIMS:
            raise ValueError(f"aim: {self.aim!r} is not one of {', '.join(CAMERA_AIMS)}")
        within("fov_deg", self.fov_deg, 0.0, 180.0, open_low=True, open_high=True)
        within("distance", self.distance, 0.0, MAX_LENGTH, open_low=True)
        within("elevation_deg", self.elevation_deg, -90.0, 90.0)
        if not 0 <= self.target_jitter <= MAX_LENGTH:
            raise ValueError(f"target_jitter: {self.target_jitter:g} is outside [0, {MAX_LENGTH:g}]")
        if any(abs(t) > MAX_LENGTH for t in self.target):
            raise ValueError(f"target: each coordinate must lie in [-{MAX_LENGTH:g}, {MAX_LENGTH:g}]")
        if not MIN_NEAR <= self.near < self.far <= MAX_FAR:
            raise ValueError(f"near {self.near:g} and far {self.far:g} must satisfy {MIN_NEAR:g} <= near < far "
                             f"<= {MAX_FAR:g}")
        if self.far / self.near > MAX_DEPTH_RATIO:
            raise ValueError(f"far / near is {self.far / self.near:.3g}, above {MAX_DEPTH_RATIO:g}: the depth "
                             "buffer cannot resolve surfaces over such a range")


TEXTURE_KINDS = ("wood", "checker", "noise", "stripes")


@dataclass(frozen=True)
class TableConfig:
    """A textured table top (a box) whose top face is the plane z = 0 of the world."""

    size: tuple[float, float] = (1.2, 0.8)
    thickness: float = 0.04
    texture: WordDist = constant("wood")
    enabled: bool = True

    def __post_init__(self) -> None:
        if not (0 < min(self.size) and max(self.size) <= MAX_LENGTH and 0 < self.thickness <= MAX_LENGTH):
            raise ValueError(f"size and thickness must lie in (0, {MAX_LENGTH:g}] metres")
        words("texture", self.texture, (*TEXTURE_KINDS, "none"))


@dataclass(frozen=True)
class AssetSource:
    """Meshes for objects: ``path`` is a file, a folder or a glob, relative to the scene file."""

    path: str
    category: str = ""
    weight: float = 1.0
    scale: FloatDist = constant(1.0)

    def __post_init__(self) -> None:
        if not 0 < self.weight <= 1e9:
            raise ValueError(f"weight: {self.weight:g} is outside (0, 1e9]")
        within("scale", self.scale, 0.0, MAX_SCALE, open_low=True)


POSES = ("upright", "stable", "free")
BALANCES = ("none", "categories", "assets")  # how objects are drawn: renderer.assets.catalog.draw_probabilities
PLACEMENTS = ("surface", "air", "physics")


@dataclass(frozen=True)
class AirConfig:
    """Where objects float for placement: air (world box, metres)."""

    low: tuple[float, float, float] = (-0.3, -0.3, 0.05)
    high: tuple[float, float, float] = (0.3, 0.3, 0.5)

    def __post_init__(self) -> None:
        if any(lo > hi for lo, hi in zip(self.low, self.high, strict=True)):
            raise ValueError("low must be <= high in x, y and z")
        if any(abs(v) > MAX_LENGTH for v in (*self.low, *self.high)):
            raise ValueError(f"low and high must lie in [-{MAX_LENGTH:g}, {MAX_LENGTH:g}] metres")


@dataclass(frozen=True)
class PhysicsConfig:
    """Drop-and-settle placement (pybullet): objects fall from drop_height into the container."""

    container: str = "tray"
    tray_size: tuple[float, float] = (0.4, 0.3)
    wall_height: float = 0.08
    drop_height: FloatDist = uniform(0.1, 0.35)
    settle_seconds: float = 1.5

    def __post_init__(self) -> None:
        if self.container not in ("tray", "table"):
            raise ValueError(f"container: {self.container!r} is not one of tray, table")
        if not (0 < min(self.tray_size) and max(self.tray_size) <= MAX_LENGTH and 0 < self.wall_height <= MAX_LENGTH):
            raise ValueError(f"tray_size and wall_height must lie in (0, {MAX_LENGTH:g}] metres")
        if not 0 < self.settle_seconds <= MAX_SETTLE_SECONDS:
            raise ValueError(f"settle_seconds: {self.settle_seconds:g} is outside (0, {MAX_SETTLE_SECONDS:g}]")
        within("drop_height", self.drop_height, 0.0, MAX_LENGTH)


@dataclass(frozen=True)
class ObjectsConfig:
    """What to place and how: upright / stable resting poses / free rotations; on the surface, in the
    air, or dropped with physics."""

    count: IntDist = int_uniform(5, 20)
    assets: tuple[AssetSource, ...] = ()
    min_gap: float = 0.005
    pose: str = "upright"
    placement: str = "surface"
    air: AirConfig = AirConfig()
    physics: PhysicsConfig = PhysicsConfig()
    balance: str = "none"
    category_weights: tuple[tuple[str, float], ...] = ()
    balance_visible: bool = False

    def __post_init__(self) -> None:
        within("count", self.count, 0, MAX_OBJECTS)
        if self.balance not in BALANCES:
            raise ValueError(f"balance: {self.balance!r} is not one of {', '.join(BALANCES)}")
        for name, weight in self.category_weights:
            if not 0 < weight <= 1e9:
                raise ValueError(f"category_weights: {name}: {weight:g} is outside (0, 1e9]")
        if (self.category_weights or self.balance_visible) and self.balance != "categories":
            raise ValueError("balance: category_weights and balance_visible need balance: categories")
        if not 0 <= self.min_gap <= MAX_LENGTH:
            raise ValueError(f"min_gap: {self.min_gap:g} is outside [0, {MAX_LENGTH:g}]")
        if self.pose not in POSES:
            raise ValueError(f"pose: {self.pose!r} is not one of {', '.join(POSES)}")
        if self.placement not in PLACEMENTS:
            raise ValueError(f"placement: {self.placement!r} is not one of {', '.join(PLACEMENTS)}")


@dataclass(frozen=True)
class DistractorsConfig:
    """Extra objects placed like the others and rendered, but with no labels unless ``labelled``:
    their pixels are background (0) in the masks; depth and normals show them."""

    count: IntDist = constant(0, integer=True)
    assets: tuple[AssetSource, ...] = ()
    labelled: bool = False

    def __post_init__(self) -> None:
        within("count", self.count, 0, MAX_OBJECTS)


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
        within("distance", self.distance, 0.0, MAX_LENGTH, open_low=True)
        within("spot_angle_deg", self.spot_angle_deg, 0.0, 90.0, open_low=True, open_high=True)


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


@dataclass(frozen=True)
class SensorConfig:
    """Camera effects on the RGB image only (labels untouched), in SensorDescription's order. iso: 0 = no
    photon noise; else the shot noise of full_well_e x 100 / iso electrons at full scale plus read_noise_e
    electrons of read noise, in linear radiance, before every other effect (docs/conditions.md)."""

    exposure_ev: FloatDist = constant(0.0)
    brightness: FloatDist = constant(0.0)
    contrast: FloatDist = constant(0.0)
    saturation: FloatDist = constant(0.0)
    blur_sigma: FloatDist = constant(0.0)
    noise_std: FloatDist = constant(0.0)
    jpeg_quality: IntDist = constant(0, integer=True)
    iso: FloatDist = constant(0.0)
    full_well_e: float = 15000.0
    read_noise_e: float = 2.5

    def __post_init__(self) -> None:
        within("iso", self.iso, 0.0, 409600.0)
        if not 1.0 <= self.full_well_e <= 1e7:
            raise ValueError(f"full_well_e: {self.full_well_e:g} is outside [1, 1e7] electrons")
        if not 0.0 <= self.read_noise_e <= 1e4:
            raise ValueError(f"read_noise_e: {self.read_noise_e:g} is outside [0, 1e4] electrons")
        for name in ("brightness", "contrast", "saturation"):
            within(name, getattr(self, name), -1.0, 1.0)
        within("blur_sigma", self.blur_sigma, 0.0, 50.0)
        within("noise_std", self.noise_std, 0.0, 255.0)
        within("jpeg_quality", self.jpeg_quality, 0, 100)
        within("exposure_ev", self.exposure_ev, -10.0, 10.0)


@dataclass(frozen=True)
class FogConfig:
    """Fog or haze from exact depth (``fog:``, renderer.render.conditions): with ``probability`` a frame
    is fogged, its meteorological visibility (metres: where contrast falls to 2 %, beta = 3.912 / V) and
    the airlight's grey level (linear) and tint drawn. The RGB image only: labels are untouched."""

    probability: float = 0.0
    visibility_m: FloatDist = uniform(20.0, 300.0)
    airlight: FloatDist = uniform(0.5, 0.9)
    tint: tuple[float, float, float] = (1.0, 1.0, 1.0)

    def __post_init__(self) -> None:
        fraction("probability", self.probability)
        within("visibility_m", self.visibility_m, 0.01, 1e6)
        within("airlight", self.airlight, 0.0, 1.0)
        if not all(0.0 <= c <= 1.0 for c in self.tint):
            raise ValueError("tint: each channel must lie in [0, 1]")


@dataclass(frozen=True)
class GlareConfig:
    """Sun glare (``glare:``, docs/conditions.md): with ``probability``, frames under a sky with a sun get a
    veiling halo of ``strength`` (linear radiance at the sun's image) and ``halo_fraction`` of the image
    diagonal, and ``ghosts`` lens ghosts."""

    probability: float = 0.0
    strength: FloatDist = uniform(0.5, 2.0)
    halo_fraction: FloatDist = uniform(0.02, 0.08)
    ghosts: IntDist = int_uniform(2, 6)

    def __post_init__(self) -> None:
        fraction("probability", self.probability)
        within("strength", self.strength, 0.0, 100.0)
        within("halo_fraction", self.halo_fraction, 0.0, 1.0, open_low=True)
        within("ghosts", self.ghosts, 0, 32)


@dataclass(frozen=True)
class EdgeCaseConfig:
    """The edge-case mode (``edge_cases:``, docs/conditions.md): a ``rate`` of the frames draw every
    distribution with ends from its outer ``tail`` (half at each end), and record which draws those were
    in the frame description (``extreme_draws``). The other frames are as without the mode."""

    rate: float = 0.0
    tail: float = 0.1

    def __post_init__(self) -> None:
        fraction("rate", self.rate)
        if not 0.0 < self.tail <= 1.0:
            raise ValueError(f"tail: {self.tail:g} is outside (0, 1]")


@dataclass(frozen=True)
class NightConfig:
    """Night (``night:``, docs/conditions.md): with ``probability`` a frame's daylight (its lights, the
    ambient term, the environment and the background) is dimmed by ``dim`` and ``lamps`` artificial
    lights are added: warm point or spot lamps of ``lamp_temperature_k`` above the scene."""

    probability: float = 0.0
    dim: FloatDist = Distribution("loguniform", (0.01, 0.1))
    lamps: IntDist = int_uniform(1, 3)
    lamp_type: WordDist = Distribution("choice", ("point", "spot"))
    lamp_intensity: FloatDist = uniform(0.4, 1.5)
    lamp_temperature_k: FloatDist = uniform(2200.0, 4000.0)
    lamp_elevation_deg: FloatDist = uniform(45.0, 85.0)
    lamp_distance: FloatDist = uniform(1.0, 3.0)
    lamp_spot_angle_deg: FloatDist = uniform(25.0, 50.0)

    def __post_init__(self) -> None:
        fraction("probability", self.probability)
        within("dim", self.dim, 0.0, 1.0)
        within("lamps", self.lamps, 0, MAX_NIGHT_LAMPS)
        words("lamp_type", self.lamp_type, ("point", "spot"))
        within("lamp_intensity", self.lamp_intensity, 0.0, 1e4)
        within("lamp_temperature_k", self.lamp_temperature_k, 1000.0, 40000.0)
        within("lamp_elevation_deg", self.lamp_elevation_deg, -90.0, 90.0)
        within("lamp_distance", self.lamp_distance, 0.0, MAX_LENGTH, open_low=True)
        within("lamp_spot_angle_deg", self.lamp_spot_angle_deg, 1.0, 89.0)


MAX_NIGHT_LAMPS = 4  # pyrender's shader holds at most 4 lights of each type

PRECIPITATION_KINDS = ("rain", "snow")


@dataclass(frozen=True)
class PrecipitationConfig:
    """Rain or snow (``precipitation:``, docs/conditions.md): with ``probability`` a frame gets one of
    ``kinds``, ``count`` particles in the view volume between near_m and far_m, its fall during
    ``exposure_s``, tilted by ``wind_deg``; rain also wets every surface (darker, glossier)."""

    probability: float = 0.0
    kinds: WordDist = constant("rain")
    count: IntDist = int_uniform(500, 3000)
    near_m: float = 0.3
    far_m: float = 15.0
    rain_radius_m: float = 0.0008
    snow_radius_m: FloatDist = uniform(0.002, 0.006)
    rain_speed: FloatDist = uniform(6.0, 9.0)
    snow_speed: FloatDist = uniform(0.5, 1.5)
    exposure_s: FloatDist = uniform(1 / 120, 1 / 30)
    wind_deg: FloatDist = uniform(-20.0, 20.0)
    opacity: FloatDist = uniform(0.2, 0.5)
    wetness: FloatDist = uniform(0.3, 1.0)

    def __post_init__(self) -> None:
        fraction("probability", self.probability)
        words("kinds", self.kinds, PRECIPITATION_KINDS)
        within("count", self.count, 0, 200_000)
        if not 0.0 < self.near_m < self.far_m <= MAX_LENGTH:
            raise ValueError(f"near_m and far_m must satisfy 0 < near_m < far_m <= {MAX_LENGTH:g}")
        if not 0.0 < self.rain_radius_m <= 0.05:
            raise ValueError(f"rain_radius_m: {self.rain_radius_m:g} is outside (0, 0.05]")
        within("snow_radius_m", self.snow_radius_m, 0.0, 0.05, open_low=True)
        within("rain_speed", self.rain_speed, 0.0, 100.0)
        within("snow_speed", self.snow_speed, 0.0, 100.0)
        within("exposure_s", self.exposure_s, 0.0, 1.0)
        within("wind_deg", self.wind_deg, -80.0, 80.0)
        within("opacity", self.opacity, 0.0, 1.0)
        within("wetness", self.wetness, 0.0, 1.0)


DEPTH_SENSOR_KINDS = ("structured_light", "tof")
# Per kind, the defaults of (sigma_0, sigma_2): structured light after Nguyen et al. 2012 (Kinect v1,
# sigma ~ 1.2 mm + 1.9 mm/m^2 z^2), time of flight flatter (Kinect v2-like).
DEPTH_SENSOR_NOISE = {"structured_light": (0.0012, 0.0019), "tof": (0.0015, 0.0006)}


@dataclass(frozen=True)
class DepthSensorConfig:
    """A depth camera's noise model for the depth_sensor channel (``depth_sensor:``, docs/conditions.md).
    sigma_0, sigma_2: null takes the kind's defaults (DEPTH_SENSOR_NOISE)."""

    kind: str = "structured_light"
    sigma_0: float | None = None
    sigma_2: float | None = None
    baseline_m: float = 0.075
    disparity_step_px: float = 0.125
    depth_step_m: float = 0.001
    edge_jitter_px: float = 0.7
    flying_probability: float = 0.5
    dark_threshold: float = 0.01
    dark_dropout: float = 0.8
    shiny_dropout: float = 0.5
    max_incidence_deg: float = 78.0
    min_range_m: float = 0.3
    max_range_m: float = 8.0

    def __post_init__(self) -> None:
        if self.kind not in DEPTH_SENSOR_KINDS:
            raise ValueError(f"kind: {self.kind!r} is not one of {', '.join(DEPTH_SENSOR_KINDS)}")
        for name in ("sigma_0", "sigma_2"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value <= 1.0:
                raise ValueError(f"{name}: {value:g} is outside [0, 1]")
        if not (0 < self.baseline_m <= 10 and 0 < self.disparity_step_px <= 10 and 0 < self.depth_step_m <= 1):
            raise ValueError("baseline_m, disparity_step_px and depth_step_m must be positive (and sane)")
        if not 0 <= self.edge_jitter_px <= 10:
            raise ValueError(f"edge_jitter_px: {self.edge_jitter_px:g} is outside [0, 10]")
        for name in ("flying_probability", "dark_threshold", "dark_dropout", "shiny_dropout"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name}: {getattr(self, name):g} is outside [0, 1]")
        if not 0 < self.max_incidence_deg <= 90:
            raise ValueError(f"max_incidence_deg: {self.max_incidence_deg:g} is outside (0, 90]")
        if not 0 <= self.min_range_m < self.max_range_m <= MAX_FAR:
            raise ValueError(f"min_range_m and max_range_m must satisfy 0 <= min < max <= {MAX_FAR:g}")

    @property
    def noise(self) -> tuple[float, float]:
        """(sigma_0, sigma_2), the kind's defaults where not given."""
        default = DEPTH_SENSOR_NOISE[self.kind]
        return (default[0] if self.sigma_0 is None else self.sigma_0,
                default[1] if self.sigma_2 is None else self.sigma_2)


@dataclass(frozen=True)
class ConstraintsConfig:
    """What every frame must meet (renderer.labels.constraints); a frame that fails is redrawn from fresh
    streams of its own, up to max_attempts. Objects seen less than min_visible_fraction are marked
    ``ignore`` (crowd in COCO) and do not count as seen. min_visible_people: people seen, each with at
    least min_person_keypoints of its keypoints visible (COCO v = 2)."""

    min_visible_objects: int = 0
    min_visible_fraction: float = 0.0
    max_objects_cut_by_border: int | None = None
    min_depth: float = 0.0
    min_visible_people: int = 0
    min_person_keypoints: int = 0
    max_attempts: int = 20

    def __post_init__(self) -> None:
        if not 0 <= self.min_visible_objects <= MAX_OBJECTS:
            raise ValueError(f"min_visible_objects: {self.min_visible_objects} is outside [0, {MAX_OBJECTS}]")
        if not 0.0 <= self.min_visible_fraction <= 1.0:
            raise ValueError(f"min_visible_fraction: {self.min_visible_fraction:g} is outside [0, 1]")
        cut = self.max_objects_cut_by_border
        if cut is not None and not 0 <= cut <= MAX_OBJECTS:
            raise ValueError(f"max_objects_cut_by_border: {cut} is outside [0, {MAX_OBJECTS}]")
        if not 0.0 <= self.min_depth <= MAX_LENGTH:
            raise ValueError(f"min_depth: {self.min_depth:g} is outside [0, {MAX_LENGTH:g}]")
        if not 0 <= self.min_visible_people <= MAX_PEOPLE:
            raise ValueError(f"min_visible_people: {self.min_visible_people} is outside [0, {MAX_PEOPLE}]")
        if not 0 <= self.min_person_keypoints <= len(KEYPOINTS):
            raise ValueError(f"min_person_keypoints: {self.min_person_keypoints} is outside "
                             f"[0, {len(KEYPOINTS)}] (a person has {len(KEYPOINTS)} keypoints)")
        if not 1 <= self.max_attempts <= 1000:
            raise ValueError(f"max_attempts: {self.max_attempts} is outside [1, 1000]")


DEFAULT_OUTPUTS = ("rgb", "depth", "normals", "instance", "semantic")  # what a scene without outputs writes

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
        within("turbidity", self.turbidity, 1.7, 10.0)
        if "hdri" in self.kind.params and not self.images:
            raise ValueError("images: a folder of .hdr or .exr maps is needed for kind hdri")


ENGINES = ("raster", "path")  # the one list: each is the module renderer.render.engines.<name> (its ENGINE)


@dataclass(frozen=True)
class RenderConfig:
    """Which engine makes the RGB image (labels never depend on it) and the path engine's knobs:
    samples per pixel, path length, denoising, and the Mitsuba variant (auto: cuda_ad_rgb where a GPU
    is usable, else llvm_ad_rgb where libLLVM >= 16 is found, else scalar_rgb)."""

    engine: str = "raster"
    samples: int = 64
    max_bounces: int = 8
    denoise: bool = True
    variant: str = "auto"

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"engine: {self.engine!r} is not one of {', '.join(ENGINES)}")
        if not 1 <= self.samples <= 65536:
            raise ValueError(f"samples: {self.samples} is outside [1, 65536]")
        if not 1 <= self.max_bounces <= 64:
            raise ValueError(f"max_bounces: {self.max_bounces} is outside [1, 64]")
        variants = ("auto", "scalar_rgb", "llvm_ad_rgb", "cuda_ad_rgb")
        if self.variant not in variants:
            raise ValueError(f"variant: {self.variant!r} is not one of {', '.join(variants)}")


CAMERA_MOTIONS = ("static", "orbit", "dolly", "spline", "stereo")
OBJECT_MOTIONS = ("static", "kinematic", "physics")
LIGHT_MOTIONS = ("static", "orbit")
PEOPLE_MOTIONS = ("static", "animate")
MAX_WALK_SPEED = 5.0  # m/s
MAX_SEQUENCE_LENGTH = 10_000
MAX_SPEED = 100.0  # m/s
MAX_SPIN_DEG = 36_000.0  # deg/s


@dataclass(frozen=True)
class CameraMotionConfig:
    """How the camera moves through a sequence (renderer.sampling.motion). static; orbit: about the vertical
    axis through the target at ``orbit_speed_deg`` deg/s; dolly: along its line of sight at
    ``dolly_speed`` m/s (positive = towards the target); spline: a smooth path through ``keyframes``
    poses drawn as a still camera is, evenly spread over the sequence. Any kind adds hand-held
    ``shake_deg`` (amplitude of a smooth random rotation), a roll of ``roll_speed_deg`` deg/s and a zoom:
    the vertical field of view changing by ``zoom_speed_deg`` deg/s (kept within [1, 170] degrees).
    stereo: a rectified rig, frame k of the sequence the first camera moved ``baseline`` metres k times
    along its own x axis (right); with length 2, a left/right pair (docs/conditions.md)."""

    kind: WordDist = constant("static")
    orbit_speed_deg: FloatDist = uniform(-30.0, 30.0)
    dolly_speed: FloatDist = uniform(-0.1, 0.1)
    keyframes: int = 4
    shake_deg: FloatDist = constant(0.0)
    roll_speed_deg: FloatDist = constant(0.0)
    zoom_speed_deg: FloatDist = constant(0.0)
    baseline: FloatDist = constant(0.12)

    def __post_init__(self) -> None:
        words("kind", self.kind, CAMERA_MOTIONS)
        within("baseline", self.baseline, 0.0, MAX_LENGTH, open_low=True)
        within("zoom_speed_deg", self.zoom_speed_deg, -MAX_SPIN_DEG, MAX_SPIN_DEG)
        within("orbit_speed_deg", self.orbit_speed_deg, -MAX_SPIN_DEG, MAX_SPIN_DEG)
        within("dolly_speed", self.dolly_speed, -MAX_SPEED, MAX_SPEED)
        within("shake_deg", self.shake_deg, 0.0, 45.0)
        within("roll_speed_deg", self.roll_speed_deg, -MAX_SPIN_DEG, MAX_SPIN_DEG)
        if not 2 <= self.keyframes <= 100:
            raise ValueError(f"keyframes: {self.keyframes} is outside [2, 100]")


@dataclass(frozen=True)
class ObjectMotionConfig:
    """How objects move through a sequence (renderer.sampling.motion). static; kinematic: constant linear
    velocity of ``speed`` m/s (horizontal for objects resting on a support, any direction in the air)
    and spin of ``spin_deg`` deg/s (about the vertical for upright poses, any axis for free ones);
    physics: dropped from ``drop_height`` above where they were drawn, thrown sideways at
    ``throw_speed`` m/s with that spin, and simulated with pybullet (the MOVi set-up), the simulation
    sampled at the frame times. Supports (table, tray) never move."""

    kind: WordDist = constant("static")
    speed: FloatDist = uniform(0.0, 0.2)
    spin_deg: FloatDist = uniform(0.0, 90.0)
    throw_speed: FloatDist = uniform(0.0, 1.0)
    drop_height: FloatDist = uniform(0.05, 0.3)

    def __post_init__(self) -> None:
        words("kind", self.kind, OBJECT_MOTIONS)
        within("speed", self.speed, 0.0, MAX_SPEED)
        within("spin_deg", self.spin_deg, 0.0, MAX_SPIN_DEG)
        within("throw_speed", self.throw_speed, 0.0, MAX_SPEED)
        within("drop_height", self.drop_height, 0.0, MAX_LENGTH)


@dataclass(frozen=True)
class LightMotionConfig:
    """How lights move through a sequence (renderer.sampling.motion). static; orbit: each light about the
    vertical axis through camera.target at its own ``orbit_speed_deg`` deg/s (drawn per light), so the
    shading and shadows move over still geometry. Labels do not depend on lights."""

    kind: WordDist = constant("static")
    orbit_speed_deg: FloatDist = uniform(-60.0, 60.0)

    def __post_init__(self) -> None:
        words("kind", self.kind, LIGHT_MOTIONS)
        within("orbit_speed_deg", self.orbit_speed_deg, -MAX_SPIN_DEG, MAX_SPIN_DEG)


@dataclass(frozen=True)
class PeopleMotionConfig:
    """How people move through a sequence (renderer.sampling.motion). static: as drawn; animate: each
    person goes from its drawn pose through further key poses (drawn as people.poses says), one every
    ``pose_period`` seconds (drawn per person), eased in and out, within the joint limits all the way
    (the angles are interpolated linearly between in-limit keys); ``walk_speed`` m/s carries them along
    the way they face. People are never moved by sequence.objects."""

    kind: WordDist = constant("static")
    pose_period: FloatDist = uniform(1.0, 2.0)
    walk_speed: FloatDist = constant(0.0)

    def __post_init__(self) -> None:
        words("kind", self.kind, PEOPLE_MOTIONS)
        within("pose_period", self.pose_period, 0.05, 600.0)
        within("walk_speed", self.walk_speed, 0.0, MAX_WALK_SPEED)


@dataclass(frozen=True)
class SequenceConfig:
    """Frames as sequences of ``length`` at ``fps`` (length 1: independent stills, the default).
    ``--frames`` still counts frames: frame i is frame i % length of sequence i // length. shutter: the
    fraction of the frame interval the shutter is open (0: sharp); the RGB image averages
    ``blur_samples`` renders over it (motion blur), the labels are the shutter's mid-time.
    rolling_shutter: the rows' readout time top to bottom, a fraction of the frame interval (0: global
    shutter): row r is exposed around (r / (H - 1) - 0.5) x rolling_shutter."""

    length: int = 1
    fps: float = 12.0
    shutter: float = 0.0
    blur_samples: int = 8
    rolling_shutter: float = 0.0
    camera: CameraMotionConfig = CameraMotionConfig()
    objects: ObjectMotionConfig = ObjectMotionConfig()
    lights: LightMotionConfig = LightMotionConfig()
    people: PeopleMotionConfig = PeopleMotionConfig()

    def __post_init__(self) -> None:
        if not 0.0 <= self.shutter <= 1.0:
            raise ValueError(f"shutter: {self.shutter:g} is outside [0, 1] (a fraction of the frame interval)")
        if not 0.0 <= self.rolling_shutter <= 1.0:
            raise ValueError(f"rolling_shutter: {self.rolling_shutter:g} is outside [0, 1] (a fraction of the "
                             "frame interval)")
        if not 2 <= self.blur_samples <= 256:
            raise ValueError(f"blur_samples: {self.blur_samples} is outside [2, 256]")
        if not 1 <= self.length <= MAX_SEQUENCE_LENGTH:
            raise ValueError(f"length: {self.length} is outside [1, {MAX_SEQUENCE_LENGTH}]")
        if not 0.01 <= self.fps <= 10_000:
            raise ValueError(f"fps: {self.fps:g} is outside [0.01, 10000]")
        seconds = (self.length - 1) / self.fps
        if "physics" in self.objects.kind.params and seconds > MAX_SETTLE_SECONDS:
            raise ValueError(f"length: a physics sequence of {seconds:g} s (length - 1 frames at fps) is over "
                             f"{MAX_SETTLE_SECONDS:g} s of simulation; shorten it or raise fps")


@dataclass(frozen=True)
class SceneConfig:
    """The whole scene file. ``source`` is where it was read from (for messages and relative paths)."""

    image: ImageConfig = ImageConfig()
    camera: CameraConfig = CameraConfig()
    table: TableConfig = TableConfig()
    objects: ObjectsConfig = ObjectsConfig()
    distractors: DistractorsConfig = DistractorsConfig()
    materials: MaterialsConfig = MaterialsConfig()
    lights: LightsConfig = LightsConfig()
    background: BackgroundConfig = BackgroundConfig()
    sensor: SensorConfig = SensorConfig()
    fog: FogConfig = FogConfig()
    precipitation: PrecipitationConfig = PrecipitationConfig()
    night: NightConfig = NightConfig()
    glare: GlareConfig = GlareConfig()
    edge_cases: EdgeCaseConfig = EdgeCaseConfig()
    depth_sensor: DepthSensorConfig = DepthSensorConfig()
    environment: EnvironmentConfig = EnvironmentConfig()
    render: RenderConfig = RenderConfig()
    constraints: ConstraintsConfig = ConstraintsConfig()
    sequence: SequenceConfig = SequenceConfig()
    people: PeopleConfig = PeopleConfig()
    outputs: tuple[str, ...] = DEFAULT_OUTPUTS
    source: str = field(default="<memory>", metadata={"internal": True})

    def __post_init__(self) -> None:
        # A derived channel (nocs) is made when read from others, which are then stored too.
        object.__setattr__(self, "outputs", resolve_outputs(self.outputs))
        if self.sequence.length > 1 and self.constraints != ConstraintsConfig():
            raise ValueError("constraints: not supported with sequences (a redrawn frame would break its "
                             "sequence); remove them or set sequence.length to 1")

    @property
    def base_dir(self) -> Path:
        return Path(self.source).parent if self.source != "<memory>" else Path.cwd()


# --------------------------------------------------------------------------------------------------
# Parsing


def load_scene(path: str | os.PathLike[str], overrides: Sequence[str] = ()) -> SceneConfig:
    """Read and validate a scene file; raise ConfigError with one clear line on any problem.

    overrides: ``key.path=value`` settings applied on top of the file (the CLI's ``--set``); the value
    is YAML, so ``camera.fov_deg=60``, ``lights.count=[1,2]`` and ``lights.type={choice: [point, spot]}``
    all work; ``objects.assets[0].scale=1`` reaches into lists.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read scene file ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: the scene file is not UTF-8 text (byte {exc.start})") from None
    try:
        return _load_scene_text(text, path, overrides)
    except RecursionError:
        raise ConfigError(f"{path}: the scene file is nested too deeply") from None


def _load_scene_text(text: str, path: Path, overrides: Sequence[str]) -> SceneConfig:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path}: malformed YAML{where}: {problem}") from None
    _refuse_duplicate_keys(text, path)
    if data is None:
        data = {}
    for setting in overrides:
        data = apply_override(data, setting, str(path))
    return scene_from_dict(data, source=str(path))


def _refuse_duplicate_keys(text: str, path: Path) -> None:
    """YAML lets a repeated key silently replace the first: refuse it, naming its key path and line."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    stack: list[tuple[Any, str]] = [(root, "")] if root is not None else []
    while stack:
        node, where = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                key = str(key_node.value)
                if key in seen:
                    line = key_node.start_mark.line + 1
                    raise ConfigError(f"{path}: {_join(where, key)}: duplicate key (line {line})")
                seen.add(key)
                stack.append((value_node, _join(where, key)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, _join(where, i)) for i, item in enumerate(node.value))


_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def apply_override(data: Any, setting: str, source: str = "<memory>") -> Any:
    """``data`` with one ``key.path=value`` setting applied (a copy; the value parsed as YAML)."""
    key_path, sep, text = setting.partition("=")
    if not sep or not key_path.strip():
        raise ConfigError(f"--set {setting!r}: expected KEY.PATH=VALUE, e.g. camera.fov_deg=60")
    parts = [m.group(1) if m.group(1) is not None else int(m.group(2))
             for m in _PATH_PART.finditer(key_path.strip())]
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        raise ConfigError(f"--set {key_path}: the value {text!r} is not valid YAML") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the scene file must be a mapping, got {type(data).__name__}")
    root = copy.deepcopy(data)
    node: Any = root
    for depth, part in enumerate(parts[:-1]):
        where = _join_parts(parts[: depth + 1])
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                raise ConfigError(f"--set {key_path}: {where} does not exist")
            node = node[part]
        else:
            if not isinstance(node, dict):
                raise ConfigError(f"--set {key_path}: {_join_parts(parts[:depth])} is not a mapping")
            if depth == 0 and part == "background" and isinstance(node.get(part), list):
                try:  # the short form [r, g, b], spelled out so that its keys can be set
                    node[part] = _background_from_rgb(node[part], part)
                except _KeyPathError as exc:
                    raise ConfigError(f"{source}: {exc.path}: {exc.message}") from None
            node = node.setdefault(part, {})
    last = parts[-1]
    if isinstance(last, int):
        if not isinstance(node, list) or last >= len(node):
            raise ConfigError(f"--set {key_path}: {_join_parts(parts)} does not exist")
    elif not isinstance(node, dict):
        raise ConfigError(f"--set {key_path}: {_join_parts(parts[:-1])} is not a mapping")
    node[last] = value
    return root


def _join_parts(parts: Sequence[str | int]) -> str:
    path = ""
    for part in parts:
        path = _join(path, part)
    return path


def scene_from_dict(data: Any, source: str = "<memory>") -> SceneConfig:
    """Validate a plain mapping (as a scene file would hold) into a SceneConfig."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the scene file must be a mapping, got {type(data).__name__}")
    try:
        config = _parse(SceneConfig, data, "")
    except _KeyPathError as exc:
        raise ConfigError(f"{source}: {exc.path}: {exc.message}") from None
    config = dataclasses.replace(config, source=source)
    _check_raster_lights(config)
    intrinsics = config.camera.intrinsics
    if config.render.engine == "path" and intrinsics is not None and intrinsics.fx != intrinsics.fy:
        raise ConfigError(f"{source}: camera.intrinsics: the path engine needs square pixels (fx = fy), "
                          f"got fx {intrinsics.fx:g} and fy {intrinsics.fy:g}")
    _check_asset_sources(config)
    _check_image_folders(config)
    return config


def scene_to_dict(config: SceneConfig) -> dict[str, Any]:
    """The config as plain data (ranges as [min, max]); scene_from_dict of it gives it back."""

    def convert(value: Any) -> Any:
        if isinstance(value, Distribution):
            return value.to_plain()
        if dataclasses.is_dataclass(value):
            return {
                f.name: convert(getattr(value, f.name))
                for f in dataclasses.fields(value)
                if not f.metadata.get("internal")
            }
        if isinstance(value, tuple | list):
            return [convert(v) for v in value]
        return value

    return typing.cast(dict[str, Any], convert(config))


class _KeyPathError(Exception):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path or "<root>"
        self.message = message


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if not key.isprintable() or not key:  # keep every message on one line: show such keys quoted
        return f"{path}[{key!r}]"
    return f"{path}.{key}" if path else key


def _type_name(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
            dict: "a mapping", type(None): "null"}.get(type(value), type(value).__name__)


def _parse(tp: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(tp)
    if origin is Annotated:
        marker = typing.get_args(tp)[1]
        try:
            return parse_distribution(value, integer=marker == "int", allow_words=marker == "word")
        except DistributionError as exc:
            raise _KeyPathError(path, str(exc)) from None
    if tp is BackgroundConfig and isinstance(value, list | tuple):
        value = _background_from_rgb(value, path)
    if dataclasses.is_dataclass(tp):
        return _parse_dataclass(typing.cast(type, tp), value, path)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _KeyPathError(path, f"expected a number, got {_type_name(value)}")
        if value != value or value in (float("inf"), float("-inf")):
            raise _KeyPathError(path, "expected a finite number")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _KeyPathError(path, f"expected an integer, got {_type_name(value)}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise _KeyPathError(path, f"expected true or false, got {_type_name(value)}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise _KeyPathError(path, f"expected a string, got {_type_name(value)}")
        return value
    if origin is tuple:
        args = typing.get_args(tp)
        if isinstance(value, dict) and args == (tuple[str, float], Ellipsis):  # {name: number} mappings
            value = [[key, v] for key, v in value.items()]
        if not isinstance(value, list | tuple):
            raise _KeyPathError(path, f"expected a list, got {_type_name(value)}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_parse(args[0], v, _join(path, i)) for i, v in enumerate(value))
        if len(value) != len(args):
            raise _KeyPathError(path, f"expected a list of {len(args)} values, got {len(value)}")
        return tuple(_parse(a, v, _join(path, i)) for i, (a, v) in enumerate(zip(args, value, strict=True)))
    if origin is typing.Union or origin is types.UnionType:
        present = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _parse(present[0], value, path)
    raise TypeError(f"unsupported config type {tp}")  # pragma: no cover - schema bug


def _background_from_rgb(value: Any, path: str) -> dict[str, Any]:
    """The short form ``background: [r, g, b]``: a fixed colour."""
    if len(value) != 3 or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        raise _KeyPathError(path, "expected [r, g, b] or a mapping")
    if not all(0 <= v <= 1 for v in value):
        raise _KeyPathError(path, "colour channels must lie in [0, 1]")
    h, sat, v = colorsys.rgb_to_hsv(*(float(c) for c in value))
    return {"kind": "solid", "hue": h, "saturation": sat, "value": v}


def _parse_dataclass(cls: type, value: Any, path: str) -> Any:
    if not isinstance(value, dict):
        raise _KeyPathError(path, f"expected a mapping, got {_type_name(value)}")
    hints = typing.get_type_hints(cls, include_extras=True)
    public = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    for key in value:
        if key not in public:
            known = ", ".join(sorted(public))
            raise _KeyPathError(_join(path, str(key)), f"unknown key (known keys: {known})")
    kwargs = {}
    for name in public:
        if name in value:
            kwargs[name] = _parse(hints[name], value[name], _join(path, name))
        elif (public[name].default is dataclasses.MISSING
              and public[name].default_factory is dataclasses.MISSING):
            raise _KeyPathError(_join(path, name), "required key is missing")
    try:
        return cls(**kwargs)
    except ValueError as exc:
        message = str(exc)
        # Messages that start with a field name ("count: ...") point one level deeper.
        head, sep, rest = message.partition(": ")
        if sep and head in public:
            raise _KeyPathError(_join(path, head), rest) from None
        raise _KeyPathError(path, message) from None


def _check_raster_lights(config: SceneConfig) -> None:
    """pyrender's shader drops lights beyond its slots per type: refuse a raster scene that can draw more."""
    if config.render.engine != "raster":
        return
    env = config.environment
    sun = 1 if "sky" in env.kind.params and env.sun_intensity.max > 0 else 0
    most = int(config.lights.count.max) + sun
    if most > RASTER_MAX_LIGHTS:
        extra = " (with the sky's sun)" if sun else ""
        raise ConfigError(f"{config.source}: lights.count: the raster engine renders at most {RASTER_MAX_LIGHTS} "
                          f"lights of each type (pyrender's shader), and this scene can draw {most}{extra} of one "
                          "type; lower lights.count or use render.engine: path")


def _check_asset_sources(config: SceneConfig) -> None:
    """Each asset source must match at least one mesh file: fail early, naming the key."""
    if config.objects.count.max > 0 and not config.objects.assets:
        raise ConfigError(f"{config.source}: objects.assets: at least one asset source is needed "
                          f"when objects.count > 0")
    for i, source in enumerate(config.objects.assets):
        if not resolve_asset_paths(config.base_dir, source.path):
            raise ConfigError(
                f"{config.source}: objects.assets[{i}].path: {source.path!r} matches no mesh file"
            )


def _check_image_folders(config: SceneConfig) -> None:
    """Folders of images the scene may draw from must hold images: fail early, naming the key."""
    needed = []
    m = config.materials
    if m.texture_probability > 0 and "image" in m.textures.params:
        needed.append(("materials.texture_images", m.texture_images))
    if "images" in config.background.kind.params:
        needed.append(("background.images", config.background.images))
    for key, folder in needed:
        if not resolve_image_files(config.base_dir, folder):
            raise ConfigError(f"{config.source}: {key}: {folder!r} holds no image files "
                              f"({', '.join(IMAGE_SUFFIXES)})")
    if "hdri" in config.environment.kind.params and not resolve_image_files(
            config.base_dir, config.environment.images, HDR_SUFFIXES):
        raise ConfigError(f"{config.source}: environment.images: {config.environment.images!r} holds no "
                          f"environment maps ({', '.join(HDR_SUFFIXES)})")


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
HDR_SUFFIXES = (".hdr", ".exr")


def resolve_image_files(base_dir: Path, folder: str, suffixes: tuple[str, ...] = IMAGE_SUFFIXES) -> list[Path]:
    """Image files in a folder (searched recursively; relative to base_dir), sorted for determinism."""
    if not folder:
        return []
    path = Path(os.path.expanduser(folder))
    if not path.is_absolute():
        path = base_dir / path
    if not path.is_dir():
        return []
    return sorted(p.resolve() for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)


MESH_SUFFIXES = (".obj", ".ply", ".stl", ".glb", ".gltf", ".off")


def resolve_asset_paths(base_dir: Path, pattern: str) -> list[Path]:
    """Mesh files named by a file, folder or glob pattern, sorted for determinism."""
    full = Path(os.path.expanduser(pattern))
    if not full.is_absolute():
        full = base_dir / full
    if full.is_dir():
        candidates = [p for p in full.rglob("*") if p.is_file()]
    elif any(ch in pattern for ch in "*?["):
        candidates = [Path(p) for p in glob.glob(str(full), recursive=True)]
    else:
        candidates = [full] if full.exists() else []
    return sorted(p.resolve() for p in candidates if p.suffix.lower() in MESH_SUFFIXES)
