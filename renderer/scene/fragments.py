"""Fragments: what one rasterisation of a frame gives per pixel, and the attributes made from them.

The label pass (renderer.render.gl.label_pass) draws a frame once and reads back, for the surface the
ray through each pixel centre hits first, which object and which of its triangles it is, and its depth
(PyTorch3D's ``Fragments`` are the model). Everything else per pixel — normals, object coordinates,
texture coordinates, part and covering classes, material properties, optical and scene flow — is a pure
numpy function of those fragments and the frame's meshes (``FrameSurfaces``), made in the channel
module that writes it, so a new per-pixel label is one module and exact by construction: barycentric
coordinates come from intersecting each pixel centre's ray with its triangle in float64.

Frames: OpenCV camera (x right, y down, z forward), metres, pixel centres at integer (column, row)
(docs/format.md).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from renderer.scene.camera import camera_model
from renderer.scene.description import FrameDescription

Array = NDArray[Any]


@dataclass(frozen=True)
class Fragments:
    """One rasterisation of a frame, rows top to bottom (image order), H x W.

    object_index: int32 (H, W), index into ``frame.objects`` of the surface at the pixel centre; -1 = none.
    triangle: int32 (H, W), the row of that object's mesh faces seen there; -1 = none.
    depth: float32 (H, W), metres along the optical axis (camera z) at the pixel centre, as the
        rasteriser interpolated it; 0 = no surface. Empty (0 x 0) for an id-only pass.
    """

    object_index: NDArray[np.int32]
    triangle: NDArray[np.int32]
    depth: NDArray[np.float32]

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.object_index.shape[0]), int(self.object_index.shape[1]))


@dataclass(frozen=True, eq=False)
class SurfaceMesh:
    """A mesh as per-pixel attributes read it: plain arrays (renderer.render builds it from a mesh lookup).

    vertices: float64 (V, 3), the asset's own (unscaled) frame, metres.
    faces: int64 (F, 3), counter-clockwise seen from outside (right-handed winding).
    face_normals: float32 (F, 3), unit geometric normals of the faces (renderer.assets.meshes.face_normals).
    uv: float32 (V, 2) or None, the mesh's own texture coordinates (a person's: anny's UV layout).
    face_classes: uint32 (F,) or None, the mesh lookup's class per face (renderer.scene.body: people).
    extras: further per-mesh arrays some channel needs (made on demand by ``materials``, keyed by name).
    """

    vertices: NDArray[np.float64]
    faces: NDArray[np.int64]
    face_normals: NDArray[np.float32]
    uv: NDArray[np.float32] | None = None
    face_classes: NDArray[np.uint32] | None = None


@dataclass(frozen=True, eq=False)
class FrameSurfaces:
    """A frame's fragments with the meshes they index: all a per-pixel attribute is a function of.

    frame: the frame description (camera, objects, materials).
    fragments: its rasterisation (Fragments).
    meshes: one SurfaceMesh per object of ``frame.objects``, in order.
    material_of: for material channels, a function giving the per-object material arrays
        (renderer.render.materials.ObjectMaterial) of object k; None where no material channel was asked.

    Per-pixel values are computed for the covered pixels only (``pixels``: their flat indices in row
    order), then scattered into images by ``image``.
    """

    frame: FrameDescription
    fragments: Fragments
    meshes: tuple[SurfaceMesh, ...]
    material_of: Callable[[int], Any] | None = field(default=None, repr=False)

    @functools.cached_property
    def _sorted(self) -> tuple[NDArray[np.int64], NDArray[np.int32]]:
        flat = self.fragments.object_index.ravel()
        covered = np.flatnonzero(flat >= 0)
        keys = flat[covered]
        narrow = keys.astype(np.int16) if len(self.meshes) < 2**15 else keys
        order = np.argsort(narrow, kind="stable")  # a radix sort for 16-bit keys
        return covered[order], keys[order]

    @property
    def pixels(self) -> NDArray[np.int64]:
        """int64 (P,), flat indices (row * W + column) of the pixels that show a surface, grouped by
        object (object order, then row order): every per-pixel array here is in this order, so each
        object's pixels are one slice of it (``groups``)."""
        return self._sorted[0]

    @property
    def objects(self) -> NDArray[np.int32]:
        """int32 (P,), the object index at each covered pixel."""
        return self._sorted[1]

    @functools.cached_property
    def triangles(self) -> NDArray[np.int32]:
        """int32 (P,), the triangle at each covered pixel."""
        return self.fragments.triangle.ravel()[self.pixels]

    @functools.cached_property
    def model_views(self) -> NDArray[np.float64]:
        """float64 (N, 4, 4): each object's scaled asset frame -> this frame's camera frame."""
        return model_views64(self.frame)

    @functools.cached_property
    def groups(self) -> list[tuple[int, slice]]:
        """(object index, its slice of the covered pixels) for each object seen, in object order."""
        objects = self.objects
        if not len(objects):
            return []
        starts = [int(s) for s in np.flatnonzero(np.r_[True, objects[1:] != objects[:-1]])]
        ends = [*starts[1:], len(objects)]
        return [(int(objects[s]), slice(s, e)) for s, e in zip(starts, ends, strict=True)]

    @functools.cached_property
    def rays(self) -> NDArray[np.float64]:
        """float64 (P, 3), each covered pixel centre's ray at z = 1 (pinhole K of the frame's camera)."""
        width = self.fragments.shape[1]
        rows, columns = np.divmod(self.pixels, width)
        K = np.asarray(camera_model(self.frame.camera).pinhole_K(), dtype=np.float64)
        y = (rows - K[1, 2]) / K[1, 1]
        x = (columns - K[0, 2] - K[0, 1] * y) / K[0, 0]
        return np.stack([x, y, np.ones_like(x)], axis=1)

    @functools.cached_property
    def corner_indices(self) -> dict[int, NDArray[np.int64]]:
        """Per object seen, (n, 3) the vertex indices of the triangle at each of its covered pixels."""
        return {k: self.meshes[k].faces[self.triangles[where]] for k, where in self.groups}

    @functools.cached_property
    def _hits(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(P, 3) barycentric coordinates and (P,) ray parameter t of each covered pixel's hit: where the
        pixel centre's ray meets the plane of its triangle (Moller-Trumbore in float64, in the object's own
        frame: the ray is carried there rather than every corner out of it; barycentric coordinates and t
        are the same in both frames, the map being affine). The terms that depend on the triangle and the
        camera alone are made per face where the object shows fewer faces than pixels."""
        bary = np.empty((len(self.pixels), 3), dtype=np.float64)
        t = np.empty(len(self.pixels), dtype=np.float64)
        for k, where in self.groups:
            mesh = self.meshes[k]
            to_object = np.linalg.inv(self.model_views[k])
            origin = to_object[:3, 3]
            if len(mesh.faces) <= 2 * (where.stop - where.start):
                bary[where], t[where] = _per_face_hits(mesh, origin, to_object[:3, :3], self.rays[where],
                                                       self.triangles[where])
            else:
                directions = self.rays[where] @ to_object[:3, :3].T
                corners = mesh.vertices[self.corner_indices[k]]
                bary[where], t[where] = ray_barycentrics(directions, corners, origin)
        return bary, t

    @functools.cached_property
    def object_points(self) -> NDArray[np.float64]:
        """float64 (P, 3), the surface point at each covered pixel in its object's own (unscaled asset)
        frame: where the pixel centre's ray, carried into that frame, meets its triangle's plane."""
        out = np.zeros((len(self.pixels), 3), dtype=np.float64)
        t = self._hits[1]
        for k, where in self.groups:  # the hit on the ray carried into the object's frame: origin + t d
            to_object = np.linalg.inv(self.model_views[k])
            out[where] = to_object[:3, 3] + t[where, None] * (self.rays[where] @ to_object[:3, :3].T)
        return out

    @property
    def barycentrics(self) -> NDArray[np.float64]:
        """float64 (P, 3): where each pixel centre's ray meets the plane of its triangle, as barycentric
        coordinates of the triangle's corners (sum 1)."""
        return self._hits[0]

    def camera_corners(self, k: int, where: slice) -> NDArray[np.float64]:
        """float64 (n, 3, 3): the corners of the triangles seen at covered pixels ``where`` (all of object
        k) in this frame's camera frame."""
        mesh = self.meshes[k]
        corners = mesh.vertices[mesh.faces[self.triangles[where]]]
        view = self.model_views[k]
        return np.asarray(corners @ view[:3, :3].T + view[:3, 3], dtype=np.float64)

    @functools.cached_property
    def points(self) -> NDArray[np.float64]:
        """float64 (P, 3), the surface point at each covered pixel centre in the camera frame (metres):
        its ray (z = 1) times the hit's parameter."""
        return self.rays * self._hits[1][:, None]

    def interpolate(self, corners_of: Callable[[int, slice], Array | None],
                    channels: int = 3) -> NDArray[np.float64]:
        """(P, C) float64: a per-corner attribute interpolated at each covered pixel's barycentrics.
        ``corners_of(k, where)`` gives the (n, 3, C) corner values of object k's triangles at covered
        pixels ``where``, or None where object k has none (left 0)."""
        out = np.zeros((len(self.pixels), channels), dtype=np.float64)
        bary = self.barycentrics
        for k, where in self.groups:
            corners = corners_of(k, where)
            if corners is not None:
                out[where] = weighted_corners(bary[where], np.asarray(corners, dtype=np.float64))
        return out

    def vertex_attribute(self, per_vertex: Callable[[SurfaceMesh], Array | None],
                         channels: int) -> NDArray[np.float64]:
        """(P, C): a per-vertex attribute of the meshes (``per_vertex(mesh)``: (V, C) or None) at each
        covered pixel, interpolated over its triangle."""
        def corners(k: int, where: slice) -> Array | None:
            mesh = self.meshes[k]
            values = per_vertex(mesh)
            if values is None:
                return None
            return np.asarray(values)[self.corner_indices[k]]
        return self.interpolate(corners, channels)

    def face_attribute(self, per_face: Callable[[int, SurfaceMesh], Array | None], dtype: Any,
                       channels: int = 1) -> Array:
        """(P,) or (P, C): a per-face attribute (``per_face(k, mesh)``: (F,) / (F, C), or None: 0) of
        the triangle at each covered pixel."""
        shape = (len(self.pixels),) if channels == 1 else (len(self.pixels), channels)
        out = np.zeros(shape, dtype=dtype)
        for k, where in self.groups:
            values = per_face(k, self.meshes[k])
            if values is not None:
                out[where] = np.asarray(values)[self.triangles[where]]
        return out

    def object_attribute(self, per_object: Sequence[Any], dtype: Any) -> Array:
        """(P, ...): a value per object of the frame (in object order) at each covered pixel."""
        table = np.asarray(per_object, dtype=dtype)
        return table[self.objects] if len(table) else np.zeros((0, *table.shape[1:]), dtype=dtype)

    def image(self, values: Array, dtype: Any, fill: float = 0) -> Array:
        """The covered pixels' values (P,) or (P, C) as an (H, W) or (H, W, C) image, ``fill`` elsewhere."""
        height, width = self.fragments.shape
        values = np.asarray(values)
        out = np.full((height * width, *values.shape[1:]), fill, dtype=dtype)
        out[self.pixels] = values
        return out.reshape(height, width, *values.shape[1:])

    def normals(self) -> NDArray[np.float32]:
        """float32 (H, W, 3): unit face normals in the camera frame, turned to face the camera; 0 = none.
        Made per face of each object seen (per seen triangle for a mesh with many more faces than the
        pixels it covers), gathered into the image in one lookup."""
        index = self.fragments.object_index
        triangle = self.fragments.triangle
        covered = np.bincount(index.ravel() + 1, minlength=len(self.meshes) + 1)[1:]
        tables: list[NDArray[np.float64]] = [np.zeros((1, 3))]  # row 0: no surface
        offsets = np.zeros(len(self.meshes) + 1, dtype=np.int64)  # offsets[k + 1]: object k's first row
        face_of = None
        rows = 1
        for k in np.flatnonzero(covered):
            mesh = self.meshes[k]
            if len(mesh.faces) > 4 * covered[k]:  # a large mesh seen small: only the triangles it shows
                if face_of is None:
                    face_of = np.zeros(index.shape, dtype=np.int64)
                where = index == k
                seen, inverse = np.unique(triangle[where], return_inverse=True)
                face_of[where] = rows + inverse.ravel()
                tables.append(self._camera_normals(int(k), seen))
                rows += len(seen)
                offsets[k + 1] = -1
                continue
            offsets[k + 1] = rows
            tables.append(self._camera_normals(int(k), None))
            rows += len(mesh.faces)
        table = np.concatenate(tables).astype(np.float32)
        base = offsets[index + 1]
        flat = np.where(base > 0, base + triangle, 0)
        if face_of is not None:
            flat = np.where(base < 0, face_of, flat)
        return np.asarray(table[flat])

    def _camera_normals(self, k: int, faces: NDArray[np.int64] | None) -> NDArray[np.float64]:
        """(F', 3) float64: object k's face normals (all, or those of ``faces``) in the camera frame, unit
        and turned to face the camera: the side of each triangle's plane the camera is on, found in the
        object's frame (the map is a scaled rigid motion: the sign is the camera frame's)."""
        mesh = self.meshes[k]
        chosen = mesh.faces if faces is None else mesh.faces[faces]
        object_normals = (mesh.face_normals if faces is None else mesh.face_normals[faces]).astype(np.float64)
        view = self.model_views[k]
        n = object_normals @ np.linalg.inv(view[:3, :3])  # (inverse transpose) applied to rows
        n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-300)
        camera_centre = np.linalg.inv(view)[:3, 3]
        facing = np.einsum("nk,nk->n", object_normals, mesh.vertices[chosen[:, 0]] - camera_centre)
        n[facing > 0] *= -1
        return np.asarray(n)


