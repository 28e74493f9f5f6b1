"""Independent reference for the rasteriser: trimesh ray casting through pixel centres.

Takes world-space meshes, K and world_to_camera, and uses only trimesh's ray casting (Embree through
embreex); shares no code with the renderer. tests/scene_reference.py builds the meshes and camera of a
written frame from its meta JSON and the asset files, without the renderer's Dataset.scene_meshes().
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh
from trimesh.ray.ray_pyembree import RayMeshIntersector


@dataclass
class RaycastImage:
    instance: np.ndarray  # (H, W) int, 0 = miss
    depth: np.ndarray     # (H, W) float64 camera z, 0 = miss
    normals: np.ndarray   # (H, W, 3) face normals in the camera frame, facing the camera


def _combined(meshes: dict[int, trimesh.Trimesh]) -> tuple[trimesh.Trimesh, np.ndarray]:
    ids = sorted(meshes)
    combined = trimesh.util.concatenate([meshes[i] for i in ids])
    face_ids = np.concatenate([np.full(len(meshes[i].faces), i) for i in ids])
    return combined, face_ids


def first_hits(meshes: dict[int, trimesh.Trimesh], origins: np.ndarray, directions: np.ndarray):
    """(instance id, distance along the ray in units of |direction|, face normal) of the first hit.

    trimesh's Embree intersector finds the first triangle each ray hits; the distance is then solved
    in float64 against that triangle's plane, so depth is exact up to double rounding. id 0 = miss.
    """
    combined, face_ids = _combined(meshes)
    tri = RayMeshIntersector(combined).intersects_first(origins, directions)
    hit = tri >= 0
    n = len(origins)
    ids = np.zeros(n, dtype=int)
    ids[hit] = face_ids[tri[hit]]
    normals = np.zeros((n, 3))
    normals[hit] = combined.face_normals[tri[hit]]
    v0 = combined.vertices[combined.faces[tri[hit], 0]]
    distance = np.zeros(n)
    distance[hit] = np.einsum("ij,ij->i", normals[hit], v0 - origins[hit]) / np.einsum(
        "ij,ij->i", normals[hit], directions[hit])
    return ids, distance, normals


def raycast(meshes: dict[int, trimesh.Trimesh], K: np.ndarray, world_to_camera: np.ndarray,
            width: int, height: int) -> RaycastImage:
    cols, rows = np.meshgrid(np.arange(width, dtype=float), np.arange(height, dtype=float))
    pixels = np.stack([cols.ravel(), rows.ravel(), np.ones(cols.size)], axis=1)
    rays_camera = pixels @ np.linalg.inv(K).T          # z = 1: distance along the ray = camera z
    rotation, translation = world_to_camera[:3, :3], world_to_camera[:3, 3]
    directions = rays_camera @ rotation                # R^T d, rows
    origins = np.tile(-rotation.T @ translation, (len(directions), 1))
    ids, z, normals_world = first_hits(meshes, origins, directions)
    normals = normals_world @ rotation.T
    facing = np.einsum("ij,ij->i", normals, rays_camera) > 0
    normals[facing] *= -1
    return RaycastImage(ids.reshape(height, width), z.reshape(height, width),
                        normals.reshape(height, width, 3))


def silhouette_band(instance: np.ndarray, depth: np.ndarray, jump: float | None = 0.05) -> np.ndarray:
    """Pixels within one pixel of an id change or a depth jump (> jump * z) in the reference."""
    band = np.zeros(instance.shape, dtype=bool)
    padded_id = np.pad(instance, 1, mode="edge")
    padded_z = np.pad(depth, 1, mode="edge")
    h, w = instance.shape
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            other_id = padded_id[1 + dr:1 + dr + h, 1 + dc:1 + dc + w]
            other_z = padded_z[1 + dr:1 + dr + h, 1 + dc:1 + dc + w]
            band |= other_id != instance
            if jump is not None:
                band |= np.abs(other_z - depth) > jump * np.maximum(depth, other_z)
    return band


def first_faces(meshes: dict[int, trimesh.Trimesh], K: np.ndarray, world_to_camera: np.ndarray,
                width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pixel centre: (instance id, the hit face's index within its own mesh, the world hit point);
    id 0 and face -1 = miss. The point is solved in float64 on the hit face's plane."""
    ids_sorted = sorted(meshes)
    combined, face_ids = _combined(meshes)
    offsets = np.cumsum([0] + [len(meshes[i].faces) for i in ids_sorted])
    cols, rows = np.meshgrid(np.arange(width, dtype=float), np.arange(height, dtype=float))
    pixels = np.stack([cols.ravel(), rows.ravel(), np.ones(cols.size)], axis=1)
    rotation, translation = world_to_camera[:3, :3], world_to_camera[:3, 3]
    directions = (pixels @ np.linalg.inv(K).T) @ rotation
    eye = -rotation.T @ translation
    origins = np.tile(eye, (len(directions), 1))
    tri = RayMeshIntersector(combined).intersects_first(origins, directions)
    hit = tri >= 0
    ids = np.zeros(len(tri), dtype=int)
    ids[hit] = face_ids[tri[hit]]
    local = np.full(len(tri), -1)
    local[hit] = tri[hit] - offsets[np.searchsorted(offsets, tri[hit], side="right") - 1]
    normals = combined.face_normals[tri[hit]]
    v0 = combined.vertices[combined.faces[tri[hit], 0]]
    t = np.einsum("ij,ij->i", normals, v0 - eye) / np.einsum("ij,ij->i", normals, directions[hit])
    points = np.zeros((len(tri), 3))
    points[hit] = eye + t[:, None] * directions[hit]
    return ids.reshape(height, width), local.reshape(height, width), points.reshape(height, width, 3)


def triangle_hits(meshes: dict[int, trimesh.Trimesh], K: np.ndarray, world_to_camera: np.ndarray,
                  width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """(H, W) instance id and (H, W) index of the triangle within that instance's mesh seen through each
    pixel centre (0 and -1 where the ray misses)."""
    combined, face_ids = _combined(meshes)
    first_face = {i: int(np.argmax(face_ids == i)) for i in sorted(meshes)}
    cols, rows = np.meshgrid(np.arange(width, dtype=float), np.arange(height, dtype=float))
    rays = np.stack([cols.ravel(), rows.ravel(), np.ones(cols.size)], axis=1) @ np.linalg.inv(K).T
    rotation, translation = world_to_camera[:3, :3], world_to_camera[:3, 3]
    directions = rays @ rotation
    origins = np.tile(-rotation.T @ translation, (len(directions), 1))
    tri = RayMeshIntersector(combined).intersects_first(origins, directions)
    ids = np.where(tri >= 0, face_ids[np.maximum(tri, 0)], 0)
    local = np.where(tri >= 0, tri - np.array([first_face.get(i, 0) for i in ids]), -1)
    return ids.reshape(height, width), local.reshape(height, width)
