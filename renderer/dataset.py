"""Read a dataset written by renderer.writers: ``Dataset(root)[i] -> Frame``."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import cv2
import numpy as np
import trimesh
from numpy.typing import NDArray

from renderer.assets import stack_meshes
from renderer.config import CHANNELS
from renderer.errors import RendererError, quiet_stderr
from renderer.labels import LandmarkLabels, ObjectLabels
from renderer.scene import FrameDescription, MeshSource
from renderer.writers import FORMAT_NAME, frame_name, read_json_object, written_channels

T = TypeVar("T")


class DatasetError(RendererError, ValueError):
    """A folder that is not a readable dataset."""


@dataclass(frozen=True)
class Frame:
    """One frame read back; arrays are loaded on first access.

    rgb: uint8 (H, W, 3). depth: float32 (H, W) metres along z, 0 = no surface. normals: float32
    (H, W, 3) camera frame. instance, semantic: uint16 (H, W), 0 = background. K: (3, 3);
    world_to_camera: (4, 4), OpenCV frame. objects: per-object labels, in instance id order.
    description: the frame description it was rendered from.
    """

    root: Path
    index: int
    meta: dict[str, Any]
    channels: tuple[str, ...] = CHANNELS  # the image channels the dataset wrote (its scene's outputs)

    def _path(self, folder: str, suffix: str) -> Path:
        if folder in CHANNELS and folder not in self.channels:
            raise DatasetError(f"{self.root}: {folder} was not written (the scene's outputs: "
                               f"{', '.join(self.channels) or 'none'})")
        return self.root / folder / f"{frame_name(self.index)}{suffix}"

    @cached_property
    def rgb(self) -> NDArray[np.uint8]:
        return np.ascontiguousarray(_read_png(self._path("rgb", ".png"))[..., ::-1])

    @cached_property
    def depth(self) -> NDArray[np.float32]:
        return _read_npy(self._path("depth", ".npy"), 2)

    @cached_property
    def normals(self) -> NDArray[np.float32]:
        return _read_npy(self._path("normals", ".npy"), 3)

    @cached_property
    def instance(self) -> NDArray[np.uint16]:
        return _read_png(self._path("instance", ".png"))

    @cached_property
    def semantic(self) -> NDArray[np.uint16]:
        return _read_png(self._path("semantic", ".png"))

    @property
    def K(self) -> NDArray[np.float64]:
        return self._from_meta(lambda m: _matrix(m["camera"]["K"], (3, 3)))

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
            raise DatasetError(f"{self._path('meta', '.json')}: malformed frame record ({_what(exc)})") from None

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


def _read_png(path: Path) -> NDArray[Any]:
    if not path.is_file():
        raise DatasetError(f"{path}: missing file")
    with quiet_stderr():  # libpng prints its own complaints about damaged files
        image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise DatasetError(f"{path}: unreadable image (damaged or not a PNG)")
    return image


def _read_npy(path: Path, ndim: int) -> NDArray[np.float32]:
    if not path.is_file():
        raise DatasetError(f"{path}: missing file")
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise DatasetError(f"{path}: unreadable array ({_what(exc)})") from None
    if array.dtype != np.float32 or array.ndim != ndim:
        raise DatasetError(f"{path}: expected a float32 array of {ndim} dimensions, found {array.dtype} {array.shape}")
    return array


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
    n = len(lm["names"])
    return ObjectLabels(
        instance_id=data["instance_id"], category=data["category"], category_id=data["category_id"],
        object_to_world=np.array(data["object_to_world"], dtype=float),
        object_to_camera=np.array(data["object_to_camera"], dtype=float),
        bbox=tuple(data["bbox"]),  # type: ignore[arg-type]
        visible_pixels=data["visible_pixels"], unoccluded_pixels=data["unoccluded_pixels"],
        visible_fraction=data["visible_fraction"],
        box3d_camera=np.array(data["box3d_camera"], dtype=float),
        ignore=bool(data.get("ignore", False)),
        landmarks=LandmarkLabels(
            names=tuple(lm["names"]),
            xyz_world=np.array(lm["xyz_world"], dtype=float).reshape(n, 3),
            xyz_camera=np.array(lm["xyz_camera"], dtype=float).reshape(n, 3),
            uv=np.array(lm["uv"], dtype=float).reshape(n, 2),
            in_frame=np.array(lm["in_frame"], dtype=bool).reshape(n),
            visible=np.array(lm["visible"], dtype=bool).reshape(n),
        ),
    )


class Dataset:
    """Map-style view of a dataset folder: ``len(ds)`` complete frames, ``ds[i]`` the i-th of them."""

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

    def __getitem__(self, i: int) -> Frame:
        if not -len(self) <= i < len(self):
            raise IndexError(f"frame {i} out of range for {len(self)} frames")
        index = self.indices[i]
        path = self.root / "meta" / f"{frame_name(index)}.json"
        try:
            meta = read_json_object(path, "frame record")
        except ValueError as exc:
            raise DatasetError(str(exc)) from None
        return Frame(self.root, index, meta, self.channels)