def _per_face_hits(mesh: SurfaceMesh, origin: NDArray[np.float64], to_object: NDArray[np.float64],
                   rays: NDArray[np.float64],
                   triangles: NDArray[np.int32]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """ray_barycentrics for rays (camera frame, z = 1) from the camera centre (``origin`` in the object's
    frame; ``to_object`` its 3x3 linear part) through each face in ``triangles``. Moller-Trumbore's
    terms are linear in the ray: u = d.(e2 x s) / det, v = d.(s x e1) / det, det = d.(e2 x e1), with d the
    ray in the object's frame; so each face's three vectors are turned into the camera frame once, and
    each pixel takes three dot products with its ray."""
    a = mesh.vertices[mesh.faces[:, 0]]
    e1 = mesh.vertices[mesh.faces[:, 1]] - a
    e2 = mesh.vertices[mesh.faces[:, 2]] - a
    s = origin - a
    q = np.cross(s, e1)
    e2q = np.einsum("nk,nk->n", e2, q)
    # d = to_object @ ray, so d . w = ray . (to_object^T w): per face, w @ to_object.
    terms = np.stack([np.cross(e2, s), q, np.cross(e2, e1)], axis=1) @ to_object  # (F, 3 terms, 3)
    per_pixel = terms[triangles]
    x, y = rays[:, 0:1], rays[:, 1:2]
    dots = per_pixel[:, :, 0] * x + per_pixel[:, :, 1] * y + per_pixel[:, :, 2]  # (n, 3): u num, v num, det
    det = dots[:, 2]
    flat = np.abs(det) < 1e-300
    inv = 1.0 / np.where(flat, 1.0, det)
    u = dots[:, 0] * inv
    v = dots[:, 1] * inv
    out = np.stack([1.0 - u - v, u, v], axis=1)
    out[flat] = 1.0 / 3.0
    t = np.where(flat, 0.0, e2q[triangles] * inv)
    return out, t


def weighted_corners(bary: NDArray[np.float64], corners: NDArray[np.float64]) -> NDArray[np.float64]:
    """(n, C): corner values (n, 3, C) weighted by barycentric coordinates (n, 3)."""
    return np.asarray(bary[:, 0:1] * corners[:, 0] + bary[:, 1:2] * corners[:, 1] + bary[:, 2:3] * corners[:, 2])


def ray_barycentrics(rays: NDArray[np.float64], corners: NDArray[np.float64],
                     origin: NDArray[np.float64] | None = None) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Barycentric coordinates (n, 3) and ray parameters t (n,) of where rays ``origin + t * rays`` (rays
    (n, 3); origin (3,), default 0) meet the planes of the triangles ``corners`` (n, 3, 3); a triangle
    seen edge-on (no single point) gives its centroid and t = 0."""
    a, b, c = corners[:, 0], corners[:, 1], corners[:, 2]
    e1, e2 = b - a, c - a
    p = np.cross(rays, e2)
    det = np.einsum("nk,nk->n", e1, p)
    flat = np.abs(det) < 1e-300
    inv = 1.0 / np.where(flat, 1.0, det)
    s = -a if origin is None else origin - a
    u = np.einsum("nk,nk->n", s, p) * inv
    q = np.cross(s, e1)
    v = np.einsum("nk,nk->n", rays, q) * inv
    t = np.einsum("nk,nk->n", e2, q) * inv
    out = np.stack([1.0 - u - v, u, v], axis=1)
    out[flat] = 1.0 / 3.0
    t[flat] = 0.0
    return out, t


def model_views64(frame: FrameDescription) -> NDArray[np.float64]:
    """(N, 4, 4) float64: each object's scaled asset frame -> the frame's camera frame."""
    poses = np.array([obj.object_to_world for obj in frame.objects], dtype=np.float64).reshape(-1, 4, 4)
    poses[:, :, :3] *= np.array([obj.scale for obj in frame.objects], dtype=np.float64)[:, None, None]
    return np.asarray(np.asarray(frame.camera.world_to_camera, dtype=np.float64) @ poses)


@dataclass(frozen=True)
class SurfaceSeen:
    """What another frame shows at its pixels, for flow validity: its depth and normals (H, W)."""

    depth: NDArray[np.float32]
    normals: NDArray[np.float32]


def moved_points(here: FrameSurfaces, other: FrameSurfaces) -> NDArray[np.float64]:
    """float64 (P, 3): each covered pixel's surface point of ``here`` in ``other``'s camera frame: the same
    triangle and barycentric coordinates of the same object's mesh there (moved, and for a deforming
    mesh such as a person, deformed). The frames hold the same objects in the same order."""
    if len(other.frame.objects) != len(here.frame.objects):
        raise ValueError("neighbouring frames hold different objects")

    out = np.zeros((len(here.pixels), 3), dtype=np.float64)
    bary = here.barycentrics
    for k, where in here.groups:
        mesh, moved = here.meshes[k], other.meshes[k]
        if len(moved.vertices) != len(mesh.vertices):
            raise ValueError(f"object {k} changes its vertex count between neighbouring frames")
        view = other.model_views[k]
        if moved.vertices is mesh.vertices:  # the same mesh (a rigid object): only its pose changed
            point = here.object_points[where]
        else:
            point = weighted_corners(bary[where], moved.vertices[here.corner_indices[k]])
        out[where] = point @ view[:3, :3].T + view[:3, 3]
    return out


def flow_to(here: FrameSurfaces, points: NDArray[np.float64], other: FrameDescription, seen: SurfaceSeen,
            tolerance: float) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Optical flow (P, 2) from each covered pixel centre to where its surface point, at ``points`` in
    ``other``'s camera frame, projects there (pinhole K), and whether it is visible there (P,): in
    front of the camera, inside the image (-1/2 <= u < W - 1/2, the same for v), and on the surface the
    other frame shows at the nearest pixel centre extended as a plane to the point's own ray, within
    ``tolerance`` times its depth (renderer.labels.flow)."""
    K = np.asarray(camera_model(other.camera).pinhole_K(), dtype=np.float64)
    height, width = here.fragments.shape
    rows, columns = np.divmod(here.pixels, width)
    z = points[:, 2]
    front = z > 0
    safe_z = np.where(front, z, 1.0)
    ray_x, ray_y = points[:, 0] / safe_z, points[:, 1] / safe_z
    u = K[0, 0] * ray_x + K[0, 1] * ray_y + K[0, 2]
    v = K[1, 1] * ray_y + K[1, 2]
    flow = np.stack([u - columns, v - rows], axis=1)
    flow[~front] = 0.0
    inside = front & (u >= -0.5) & (v >= -0.5) & (u < width - 0.5) & (v < height - 0.5)
    valid = np.zeros(len(points), dtype=bool)
    if inside.any():
        idx = np.flatnonzero(inside)
        nu = np.floor(u[idx] + 0.5).astype(np.int64)
        nv = np.floor(v[idx] + 0.5).astype(np.int64)
        seen_z = seen.depth[nv, nu].astype(np.float64)
        seen_n = seen.normals[nv, nu].astype(np.float64)
        centre_y = (nv - K[1, 2]) / K[1, 1]
        centre = np.stack([(nu - K[0, 2] - K[0, 1] * centre_y) / K[0, 0], centre_y, np.ones(len(idx))], axis=1)
        facing = np.einsum("nk,nk->n", seen_n, np.stack([ray_x[idx], ray_y[idx], np.ones(len(idx))], axis=1))
        along = np.einsum("nk,nk->n", seen_n, centre) * seen_z
        plane_z = np.where(np.abs(facing) > 1e-9, along / np.where(np.abs(facing) > 1e-9, facing, 1.0), seen_z)
        valid[idx] = (seen_z > 0) & (np.abs(plane_z - z[idx]) <= tolerance * z[idx])
    return flow, valid


