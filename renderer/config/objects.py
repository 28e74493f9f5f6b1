"""What is placed in a scene: ``table:`` (the support), ``objects:`` (asset sources, poses, placement in
the air or with physics, class balance) and ``distractors:``. Asset paths are kept as written; they are
resolved against the scene file's folder when the scene is loaded for rendering (renderer.config.files)."""

from __future__ import annotations

from dataclasses import dataclass

from renderer.config.appearance import TEXTURE_KINDS
from renderer.config.checks import (
    MAX_LENGTH,
    MAX_OBJECTS,
    MAX_SCALE,
    MAX_SETTLE_SECONDS,
    MIN_LENGTH,
    MIN_SCALE,
    FloatDist,
    IntDist,
    WordDist,
    within,
    words,
)
from renderer.config.distributions import constant, int_uniform, uniform


@dataclass(frozen=True)
class TableConfig:
    """A textured table top (a box) whose top face is the plane z = 0 of the world."""

    size: tuple[float, float] = (1.2, 0.8)
    thickness: float = 0.04
    texture: WordDist = constant("wood")
    enabled: bool = True

    def __post_init__(self) -> None:
        if not (MIN_LENGTH <= min(self.size) and max(self.size) <= MAX_LENGTH
                and MIN_LENGTH <= self.thickness <= MAX_LENGTH):
            raise ValueError(f"size and thickness must lie in [{MIN_LENGTH:g}, {MAX_LENGTH:g}] metres")
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
        within("scale", self.scale, MIN_SCALE, MAX_SCALE)


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
        if not (MIN_LENGTH <= min(self.tray_size) and max(self.tray_size) <= MAX_LENGTH
                and MIN_LENGTH <= self.wall_height <= MAX_LENGTH):
            raise ValueError(f"tray_size and wall_height must lie in [{MIN_LENGTH:g}, {MAX_LENGTH:g}] metres")
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

