"""The whole scene: SceneConfig (one field per section of the scene file), the checks across its
sections, and the sections about the frame as a whole (``render:``, ``constraints:``, ``outputs:``).

``scene_from_dict`` parses plain data (what a scene file or a dataset header holds) into a SceneConfig and
``scene_to_dict`` gives the data back; both are pure: paths stay as written, nothing is read from disk
(renderer.config.files loads a scene file and checks what it names on disk).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from renderer.config import parse
from renderer.config.appearance import BackgroundConfig, EnvironmentConfig, LightsConfig, MaterialsConfig
from renderer.config.camera import CameraConfig, ImageConfig
from renderer.config.checks import MAX_LENGTH, MAX_OBJECTS, RASTER_MAX_LIGHTS
from renderer.config.conditions import (
    DepthSensorConfig,
    EdgeCaseConfig,
    FogConfig,
    GlareConfig,
    NightConfig,
    PrecipitationConfig,
    SensorConfig,
)
from renderer.config.objects import DistractorsConfig, ObjectsConfig, TableConfig
from renderer.config.parse import ConfigError, KeyPathError
from renderer.config.people import MAX_PEOPLE, PeopleConfig
from renderer.config.sequence import SequenceConfig
from renderer.scene.body import KEYPOINTS


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
        """The checks across sections (ValueError starting with the key path of the value at fault)."""
        # A derived channel (nocs) is made when read from others, which are then stored too.
        object.__setattr__(self, "outputs", _resolve_outputs(self.outputs))
        if self.sequence.length > 1 and self.constraints != ConstraintsConfig():
            raise ValueError("constraints: not supported with sequences (a redrawn frame would break its "
                             "sequence); remove them or set sequence.length to 1")
        self._check_raster_lights()
        if self.camera.aim == "face" and self.people.count.max == 0:  # every frame would show the floor
            raise ValueError("camera.aim: face needs people, and people.count is 0; add people or aim: target")
        intrinsics = self.camera.intrinsics
        if self.render.engine == "path" and intrinsics is not None and intrinsics.fx != intrinsics.fy:
            raise ValueError(f"camera.intrinsics: the path engine needs square pixels (fx = fy), "
                             f"got fx {intrinsics.fx:g} and fy {intrinsics.fy:g}")

    def _check_raster_lights(self) -> None:
        """pyrender's shader drops lights beyond its slots per type: refuse a raster scene that can draw more."""
        if self.render.engine != "raster":
            return
        env = self.environment
        sun = 1 if "sky" in env.kind.params and env.sun_intensity.max > 0 else 0
        most = int(self.lights.count.max) + sun
        if most > RASTER_MAX_LIGHTS:
            extra = " (with the sky's sun)" if sun else ""
            raise ValueError(f"lights.count: the raster engine renders at most {RASTER_MAX_LIGHTS} lights of "
                             f"each type (pyrender's shader), and this scene can draw {most}{extra} of one "
                             "type; lower lights.count or use render.engine: path")

    @property
    def base_dir(self) -> Path:
        """The folder relative paths of the scene are taken from: its file's (the working directory for
        a scene made in memory)."""
        return Path(self.source).parent if self.source != "<memory>" else Path.cwd()


def _resolve_outputs(names: Sequence[str]) -> tuple[str, ...]:
    """The outputs checked against the channel registry, followed by what their derived channels need.

    The registry is imported here, when a scene is made, not when the config is imported; its channel
    modules import their codecs (cv2, scipy) only where used, so parsing loads neither
    (tests/test_config_layout.py).
    """
    from renderer.channels import resolve_outputs

    return resolve_outputs(names)


def scene_from_dict(data: Any, source: str = "<memory>") -> SceneConfig:
    """Validate a plain mapping (as a scene file would hold) into a SceneConfig; ConfigError naming
    ``source`` and the key path. Pure: relative paths stay as written, no file is looked at
    (renderer.config.files.check_scene_files does that where a scene is loaded for rendering)."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the scene file must be a mapping, got {type(data).__name__}")
    try:
        return cast(SceneConfig, parse.parse(SceneConfig, data, source=source))
    except KeyPathError as exc:
        raise exc.config_error(source) from None


def scene_to_dict(config: SceneConfig) -> dict[str, Any]:
    """The config as plain data (ranges as [min, max]); scene_from_dict of it gives it back."""
    return cast(dict[str, Any], parse.to_plain(config))


def apply_override(data: Any, setting: str, source: str = "<memory>") -> Any:
    """``data`` (a scene file's plain data) with one ``key.path=value`` setting applied (a copy; the value
    parsed as YAML), as the CLI's ``--set`` does: renderer.config.parse.apply_override on SceneConfig."""
    return parse.apply_override(data, setting, SceneConfig, source)

