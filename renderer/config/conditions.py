"""Conditions on the image: ``sensor:`` effects, ``fog:``, ``glare:``, ``night:``, ``precipitation:``, the
``edge_cases:`` mode and the ``depth_sensor:`` noise model. docs/conditions.md says what each key means."""

from __future__ import annotations

from dataclasses import dataclass

from renderer.config.checks import (
    MAX_FAR,
    MAX_LENGTH,
    MIN_ANGLE_DEG,
    MIN_LENGTH,
    FloatDist,
    IntDist,
    WordDist,
    fraction,
    within,
    words,
)
from renderer.config.distributions import Distribution, constant, int_uniform, uniform

MIN_DROP_RADIUS = 1e-5  # metres: the smallest rain or snow particle radius (drizzle is ~1e-4)


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
        within("lamp_distance", self.lamp_distance, MIN_LENGTH, MAX_LENGTH)
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
        if not MIN_LENGTH <= self.near_m < self.far_m <= MAX_LENGTH:
            raise ValueError(f"near_m and far_m must satisfy {MIN_LENGTH:g} <= near_m < far_m <= {MAX_LENGTH:g}")
        if not MIN_DROP_RADIUS <= self.rain_radius_m <= 0.05:
            raise ValueError(f"rain_radius_m: {self.rain_radius_m:g} is outside [{MIN_DROP_RADIUS:g}, 0.05]")
        within("snow_radius_m", self.snow_radius_m, MIN_DROP_RADIUS, 0.05)
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
        for name, low, high in (("baseline_m", 1e-3, 10.0), ("disparity_step_px", 1e-3, 10.0),
                                ("depth_step_m", 1e-6, 1.0)):
            if not low <= getattr(self, name) <= high:
                raise ValueError(f"{name}: {getattr(self, name):g} is outside [{low:g}, {high:g}]")
        if not 0 <= self.edge_jitter_px <= 10:
            raise ValueError(f"edge_jitter_px: {self.edge_jitter_px:g} is outside [0, 10]")
        for name in ("flying_probability", "dark_threshold", "dark_dropout", "shiny_dropout"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name}: {getattr(self, name):g} is outside [0, 1]")
        if not MIN_ANGLE_DEG <= self.max_incidence_deg <= 90:
            raise ValueError(f"max_incidence_deg: {self.max_incidence_deg:g} is outside [{MIN_ANGLE_DEG:g}, 90]")
        if not 0 <= self.min_range_m < self.max_range_m <= MAX_FAR:
            raise ValueError(f"min_range_m and max_range_m must satisfy 0 <= min < max <= {MAX_FAR:g}")

    @property
    def noise(self) -> tuple[float, float]:
        """(sigma_0, sigma_2), the kind's defaults where not given."""
        default = DEPTH_SENSOR_NOISE[self.kind]
        return (default[0] if self.sigma_0 is None else self.sigma_0,
                default[1] if self.sigma_2 is None else self.sigma_2)

