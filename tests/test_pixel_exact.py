"""Labels against an independent reference: trimesh ray casting through pixel centres of the scene
rebuilt from each frame's meta JSON (the asset files themselves, placed as the description says; no
renderer code: tests/scene_reference.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from raycast import raycast, silhouette_band
from scene_reference import camera, landmark_points, landmark_reference, reference_image, reference_meshes

from renderer.io.dataset import Dataset, Frame
from renderer.scene.records import OCCLUSION_TOLERANCE, POINT_DECIMALS


def reference(frame: Frame):
    return reference_image(frame.meta, (str(frame.root), frame.index))


def frames(root: Path) -> list[Frame]:
    ds = Dataset(root)
    return [ds[i] for i in range(len(ds))]


def test_instance_depth_normals_match_raycast(dataset_root: Path) -> None:
    for frame in frames(dataset_root):
        ref = reference(frame)
        keep = ~silhouette_band(ref.instance, ref.depth)
        assert keep.mean() > 0.75, "the silhouette band should be a thin band"
        id_agree = (frame.instance == ref.instance)[keep].mean()
        assert id_agree >= 0.999, f"frame {frame.index}: ids agree on {id_agree:.5f}"
        surface = keep & (ref.depth > 0)
        rel = np.abs(frame.depth.astype(float) - ref.depth) / ref.depth.clip(1e-9)
        depth_ok = (rel[surface] <= 1e-4).mean()
        assert depth_ok >= 0.999, f"frame {frame.index}: depth within 1e-4 z on {depth_ok:.5f}"
        cos = np.clip(np.einsum("hwc,hwc->hw", frame.normals.astype(float), ref.normals), -1, 1)
        normal_ok = (np.degrees(np.arccos(cos))[surface] <= 1.0).mean()
        assert normal_ok >= 0.99, f"frame {frame.index}: normals within 1 deg on {normal_ok:.5f}"
        # background is empty in every buffer
        empty = frame.instance == 0
        assert np.all(frame.depth[empty] == 0) and np.all(frame.normals[empty] == 0)
        norms = np.linalg.norm(frame.normals[~empty], axis=-1)
        assert np.allclose(norms, 1.0, atol=1e-5)


def test_semantic_is_category_of_instance(dataset_root: Path) -> None:
    for frame in frames(dataset_root):
        lookup = np.zeros(len(frame.objects) + 1, dtype=int)
        for obj in frame.objects:
            lookup[obj.instance_id] = obj.category_id
        np.testing.assert_array_equal(frame.semantic, lookup[frame.instance])
        names = Dataset(dataset_root).categories
        assert all(names[o.category_id] == o.category for o in frame.objects)


def test_boxes_and_pixel_counts_equal_the_mask(dataset_root: Path) -> None:
    for frame in frames(dataset_root):
        for obj in frame.objects:
            rows, cols = np.nonzero(frame.instance == obj.instance_id)
            assert obj.visible_pixels == len(rows)
            if len(rows) == 0:
                assert obj.bbox == (0, 0, 0, 0)
                continue
            x0, y0, x1, y1 = cols.min(), rows.min(), cols.max(), rows.max()
            assert obj.bbox == (x0, y0, x1 - x0 + 1, y1 - y0 + 1)


def test_unoccluded_pixels_match_raycast_of_object_alone(dataset_root: Path) -> None:
    frame = frames(dataset_root)[0]
    K, world_to_camera, width, height = camera(frame.meta)
    meshes = reference_meshes(frame.meta)
    for obj in frame.objects:
        if obj.category == "table":
            continue
        alone = raycast({obj.instance_id: meshes[obj.instance_id]}, K, world_to_camera, width, height)
        covered = alone.instance > 0
        edge = silhouette_band(alone.instance, alone.depth, jump=None) & covered
        # Agreement up to the pixels whose centres lie on the object's own outline.
        assert abs(obj.unoccluded_pixels - covered.sum()) <= max(2, edge.sum() // 4), obj.instance_id
        assert obj.visible_pixels <= obj.unoccluded_pixels
        expected = obj.visible_pixels / obj.unoccluded_pixels if obj.unoccluded_pixels else 0.0
        assert obj.visible_fraction == pytest.approx(expected)


def test_landmark_projection_and_visibility(dataset_root: Path) -> None:
    checked = agree = 0
    stepped = [0]
    for frame in frames(dataset_root):
        ref = reference(frame)
        for obj in frame.objects:
            names, world = landmark_points(frame.meta, obj.instance_id)
            lm = obj.landmarks
            assert list(lm.names) == names
            np.testing.assert_allclose(lm.xyz_world, world, rtol=0, atol=0.5 * 10.0 ** -POINT_DECIMALS + 1e-9)
            expected = landmark_reference(frame.meta, ref, world, OCCLUSION_TOLERANCE)
            assert np.abs(lm.uv - expected["uv"]).max() < 1e-3
            inside = expected["in_frame"]
            np.testing.assert_array_equal(lm.in_frame, inside)
            # Ray from the camera centre to each landmark: occluded if something is hit before
            # 1 - tolerance of the way; ambiguous cases and raster steps are left out (scene_reference).
            clear = expected["clear"]
            stepped[0] += expected["stepped"]
            checked += clear.sum()
            agree += (lm.visible == expected["visible"])[clear].sum()
            assert np.all(lm.visible[~inside] == False)  # noqa: E712
    assert checked > 20 and stepped[0] <= 0.05 * checked
    assert agree == checked, f"landmark visibility agrees on {agree}/{checked} away from silhouettes"
