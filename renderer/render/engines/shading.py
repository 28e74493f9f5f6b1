"""Shading geometry shared by the engines: the same smooth normals and texture coordinates in both."""

from __future__ import annotations

from typing import Any

import numpy as np
import trimesh
from numpy.typing import NDArray

from renderer.assets.meshes import LARGE_MESH_FACES

# What an engine keeps between frames (renderer.caching.LruCache): people bring new meshes every frame.
KEPT_MESH_BYTES = 128 * 2**20
KEPT_TEXTURES = 64


def mesh_bytes(mesh: trimesh.Trimesh) -> int:
    """About what an engine's copy of a mesh holds: float32 positions, normals and UV, uint32 indices,
    and the RGB of its texture image."""
    image = getattr(getattr(mesh.visual, "material", None), "baseColorTexture", None)
    texels = image.size[0] * image.size[1] * 3 if image is not None else 0
    return len(mesh.vertices) * 32 + len(mesh.faces) * 12 + texels


def shading_arrays(mesh: trimesh.Trimesh) -> dict[str, NDArray[Any]]:
    """Vertex arrays for shading: smooth normals, split where faces meet at a sharp angle (meshes of
    more than LARGE_MESH_FACES faces, such as photogrammetry scans, are smoothed across every edge)."""
    uv = getattr(mesh.visual, "uv", None)
    if uv is not None and len(uv) == len(mesh.vertices):
        shaded = mesh  # keep the UV layout as it is
    elif len(mesh.faces) > LARGE_MESH_FACES:
        arrays = {"positions": np.asarray(mesh.vertices, dtype=np.float32), "normals": large_mesh_normals(mesh),
                  "indices": np.asarray(mesh.faces, dtype=np.uint32)}
        arrays["uv"] = np.asarray(box_projected_uv(mesh, arrays["normals"]), dtype=np.float32)
        return arrays
    else:
        shaded = mesh.smooth_shaded
        uv = box_projected_uv(shaded)
    arrays = {
        "positions": np.asarray(shaded.vertices, dtype=np.float32),
        "normals": np.asarray(shaded.vertex_normals, dtype=np.float32),
        "indices": np.asarray(shaded.faces, dtype=np.uint32),
    }
    if uv is not None:
        arrays["uv"] = np.asarray(uv, dtype=np.float32)
    # Splitting at sharp edges leaves ~10x the mesh in per-edge and per-face arrays cached on the
    # (shared) mesh, used by nothing later: drop them, keep the normals.
    mesh._cache.clear(exclude=["vertex_normals", "face_normals"])
    return arrays



def large_mesh_normals(mesh: trimesh.Trimesh) -> NDArray[np.float32]:
    """Vertex normals of a scan: the file's own where it has them, else the area-weighted mean of the
    adjacent faces' normals, accumulated a chunk of faces at a time (trimesh's angle-weighted normals
    hold several per-face arrays of the whole mesh at once: 7x the mesh at peak)."""
    from renderer.assets.meshes import triangle_chunks

    own = mesh._cache.cache.get("vertex_normals")
    if own is not None:
        return np.asarray(own, dtype=np.float32)
    count = len(mesh.vertices)
    summed = np.zeros((count, 3))
    start = 0
    for triangles in triangle_chunks(mesh):
        cross = trimesh.triangles.cross(triangles)  # length = twice the area: area weighting
        faces = mesh.faces[start:start + len(cross)]
        for corner in range(3):
            for axis in range(3):
                summed[:, axis] += np.bincount(faces[:, corner], weights=cross[:, axis], minlength=count)
        start += len(cross)
    norm = np.linalg.norm(summed, axis=1, keepdims=True)
    return np.asarray(summed / np.where(norm > 0, norm, 1.0), dtype=np.float32)


def box_projected_uv(mesh: trimesh.Trimesh, normals: NDArray[Any] | None = None) -> NDArray[np.float64]:
    """Texture coordinates for meshes without any: each vertex projected along the axis its normal
    points most along (a box projection), 10 texture repeats per metre."""
    axis = np.argmax(np.abs(mesh.vertex_normals if normals is None else normals), axis=1)
    others = np.array([[1, 2], [0, 2], [0, 1]])[axis]
    rows = np.arange(len(mesh.vertices))
    return np.stack([mesh.vertices[rows, others[:, 0]], mesh.vertices[rows, others[:, 1]]], axis=1) * 10.0
