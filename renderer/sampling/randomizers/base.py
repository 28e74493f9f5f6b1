"""The randomizer type, the frame draft randomizers fill in, and the registry (see renderer.sampling.randomizers)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from renderer.assets.catalog import AssetCatalog
from renderer.config.schema import SceneConfig
from renderer.registry import add
from renderer.scene.description import (
    BackgroundDescription,
    CameraDescription,
    DepthSensorDescription,
    EnvironmentDescription,
    FogDescription,
    GlareDescription,
    LightDescription,
    Matrix,
    ObjectDescription,
    PrecipitationDescription,
    SensorDescription,
    as_matrix,
)
from renderer.scene.geometry import look_at_world_to_camera, opengl_from_opencv_pose, rigid_inverse
from renderer.seeding import randomizer_rng


@dataclass
class FrameDraft:
    """A frame while its randomizers draw it: what those before have set, and the frame's streams.

    Each randomizer sets its own parts; the draft becomes a FrameDescription once all have run
    (renderer.sampling.frame.sample_frame). Parts left as None get their documented defaults there.
    """

    config: SceneConfig
    catalog: AssetCatalog
    seed: int
    index: int
    attempt: int = 0
    objects: list[ObjectDescription] = field(default_factory=list)  # supports first, then placed objects
    lights: list[LightDescription] = field(default_factory=list)
    ambient: float = 0.0
    camera: CameraDescription | None = None
    background: BackgroundDescription | None = None
    sensor: SensorDescription | None = None
    environment: EnvironmentDescription | None = None
    fog: FogDescription | None = None
    depth_sensor: DepthSensorDescription | None = None
    precipitation: PrecipitationDescription | None = None
    glare: GlareDescription | None = None

    def stream(self, name: str) -> np.random.Generator:
        """The frame's stream of that name (renderer.seeding): independent of every other stream."""
        return randomizer_rng(self.seed, self.index, name, self.attempt)

    def stream_if(self, name: str, probability: float) -> np.random.Generator | None:
        """The frame's stream ``name`` if this frame gets the condition it draws (with ``probability``,
        the stream's first draw), else None; no draw at all where the probability is 0."""
        if probability <= 0:
            return None
        rng = self.stream(name)
        return rng if float(rng.uniform()) < probability else None


@dataclass(frozen=True)
class Randomizer:
    """One aspect of a frame drawn from its own streams.

    name: what it draws (one line in docs/scenes.md names its config section). streams: the names of
    the streams it draws from (each keyed by its name: renderer.seeding.stream_key), so that switching
    it off leaves every other draw as it was. rank: when it runs; one that reads what another set
    (placement needs the supports) runs after it. draw: fills in its parts of the draft.
    """

    name: str
    streams: tuple[str, ...]
    rank: int
    draw: Callable[[FrameDraft], None]


RANDOMIZERS: dict[str, Randomizer] = {}


def register(randomizer: Randomizer) -> Randomizer:
    """Add a randomizer to RANDOMIZERS, kept in rank order."""
    return add(RANDOMIZERS, randomizer.name, randomizer, what="randomizer", rank=lambda r: r.rank)


def unit_direction(elevation_deg: float, azimuth_deg: float) -> NDArray[np.float64]:
    """The unit vector at that elevation above the x-y plane and azimuth from +x towards +y."""
    elevation, azimuth = np.deg2rad(elevation_deg), np.deg2rad(azimuth_deg)
    return np.array([np.cos(elevation) * np.cos(azimuth), np.cos(elevation) * np.sin(azimuth), np.sin(elevation)])


def light_pose(target: NDArray[np.float64], direction: NDArray[np.float64], distance: float) -> Matrix:
    """light_to_world of a light at target + distance * direction shining at the target (along its -z)."""
    camera_to_world = rigid_inverse(look_at_world_to_camera(target + distance * direction, target))
    return as_matrix(opengl_from_opencv_pose(camera_to_world))
