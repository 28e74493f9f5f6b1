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

import functools
import gc
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import trimesh
from numpy.typing import NDArray

from renderer.assets.meshes import LARGE_MESH_FACES, box_mesh, nondegenerate_faces, surface_centroid, tray_mesh
from renderer.assets.objfile import LEAN_OBJ_BYTES, mtllib_names, read_large_obj
from renderer.config.distributions import Distribution
from renderer.config.schema import HDR_SUFFIXES, AssetSource, SceneConfig, resolve_asset_paths, resolve_image_files
from renderer.errors import RendererError, quiet_stderr
from renderer.scene.description import MeshSource
from renderer.scene.image_files import image_size_problem

log = logging.getLogger(__name__)

TABLE_CATEGORY = "table"
PERSON_CATEGORY = "person"  # the category of every person (renderer.humans)



class AssetError(RendererError, ValueError):
    """A mesh or landmark file that cannot be used; the message is one line naming the file."""


@dataclass(frozen=True)
class Landmarks:
    """Named points (N, 3) in the asset's own frame, metres, before the object's scale.

    skeleton: edges between landmarks, as pairs of names (the box edges for computed landmarks).
    """

    names: tuple[str, ...]
    points: NDArray[np.float64]
    skeleton: tuple[tuple[str, str], ...] = ()
    # Per landmark, metres (empty: none): how far behind its own object's visible surface a landmark may
    # lie and still count as seen. Interior points (a body's joints) have one; surface points do not.
    radii: NDArray[np.float64] | None = None


@dataclass(frozen=True)
class FaceGeometry:
    """A person's face in its body mesh frame (renderer.humans builds it): the 68 landmarks (surface
    points, with their small depth radii), the head frame (4x4 pose; renderer.humans.head), the eyeball
    centres and gaze directions (left eye first), and the expression's facial-action weights."""

    landmarks: Landmarks
    head_frame: NDArray[np.float64]
    eye_centres: NDArray[np.float64]
    gaze: NDArray[np.float64]
    expression: str
    expression_weights: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Footprint:
    """Where a mesh stands once turned by a resting rotation (asset frame, unscaled, metres): the disk
    covering its xy projection (centre, radius) and its lowest z.

    Turning the mesh about z keeps its projection inside the disk, so disks that do not overlap keep
    resting objects apart. Everything scales linearly with the object's scale.
    """

    center_xy: NDArray[np.float64]
    radius: float
    min_z: float


@dataclass(frozen=True)
class RestingPoses:
    """Rotations (N, 3, 3) under which the mesh rests stably on a plane below it, and their
    probabilities (N,) (trimesh.poses.compute_stable_poses on the convex hull)."""

    rotations: NDArray[np.float64]
    probabilities: NDArray[np.float64]


@dataclass(frozen=True)
class Asset:
    """One entry of the catalog: what the sampler may place. scale: the scale distribution; weight: its
    source's weight; group: the index of that source (objects.assets[group]) in the scene file."""

    asset_id: str
    category: str
    source: MeshSource
    weight: float
    scale: Distribution
    group: int = 0


TRAY_CATEGORY = "tray"
DISTRACTOR_CATEGORY = "distractor"
MIN_POSE_PROBABILITY = 0.02  # resting poses less likely than this (knife-edge balances) are dropped


