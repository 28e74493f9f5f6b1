"""Read a dataset written by renderer.io.writers: ``Dataset(root)[i] -> Frame``."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import trimesh
from numpy.typing import NDArray

from renderer.assets.meshes import stack_meshes
from renderer.caching import LruCache
from renderer.channels import CHANNEL_NAMES, CHANNELS, ChannelSource
from renderer.errors import RendererError
from renderer.io.format import atomic_write_bytes, frame_name, link_or_copy
from renderer.io.records import FrameRecord, read_header
from renderer.io.shards import MemberSpan, index_shard, member_name, read_span, shard_paths
from renderer.scene.description import FrameDescription, MeshSource
from renderer.scene.records import ObjectLabels


class DatasetError(RendererError, ValueError):
    """A folder that is not a readable dataset."""


class FrameFiles(Protocol):
    """Where one frame's files are: folders, a shard, or bytes already in memory (a stream)."""

    @property
    def index(self) -> int:
        """The frame's index in its dataset."""
        ...

    def has(self, member: str) -> bool: ...

    def read(self, member: str) -> bytes:
        """The bytes of ``member`` (``meta.json``, ``depth.npz`` ...); DatasetError when missing."""
        ...

    def where(self, member: str) -> str:
        """The member's name for messages (a path, or a shard path and the member)."""
        ...

    def copy_to(self, member: str, target: Path) -> None:
        """``target`` becomes a copy of the member (a hard link where the layout has a file), atomically."""
        ...


@dataclass(frozen=True)
class FolderFiles:
    """A frame in the files layout: member ``FOLDER.SUFFIX`` is ``root/FOLDER/NNNNNN.SUFFIX``."""

    root: Path
    index: int

    def _path(self, member: str) -> Path:
        folder, _, suffix = member.partition(".")
        return self.root / folder / f"{frame_name(self.index)}.{suffix}"

    def has(self, member: str) -> bool:
        return self._path(member).is_file()

    def read(self, member: str) -> bytes:
        try:
            return self._path(member).read_bytes()
        except FileNotFoundError:
            raise DatasetError(f"{self._path(member)}: missing file") from None
        except OSError as exc:
            raise DatasetError(f"{self._path(member)}: unreadable ({_what(exc)})") from None

    def where(self, member: str) -> str:
        return str(self._path(member))

    def copy_to(self, member: str, target: Path) -> None:
        if not self.has(member):
            raise DatasetError(f"{self._path(member)}: missing file")
        link_or_copy(self._path(member), target)


@dataclass(frozen=True)
class ShardFiles:
    """A frame in a shard: its members' spans in the tar file."""

    path: Path
    index: int
    spans: dict[str, MemberSpan]

    def has(self, member: str) -> bool:
        return member in self.spans

    def read(self, member: str) -> bytes:
        if member not in self.spans:
            raise DatasetError(f"{self.where(member)}: missing from the shard")
        try:
            return read_span(self.path, self.spans[member])
        except (OSError, ValueError) as exc:
            raise DatasetError(f"{self.where(member)}: unreadable ({_what(exc)})") from None

    def where(self, member: str) -> str:
        return f"{self.path}:{member_name(self.index, member)}"

    def copy_to(self, member: str, target: Path) -> None:
        atomic_write_bytes(target, self.read(member))


@dataclass(frozen=True)
class MemoryFiles:
    """A frame whose files were read from a stream (renderer.torch.ShardStream)."""

    origin: str
    index: int
    members: dict[str, bytes]

    def has(self, member: str) -> bool:
        return member in self.members

    def read(self, member: str) -> bytes:
        if member not in self.members:
            raise DatasetError(f"{self.where(member)}: missing from the shard")
        return self.members[member]

    def where(self, member: str) -> str:
        return f"{self.origin}:{member_name(self.index, member)}"

    def copy_to(self, member: str, target: Path) -> None:
        atomic_write_bytes(target, self.read(member))


