"""Asset catalog: asset id -> mesh (trimesh, metres, its own frame), category, landmarks.

Meshes come from files (OBJ, PLY, STL, GLB/GLTF, OFF) or are procedural (a box with extents). Each is
loaded once, checked (faces present, finite vertices) and cleaned of degenerate faces, so the geometry
the rasteriser sees and the geometry tests ray-cast are the same object.

Landmarks: named points in the asset's own frame, read from ``<stem>.landmarks.json`` beside the mesh::

    {"landmarks": {"rim_front": [0.04, 0.0, 0.1], "base_center": [0, 0, 0]},
     "skeleton": [["rim_front", "base_center"]]}

(``skeleton``, optional: pairs of landmark names to draw as edges, exported as COCO's ``skeleton``)
or, where there is no such file, computed: the 8 corners of the axis-aligned box (``box_xyz`` with
each of x, y, z being 0 for the minimum and 1 for the maximum) and ``centroid``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import trimesh
from numpy.typing import NDArray

from renderer.config import SceneConfig, resolve_asset_paths
from renderer.scene import MeshSource

log = logging.getLogger(__name__)

TABLE_CATEGORY = "table"


class MeshLookup(Protocol):
    """Anything that gives the geometry of a mesh source: an AssetCatalog, or a dataset's own copies."""

    def mesh(self, source: MeshSource) -> trimesh.Trimesh: ...


class AssetError(ValueError):
    """A mesh or landmark file that cannot be used; the message is one line naming the file."""


@dataclass(frozen=True)
class Landmarks:
    """Named points (N, 3) in the asset's own frame, metres, before the object's scale.

    skeleton: edges between landmarks, as pairs of names (the box edges for computed landmarks).
    """

    names: tuple[str, ...]
    points: NDArray[np.float64]
    skeleton: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Footprint:
    """The disk covering a mesh's xy projection (centre, radius; asset frame, metres) and its lowest z.

    Rotating the mesh about z keeps its projection inside the disk, so disks that do not overlap keep
    upright objects apart. Everything scales linearly with the object's scale.
    """

    center_xy: NDArray[np.float64]
    radius: float
    min_z: float


@dataclass(frozen=True)
class Asset:
    """One entry of the catalog: what the sampler may place."""

    asset_id: str
    category: str
    source: MeshSource
    weight: float
    scale_min: float
    scale_max: float


class AssetCatalog:
    """The assets a scene config names, with their meshes and landmarks loaded lazily and cached."""

    def __init__(self, config: SceneConfig, skip: frozenset[str] = frozenset()) -> None:
        """``skip``: asset ids to leave out (bad files the user chose to skip; see find_bad_assets)."""
        self.assets: list[Asset] = []
        self.skipped = set(skip)
        seen_ids: set[str] = set()
        for source in config.objects.assets:
            for path in resolve_asset_paths(config.base_dir, source.path):
                asset_id = path.stem
                n = 2
                while asset_id in seen_ids:
                    asset_id, n = f"{path.stem}_{n}", n + 1
                seen_ids.add(asset_id)
                if asset_id in skip:
                    continue
                self.assets.append(
                    Asset(asset_id, source.category or path.stem, MeshSource("file", path=str(path)),
                          source.weight, source.scale.min, source.scale.max)
                )
        names = {a.category for a in self.assets}
        if config.table.enabled:
            names.add(TABLE_CATEGORY)
        self.categories: dict[str, int] = {name: i + 1 for i, name in enumerate(sorted(names))}
        self._meshes: dict[MeshSource, trimesh.Trimesh] = {}
        self._landmarks: dict[MeshSource, Landmarks] = {}
        self._footprints: dict[MeshSource, Footprint] = {}

    def mesh(self, source: MeshSource) -> trimesh.Trimesh:
        """The cleaned mesh of a source (shared: do not modify it)."""
        if source not in self._meshes:
            self._meshes[source] = load_mesh(source)
        return self._meshes[source]

    def find_bad_assets(self) -> dict[str, str]:
        """Load every asset and its landmarks; {asset_id: one-line reason} for those that fail."""
        bad = {}
        for asset in self.assets:
            try:
                self.mesh(asset.source)
                self.landmarks(asset.source)
            except AssetError as exc:
                bad[asset.asset_id] = str(exc)
        return bad

    def footprint(self, source: MeshSource) -> Footprint:
        """Where the unscaled mesh stands when upright: see Footprint."""
        if source not in self._footprints:
            vertices = self.mesh(source).vertices
            center = (vertices[:, :2].min(axis=0) + vertices[:, :2].max(axis=0)) / 2.0
            radius = float(np.linalg.norm(vertices[:, :2] - center, axis=1).max())
            self._footprints[source] = Footprint(center, radius, float(vertices[:, 2].min()))
        return self._footprints[source]

    def landmarks(self, source: MeshSource) -> Landmarks:
        if source not in self._landmarks:
            self._landmarks[source] = load_landmarks(source, self.mesh(source))
        return self._landmarks[source]


