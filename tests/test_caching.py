"""Bounded caches (renderer.caching.LruCache) and what rides on the label pass's mesh buffers: per-face
classes and per-vertex UV read back per pixel, checked against the analytic box they come from."""

from __future__ import annotations

import numpy as np
import trimesh

from renderer.assets.meshes import box_mesh
from renderer.caching import LruCache
from renderer.scene.description import (
    BackgroundDescription,
    CameraDescription,
    FrameDescription,
    MaterialDescription,
    MeshSource,
    ObjectDescription,
    as_matrix,
)


def test_lru_cache_drops_the_least_recently_used_beyond_its_budget_and_releases_them() -> None:
    released: list[str] = []
    cache: LruCache[str, str] = LruCache(10, release=released.append, weight=len)
    cache.put("a", "aaaa")
    cache.put("b", "bbbb")
    assert cache.get("a") == "aaaa"  # a is now the most recent
    cache.put("c", "cccc")  # 12 > 10: b goes
    assert released == ["bbbb"] and "b" not in cache and cache.held == 8
    cache.put("big", "x" * 20)  # over the budget alone: kept (it was just asked for), the rest go
    assert "big" in cache and released == ["bbbb", "aaaa", "cccc"]
    cache.put("big", "y")  # replaced: the old value is released
    assert released[-1] == "x" * 20 and cache.held == 1
    deferred: LruCache[int, int] = LruCache(2, release=released.append, deferred=True)
    for k in range(5):
        deferred.put(k, k)
    assert len(deferred) == 5  # nothing dropped until trim
    deferred.trim(keep=(0,))
    assert sorted(deferred.values()) == [0, 4]
    deferred.clear()
    assert len(deferred) == 0 and released[-2:] == [0, 4]


class _ClassedBoxes:
    """Boxes with a class per face: 7 on the faces that look at -z (towards the camera), else 3."""

    def mesh(self, source: MeshSource) -> trimesh.Trimesh:
        return box_mesh(source.extents)

    def face_classes(self, source: MeshSource) -> np.ndarray:
        mesh = box_mesh(source.extents)
        return np.where(mesh.face_normals[:, 2] < -0.5, 7, 3).astype(np.uint32)


def _frame(extents: tuple[float, float, float], camera: CameraDescription, z: float) -> FrameDescription:
    pose = np.eye(4)
    pose[:3, 3] = (0.0, 0.0, z)
    box = ObjectDescription(1, "box", "box", 1, MeshSource("box", extents=extents), 1.0, as_matrix(pose),
                            MaterialDescription((1, 1, 1, 1), 0.0, 0.5))
    return FrameDescription(0, 0, camera, (box,), (), 0.3, BackgroundDescription("solid", ((0, 0, 0),)))


def test_label_pass_reads_face_classes_and_uv_and_keeps_a_bounded_set_of_mesh_buffers() -> None:
    from renderer.labels.flow import surface_attributes
    from renderer.render.frame import FrameRenderer
    from renderer.render.gl.caches import MeshBufferCache

    w, h, f, z = 64, 48, 120.0, 3.0
    K = np.array([[f, 0, 31.5], [0, f, 23.5], [0, 0, 1]])
    camera = CameraDescription(w, h, as_matrix(K), as_matrix(np.eye(4)), 0.1, 10.0)
    lookup = _ClassedBoxes()
    with FrameRenderer(w, h) as renderer:
        labels = renderer.labels
        budget = 2_500  # bytes: a few boxes' buffers (~0.5 kB each)
        labels.meshes = MeshBufferCache(labels._upload_mesh, labels._free_mesh, budget=budget)
        for k in range(30):  # a new mesh every frame, as people bring
            extents = (1.0 + 0.01 * k, 0.8, 0.2)
            frame = _frame(extents, camera, z)
            buffers = labels.render(frame, lookup)
            attributes = surface_attributes(labels, frame, lookup, ("body_parts", "body_covering", "surface_uv"))
            assert len(labels.meshes) <= 8  # trimmed before each pass: the budget's worth + this frame's
        assert len(labels.meshes) >= 3  # and it does keep some
        surface = buffers.instance == 1
        assert surface.sum() > 0.3 * w * h
        from renderer.scene.body import unpack_face_classes

        parts, coverings = unpack_face_classes(np.full((1, 1), 7, np.uint32))[:2]  # what class 7 packs
        for name, expected_class in (("body_parts", parts[0, 0]), ("body_covering", coverings[0, 0])):
            assert np.all(attributes[name][surface] == expected_class) and np.all(attributes[name][~surface] == 0)
        # UV is box_mesh's planar map of the point seen: (x / X + 1/2, y / Y + 1/2) on the front face.
        rows, cols = np.nonzero(surface)
        front_z = z - extents[2] / 2
        x, y = (cols - K[0, 2]) / f * front_z, (rows - K[1, 2]) / f * front_z
        expected = np.stack([x / extents[0] + 0.5, y / extents[1] + 0.5], axis=1)
        np.testing.assert_allclose(attributes["surface_uv"][rows, cols], expected, atol=1e-5)
