"""Read a dataset written by renderer.io.writers: ``Dataset(root)[i] -> Frame``."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
import trimesh
from numpy.typing import NDArray

from renderer.assets.meshes import stack_meshes
from renderer.channels import CHANNEL_NAMES, CHANNELS, ChannelSource
from renderer.errors import RendererError
from renderer.io.format import (
    FORMAT_NAME,
    atomic_write_bytes,
    frame_name,
    link_or_copy,
    read_json_object,
    written_channels,
)
from renderer.io.shards import MemberSpan, index_shard, member_name, read_span, shard_paths
from renderer.scene.description import FrameDescription, MeshSource, PersonAttributes
from renderer.scene.records import FaceLabels, LandmarkLabels, ObjectLabels

T = TypeVar("T")


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
    """One frame read back; arrays are loaded on first access.

    rgb: uint8 (H, W, 3). depth: float32 (H, W) metres along z, 0 = no surface. normals: float32
    (H, W, 3) camera frame. instance, semantic: uint16 (H, W), 0 = background. K: (3, 3);
    world_to_camera: (4, 4), OpenCV frame. objects: per-object labels, in instance id order.
    description: the frame description it was rendered from. ``array(name)`` reads any channel.
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

    @property
    def rgb(self) -> NDArray[np.uint8]:
        return self.array("rgb")

    @property
    def depth(self) -> NDArray[np.float32]:
        return self.array("depth")

    @property
    def normals(self) -> NDArray[np.float32]:
        return self.array("normals")

    @property
    def instance(self) -> NDArray[np.uint16]:
        return self.array("instance")

    @property
    def semantic(self) -> NDArray[np.uint16]:
        return self.array("semantic")

    @property
    def object_coords(self) -> NDArray[np.float32]:
        return self.array("object_coords")

    @property
    def nocs(self) -> NDArray[np.float32]:
        return self.array("nocs")

    @property
    def flow_forward(self) -> NDArray[np.float32]:
        return self.array("flow_forward")

    @property
    def flow_backward(self) -> NDArray[np.float32]:
        return self.array("flow_backward")

    @property
    def flow_forward_valid(self) -> NDArray[np.bool_]:
        return self.array("flow_forward_valid")

    @property
    def flow_backward_valid(self) -> NDArray[np.bool_]:
        return self.array("flow_backward_valid")

    @property
    def scene_flow_forward(self) -> NDArray[np.float32]:
        return self.array("scene_flow_forward")

    @property
    def scene_flow_backward(self) -> NDArray[np.float32]:
        return self.array("scene_flow_backward")

    @property
    def sequence_index(self) -> int:
        """The frame's sequence (its index for stills)."""
        seq = self._from_meta(lambda m: m["description"].get("sequence"))
        return int(seq["index"]) if seq else self.index

    @property
    def time_index(self) -> int:
        """Its place in the sequence (0 for stills)."""
        seq = self._from_meta(lambda m: m["description"].get("sequence"))
        return int(seq["time_index"]) if seq else 0

    @property
    def K(self) -> NDArray[np.float64]:
        return self._from_meta(lambda m: _matrix(m["camera"]["K"], (3, 3)))

    @property
    def lens_model(self) -> str:
        """The camera model the frame was rendered through (``pinhole`` for datasets before lenses)."""
        return self._from_meta(lambda m: str(m["camera"].get("model", "pinhole")))

    def require_pinhole(self, what: str) -> None:
        """DatasetError for a format that holds pinhole cameras only."""
        if self.lens_model != "pinhole":
            raise DatasetError(f"{what} holds pinhole cameras only; frame {self.index} was rendered through "
                               f"a {self.lens_model} lens")

    @property
    def world_to_camera(self) -> NDArray[np.float64]:
        return self._from_meta(lambda m: _matrix(m["camera"]["world_to_camera"], (4, 4)))

    @property
    def image_size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self._from_meta(lambda m: (int(m["camera"]["width"]), int(m["camera"]["height"])))

    @cached_property
    def description(self) -> FrameDescription:
        return self._from_meta(lambda m: FrameDescription.from_dict(m["description"]))

    @cached_property
    def objects(self) -> tuple[ObjectLabels, ...]:
        return self._from_meta(lambda m: tuple(_object_labels(o) for o in m["objects"]))

    def _from_meta(self, read: Callable[[dict[str, Any]], T]) -> T:
        """A value read from the meta file; anything missing or malformed is a DatasetError naming it."""
        try:
            return read(self.meta)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise DatasetError(f"{self._files.where('meta.json')}: malformed frame record ({_what(exc)})") from None

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


_MESH_CACHE: dict[Path, trimesh.Trimesh] = {}