@dataclass(frozen=True, eq=False)
class SurfaceMaterial:
    """What an object's surface is made of, as both engines are given it (glTF's metallic-roughness:
    pyrender's MetallicRoughnessMaterial, Mitsuba's principled BSDF; docs/engines.md).

    kind: the MaterialDescription kind (pbr, glass, diffuse), or "asset" for a mesh file's own material.
    base_color: float64 (3,), linear RGB factor.
    metallic, roughness: factors in [0, 1] (diffuse: 0 and 1; glass: 0 and its roughness).
    base_color_texture: float32 (h, w, 3) linear RGB (decoded from sRGB), multiplied by base_color; None.
    metallic_roughness_texture: float32 (h, w, 3) raw, glTF's (G roughness, B metallic), multiplied by the
        factors; None.
    corner_uv: float32 (F, 3, 2), the texture coordinates the engines give each face corner (the mesh's
        own, or the box projection of its shading copy, renderer.render.engines.shading); None.
    Textures are looked up as the engines do: u right, v up from the image's bottom row, repeating,
    bilinear between texel centres.
    """

    kind: str
    base_color: NDArray[np.float64]
    metallic: float
    roughness: float
    base_color_texture: NDArray[np.float32] | None = None
    metallic_roughness_texture: NDArray[np.float32] | None = None
    corner_uv: NDArray[np.float32] | None = None


