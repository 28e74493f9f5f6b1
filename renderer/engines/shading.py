"""Shading geometry shared by the engines: the same smooth normals and texture coordinates in both."""

from __future__ import annotations

from typing import Any

import numpy as np
import trimesh
from numpy.typing import NDArray

LARGE_MESH_FACES = 300_000  # above this, no split at sharp edges (scans are smooth; the split costs ~10x)


def shading_arrays(mesh: trimesh.Trimesh) -> dict[str, NDArray[Any]]:
    """Vertex arrays for shading: smooth normals, split where faces meet at a sharp angle (meshes of
    more than LARGE_MESH_FACES faces, such as photogrammetry scans, are smoothed across every edge)."""
    uv = getattr(mesh.visual, "uv", None)
    if uv is not None and len(uv) == len(mesh.vertices):
        shaded = mesh  # keep the UV layout as it is
    elif len(mesh.faces) > LARGE_MESH_FACES:
        shaded = mesh
        uv = box_projected_uv(shaded)
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



def box_projected_uv(mesh: trimesh.Trimesh) -> NDArray[np.float64]:
    """Texture coordinates for meshes without any: each vertex projected along the axis its normal
    points most along (a box projection), 10 texture repeats per metre."""
    axis = np.argmax(np.abs(mesh.vertex_normals), axis=1)
    others = np.array([[1, 2], [0, 2], [0, 1]])[axis]
    rows = np.arange(len(mesh.vertices))
    return np.stack([mesh.vertices[rows, others[:, 0]], mesh.vertices[rows, others[:, 1]]], axis=1) * 10.0