def _load_dataset_mesh(path: Path) -> trimesh.Trimesh:
    if path not in _MESH_CACHE:
        if not path.is_file():
            raise DatasetError(f"{path}: missing mesh file")
        try:
            mesh = trimesh.load(str(path), force="mesh", process=False)
        except Exception as exc:  # trimesh raises many types on damaged files
            raise DatasetError(f"{path}: unreadable mesh ({_what(exc)})") from None
        if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
            raise DatasetError(f"{path}: not a triangle mesh")
        _MESH_CACHE[path] = mesh
    return _MESH_CACHE[path]


class DatasetMeshes:
    """MeshLookup over a dataset's meshes/*.ply (see Frame.description_on_dataset_meshes)."""

    def mesh(self, source: MeshSource) -> trimesh.Trimesh:
        return _load_dataset_mesh(Path(source.path))


def _matrix(value: Any, shape: tuple[int, int]) -> NDArray[np.float64]:
    array = np.array(value, dtype=float)
    if array.shape != shape:
        raise ValueError(f"expected a {shape[0]}x{shape[1]} matrix, got shape {array.shape}")
    return array


def _what(exc: BaseException) -> str:
    """A short, one-line account of an exception (KeyError's message is just the key)."""
    if isinstance(exc, KeyError):
        return f"missing key {exc.args[0]!r}"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _object_labels(data: dict[str, Any]) -> ObjectLabels:
    lm = data["landmarks"]
    return ObjectLabels(
        instance_id=data["instance_id"], category=data["category"], category_id=data["category_id"],
        object_to_world=np.array(data["object_to_world"], dtype=float),
        object_to_camera=np.array(data["object_to_camera"], dtype=float),
        bbox=tuple(data["bbox"]),  # type: ignore[arg-type]
        visible_pixels=data["visible_pixels"], unoccluded_pixels=data["unoccluded_pixels"],
        visible_fraction=data["visible_fraction"],
        box3d_camera=np.array(data["box3d_camera"], dtype=float),
        ignore=bool(data.get("ignore", False)),
        asset_bounds=np.array(data["asset_bounds"], dtype=float).reshape(2, 3) if "asset_bounds" in data else None,
        person=PersonAttributes(**data["person"]) if "person" in data else None,
        landmarks=_landmarks(lm),
        face=_face(data["face"]) if "face" in data else None,
    )


def _landmarks(lm: dict[str, Any]) -> LandmarkLabels:
    n = len(lm["names"])
    return LandmarkLabels(
        names=tuple(lm["names"]),
        xyz_world=np.array(lm["xyz_world"], dtype=float).reshape(n, 3),
        xyz_camera=np.array(lm["xyz_camera"], dtype=float).reshape(n, 3),
        uv=np.array(lm["uv"], dtype=float).reshape(n, 2),
        in_frame=np.array(lm["in_frame"], dtype=bool).reshape(n),
        visible=np.array(lm["visible"], dtype=bool).reshape(n),
    )


def _face(data: dict[str, Any]) -> FaceLabels:
    euler, gaze = data["head_euler_deg"], data["gaze_deg"]
    return FaceLabels(
        landmarks=_landmarks(data["landmarks"]), box=tuple(int(v) for v in data["box"]),  # type: ignore[arg-type]
        head_rotation=np.array(data["head_rotation"], dtype=float).reshape(3, 3),
        head_euler_deg=(float(euler["yaw"]), float(euler["pitch"]), float(euler["roll"])),
        head_position=np.array(data["head_position"], dtype=float).reshape(3),
        gaze_camera=np.array(data["gaze_camera"], dtype=float).reshape(2, 3),
        gaze_deg=(float(gaze["yaw"]), float(gaze["pitch"])), expression=str(data["expression"]),
        expression_weights=tuple((str(k), float(v)) for k, v in data["expression_weights"].items()))


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
            header = read_json_object(header_path, "dataset header")
        except ValueError as exc:
            raise DatasetError(str(exc)) from None
        if header.get("format") != FORMAT_NAME:
            raise DatasetError(f"{header_path}: not a renderer dataset header")
        self.header: dict[str, Any] = header
        self.channels = written_channels(header)
        self.layout = header.get("layout", "files")
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
        try:
            return {int(c["id"]): str(c["name"]) for c in self.header["categories"]}
        except (KeyError, TypeError, ValueError) as exc:
            raise DatasetError(f"{self.root / 'dataset.json'}: malformed categories ({_what(exc)})") from None

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def sequence_length(self) -> int:
        """Frames per sequence (1: stills)."""
        try:
            return int(self.header["scene"].get("sequence", {}).get("length", 1))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
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