class AssetCatalog:
    """The assets a scene config names, with their meshes and landmarks loaded lazily and cached.

    ``assets``: what objects are drawn from; ``distractors``: the distractor sources (their category
    is DISTRACTOR_CATEGORY unless the config labels them).
    """

    def __init__(self, config: SceneConfig, skip: frozenset[str] = frozenset()) -> None:
        """``skip``: asset ids to leave out (bad files the user chose to skip; see find_bad_assets)."""
        self.skipped = set(skip)
        seen_ids: set[str] = set()
        self.assets = self._entries(config, config.objects.assets, seen_ids, skip, None)
        labelled = config.distractors.labelled
        self.distractors = self._entries(config, config.distractors.assets, seen_ids, skip,
                                         None if labelled else DISTRACTOR_CATEGORY)
        names = {a.category for a in self.assets}
        if labelled:
            names |= {a.category for a in self.distractors}
        if config.table.enabled:
            names.add(TABLE_CATEGORY)
        if config.people.count.max > 0:
            names.add(PERSON_CATEGORY)
            names.update(name for name, p in config.people.face.accessories.items() if p > 0)
        if config.objects.placement == "physics" and config.objects.physics.container == "tray":
            names.add(TRAY_CATEGORY)
        self.categories: dict[str, int] = {name: i + 1 for i, name in enumerate(sorted(names))}
        self.images = {key: [p for p in paths if str(p) not in skip] for key, paths in image_folders(config).items()}
        self._meshes: dict[MeshSource, trimesh.Trimesh] = {}
        self._landmarks: dict[MeshSource, Landmarks] = {}
        self._footprints: dict[tuple[MeshSource, bytes], Footprint] = {}
        self._poses: dict[MeshSource, RestingPoses] = {}

    @staticmethod
    def _entries(config: SceneConfig, sources: tuple[AssetSource, ...], seen_ids: set[str],
                 skip: frozenset[str], category: str | None) -> list[Asset]:
        entries = []
        for group, source in enumerate(sources):
            for path in resolve_asset_paths(config.base_dir, source.path):
                asset_id = path.stem
                n = 2
                while asset_id in seen_ids:
                    asset_id, n = f"{path.stem}_{n}", n + 1
                seen_ids.add(asset_id)
                if asset_id in skip:
                    continue
                entries.append(Asset(asset_id, category or source.category or path.stem,
                                     MeshSource("file", path=str(path)), source.weight, source.scale, group))
        return entries

    @property
    def all_assets(self) -> list[Asset]:
        return self.assets + self.distractors

    def mesh(self, source: MeshSource) -> trimesh.Trimesh:
        """The cleaned mesh of a source (shared: do not modify it)."""
        if source not in self._meshes:
            self._meshes[source] = load_mesh(source)
        return self._meshes[source]

    def find_bad_assets(self) -> dict[str, str]:
        """Load every asset and its landmarks, and decode every image the scene may draw (textures,
        backgrounds, environment maps); {asset id or image path: one-line reason} for those that fail."""
        bad = {}
        for asset in self.all_assets:
            try:
                self.mesh(asset.source)
                self.landmarks(asset.source)
            except AssetError as exc:
                bad[asset.asset_id] = str(exc)
        for key, paths in self.images.items():
            for path in paths:
                reason = image_problem(path, hdr=key == "environment.images")
                if reason is not None:
                    bad[str(path)] = f"{path}: {reason} ({key})"
        return bad

    def image_choices(self, key: str) -> list[Path]:
        """The usable images of a folder key (materials.texture_images, background.images,
        environment.images), bad ones skipped; an AssetError if none is left."""
        paths = self.images.get(key, [])
        if not paths:
            raise AssetError(f"{key}: no usable image left")
        return paths

    def footprint(self, source: MeshSource, rotation: NDArray[np.float64] | None = None) -> Footprint:
        """Where the unscaled mesh stands after ``rotation`` (default: as it is, upright): see Footprint."""
        rotation = np.eye(3) if rotation is None else np.asarray(rotation, dtype=float)
        key = (source, rotation.tobytes())
        if key not in self._footprints:
            vertices = self.mesh(source).vertices @ rotation.T
            center = (vertices[:, :2].min(axis=0) + vertices[:, :2].max(axis=0)) / 2.0
            radius = float(np.linalg.norm(vertices[:, :2] - center, axis=1).max())
            self._footprints[key] = Footprint(center, radius, float(vertices[:, 2].min()))
        return self._footprints[key]

    def resting_poses(self, source: MeshSource) -> RestingPoses:
        """The mesh's stable resting rotations with their probabilities (see RestingPoses)."""
        if source not in self._poses:
            hull = self.mesh(source).convex_hull
            transforms, probabilities = trimesh.poses.compute_stable_poses(hull, n_samples=1)
            keep = probabilities >= MIN_POSE_PROBABILITY
            if not keep.any():
                keep = probabilities == probabilities.max()
            rotations = np.asarray(transforms)[keep, :3, :3]
            kept = np.asarray(probabilities)[keep]
            self._poses[source] = RestingPoses(rotations, kept / kept.sum())
        return self._poses[source]

    def bounding_sphere(self, source: MeshSource) -> tuple[NDArray[np.float64], float]:
        """(centre, radius) of a sphere holding the unscaled mesh: any rotation about the centre stays inside."""
        vertices = self.mesh(source).vertices
        center = (vertices.min(axis=0) + vertices.max(axis=0)) / 2.0
        return center, float(np.linalg.norm(vertices - center, axis=1).max())

    def face_classes(self, source: MeshSource) -> NDArray[np.uint32] | None:
        """A class per face of the mesh (renderer.scene.body), or None: asset meshes have none."""
        return None

    def face(self, source: MeshSource) -> FaceGeometry | None:
        """A person's face geometry where the scene asks for face labels; None for every asset mesh."""
        return None

    def landmarks(self, source: MeshSource) -> Landmarks:
        if source not in self._landmarks:
            self._landmarks[source] = load_landmarks(source, self.mesh(source))
        return self._landmarks[source]



