"""The dataset's typed contract on disk: ``dataset.json`` is a DatasetHeader, each ``meta/NNNNNN.json`` a
FrameRecord (docs/format.md).

Both are frozen dataclasses that the one reflective serialiser (renderer.scene.plain, the frame
description's own) writes and reads: the writer (renderer.io.writers) makes them, the reader
(renderer.io.dataset) gets the same types back. No code outside renderer.io reads the files' keys.

Older versions: a field that a version did not write yet has a default that says what that version
meant (``outputs``: all the default channels; ``layout``: files; ``model``: pinhole; ``ignore``: False);
a field that a writer leaves out on purpose (``omit_if_none``: ``shard_size`` outside the shards layout,
``runs`` and ``frames`` before a run ends, ``classes`` before they were recorded) comes back as None
or empty, so a header read and written again keeps the keys it had.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from renderer.channels import CHANNEL_NAMES, CHANNELS
from renderer.config.schema import DEFAULT_OUTPUTS
from renderer.io.format import FORMAT_NAME, LAYOUTS, read_json_object
from renderer.io.shards import DEFAULT_SHARD_SIZE
from renderer.scene.camera import camera_model
from renderer.scene.description import CameraDescription, FrameDescription
from renderer.scene.plain import OMIT_IF_NONE, array_shape, from_plain, to_plain
from renderer.scene.records import ObjectLabels, as_stored


@dataclass(frozen=True)
class ImageSize:
    """The frames' size in pixels."""

    width: int
    height: int


@dataclass(frozen=True)
class Category:
    """A category: ids 1 .. N in alphabetical order of the names (0 = background)."""

    id: int
    name: str


@dataclass(frozen=True)
class ClassNames:
    """The names of the class channels' values, value k + 1 naming entry k (0 = no person): docs/people.md."""

    body_parts: tuple[str, ...]
    body_covering: tuple[str, ...]
    face_segmentation: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class RunRecord:
    """One run's figures: frames it wrote, wall seconds, frames per second; local worker processes and
    executor (local, ray; None in datasets from before they were recorded); ray_nodes: how many Ray
    nodes ran its tasks (Ray executor only)."""

    frames_written: int
    seconds: float
    workers: int | None = field(default=None, metadata=OMIT_IF_NONE)
    executor: str | None = field(default=None, metadata=OMIT_IF_NONE)
    frames_per_second: float
    ray_nodes: int | None = field(default=None, metadata=OMIT_IF_NONE)


@dataclass(frozen=True, kw_only=True)
class DatasetHeader:
    """dataset.json: what every frame of the dataset shares (docs/format.md, "dataset.json").

    version: the format version (FORMAT_VERSION when written by this version). seed: the dataset seed
    (renderer.seeding). image: frame size in pixels. categories: in id order. conventions: a short
    restatement of docs/format.md for people ({name: text or number}). scene_file, scene: the scene
    file's path and the full validated scene in its scene-file form (renderer.config; a JSON object,
    kept as written so a resumed run can compare it). skipped_assets: asset ids left out as unreadable.
    skeletons: {category: [[landmark, landmark], ...]} edges. classes: the class channels' value names.
    inputs: {file: sha256} of every input file. outputs: the image channels the frames have (registry
    names, renderer.channels). layout: files or shards; shard_size: frames per shard (shards only).
    runs: one RunRecord per finished run; frames: complete frames after the last run.
    """

    format: str = FORMAT_NAME
    version: int
    renderer_version: str
    seed: int
    image: ImageSize
    categories: tuple[Category, ...]
    conventions: dict[str, Any]
    scene_file: str
    scene: dict[str, Any]
    skipped_assets: tuple[str, ...] = ()
    skeletons: dict[str, list[list[str]]] = field(default_factory=dict)
    classes: ClassNames | None = field(default=None, metadata=OMIT_IF_NONE)
    inputs: dict[str, str] = field(default_factory=dict)
    outputs: tuple[str, ...] = DEFAULT_OUTPUTS  # datasets from before outputs existed wrote these
    layout: Literal["files", "shards"] = "files"
    shard_size: int | None = field(default=None, metadata=OMIT_IF_NONE)
    runs: tuple[RunRecord, ...] = field(default=(), metadata=OMIT_IF_NONE)
    frames: int | None = field(default=None, metadata=OMIT_IF_NONE)

    def __post_init__(self) -> None:
        if self.format != FORMAT_NAME:
            raise ValueError(f"format: {self.format!r} is not {FORMAT_NAME!r}")
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout: {self.layout!r} is not one of {', '.join(LAYOUTS)}")

    @property
    def channels(self) -> tuple[str, ...]:
        """The image channels the frames have (outputs, in registry order), derived ones included."""
        return tuple(c for c in CHANNEL_NAMES if c in self.outputs)

    @property
    def stored_channels(self) -> tuple[str, ...]:
        """The channels that have files (derived ones are made when read: renderer.channels)."""
        return tuple(c for c in self.channels if CHANNELS[c].stored)

    @property
    def frames_per_shard(self) -> int:
        """Frames per shard in the shards layout (shard_size; the default where a header lacks it)."""
        return self.shard_size if self.shard_size is not None else DEFAULT_SHARD_SIZE

    @property
    def category_names(self) -> dict[int, str]:
        """{category id: name}."""
        return {c.id: c.name for c in self.categories}

    @property
    def sequence_length(self) -> int:
        """Frames per sequence (1: stills), from the scene."""
        return int(self._sequence().get("length", 1))

    @property
    def fps(self) -> float:
        """Frames per second of the scene's sequences (12 where the scene sets none)."""
        return float(self._sequence().get("fps", 12.0))

    def _sequence(self) -> dict[str, Any]:
        sequence = self.scene.get("sequence") or {}
        if not isinstance(sequence, dict):
            raise ValueError(f"scene.sequence: expected an object, got {type(sequence).__name__}")
        return sequence

    def to_dict(self) -> dict[str, Any]:
        """dataset.json's JSON object (renderer.scene.plain)."""
        plain: dict[str, Any] = to_plain(self)
        return plain

    @staticmethod
    def from_dict(data: dict[str, Any]) -> DatasetHeader:
        """The header back from dataset.json's object; ValueError naming what does not fit."""
        return from_plain(DatasetHeader, data)


