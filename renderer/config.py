"""Scene file -> frozen, validated config.

A scene file is YAML. Every mapping in it is parsed into one of the frozen dataclasses below, driven by
their type hints: unknown keys, wrong types and impossible values raise :class:`ConfigError` whose
message names the file and the key path, e.g. ``scenes/x.yaml: objects.count: min 5 > max 2``.

Ranges are written either as one number (a constant) or as ``[min, max]`` (uniform draw).
Paths in a scene file are relative to the scene file's folder.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """A scene file that cannot be used; the message is one line naming the key path."""


@dataclass(frozen=True)
class FloatRange:
    """Closed interval [min, max]; min == max is a constant."""

    min: float
    max: float

    def __post_init__(self) -> None:
        if self.min > self.max:
            raise ValueError(f"min {self.min:g} > max {self.max:g}")


@dataclass(frozen=True)
class IntRange:
    """Closed integer interval [min, max], both ends included."""

    min: int
    max: int

    def __post_init__(self) -> None:
        if self.min > self.max:
            raise ValueError(f"min {self.min} > max {self.max}")


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
class CameraConfig:
    """Camera on a sphere around a look-at target on the table, OpenCV intrinsics from a vertical fov."""

    fov_deg: FloatRange = FloatRange(45.0, 60.0)
    distance: FloatRange = FloatRange(0.8, 1.4)
    elevation_deg: FloatRange = FloatRange(30.0, 70.0)
    azimuth_deg: FloatRange = FloatRange(0.0, 360.0)
    target_jitter: float = 0.05
    near: float = 0.05
    far: float = 20.0

    def __post_init__(self) -> None:
        if not (0.0 < self.fov_deg.min and self.fov_deg.max < 180.0):
            raise ValueError(f"fov_deg: [{self.fov_deg.min:g}, {self.fov_deg.max:g}] is outside (0, 180)")
        if self.distance.min <= 0:
            raise ValueError(f"distance: min {self.distance.min:g} must be > 0")
        if not (-90.0 <= self.elevation_deg.min and self.elevation_deg.max <= 90.0):
            raise ValueError("elevation_deg: must lie within [-90, 90]")
        if self.target_jitter < 0:
            raise ValueError(f"target_jitter: {self.target_jitter:g} must be >= 0")
        if not 0 < self.near < self.far:
            raise ValueError(f"near {self.near:g} and far {self.far:g} must satisfy 0 < near < far")


@dataclass(frozen=True)
class TableConfig:
    """A textured table top (a box) whose top face is the plane z = 0 of the world."""

    size: tuple[float, float] = (1.2, 0.8)
    thickness: float = 0.04
    texture: str = "wood"
    enabled: bool = True

    def __post_init__(self) -> None:
        if min(self.size) <= 0 or self.thickness <= 0:
            raise ValueError("size and thickness must be > 0")
        if self.texture not in TEXTURE_KINDS:
            raise ValueError(f"texture: {self.texture!r} is not one of {', '.join(TEXTURE_KINDS)}")


TEXTURE_KINDS = ("wood", "checker", "noise", "none")


@dataclass(frozen=True)
class AssetSource:
    """Meshes for objects: ``path`` is a file, a folder or a glob, relative to the scene file."""

    path: str
    category: str = ""
    weight: float = 1.0
    scale: FloatRange = FloatRange(1.0, 1.0)

    def __post_init__(self) -> None:
        if self.weight <= 0:
            raise ValueError(f"weight: {self.weight:g} must be > 0")
        if self.scale.min <= 0:
            raise ValueError(f"scale: min {self.scale.min:g} must be > 0")


@dataclass(frozen=True)
class ObjectsConfig:
    count: IntRange = IntRange(5, 20)
    assets: tuple[AssetSource, ...] = ()
    min_gap: float = 0.005
    upright: bool = True

    def __post_init__(self) -> None:
        if self.count.min < 0:
            raise ValueError(f"count: min {self.count.min} must be >= 0")
        if self.min_gap < 0:
            raise ValueError(f"min_gap: {self.min_gap:g} must be >= 0")


@dataclass(frozen=True)
class LightsConfig:
    count: IntRange = IntRange(1, 3)
    intensity: FloatRange = FloatRange(2.0, 4.0)
    elevation_deg: FloatRange = FloatRange(30.0, 80.0)
    ambient: FloatRange = FloatRange(0.15, 0.35)

    def __post_init__(self) -> None:
        if self.count.min < 0:
            raise ValueError(f"count: min {self.count.min} must be >= 0")
        if self.intensity.min < 0 or self.ambient.min < 0:
            raise ValueError("intensity and ambient must be >= 0")


@dataclass(frozen=True)
class SceneConfig:
    """The whole scene file. ``source`` is where it was read from (for messages and relative paths)."""

    image: ImageConfig = ImageConfig()
    camera: CameraConfig = CameraConfig()
    table: TableConfig = TableConfig()
    objects: ObjectsConfig = ObjectsConfig()
    lights: LightsConfig = LightsConfig()
    background: tuple[float, float, float] = (0.55, 0.6, 0.65)
    source: str = field(default="<memory>", metadata={"internal": True})

    @property
    def base_dir(self) -> Path:
        return Path(self.source).parent if self.source != "<memory>" else Path.cwd()


# --------------------------------------------------------------------------------------------------
# Parsing


def load_scene(path: str | os.PathLike[str], overrides: dict[str, Any] | None = None) -> SceneConfig:
    """Read and validate a scene file; raise ConfigError with one clear line on any problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read scene file ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path}: malformed YAML{where}: {problem}") from None
    if data is None:
        data = {}
    return scene_from_dict(data, source=str(path))


