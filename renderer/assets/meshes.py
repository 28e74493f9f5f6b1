"""Mesh helpers that need no catalog: the MeshLookup protocol that render, labels and flow ask for
geometry, procedural support meshes, and per-face computations in bounded chunks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

import numpy as np
import trimesh
from numpy.typing import NDArray

if TYPE_CHECKING:
    from renderer.scene.description import MeshSource

# A large mesh (a photogrammetry scan, smooth and heavy): its loading garbage is freed at once
# (renderer.assets.catalog.load_mesh) and the engines smooth it across every edge, with no split at sharp
# ones (renderer.render.engines.shading: the split costs ~10x the mesh).
LARGE_MESH_FACES = 300_000


class MeshLookup(Protocol):
    """Anything that gives the geometry of a mesh source: an AssetCatalog, or a dataset's own copies."""

    def mesh(self, source: MeshSource) -> trimesh.Trimesh: ...


def face_classes_of(lookup: MeshLookup, source: MeshSource) -> NDArray[np.uint32] | None:
    """The lookup's class per face of a mesh (renderer.scene.body; people), or None where it gives
    none (asset meshes; lookups without ``face_classes``)."""
    face_classes = getattr(lookup, "face_classes", None)
    return face_classes(source) if face_classes is not None else None


def tray_mesh(extents: tuple[float, float, float], wall: float) -> trimesh.Trimesh:
    """An open box: floor (top face at z = wall) and four walls up to z = height, outer size x, y; the
    parts touch but do not overlap, so no two faces coincide where they can be seen."""
    x, y, height = extents
    parts = [box_mesh((x, y, wall)).apply_translation((0, 0, wall / 2))]
    for sign in (-1, 1):
        parts.append(box_mesh((x, wall, height - wall)).apply_translation(
            (0, sign * (y - wall) / 2, wall + (height - wall) / 2)))
        parts.append(box_mesh((wall, y - 2 * wall, height - wall)).apply_translation(
            (sign * (x - wall) / 2, 0, wall + (height - wall) / 2)))
    mesh = stack_meshes(parts)
    uv = mesh.vertices[:, :2] / np.asarray((x, y)) + 0.5
    mesh.visual = trimesh.visual.TextureVisuals(uv=uv)
    return mesh


def box_mesh(extents: tuple[float, float, float]) -> trimesh.Trimesh:
    """A box centred at the origin with per-face vertices and a planar (x, y) texture mapping."""
    mesh = trimesh.creation.box(extents=extents)
    mesh.unmerge_vertices()
    uv = mesh.vertices[:, :2] / np.asarray(extents[:2]) + 0.5
    mesh.visual = trimesh.visual.TextureVisuals(uv=uv)
    return mesh


def stack_meshes(parts: list[trimesh.Trimesh]) -> trimesh.Trimesh:
    """Several meshes as one, geometry only, faces re-indexed and nothing merged or dropped."""
    offsets = np.cumsum([0] + [len(p.vertices) for p in parts[:-1]])
    return trimesh.Trimesh(np.vstack([p.vertices for p in parts]),
                           np.vstack([p.faces + o for p, o in zip(parts, offsets, strict=True)]), process=False)


CHUNK_FACES = 200_000  # faces per chunk of the per-face computations below (~15 MB of triangles)


def triangle_chunks(mesh: trimesh.Trimesh) -> Iterator[NDArray[np.float64]]:
    """The mesh's triangles, (n, 3, 3) float64, CHUNK_FACES at a time: per-face arithmetic over a scan of
    millions of faces without its whole per-face arrays (hundreds of MB) in memory at once."""
    for start in range(0, len(mesh.faces), CHUNK_FACES):
        yield mesh.vertices[mesh.faces[start:start + CHUNK_FACES]]


def surface_centroid(mesh: trimesh.Trimesh) -> NDArray[np.float64]:
    """trimesh's Trimesh.centroid (area-weighted triangle centres), a chunk of faces at a time."""
    weighted, total = np.zeros(3), 0.0
    for triangles in triangle_chunks(mesh):
        areas = trimesh.triangles.area(crosses=trimesh.triangles.cross(triangles))
        weighted += (triangles.mean(axis=1) * areas[:, None]).sum(axis=0)
        total += float(areas.sum())
    return weighted / total if total > 0 else np.asarray(mesh.vertices.mean(axis=0), dtype=np.float64)


def nondegenerate_faces(mesh: trimesh.Trimesh) -> NDArray[np.bool_]:
    """trimesh's Trimesh.nondegenerate_faces (its test, per face), a chunk of faces at a time."""
    if len(mesh.faces) == 0:
        return np.zeros(0, dtype=bool)
    return np.concatenate([
        trimesh.triangles.nondegenerate(triangles, areas=trimesh.triangles.area(triangles), height=trimesh.tol.merge)
        for triangles in triangle_chunks(mesh)])


def face_normals(mesh: trimesh.Trimesh) -> NDArray[np.float32]:
    """Unit geometric normals of the faces (right-handed winding), float32, a chunk of faces at a time."""
    out = np.empty((len(mesh.faces), 3), dtype=np.float32)
    for k, triangles in enumerate(triangle_chunks(mesh)):
        cross = trimesh.triangles.cross(triangles)
        norm = np.linalg.norm(cross, axis=1, keepdims=True)
        out[k * CHUNK_FACES:k * CHUNK_FACES + len(cross)] = cross / np.where(norm > 0, norm, 1.0)
    return out