@dataclass(frozen=True, kw_only=True)
class CameraRecord:
    """A frame's camera as stored (OpenCV's form, for readers that do not rebuild the description).

    model: pinhole, brown_conrady or fisheye (pinhole in datasets from before lenses). K: (3, 3) float64
    intrinsics, pixels. distortion: the model's coefficients in OpenCV's order (empty for a pinhole).
    field_of_view_deg: the lens's image circle (None: no limit). world_to_camera: (4, 4) float64 rigid,
    into the OpenCV camera frame, metres. width, height: pixels. near, far: clipping planes, metres.
    """

    model: str = "pinhole"
    K: NDArray[np.float64] = field(metadata=array_shape(3, 3))
    distortion: tuple[float, ...] = ()
    field_of_view_deg: float | None = field(default=None, metadata=OMIT_IF_NONE)
    world_to_camera: NDArray[np.float64] = field(metadata=array_shape(4, 4))
    width: int
    height: int
    near: float
    far: float

    @staticmethod
    def of(camera: CameraDescription) -> CameraRecord:
        """The record of a frame description's camera (its model's intrinsics: renderer.scene.camera)."""
        intrinsics = camera_model(camera).intrinsics()
        return CameraRecord(
            model=str(intrinsics["model"]), K=np.asarray(intrinsics["K"], dtype=np.float64),
            distortion=tuple(float(k) for k in intrinsics["distortion"]),
            field_of_view_deg=intrinsics.get("field_of_view_deg"),
            world_to_camera=np.asarray(camera.world_to_camera, dtype=np.float64),
            width=camera.width, height=camera.height, near=camera.near, far=camera.far)


@dataclass(frozen=True)
class FrameRecord:
    """meta/NNNNNN.json: everything about a frame that is not an image.

    index: the frame's index. camera: its camera. objects: per-object labels of the labelled objects in
    instance id order, at the precision a dataset stores (renderer.scene.records.as_stored).
    description: the frame description it was rendered from (every float exact; it rebuilds the frame);
    its instance ids are checked (INSTANCE_IDS).
    """

    index: int
    camera: CameraRecord
    objects: tuple[ObjectLabels, ...]
    description: FrameDescription

    def __post_init__(self) -> None:
        self.description.check_instance_ids()

    @staticmethod
    def of(frame: FrameDescription, labels: list[ObjectLabels]) -> FrameRecord:
        """The record of a frame just made: its description and labels (rounded as stored)."""
        return FrameRecord(frame.index, CameraRecord.of(frame.camera), tuple(map(as_stored, labels)), frame)

    def to_dict(self) -> dict[str, Any]:
        """The meta file's JSON object (renderer.scene.plain)."""
        plain: dict[str, Any] = to_plain(self)
        return plain

    @staticmethod
    def from_dict(data: dict[str, Any]) -> FrameRecord:
        """The record back from a meta file's object; ValueError naming what does not fit."""
        return from_plain(FrameRecord, data)


def read_header(path: Path) -> DatasetHeader:
    """The DatasetHeader in the file at ``path``; ValueError with one line naming the file."""
    data = read_json_object(path, "dataset header")
    if data.get("format") != FORMAT_NAME:
        raise ValueError(f"{path}: not a renderer dataset header")
    try:
        return DatasetHeader.from_dict(data)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: malformed dataset header ({' '.join(str(exc).split())})") from None