def draw_probabilities(assets: list[Asset], balance: str = "none",
                       category_weights: dict[str, float] | None = None) -> NDArray[np.float64]:
    """The probability of drawing each asset, one object at a time.

    none: a source (objects.assets[k]) by its weight, then one of its files uniformly, so a glob of
    50 files is drawn as often as a single file of the same weight. categories: a category by its
    weight in category_weights (1 for any not named: uniformly by default), then within it as for
    none. assets: every file equally.
    """
    if not assets:
        return np.zeros(0)
    if balance == "assets":
        return np.full(len(assets), 1.0 / len(assets))

    def by_source(members: list[int]) -> NDArray[np.float64]:
        groups: dict[int, list[int]] = {}
        for k in members:
            groups.setdefault(assets[k].group, []).append(k)
        total = sum(assets[ks[0]].weight for ks in groups.values())
        p = np.zeros(len(assets))
        for ks in groups.values():
            p[ks] = assets[ks[0]].weight / total / len(ks)
        return p

    if balance == "categories":
        categories: dict[str, list[int]] = {}
        for k, asset in enumerate(assets):
            categories.setdefault(asset.category, []).append(k)
        weights = {name: (category_weights or {}).get(name, 1.0) for name in categories}
        total = sum(weights.values())
        return sum((by_source(ks) * (weights[name] / total) for name, ks in categories.items()),
                   np.zeros(len(assets)))
    return by_source(list(range(len(assets))))


def image_folders(config: SceneConfig) -> dict[str, list[Path]]:
    """{config key: image files} of the folders a scene may draw images from (resolved once)."""
    folders: dict[str, list[Path]] = {}
    m = config.materials
    if m.texture_probability > 0 and "image" in m.textures.params:
        folders["materials.texture_images"] = resolve_image_files(config.base_dir, m.texture_images)
    if "images" in config.background.kind.params:
        folders["background.images"] = resolve_image_files(config.base_dir, config.background.images)
    if config.people.count.max > 0 and config.people.garment_image_probability > 0:
        folders["people.garment_images"] = resolve_image_files(config.base_dir, config.people.garment_images)
    if "hdri" in config.environment.kind.params:
        folders["environment.images"] = resolve_image_files(config.base_dir, config.environment.images,
                                                            HDR_SUFFIXES)
    return folders


def image_problem(path: Path, hdr: bool = False) -> str | None:
    """Why an image file cannot be used (its header's pixel count first, renderer.scene.image_files; then
    decoded in full), or None."""
    too_large = image_size_problem(path, hdr)
    if too_large is not None:
        return too_large
    if hdr:
        from renderer.scene.environment import EnvironmentMapError, read_hdr_map

        try:
            read_hdr_map(str(path))
        except EnvironmentMapError as exc:
            return str(exc).split(": ", 1)[-1]
        return None
    import cv2

    try:
        with quiet_stderr():  # libjpeg and libpng print their complaints themselves
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    except cv2.error:
        image = None
    return "missing or unreadable image" if image is None else None



def _read_mesh(path: Path) -> trimesh.Trimesh | trimesh.Scene:
    """The file's geometry as one mesh. A file of one mesh placed as it is (most scans) is taken as
    read; trimesh's load(force="mesh") would deep-copy it into a new mesh, three times the mesh at peak."""
    if path.suffix.lower() == ".obj" and path.stat().st_size >= LEAN_OBJ_BYTES:
        lean = read_large_obj(path)  # a scan: trimesh's reader would hold its text several times over
        if lean is not None:
            return lean
    scene = trimesh.load_scene(str(path), process=False)
    if len(scene.geometry) == 1:
        (name, geometry), = scene.geometry.items()
        nodes = scene.graph.geometry_nodes.get(name, [])
        if isinstance(geometry, trimesh.Trimesh) and len(nodes) == 1 and \
                np.array_equal(scene.graph[nodes[0]][0], np.eye(4)):
            return geometry
    return scene.to_mesh() if scene.geometry else scene


# The meshes made from their source's sizes alone, by mesh kind (MeshSource.kind).
PROCEDURAL_MESHES: dict[str, Callable[[MeshSource], trimesh.Trimesh]] = {
    "box": lambda source: box_mesh(source.extents),
    "tray": lambda source: tray_mesh(source.extents, source.wall),
}


