"""Frame descriptions: deterministic per (seed, index), objects resting on the table, apart."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy.spatial import ConvexHull

from renderer.assets.catalog import AssetCatalog
from renderer.config.schema import load_scene
from renderer.sampling.frame import sample_frame
from renderer.scene.description import FrameDescription

ROOT = Path(__file__).resolve().parent.parent
CONFIG = load_scene(ROOT / "scenes" / "tabletop.yaml")
CATALOG = AssetCatalog(CONFIG)


def test_same_seed_and_index_same_frame_in_any_order() -> None:
    forward = [sample_frame(CONFIG, CATALOG, seed=5, index=i) for i in range(6)]
    backward = [sample_frame(CONFIG, CATALOG, seed=5, index=i) for i in reversed(range(6))][::-1]
    assert forward == backward
    assert sample_frame(CONFIG, CATALOG, seed=6, index=0) != forward[0]
    assert forward[0] != forward[1]
    assert sample_frame(CONFIG, CATALOG, seed=0, index=0) != sample_frame(CONFIG, CATALOG, seed=1, index=0)


def test_description_round_trips_through_json() -> None:
    frame = sample_frame(CONFIG, CATALOG, seed=1, index=3)
    again = FrameDescription.from_dict(json.loads(json.dumps(frame.to_dict())))
    assert again == frame


def separated(a: np.ndarray, b: np.ndarray) -> bool:
    """Separating-axis test for two convex polygons given as ordered vertices."""
    for poly in (a, b):
        edges = np.roll(poly, -1, axis=0) - poly
        for nx, ny in np.column_stack([-edges[:, 1], edges[:, 0]]):
            pa, pb = a @ (nx, ny), b @ (nx, ny)
            if pa.max() < pb.min() or pb.max() < pa.min():
                return True
    return False


def test_objects_rest_on_the_table_without_overlap() -> None:
    """Upright objects whose xy footprints (convex hulls) are disjoint cannot interpenetrate."""
    counts = []
    for index in range(20):
        frame = sample_frame(CONFIG, CATALOG, seed=2, index=index)
        table, *objects = frame.objects
        assert table.category == "table"
        counts.append(len(objects))
        footprints = []
        for obj in objects:
            mesh = CATALOG.mesh(obj.mesh)
            pose = np.asarray(obj.object_to_world)
            world = (mesh.vertices * obj.scale) @ pose[:3, :3].T + pose[:3, 3]
            assert abs(world[:, 2].min()) < 1e-9, "lowest point touches the table top (z = 0)"
            half = np.array(CONFIG.table.size) / 2
            assert np.all(np.abs(world[:, :2]) <= half + 1e-9), "footprint on the table"
            footprints.append(world[ConvexHull(world[:, :2]).vertices, :2])
        for i in range(len(footprints)):
            for j in range(i):
                assert separated(footprints[i], footprints[j]), (index, i, j)
        ids = [o.instance_id for o in frame.objects]
        assert ids == list(range(1, len(ids) + 1))
    assert min(counts) >= 1 and max(counts) <= 20 and len(set(counts)) > 3
