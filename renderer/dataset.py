"""Read a dataset written by renderer.writers: ``Dataset(root)[i] -> Frame``."""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import trimesh
from numpy.typing import NDArray

from renderer.assets import stack_meshes
from renderer.labels import LandmarkLabels, ObjectLabels
from renderer.scene import FrameDescription, MeshSource
from renderer.writers import FORMAT_NAME, frame_name


class DatasetError(ValueError):
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

    def _path(self, folder: str, suffix: str) -> Path:
        return self.root / folder / f"{frame_name(self.index)}{suffix}"

    @cached_property
    def rgb(self) -> NDArray[np.uint8]:
        return np.ascontiguousarray(_read_png(self._path("rgb", ".png"))[..., ::-1])

    @cached_property
    def depth(self) -> NDArray[np.float32]:
        return np.load(self._path("depth", ".npy"))

    @cached_property
    def normals(self) -> NDArray[np.float32]:
        return np.load(self._path("normals", ".npy"))

    @cached_property
    def instance(self) -> NDArray[np.uint16]:
        return _read_png(self._path("instance", ".png"))

    @cached_property
    def semantic(self) -> NDArray[np.uint16]:
        return _read_png(self._path("semantic", ".png"))

    @property
    def K(self) -> NDArray[np.float64]:
        return np.array(self.meta["camera"]["K"], dtype=float)

    @property
    def world_to_camera(self) -> NDArray[np.float64]:
        return np.array(self.meta["camera"]["world_to_camera"], dtype=float)

    @property
    def image_size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.meta["camera"]["width"], self.meta["camera"]["height"]

    @cached_property
    def description(self) -> FrameDescription:
        return FrameDescription.from_dict(self.meta["description"])

    @cached_property
    def objects(self) -> tuple[ObjectLabels, ...]:
        return tuple(_object_labels(o) for o in self.meta["objects"])

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
        mesh = trimesh.load(str(path), force="mesh", process=False)
        if not isinstance(mesh, trimesh.Trimesh):
            raise DatasetError(f"{path}: not a triangle mesh")
        _MESH_CACHE[path] = mesh
    return _MESH_CACHE[path]


class DatasetMeshes:
    """MeshLookup over a dataset's meshes/*.ply (see Frame.description_on_dataset_meshes)."""

    def mesh(self, source: MeshSource) -> trimesh.Trimesh:
        return _load_dataset_mesh(Path(source.path))


def _read_png(path: Path) -> NDArray[Any]:
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise DatasetError(f"{path}: missing or unreadable image")
    return image


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
        try:
            self.header: dict[str, Any] = json.loads(header_path.read_text())
        except (OSError, ValueError) as exc:
            raise DatasetError(f"{header_path}: not a renderer dataset ({exc})") from None
        if self.header.get("format") != FORMAT_NAME:
            raise DatasetError(f"{header_path}: not a renderer dataset")
        self.indices = sorted(int(p.stem) for p in (self.root / "meta").glob("*.json") if p.stem.isdigit())

    @property
    def categories(self) -> dict[int, str]:
        return {c["id"]: c["name"] for c in self.header["categories"]}

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> Frame:
        if not -len(self) <= i < len(self):
            raise IndexError(f"frame {i} out of range for {len(self)} frames")
        index = self.indices[i]
        meta = json.loads((self.root / "meta" / f"{frame_name(index)}.json").read_text())
        return Frame(self.root, index, meta)