def bilinear_repeat(image: NDArray[np.float32], uv: NDArray[np.float64]) -> NDArray[np.float64]:
    """(n, C) values of ``image`` (h, w, C) at texture coordinates ``uv`` (n, 2): u right, v up from the
    bottom row (OpenGL's and glTF's), wrapping (repeat), bilinear between texel centres."""
    height, width = image.shape[:2]
    x = uv[:, 0] * width - 0.5
    y = (1.0 - uv[:, 1]) * height - 0.5
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    x0i, y0i = x0.astype(np.int64) % width, y0.astype(np.int64) % height
    x1i, y1i = (x0i + 1) % width, (y0i + 1) % height
    texels = image.astype(np.float64, copy=False)
    top = texels[y0i, x0i] * (1 - fx) + texels[y0i, x1i] * fx
    bottom = texels[y1i, x0i] * (1 - fx) + texels[y1i, x1i] * fx
    return np.asarray(top * (1 - fy) + bottom * fy)


def material_values(surfaces: FrameSurfaces) -> dict[str, NDArray[np.float64]]:
    """Per covered pixel: ``albedo`` (P, 3) linear base colour, ``roughness`` (P,), ``metallic`` (P,): each
    object's material factors times its textures at the surface point's texture coordinates."""
    if surfaces.material_of is None:
        raise ValueError("material channels need the frame's materials (renderer.render.materials)")
    count = len(surfaces.pixels)
    albedo = np.zeros((count, 3))
    roughness = np.zeros(count)
    metallic = np.zeros(count)
    for k, where in surfaces.groups:
        material: SurfaceMaterial = surfaces.material_of(k)
        albedo[where] = material.base_color
        roughness[where] = material.roughness
        metallic[where] = material.metallic
        if material.corner_uv is None or (material.base_color_texture is None
                                          and material.metallic_roughness_texture is None):
            continue
        corners = material.corner_uv[surfaces.triangles[where]].astype(np.float64)
        uv = weighted_corners(surfaces.barycentrics[where], corners)
        if material.base_color_texture is not None:
            albedo[where] *= bilinear_repeat(material.base_color_texture, uv)
        if material.metallic_roughness_texture is not None:
            channels = bilinear_repeat(material.metallic_roughness_texture, uv)
            roughness[where] *= channels[:, 1]
            metallic[where] *= channels[:, 2]
    return {"albedo": albedo, "roughness": roughness, "metallic": metallic}
