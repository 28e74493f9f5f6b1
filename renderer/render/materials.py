"""Each object's material as both engines are given it, as plain arrays for the material channels
(renderer.scene.fragments.SurfaceMaterial): the factors of its MaterialDescription, its texture decoded
to linear values, and the texture coordinates the engines give each face corner."""

from __future__ import annotations

from typing import Any

import numpy as np
import trimesh
from numpy.typing import NDArray

from renderer.render.engines.shading import LARGE_MESH_FACES, shading_arrays
from renderer.scene.color import linear_from_srgb
from renderer.scene.description import MaterialDescription
from renderer.scene.fragments import SurfaceMaterial
from renderer.scene.textures import texture_rgb


def surface_material(mesh: trimesh.Trimesh, material: MaterialDescription) -> SurfaceMaterial:
    """The material an object of ``mesh`` with ``material`` is drawn with (docs/engines.md): the mesh
    file's own (use_asset_material: glTF base colour and metallic-roughness, factors and textures), else
    the description's (diffuse: roughness 1, metallic 0; glass: metallic 0; a texture tinted by the base
    colour, on the box-projected texture coordinates of the engines' shading copy)."""
    if material.use_asset_material:
        return _asset_material(mesh)
    base = np.asarray(material.base_color[:3], dtype=np.float64)
    metallic = 0.0 if material.kind in ("diffuse", "glass") else float(material.metallic)
    roughness = 1.0 if material.kind == "diffuse" else float(material.roughness)
    if material.texture is None or material.kind == "glass":
        return SurfaceMaterial(material.kind, base, metallic, roughness)
    texture = linear_from_srgb(texture_rgb(material.texture).astype(np.float32) / np.float32(255.0))
    return SurfaceMaterial(material.kind, base, metallic, roughness, base_color_texture=np.asarray(texture, np.float32),
                           corner_uv=shading_corner_uv(mesh))


def _asset_material(mesh: trimesh.Trimesh) -> SurfaceMaterial:
    visual_material = getattr(mesh.visual, "material", None)
    pbr = visual_material.to_pbr() if visual_material is not None and hasattr(visual_material, "to_pbr") \
        else visual_material
    factor = np.ones(4, dtype=np.float64)
    if pbr is not None and getattr(pbr, "baseColorFactor", None) is not None:
        factor = np.asarray(pbr.baseColorFactor, dtype=np.float64)
        factor = factor / (255.0 if factor.max() > 1 else 1.0)  # trimesh keeps uint8 factors
    metallic = float(getattr(pbr, "metallicFactor", None) or 0.0)
    roughness = float(getattr(pbr, "roughnessFactor", None) or 1.0) if pbr is not None else 1.0
    uv = getattr(mesh.visual, "uv", None)
    has_uv = uv is not None and len(uv) == len(mesh.vertices)
    base_texture = _image(getattr(pbr, "baseColorTexture", None), srgb=True) if has_uv else None
    mr_texture = _image(getattr(pbr, "metallicRoughnessTexture", None), srgb=False) if has_uv else None
    corner_uv = np.asarray(uv, dtype=np.float32)[np.asarray(mesh.faces)] if has_uv else None
    return SurfaceMaterial("asset", factor[:3], metallic, roughness, base_color_texture=base_texture,
                           metallic_roughness_texture=mr_texture, corner_uv=corner_uv)


def _image(image: Any, srgb: bool) -> NDArray[np.float32] | None:
    if image is None:
        return None
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32) / np.float32(255.0)
    return np.asarray(linear_from_srgb(rgb) if srgb else rgb, dtype=np.float32)


def shading_corner_uv(mesh: trimesh.Trimesh) -> NDArray[np.float32] | None:
    """float32 (F, 3, 2): the engines' texture coordinates at each corner of each face of ``mesh`` (in
    the mesh's own face order): its own UV, else those of its shading copy (split at sharp edges, faces
    reordered: matched back by their corners' positions, which the split copies exactly)."""
    arrays = shading_arrays(mesh)
    if "uv" not in arrays:
        return None
    uv = np.asarray(arrays["uv"], dtype=np.float32)
    indices = np.asarray(arrays["indices"], dtype=np.int64)
    faces = np.asarray(mesh.faces, dtype=np.int64)
    if len(uv) == len(mesh.vertices) and (np.array_equal(indices, faces) or len(mesh.faces) > LARGE_MESH_FACES):
        return uv[faces]
    ours = np.asarray(mesh.vertices, dtype=np.float32)[faces]          # (F, 3, 3), float32 as the copy is
    theirs = np.asarray(arrays["positions"], dtype=np.float32)[indices]
    if len(theirs) != len(ours):
        return None
    match = _match_faces(ours, theirs)
    if match is None:
        return None
    matched = theirs[match]                                              # (F, 3, 3)
    same = np.all(ours[:, :, None, :] == matched[:, None, :, :], axis=-1)  # (F, corner, their corner)
    corner = np.argmax(same, axis=2)
    return uv[indices[match][np.arange(len(faces))[:, None], corner]]


def _match_faces(ours: NDArray[np.float32], theirs: NDArray[np.float32]) -> NDArray[np.int64] | None:
    """For each of our faces, the index of the face of ``theirs`` with the same three corners."""
    def keys(triangles: NDArray[np.float32]) -> NDArray[Any]:
        flat = triangles.reshape(len(triangles), 3, 3)
        order = np.lexsort((flat[:, :, 2], flat[:, :, 1], flat[:, :, 0]), axis=1)
        ordered = np.take_along_axis(flat, order[:, :, None], axis=1).reshape(len(triangles), 9)
        return np.ascontiguousarray(ordered).view(np.dtype((np.void, 36))).ravel()

    mine, other = keys(ours), keys(theirs)
    order = np.argsort(other)
    found = np.searchsorted(other[order], mine)
    found = np.clip(found, 0, len(order) - 1)
    if not np.all(other[order][found] == mine):
        return None
    return np.asarray(order[found], dtype=np.int64)