def scene_from_dict(data: Any, source: str = "<memory>") -> SceneConfig:
    """Validate a plain mapping (as a scene file would hold) into a SceneConfig."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the scene file must be a mapping, got {type(data).__name__}")
    try:
        config = _parse(SceneConfig, data, "")
    except _KeyPathError as exc:
        raise ConfigError(f"{source}: {exc.path}: {exc.message}") from None
    config = dataclasses.replace(config, source=source)
    _check_asset_sources(config)
    return config


def scene_to_dict(config: SceneConfig) -> dict[str, Any]:
    """The config as plain data (ranges as [min, max]); scene_from_dict of it gives it back."""

    def convert(value: Any) -> Any:
        if isinstance(value, FloatRange | IntRange):
            return [value.min, value.max]
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
    return f"{path}.{key}" if path else key


def _type_name(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
            dict: "a mapping", type(None): "null"}.get(type(value), type(value).__name__)


def _parse(tp: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(tp)
    if tp is FloatRange or tp is IntRange:
        return _parse_range(tp, value, path)
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
        if not isinstance(value, list | tuple):
            raise _KeyPathError(path, f"expected a list, got {_type_name(value)}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_parse(args[0], v, _join(path, i)) for i, v in enumerate(value))
        if len(value) != len(args):
            raise _KeyPathError(path, f"expected a list of {len(args)} values, got {len(value)}")
        return tuple(_parse(a, v, _join(path, i)) for i, (a, v) in enumerate(zip(args, value, strict=True)))
    if origin is typing.Union or origin is types.UnionType:
        raise TypeError(f"unsupported config type {tp}")  # pragma: no cover - schema bug
    raise TypeError(f"unsupported config type {tp}")  # pragma: no cover - schema bug


def _parse_range(tp: type[FloatRange] | type[IntRange], value: Any, path: str) -> Any:
    scalar = int if tp is IntRange else float
    if isinstance(value, list | tuple):
        if len(value) != 2:
            raise _KeyPathError(path, f"expected a number or [min, max], got a list of {len(value)}")
        lo, hi = (_parse(scalar, v, _join(path, i)) for i, v in enumerate(value))
    else:
        try:
            lo = hi = _parse(scalar, value, path)
        except _KeyPathError:
            kind = "an integer" if tp is IntRange else "a number"
            raise _KeyPathError(path, f"expected {kind} or [min, max], got {_type_name(value)}") from None
    try:
        return tp(lo, hi)
    except ValueError as exc:
        raise _KeyPathError(path, str(exc)) from None


def _parse_dataclass(cls: type, value: Any, path: str) -> Any:
    if not isinstance(value, dict):
        raise _KeyPathError(path, f"expected a mapping, got {_type_name(value)}")
    hints = typing.get_type_hints(cls)
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