def box_mesh(extents: tuple[float, float, float]) -> trimesh.Trimesh:
    """A box centred at the origin with per-face vertices and a planar (x, y) texture mapping."""
    mesh = trimesh.creation.box(extents=extents)
    mesh.unmerge_vertices()
    uv = mesh.vertices[:, :2] / np.asarray(extents[:2]) + 0.5
    mesh.visual = trimesh.visual.TextureVisuals(uv=uv)
    return mesh


def load_mesh(source: MeshSource) -> trimesh.Trimesh:
    """Load and check a mesh; raise AssetError with one line on anything unusable."""
    if source.kind == "box":
        return box_mesh(source.extents)
    path = Path(source.path)
    if not path.is_file():
        raise AssetError(f"{path}: mesh file not found")
    try:
        loaded = trimesh.load(str(path), force="mesh", process=False)
    except Exception as exc:  # trimesh raises many types for bad files
        raise AssetError(f"{path}: cannot read mesh ({type(exc).__name__}: {exc})".splitlines()[0]) from None
    if not isinstance(loaded, trimesh.Trimesh) or len(loaded.faces) == 0:
        raise AssetError(f"{path}: mesh has no faces")
    if not np.all(np.isfinite(loaded.vertices)):
        raise AssetError(f"{path}: mesh has non-finite (NaN or infinite) vertices")
    loaded.process()  # merge duplicate vertices, as trimesh does by default, once they are known good
    keep = loaded.nondegenerate_faces()
    if not keep.all():
        loaded.update_faces(keep)
        loaded.remove_unreferenced_vertices()
    if len(loaded.faces) == 0:
        raise AssetError(f"{path}: mesh has only degenerate faces")
    return loaded


def landmarks_path(mesh_path: Path) -> Path:
    return mesh_path.with_name(mesh_path.stem + ".landmarks.json")


def load_landmarks(source: MeshSource, mesh: trimesh.Trimesh) -> Landmarks:
    """Sidecar landmarks if the mesh has a file beside it, else box corners and centroid."""
    if source.kind == "file":
        sidecar = landmarks_path(Path(source.path))
        if sidecar.is_file():
            return read_landmarks_file(sidecar)
    return computed_landmarks(mesh)


def read_landmarks_file(path: Path) -> Landmarks:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        points = data["landmarks"]
        names = tuple(str(k) for k in points)
        xyz = np.array([points[k] for k in points], dtype=float).reshape(len(names), 3)
        skeleton = tuple((str(a), str(b)) for a, b in data.get("skeleton", []))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AssetError(f"{path}: invalid landmark file ({type(exc).__name__}: {exc})") from None
    if not np.all(np.isfinite(xyz)):
        raise AssetError(f"{path}: landmark coordinates must be finite")
    unknown = sorted({n for edge in skeleton for n in edge} - set(names))
    if unknown:
        raise AssetError(f"{path}: skeleton names unknown landmarks {unknown}")
    return Landmarks(names, xyz, skeleton)


def computed_landmarks(mesh: trimesh.Trimesh) -> Landmarks:
    lo, hi = mesh.bounds
    names, points = [], []
    for ix in (0, 1):
        for iy in (0, 1):
            for iz in (0, 1):
                names.append(f"box_{ix}{iy}{iz}")
                points.append([(lo, hi)[ix][0], (lo, hi)[iy][1], (lo, hi)[iz][2]])
    names.append("centroid")
    points.append(mesh.centroid)
    return Landmarks(tuple(names), np.array(points, dtype=float), BOX_EDGES)


# The 12 edges of the box: corners whose (x, y, z) bits differ in exactly one place.
BOX_EDGES = tuple(
    (f"box_{a:03b}", f"box_{b:03b}") for a in range(8) for b in range(a + 1, 8) if bin(a ^ b).count("1") == 1
)