@dataclass(frozen=True)
class Frame:
    """One frame read back; arrays are loaded on first access, the meta file is typed on first access.

    Every registered channel is an attribute (renderer.channels; docs/format.md): rgb: uint8 (H, W, 3).
    depth: float32 (H, W) metres along z, 0 = no surface. normals: float32 (H, W, 3) camera frame.
    instance, semantic: uint16 (H, W), 0 = background; flow_forward ... the same way. ``array(name)``
    reads any channel by name. record: the meta file as a FrameRecord (renderer.io.records), whose
    parts are K: (3, 3); world_to_camera: (4, 4), OpenCV frame; objects: per-object labels, in
    instance id order; description: the frame description it was rendered from. meta: the meta
    file's plain JSON object as read.
    """

    root: Path
    index: int
    meta: dict[str, Any]
    channels: tuple[str, ...] = CHANNEL_NAMES  # the image channels the dataset wrote (its scene's outputs)
    files: FrameFiles | None = None  # default: the files layout under root
    _arrays: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def _files(self) -> FrameFiles:
        return self.files if self.files is not None else FolderFiles(self.root, self.index)

    def array(self, name: str) -> NDArray[Any]:
        """The decoded, checked array of channel ``name`` (renderer.channels), cached."""
        if name not in self._arrays:
            channel = CHANNELS.get(name)
            if channel is None:
                raise DatasetError(f"{name!r} is not a channel (one of {', '.join(CHANNEL_NAMES)})")
            if name not in self.channels:
                raise DatasetError(f"{self.root}: {name} was not written (the scene's outputs: "
                                   f"{', '.join(self.channels) or 'none'})")
            files = self._files
            suffix = next((s for s in (channel.suffix, *channel.legacy) if files.has(f"{name}{s}")), None)
            if suffix is None and channel.derive is not None:  # made when read (a file: an older format)
                self._arrays[name] = self._derived(name, channel.derive)
            else:
                member = f"{name}{suffix or channel.suffix}"
                try:
                    self._arrays[name] = channel.read(files.read(member), suffix)
                except ValueError as exc:
                    if isinstance(exc, DatasetError):
                        raise
                    raise DatasetError(f"{files.where(member)}: {exc}") from None
        array: NDArray[Any] = self._arrays[name]
        return array

    def _derived(self, name: str, derive: Callable[[ChannelSource], NDArray[Any]]) -> NDArray[Any]:
        try:
            return derive(self)
        except ValueError as exc:
            if isinstance(exc, DatasetError):
                raise
            raise DatasetError(f"{self._files.where('meta.json')}: cannot make {name} ({exc})") from None

    def copy_file(self, name: str, target: Path) -> None:
        """Write channel ``name``'s file, as stored, to ``target`` (a hard link in the files layout)."""
        if name not in self.channels:
            raise DatasetError(f"{self.root}: {name} was not written")
        member = f"{name}{CHANNELS[name].suffix}"
        if not CHANNELS[name].stored and not self._files.has(member):
            raise DatasetError(f"{self.root}: {name} is made when read; it has no file")
        self._files.copy_to(member, target)

    def __getattr__(self, name: str) -> NDArray[Any]:
        """Every registered channel is an attribute: ``f.rgb``, ``f.depth``, ``f.flow_forward`` ... are
        ``f.array(name)`` (dtypes and shapes: renderer.channels, docs/format.md)."""
        if name in CHANNELS:
            return self.array(name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *CHANNEL_NAMES})

    @cached_property
    def record(self) -> FrameRecord:
        """The meta file as its typed record (renderer.io.records), read on first access."""
        try:
            return FrameRecord.from_dict(self.meta)
        except (TypeError, ValueError) as exc:
            raise DatasetError(f"{self._files.where('meta.json')}: malformed frame record ({_what(exc)})") from None

    @property
    def sequence_index(self) -> int:
        """The frame's sequence (its index for stills)."""
        seq = self.description.sequence
        return seq.index if seq is not None else self.index

    @property
    def time_index(self) -> int:
        """Its place in the sequence (0 for stills)."""
        seq = self.description.sequence
        return seq.time_index if seq is not None else 0

    @property
    def K(self) -> NDArray[np.float64]:
        """(3, 3) float64 intrinsics, pixels (a copy: the record stays as read)."""
        return self.record.camera.K.copy()

    @property
    def lens_model(self) -> str:
        """The camera model the frame was rendered through (``pinhole`` for datasets before lenses)."""
        return self.record.camera.model

    def require_pinhole(self, what: str) -> None:
        """DatasetError for a format that holds pinhole cameras only."""
        if self.lens_model != "pinhole":
            raise DatasetError(f"{what} holds pinhole cameras only; frame {self.index} was rendered through "
                               f"a {self.lens_model} lens")

    @property
    def world_to_camera(self) -> NDArray[np.float64]:
        """(4, 4) float64 rigid, world to the OpenCV camera frame, metres (a copy)."""
        return self.record.camera.world_to_camera.copy()

    @property
    def image_size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.record.camera.width, self.record.camera.height

    @property
    def description(self) -> FrameDescription:
        """The frame description it was rendered from."""
        return self.record.description

    @property
    def objects(self) -> tuple[ObjectLabels, ...]:
        """Per-object labels of the labelled objects, in instance id order."""
        return self.record.objects

    def description_on_dataset_meshes(self) -> FrameDescription:
        """The description with every mesh source pointing at the dataset's own copy (meshes/*.ply),
        so the frame can be rendered again without the original asset files (use DatasetMeshes)."""
        objects = tuple(
            dataclasses.replace(obj, mesh=MeshSource("file", path=str(self.root / "meshes" / f"{obj.asset_id}.ply")))
            for obj in self.description.objects
        )
        return dataclasses.replace(self.description, objects=objects)

    def scene_meshes(self) -> dict[int, trimesh.Trimesh]:
        """{instance_id: mesh in world coordinates}, rebuilt from the dataset's own mesh copies; unlabelled
        distractors (instance id 0, background in the masks) together under key 0."""
        meshes: dict[int, trimesh.Trimesh] = {}
        distractors = []
        for obj in self.description.objects:
            mesh = _load_dataset_mesh(self.root / "meshes" / f"{obj.asset_id}.ply").copy()
            transform = np.asarray(obj.object_to_world) @ np.diag([obj.scale, obj.scale, obj.scale, 1.0])
            mesh.apply_transform(transform)
            if obj.labelled:
                meshes[obj.instance_id] = mesh
            else:
                distractors.append(mesh)
        if distractors:
            meshes[0] = stack_meshes(distractors)
        return meshes