def load_mesh(source: MeshSource) -> trimesh.Trimesh:
    """Load and check a mesh; raise AssetError with one line on anything unusable."""
    procedural = PROCEDURAL_MESHES.get(source.kind)
    if procedural is not None:
        return procedural(source)
    if source.kind != "file":  # bodies and worn things: renderer.humans.catalog.PeopleCatalog builds them
        raise AssetError(f"{source.kind} {source.path!r}: this catalog has no people to build it from")
    path = Path(source.path)
    if not path.is_file():
        raise AssetError(f"{path}: mesh file not found")
    if path.suffix.lower() == ".obj":
        check_obj_textures(path)
    try:
        loaded = _read_mesh(path)
    except Exception as exc:  # trimesh raises many types for bad files
        raise AssetError(f"{path}: cannot read mesh ({type(exc).__name__}: {exc})".splitlines()[0]) from None
    if not isinstance(loaded, trimesh.Trimesh) or len(loaded.faces) == 0:
        raise AssetError(f"{path}: mesh has no faces")
    loaded.metadata.pop("_ply_raw", None)  # trimesh keeps the whole PLY body beside the arrays (half the mesh again)
    large = len(loaded.faces) > LARGE_MESH_FACES
    if large:
        gc.collect()  # the scene trimesh loaded through holds another copy in reference cycles: free it now
    if not np.all(np.isfinite(loaded.vertices)):
        raise AssetError(f"{path}: mesh has non-finite (NaN or infinite) vertices")
    loaded.process()  # merge duplicate vertices, as trimesh does by default, once they are known good
    keep = nondegenerate_faces(loaded)
    if not keep.all():
        loaded.update_faces(keep)
        loaded.remove_unreferenced_vertices()
    if len(loaded.faces) == 0:
        raise AssetError(f"{path}: mesh has only degenerate faces")
    # Per-face arrays cached by the checks above (triangles, their cross products, areas) are ~4x the
    # mesh itself and used by nothing later; normals (possibly the file's own) stay.
    loaded._cache.clear(exclude=["vertex_normals", "face_normals"])
    if large:  # a full collection costs tens of ms: worth it for a scan, not for every small asset
        release_freed_memory()
    return loaded


def release_freed_memory() -> None:
    """Free unreachable objects now and hand freed heap pages back to the system (glibc's malloc_trim):
    loading a scan frees several times the mesh, which the allocator would otherwise keep, and every
    later stage would add its own peak on top of it."""
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Any:
    import ctypes
    import ctypes.util

    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to do
        return None


_MAP = re.compile(r"^\s*(?:map_\w+|bump|disp|decal|refl|norm)\s+(.+?)\s*$", re.MULTILINE | re.IGNORECASE)


def _last_token(arguments: str) -> str:
    """The file name at the end of an MTL map statement (options such as -s 1 1 1 come first)."""
    return arguments.split()[-1] if arguments.split() else ""


def obj_companions(path: Path) -> list[Path]:
    """The MTL libraries an OBJ file names and the images those name (relative to their own folders).
    Files that are named but missing are included, so that callers can report them."""
    try:
        names = mtllib_names(path)  # a block at a time: a scan's text is never held whole
    except OSError:
        return []
    files: list[Path] = []
    for name in names:
        mtl = path.parent / name
        files.append(mtl)
        try:
            mtl_text = mtl.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        files += [mtl.parent / _last_token(arguments) for arguments in _MAP.findall(mtl_text)
                  if _last_token(arguments)]
    return files


IMAGE_MAP_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tga", ".tif", ".tiff", ".webp")


def check_obj_textures(path: Path) -> None:
    """The texture images an OBJ's materials name must exist and decode: trimesh would drop a bad one
    silently and the object would render with another material. (An MTL library that is missing
    altogether names no texture: such an OBJ renders with a material the scene draws, as documented.)"""
    from PIL import Image

    for companion in obj_companions(path):
        is_image = companion.suffix.lower() in IMAGE_MAP_SUFFIXES
        if not companion.is_file():
            if not is_image:  # a missing MTL library carries no texture: the object gets a drawn material
                continue
            raise AssetError(f"{path}: names {companion.name}, which is missing")
        if is_image:
            try:
                with Image.open(companion) as image:
                    image.load()
            except Exception as exc:  # PIL raises several types for damaged files
                raise AssetError(f"{companion}: unreadable texture image ({type(exc).__name__}) of {path.name}") \
                    from None


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
    points.append(surface_centroid(mesh).tolist())
    return Landmarks(tuple(names), np.array(points, dtype=float), BOX_EDGES)


# The 12 edges of the box: corners whose (x, y, z) bits differ in exactly one place.
BOX_EDGES = tuple(
    (f"box_{a:03b}", f"box_{b:03b}") for a in range(8) for b in range(a + 1, 8) if bin(a ^ b).count("1") == 1
)