KEPT_DATASET_MESH_BYTES = 256 * 2**20  # a dataset's meshes kept in memory between frames, least recent out
_MESH_CACHE: LruCache[Path, trimesh.Trimesh] = LruCache(
    KEPT_DATASET_MESH_BYTES, weight=lambda mesh: len(mesh.vertices) * 24 + len(mesh.faces) * 24)


def _load_dataset_mesh(path: Path) -> trimesh.Trimesh:
    def load() -> trimesh.Trimesh:
        if not path.is_file():
            raise DatasetError(f"{path}: missing mesh file")
        try:
            mesh = trimesh.load(str(path), force="mesh", process=False)
        except Exception as exc:  # trimesh raises many types on damaged files
            raise DatasetError(f"{path}: unreadable mesh ({_what(exc)})") from None
        if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
            raise DatasetError(f"{path}: not a triangle mesh")
        return mesh

    return _MESH_CACHE.get_or_make(path, load)


class DatasetMeshes:
    """MeshLookup over a dataset's meshes/*.ply (see Frame.description_on_dataset_meshes)."""

    def mesh(self, source: MeshSource) -> trimesh.Trimesh:
        return _load_dataset_mesh(Path(source.path))


def _what(exc: BaseException) -> str:
    """A short, one-line account of an exception (KeyError's message is just the key)."""
    if isinstance(exc, KeyError):
        return f"missing key {exc.args[0]!r}"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclass(frozen=True)
class Track:
    """One object through a sequence (its instance id is the same in every frame), T written frames:
    time_index (T,); bbox (T, 4) [x, y, w, h] ([0, 0, 0, 0] while unseen); visible_fraction (T,);
    landmarks_uv (T, L, 2) and landmarks_visible (T, L): point tracks of its landmarks (TAP-Vid style)."""

    instance_id: int
    category: str
    time_index: NDArray[np.int64]
    bbox: NDArray[np.int64]
    visible_fraction: NDArray[np.float64]
    landmark_names: tuple[str, ...]
    landmarks_uv: NDArray[np.float64]
    landmarks_visible: NDArray[np.bool_]


class Dataset:
    """Map-style view of a dataset folder, either layout: ``len(ds)`` complete frames (packed ones in the
    shards layout), ``ds[i]`` the i-th of them in index order."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        header_path = self.root / "dataset.json"
        if not header_path.is_file():
            raise DatasetError(f"{self.root}: not a renderer dataset (no dataset.json)")
        try:
            self.header = read_header(header_path)
        except ValueError as exc:
            raise DatasetError(str(exc)) from None
        self.channels = self.header.channels
        self.layout = self.header.layout
        self._shards: dict[int, tuple[Path, dict[str, MemberSpan]]] = {}
        if self.layout == "shards":
            for path in shard_paths(self.root):
                try:
                    members = index_shard(path)
                except ValueError as exc:
                    raise DatasetError(str(exc)) from None
                self._shards.update({i: (path, spans) for i, spans in members.items()})
            self.indices = sorted(self._shards)
        else:
            self.indices = sorted(int(p.stem) for p in (self.root / "meta").glob("*.json") if p.stem.isdigit())

    def require(self, channels: tuple[str, ...], purpose: str) -> None:
        """DatasetError naming the first of ``channels`` the dataset did not write (its scene's outputs)."""
        for channel in channels:
            if channel not in self.channels:
                raise DatasetError(f"{self.root}: {purpose} needs {channel}, which this dataset did not write "
                                   f"(its scene's outputs: {', '.join(self.channels) or 'none'})")

    @property
    def categories(self) -> dict[int, str]:
        """{category id: name}."""
        return self.header.category_names

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def sequence_length(self) -> int:
        """Frames per sequence (1: stills)."""
        try:
            return self.header.sequence_length
        except (TypeError, ValueError) as exc:
            raise DatasetError(f"{self.root / 'dataset.json'}: malformed scene ({_what(exc)})") from None

    def sequence(self, s: int) -> list[Frame]:
        """The written frames of sequence ``s`` in time order (frames s * length ... (s + 1) * length - 1)."""
        length = self.sequence_length
        wanted = range(s * length, (s + 1) * length)
        have = set(self.indices)
        return [frame_from_files(self.root, self.files(i), self.channels) for i in wanted if i in have]

    def tracks(self, s: int) -> dict[int, Track]:
        """Sequence ``s``'s objects followed through its written frames: {instance_id: Track}."""
        frames = self.sequence(s)
        tracks: dict[int, Track] = {}
        for obj in (frames[0].objects if frames else ()):
            per_frame = [next(o for o in f.objects if o.instance_id == obj.instance_id) for f in frames]
            tracks[obj.instance_id] = Track(
                instance_id=obj.instance_id, category=obj.category,
                time_index=np.array([f.time_index for f in frames]),
                bbox=np.array([o.bbox for o in per_frame], dtype=np.int64).reshape(-1, 4),
                visible_fraction=np.array([o.visible_fraction for o in per_frame]),
                landmark_names=obj.landmarks.names,
                landmarks_uv=np.array([o.landmarks.uv for o in per_frame]).reshape(len(frames), -1, 2),
                landmarks_visible=np.array([o.landmarks.visible for o in per_frame]).reshape(len(frames), -1))
        return tracks

    def files(self, index: int) -> FrameFiles:
        """Where frame ``index`` (a frame index, not a position) keeps its files."""
        if self.layout == "shards":
            path, spans = self._shards[index]
            return ShardFiles(path, index, spans)
        return FolderFiles(self.root, index)

    def __getitem__(self, i: int) -> Frame:
        if not -len(self) <= i < len(self):
            raise IndexError(f"frame {i} out of range for {len(self)} frames")
        index = self.indices[i]
        return frame_from_files(self.root, self.files(index), self.channels)


def frame_from_files(root: Path, files: FrameFiles, channels: tuple[str, ...]) -> Frame:
    """A Frame over a frame's files, its meta file read and checked to be a JSON object."""
    member = "meta.json"
    try:
        meta = json.loads(files.read(member))
    except ValueError as exc:
        if isinstance(exc, DatasetError):
            raise
        raise DatasetError(f"{files.where(member)}: unreadable frame record ({_what(exc)})") from None
    if not isinstance(meta, dict):
        raise DatasetError(f"{files.where(member)}: malformed frame record (not a JSON object)")
    return Frame(root, files.index, meta, channels, files)
