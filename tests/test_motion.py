"""Sequences and their labels, against references that share no code with the label pass: optical and
scene flow against the surface ray-cast in the scene rebuilt from each frame's meta JSON (the asset files
placed with the description's poses, tests/scene_reference.py) and moved with those poses, its validity
against ray casting the moved point in the other frame's rebuilt scene, tracks against the landmarks
projected from the asset's own landmark file, object coordinates against projection with the stored pose,
planes translating against the closed form; physics that never falls through the table; stable ids; a
frame made alone equal to the same frame of the run; the .flo export read by OpenCV, the KITTI PNG export
decoded as its devkit says."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
import trimesh
from raycast import first_hits, silhouette_band
from scene_reference import camera as meta_camera
from scene_reference import landmark_points, landmark_reference, reference_image, reference_meshes

from renderer import cli
from renderer.channels import CHANNELS
from renderer.config.schema import SceneConfig, scene_from_dict
from renderer.io.dataset import Dataset, DatasetError, DatasetMeshes, Frame
from renderer.pipeline.run import generate
from renderer.scene.records import OCCLUSION_TOLERANCE

ROOT = Path(__file__).resolve().parent.parent
MOTION_OUTPUTS = ["rgb", "depth", "normals", "instance", "semantic", "object_coords", "nocs", "flow_forward",
                  "flow_forward_valid", "flow_backward", "flow_backward_valid", "scene_flow_forward",
                  "scene_flow_backward"]
LENGTH = 5


def motion_scene(tmp: Path, camera: dict, objects: dict, length: int = LENGTH, fps: float = 12.0,
                 extra: dict | None = None, lights: dict | None = None) -> SceneConfig:
    return scene_from_dict({
        "image": {"width": 160, "height": 120},
        "camera": {"distance": [0.7, 1.0], "elevation_deg": [35, 60]},
        "table": {"size": [1.0, 0.7]},
        "objects": {"count": [4, 6], "assets": [{"path": str(ROOT / "assets" / "meshes" / "*.obj")}]},
        "sequence": {"length": length, "fps": fps, "camera": camera, "objects": objects, "lights": lights or {}},
        "outputs": MOTION_OUTPUTS,
        **(extra or {}),
    }, source=str(tmp / "motion.yaml"))


@pytest.fixture(scope="module")
def moving(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("motion")
    config = motion_scene(tmp, {"kind": "orbit", "orbit_speed_deg": [25, 40], "shake_deg": 0.3,
                                "zoom_speed_deg": [-8, 8]},
                          {"kind": "kinematic", "speed": [0.1, 0.3], "spin_deg": [30, 120]})
    generate(config, tmp / "ds", frames=2 * LENGTH, seed=4)
    return tmp / "ds"


def _reference(frame: Frame):
    """The frame ray-cast in its scene rebuilt from the meta JSON (cached)."""
    return reference_image(frame.meta, (str(frame.root), frame.index))


def _unproject(frame: Frame, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Camera-frame points of the reference surface at these pixel centres (ray-cast depth, meta K)."""
    K = meta_camera(frame.meta)[0]
    pixels = np.stack([cols, rows, np.ones_like(cols)], axis=1).astype(float)
    return (pixels @ np.linalg.inv(K).T) * _reference(frame).depth[rows, cols][:, None]


def _interior(frame: Frame) -> np.ndarray:
    """Labelled surface away from the reference's silhouettes, where the renderer sees the same object."""
    ref = _reference(frame)
    return (ref.instance > 0) & ~silhouette_band(ref.instance, ref.depth) & (frame.instance == ref.instance)


def _object_to_camera(frame: Frame) -> dict[int, np.ndarray]:
    """{instance id: object_to_camera} from the frame description's poses and the meta file's camera."""
    world_to_camera = meta_camera(frame.meta)[1]
    return {o["instance_id"]: world_to_camera @ np.asarray(o["object_to_world"], dtype=float)
            for o in frame.meta["description"]["objects"] if o["instance_id"] > 0}


def _pairs(ds: Dataset) -> list[tuple[Frame, Frame, str]]:
    """(frame, other frame, direction) for every frame and its neighbours within a sequence."""
    pairs = []
    for s in range(len(ds) // LENGTH):
        frames = ds.sequence(s)
        for a, b in zip(frames, frames[1:], strict=False):
            pairs += [(a, b, "forward"), (b, a, "backward")]
    return pairs


def _moved(frame: Frame, other: Frame, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Camera-frame points of ``other`` that the reference surface points at these pixels of ``frame``
    move to, with the described poses of both frames."""
    points = _unproject(frame, rows, cols)
    ids = _reference(frame).instance[rows, cols]
    here, there = _object_to_camera(frame), _object_to_camera(other)
    moved = np.empty_like(points)
    for instance_id in np.unique(ids):
        k = ids == instance_id
        transform = there[instance_id] @ np.linalg.inv(here[instance_id])
        moved[k] = points[k] @ transform[:3, :3].T + transform[:3, 3]
    return moved


def test_flow_equals_the_motion_of_the_unprojected_surface(moving: Path) -> None:
    ds = Dataset(moving)
    checked = within = 0
    largest = 0.0
    for frame, other, direction in _pairs(ds):
        flow, valid = frame.array(f"flow_{direction}"), frame.array(f"flow_{direction}_valid")
        rows, cols = np.nonzero(_interior(frame) & valid)
        moved = _moved(frame, other, rows, cols)
        uv = moved @ meta_camera(other.meta)[0].T
        expected = uv[:, :2] / uv[:, 2:3] - np.stack([cols, rows], axis=1)
        error = np.abs(flow[rows, cols] - expected).max(axis=1)
        checked += len(error)
        within += int(np.count_nonzero(error < 0.01))
        largest = max(largest, float(np.abs(expected).max(initial=0)))
    assert checked > 10_000 and largest > 1.0  # the scene does move
    assert within >= 0.999 * checked, (within, checked)


def test_scene_flow_is_the_motion_of_the_unprojected_surface_relative_to_the_camera(moving: Path) -> None:
    """Scene flow against the ray-cast surface moved with the described poses: the point's camera-frame
    position in the other frame minus its position here."""
    ds = Dataset(moving)
    checked = within = 0
    largest = 0.0
    for frame, other, direction in _pairs(ds):
        rows, cols = np.nonzero(_interior(frame))
        here = _unproject(frame, rows, cols)
        expected = _moved(frame, other, rows, cols) - here
        error = np.abs(frame.array(f"scene_flow_{direction}")[rows, cols] - expected).max(axis=1)
        checked += len(error)
        within += int(np.count_nonzero(error <= 1e-5 * (1 + here[:, 2])))  # 10 um at 1 m
        largest = max(largest, float(np.abs(expected).max(initial=0)))
    assert checked > 10_000 and largest > 0.01
    assert within >= 0.999 * checked, (within, checked)
    first, last = ds.sequence(0)[0], ds.sequence(0)[-1]
    assert not first.scene_flow_backward.any() and not last.scene_flow_forward.any()
    assert not first.scene_flow_forward[first.depth == 0].any()


def test_flow_validity_agrees_with_ray_casting_in_the_other_frame(moving: Path) -> None:
    ds = Dataset(moving)
    agree = clear_total = invalid_seen = 0
    for frame, other, direction in _pairs(ds):
        valid = frame.array(f"flow_{direction}_valid")
        rows, cols = np.nonzero(_interior(frame))
        moved = _moved(frame, other, rows, cols)
        K, world_to_camera, w, h = meta_camera(other.meta)
        uv = moved @ K.T
        u, v = uv[:, 0] / uv[:, 2], uv[:, 1] / uv[:, 2]
        inside = (moved[:, 2] > 0) & (u >= -0.5) & (u < w - 0.5) & (v >= -0.5) & (v < h - 0.5)
        camera_to_world = np.linalg.inv(world_to_camera)
        world = moved @ camera_to_world[:3, :3].T + camera_to_world[:3, 3]
        centre = camera_to_world[:3, 3]
        _, distance, _ = first_hits(reference_meshes(other.meta), np.tile(centre, (len(world), 1)), world - centre)
        threshold = 1.0 - OCCLUSION_TOLERANCE
        hidden = (distance > 0) & (distance < threshold)
        expected = inside & ~hidden
        # Clear cases: not near the occlusion threshold, and landing away from the other frame's silhouettes.
        clear = np.abs(distance - threshold) > 0.002
        there = _reference(other)
        band = silhouette_band(there.instance, there.depth)
        px = np.clip(np.floor(u + 0.5), 0, w - 1).astype(int)
        py = np.clip(np.floor(v + 0.5), 0, h - 1).astype(int)
        clear &= ~inside | ~band[py, px]
        agree += int(np.count_nonzero(valid[rows, cols][clear] == expected[clear]))
        clear_total += int(np.count_nonzero(clear))
        invalid_seen += int(np.count_nonzero(~expected[clear]))
    assert invalid_seen > 100  # occlusions and points leaving the image do happen in this scene
    assert agree >= 0.995 * clear_total, (agree, clear_total)


def test_object_coordinates_land_on_their_own_pixel_at_the_stored_depth(moving: Path) -> None:
    ds = Dataset(moving)
    meshes = DatasetMeshes()
    for i in range(0, len(ds), 3):
        frame = ds[i]
        coords, nocs = frame.object_coords, frame.nocs
        assert not np.any(coords[frame.depth == 0]) and not np.any(nocs[frame.instance == 0])
        rows, cols = np.nonzero(_interior(frame))
        ids = frame.instance[rows, cols]
        by_id = {o.instance_id: o for o in frame.description_on_dataset_meshes().objects}
        for instance_id in np.unique(ids):
            k = ids == instance_id
            obj = by_id[instance_id]
            local = coords[rows[k], cols[k]].astype(float)
            camera = frame.world_to_camera @ np.asarray(obj.object_to_world) @ np.diag([obj.scale] * 3 + [1.0])
            p = local @ camera[:3, :3].T + camera[:3, 3]
            uv = p @ frame.K.T
            assert np.abs(uv[:, 0] / uv[:, 2] - cols[k]).max() < 1e-3
            assert np.abs(uv[:, 1] / uv[:, 2] - rows[k]).max() < 1e-3
            np.testing.assert_allclose(p[:, 2], frame.depth[rows[k], cols[k]], rtol=1e-5)
            lo, hi = meshes.mesh(obj.mesh).bounds
            expected = (local - (lo + hi) / 2) / np.linalg.norm(hi - lo) + 0.5
            np.testing.assert_allclose(nocs[rows[k], cols[k]], expected, atol=1e-5)
            assert nocs[rows[k], cols[k]].min() >= -1e-5 and nocs[rows[k], cols[k]].max() <= 1 + 1e-5


def test_nocs_is_made_when_read_for_labelled_objects_only(tmp_path: Path) -> None:
    """Asking for NOCS stores object coordinates and instance ids (not NOCS itself); NOCS read back is each
    labelled object's coordinates normalised by its mesh's box, and 0 on distractors, which have no
    record. A dataset of an older format that stored NOCS is read from its file."""
    config = scene_from_dict({
        "image": {"width": 160, "height": 120},
        "camera": {"distance": [0.6, 0.8], "elevation_deg": [40, 60]},
        "table": {"size": [1.0, 0.7]},
        "objects": {"count": [3, 4], "assets": [{"path": str(ROOT / "assets" / "meshes" / "*.obj")}]},
        "distractors": {"count": [3, 4], "assets": [{"path": str(ROOT / "assets" / "meshes" / "*.obj")}]},
        "outputs": ["rgb", "depth", "nocs"],
    }, source=str(tmp_path / "still.yaml"))
    assert set(config.outputs) == {"rgb", "depth", "nocs", "object_coords", "instance"}
    generate(config, tmp_path / "ds", frames=3, seed=2)
    assert not (tmp_path / "ds" / "nocs").exists() and (tmp_path / "ds" / "object_coords").is_dir()
    ds = Dataset(tmp_path / "ds")
    meshes = DatasetMeshes()
    distractor_pixels = 0
    for frame in ds:
        nocs, coords = frame.nocs, frame.object_coords
        distractors = (frame.instance == 0) & (frame.depth > 0)
        distractor_pixels += int(np.count_nonzero(distractors & np.any(coords != 0, axis=-1)))
        assert not np.any(nocs[frame.instance == 0])
        objects = {o.instance_id: o for o in frame.description_on_dataset_meshes().objects if o.instance_id}
        for record in frame.objects:
            mask = frame.instance == record.instance_id
            lo, hi = meshes.mesh(objects[record.instance_id].mesh).bounds
            np.testing.assert_allclose(record.asset_bounds, [lo, hi], atol=1e-6)
            expected = (coords[mask].astype(float) - (lo + hi) / 2) / np.linalg.norm(hi - lo) + 0.5
            np.testing.assert_allclose(nocs[mask], expected, atol=1e-5)
    assert distractor_pixels > 100  # the distractors were seen, with object coordinates but no NOCS
    old = ds[1]
    stored = np.full(old.object_coords.shape, 0.25, dtype=np.float32)
    (tmp_path / "ds" / "nocs").mkdir()
    (tmp_path / "ds" / "nocs" / f"{old.index:06d}.npy.zst").write_bytes(CHANNELS["nocs"].encode(stored))
    np.testing.assert_array_equal(Dataset(tmp_path / "ds")[1].nocs, stored)
    meta = tmp_path / "ds" / "meta" / "000002.json"  # a damaged record is named, never silently wrong NOCS
    meta.write_text(re.sub(r'"asset_bounds": \[\[[^,]+', '"asset_bounds": [[NaN', meta.read_text(), count=1))
    with pytest.raises(DatasetError, match="000002.json.*asset_bounds"):
        _ = Dataset(tmp_path / "ds")[2].nocs


def test_on_the_fly_samples_make_nocs_as_the_reader_does(moving: Path, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from renderer.torch import GeneratedDataset

    config = motion_scene(tmp_path, {"kind": "orbit", "orbit_speed_deg": [25, 40], "shake_deg": 0.3,
                                     "zoom_speed_deg": [-8, 8]},
                          {"kind": "kinematic", "speed": [0.1, 0.3], "spin_deg": [30, 120]})
    config = dataclasses.replace(config, source=str(moving.parent / "motion.yaml"))
    generated = GeneratedDataset(config, seed=4, length=3, fields=["nocs", "object_coords"])
    ds = Dataset(moving)
    for i in (0, 2):
        sample = generated[i]
        np.testing.assert_array_equal(sample["nocs"].numpy().transpose(1, 2, 0), ds[i].nocs)
        assert sample["nocs"].abs().sum() > 0


def test_ids_are_stable_and_ends_of_a_sequence_have_no_flow_beyond_them(moving: Path) -> None:
    ds = Dataset(moving)
    for s in range(2):
        frames = ds.sequence(s)
        assert [f.time_index for f in frames] == list(range(LENGTH)) and {f.sequence_index for f in frames} == {s}
        lists = [[(o.instance_id, o.asset_id, o.scale) for o in f.description.objects] for f in frames]
        assert all(objects == lists[0] for objects in lists)
        assert not frames[0].flow_backward_valid.any() and not frames[-1].flow_forward_valid.any()
        assert frames[0].flow_forward_valid.any() and frames[-1].flow_backward_valid.any()
        poses = [np.array([o.object_to_world for o in f.objects]) for f in frames]
        assert not np.allclose(poses[0], poses[-1])  # objects move (supports do not: same table pose)
        assert np.allclose(poses[0][0], poses[-1][0])
        assert not np.allclose(frames[0].K, frames[-1].K)  # the zoom changes the intrinsics


def test_a_frame_made_alone_equals_the_same_frame_of_the_run(moving: Path, tmp_path: Path) -> None:
    config = motion_scene(tmp_path, {"kind": "orbit", "orbit_speed_deg": [25, 40], "shake_deg": 0.3,
                                     "zoom_speed_deg": [-8, 8]},
                          {"kind": "kinematic", "speed": [0.1, 0.3], "spin_deg": [30, 120]})
    config = dataclasses.replace(config, source=str(moving.parent / "motion.yaml"))
    generate(config, tmp_path / "alone", frames=1, start=LENGTH + 2, seed=4)
    alone = Dataset(tmp_path / "alone")[0]
    full = [f for f in (Dataset(moving)[i] for i in range(len(Dataset(moving)))) if f.index == LENGTH + 2][0]
    for name in MOTION_OUTPUTS:
        if not CHANNELS[name].stored:  # nocs: made when read, from what is compared here
            assert not (tmp_path / "alone" / name).exists()
            np.testing.assert_array_equal(alone.array(name), full.array(name))
            continue
        assert (tmp_path / "alone" / name).is_dir()
        a = next((tmp_path / "alone" / name).iterdir()).read_bytes()
        b = next(p for p in (moving / name).iterdir() if p.name.startswith(f"{LENGTH + 2:06d}")).read_bytes()
        assert a == b, name
    assert alone.meta == full.meta


class _Boxes:
    def mesh(self, source):  # type: ignore[no-untyped-def]
        return trimesh.creation.box(extents=source.extents)


def test_a_plane_translating_parallel_to_the_image_has_the_closed_form_flow() -> None:
    from renderer.labels.flow import motion_buffers
    from renderer.render.frame import FrameRenderer
    from renderer.scene.description import (
        BackgroundDescription,
        CameraDescription,
        FrameDescription,
        MaterialDescription,
        MeshSource,
        ObjectDescription,
        as_matrix,
    )

    w, h, f, z, step = 96, 72, 80.0, 2.0, (0.05, -0.02)
    K = np.array([[f, 0, 47.3], [0, f, 35.8], [0, 0, 1]])
    camera = CameraDescription(w, h, as_matrix(K), as_matrix(np.eye(4)), 0.1, 10.0)

    def frame_with_plane_at(x: float, y: float) -> FrameDescription:
        pose = np.eye(4)
        pose[:3, 3] = (x, y, z)
        plane = ObjectDescription(1, "plane", "plane", 1, MeshSource("box", extents=(2.0, 1.2, 0.001)), 1.0,
                                  as_matrix(pose), MaterialDescription((1, 1, 1, 1), 0.0, 0.5))
        return FrameDescription(0, 0, camera, (plane,), (), 0.3, BackgroundDescription("solid", ((0, 0, 0),)))

    frames = [frame_with_plane_at(step[0] * k, step[1] * k) for k in range(3)]
    with FrameRenderer(w, h) as renderer:
        labels = renderer.labels.render(frames[1], _Boxes())
        motion = motion_buffers(renderer.labels, frames[1], frames[0], frames[2], labels, _Boxes())
        # A scene asking for some channels gets the same bits for those, and the motion pass skips the rest.
        some = motion_buffers(renderer.labels, frames[1], frames[0], frames[2], labels, _Boxes(),
                              channels=("flow_forward", "flow_backward_valid"))
    np.testing.assert_array_equal(some.flow_forward, motion.flow_forward)
    np.testing.assert_array_equal(some.flow_backward_valid, motion.flow_backward_valid)
    assert some.scene_flow_forward.size == some.flow_backward.size == 0
    surface = labels.depth > 0
    assert surface.sum() > 0.5 * w * h and not surface[:, 0].any()  # wider than half, inside the left edge
    face_z = z - 0.0005  # the front face of the thin box
    expected = np.array([f * step[0] / face_z, f * step[1] / face_z])
    np.testing.assert_allclose(motion.flow_forward[surface], np.broadcast_to(expected, (surface.sum(), 2)), atol=1e-3)
    np.testing.assert_allclose(motion.flow_backward[surface], np.broadcast_to(-expected, (surface.sum(), 2)),
                               atol=1e-3)
    # Nothing hides the plane: every point is visible in the next frame, except within a pixel of its
    # edge there (the pixel centre nearest the moved point may miss the plane: a raster's ambiguity).
    rows, cols = np.nonzero(surface)
    after = frames[2]
    with FrameRenderer(w, h) as renderer:
        next_surface = renderer.labels.render(after, _Boxes()).depth > 0
    core = cv2.erode(next_surface.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    landing = core[np.clip(np.floor(rows + expected[1] + 0.5), 0, h - 1).astype(int),
                   np.clip(np.floor(cols + expected[0] + 0.5), 0, w - 1).astype(int)]
    assert landing.mean() > 0.9
    assert motion.flow_forward_valid[rows, cols][landing].all()
    assert not motion.flow_forward_valid[~surface].any()


def test_thrown_objects_never_fall_through_the_table(tmp_path: Path) -> None:
    pytest.importorskip("pybullet")
    config = motion_scene(tmp_path, {"kind": "static"},
                          {"kind": "physics", "throw_speed": [0.0, 0.5], "drop_height": [0.05, 0.2]},
                          length=8, fps=10.0)
    generate(config, tmp_path / "ds", frames=8, seed=1)
    ds = Dataset(tmp_path / "ds")
    half = np.array([0.5, 0.35])
    fell = False
    heights = []
    for i in range(len(ds)):
        frame = ds[i]
        meshes = reference_meshes(frame.meta)  # the asset files, placed as described
        table_id = next(o.instance_id for o in frame.objects if o.category == "table")
        lows = {}
        for instance_id, mesh in meshes.items():
            if instance_id in (0, table_id):
                continue
            centre = mesh.vertices.mean(axis=0)
            if np.all(np.abs(centre[:2]) < half - 0.02):  # over the table, not falling past its edge
                lows[instance_id] = mesh.vertices[:, 2].min()
                assert lows[instance_id] > -0.004, (i, instance_id, lows[instance_id])
        heights.append(lows)
    common = set(heights[0]) & set(heights[-1])
    fell = any(heights[0][k] > heights[-1][k] + 0.02 for k in common)
    assert fell  # they were dropped from above and came down


def test_flo_export_is_read_by_opencv(moving: Path, tmp_path: Path) -> None:
    assert cli.main(["export", str(moving), "--format", "flo", "--out", str(tmp_path / "flo")]) == 0
    ds = Dataset(moving)
    for i in (0, 3):
        frame = ds[i]
        for direction in ("forward", "backward"):
            read = cv2.readOpticalFlow(str(tmp_path / "flo" / direction / f"{frame.index:06d}.flo"))
            np.testing.assert_array_equal(read, frame.array(f"flow_{direction}"))
            mask = cv2.imread(str(tmp_path / "flo" / direction / f"{frame.index:06d}_valid.png"), cv2.IMREAD_UNCHANGED)
            np.testing.assert_array_equal(mask > 0, frame.array(f"flow_{direction}_valid"))


def test_lights_orbit_the_target_and_leave_the_labels_alone(tmp_path: Path) -> None:
    """sequence.lights orbit: every light turns about the vertical axis through the target at a constant
    rate drawn from the range; the RGB changes, the labels (geometry) do not."""
    from renderer.assets.catalog import AssetCatalog
    from renderer.render.frame import FrameRenderer
    from renderer.sampling.motion import describe_frame

    orbit = motion_scene(tmp_path, {"kind": "static"}, {"kind": "static"},
                         lights={"kind": "orbit", "orbit_speed_deg": [40, 60]})
    still = motion_scene(tmp_path, {"kind": "static"}, {"kind": "static"})
    catalog = AssetCatalog(orbit)
    frames = [describe_frame(orbit, catalog, seed=2, index=t) for t in range(LENGTH)]
    fixed = [describe_frame(still, catalog, seed=2, index=t) for t in range(LENGTH)]
    target = np.array(orbit.camera.target, dtype=float)
    turning = 0
    for j in range(len(frames[0].lights)):
        offsets = np.array([np.asarray(f.lights[j].light_to_world)[:3, 3] for f in frames]) - target
        radius = np.hypot(offsets[:, 0], offsets[:, 1])
        np.testing.assert_allclose(radius, radius[0], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(offsets[:, 2], offsets[0, 2], atol=1e-12)
        if radius[0] > 1e-6:
            rates = np.rad2deg(np.diff(np.unwrap(np.arctan2(offsets[:, 1], offsets[:, 0])))) * orbit.sequence.fps
            np.testing.assert_allclose(rates, rates[0], rtol=1e-6)
            assert 40 - 1e-6 <= abs(rates[0]) <= 60 + 1e-6
            turning += 1
    assert turning >= 1
    assert frames[3].objects == fixed[3].objects and frames[3].camera == fixed[3].camera
    assert frames[0].lights == fixed[0].lights and frames[3].lights != fixed[3].lights
    with FrameRenderer(160, 120) as renderer:
        lit_still, lit_moved = renderer.render(fixed[3], catalog), renderer.render(frames[3], catalog)
    np.testing.assert_array_equal(lit_moved.depth, lit_still.depth)
    np.testing.assert_array_equal(lit_moved.instance, lit_still.instance)
    changed = np.any(lit_moved.rgb != lit_still.rgb, axis=-1)
    assert changed[lit_still.depth > 0].mean() > 0.2  # the lit surfaces, not the background


def test_kitti_flow_export_decodes_as_the_devkit_says(moving: Path, tmp_path: Path) -> None:
    """Decoded as KITTI's devkit documents it (16-bit RGB PNG: (value - 2^15) / 64, blue = valid)."""
    assert cli.main(["export", str(moving), "--format", "kitti_flow", "--out", str(tmp_path / "kitti")]) == 0
    ds = Dataset(moving)
    checked = 0
    for i in (0, 3):
        frame = ds[i]
        for direction in ("forward", "backward"):
            image = cv2.imread(str(tmp_path / "kitti" / direction / f"{frame.index:06d}.png"), cv2.IMREAD_UNCHANGED)
            assert image.dtype == np.uint16 and image.shape == (*frame.depth.shape, 3)
            rgb = image[..., ::-1].astype(np.float64)
            flow = (rgb[..., :2] - 2**15) / 64.0
            valid = rgb[..., 2] > 0
            ours = frame.array(f"flow_{direction}")
            expected = frame.array(f"flow_{direction}_valid") & np.all(np.abs(ours) < 511, -1)
            np.testing.assert_array_equal(valid, expected)
            assert np.abs(flow[valid] - ours[valid]).max(initial=0) <= 1 / 128 + 1e-9
            checked += int(valid.sum())
    assert checked > 1000  # (frame 0 has no backward flow)


def test_clips_for_video_models_stack_consecutive_frames(moving: Path) -> None:
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader

    from renderer.torch import SequenceClips

    clips = SequenceClips(moving, length=3, stride=2, fields=["image", "flow_forward", "flow_forward_valid", "boxes"])
    assert len(clips) == 2 * len(range(0, LENGTH - 3 + 1, 2))
    ds = Dataset(moving)
    clip = clips[1]
    assert clip["image"].shape == (3, 3, 120, 160) and clip["flow_forward"].shape == (3, 2, 120, 160)
    assert clip["index"].tolist() == [2, 3, 4] and clip["sequence"] == 0 and len(clip["boxes"]) == 3
    for k, index in enumerate(clip["index"].tolist()):
        frame = ds[ds.indices.index(index)]
        assert torch.equal(clip["flow_forward"][k], torch.from_numpy(frame.flow_forward.transpose(2, 0, 1).copy()))
        assert torch.equal(clip["flow_forward_valid"][k], torch.from_numpy(frame.flow_forward_valid))
    seen = [int(c["index"][0]) for c in DataLoader(clips, batch_size=None, num_workers=2)]
    assert sorted(seen) == sorted(clips.starts)


def test_preview_shows_flow_and_animates_a_sequence(moving: Path, tmp_path: Path) -> None:
    from PIL import Image

    assert cli.main(["preview", str(moving), "-o", str(tmp_path / "p.png"), "--frames", "0:1", "--scale", "1"]) == 0
    sheet = cv2.imread(str(tmp_path / "p.png"))
    assert sheet.shape[1] == 6 * 160  # rgb, depth, normals, instances, flow, nocs
    assert cli.main(["preview", str(moving), "--sequence", "1", "-o", str(tmp_path / "s.gif")]) == 0
    with Image.open(tmp_path / "s.gif") as gif:
        assert gif.n_frames == LENGTH
    assert cli.main(["preview", str(moving), "--sequence", "9", "-o", str(tmp_path / "t.gif")]) == 2


def test_tracks_follow_each_object_and_its_landmarks_through_a_sequence(moving: Path) -> None:
    """Each track against references rebuilt per frame: its box the extent of that frame's instance mask,
    its point tracks the asset's landmarks (its sidecar file) placed with the described pose and projected
    with the meta file's camera, visible where a ray cast of the rebuilt scene sees them."""
    ds = Dataset(moving)
    frames = ds.sequence(1)
    tracks = ds.tracks(1)
    described = [{o["instance_id"]: o for o in f.meta["description"]["objects"] if o["instance_id"] > 0}
                 for f in frames]
    assert set(tracks) == set(described[0])
    checked = agree = stepped = visible_seen = 0
    for instance_id, track in tracks.items():
        assert track.bbox.shape == (LENGTH, 4) and track.landmarks_uv.shape[:1] == (LENGTH,)
        assert {d[instance_id]["asset_id"] for d in described} == {described[0][instance_id]["asset_id"]}
        assert track.category == described[0][instance_id]["category"]
        assert track.time_index.tolist() == list(range(LENGTH))
        for t, frame in enumerate(frames):
            # The box is the extent of the instance mask in that frame (an independent recomputation).
            rows, cols = np.nonzero(frame.instance == instance_id)
            expected = [0, 0, 0, 0] if len(rows) == 0 else \
                [cols.min(), rows.min(), cols.max() - cols.min() + 1, rows.max() - rows.min() + 1]
            assert track.bbox[t].tolist() == [int(v) for v in expected]
            names, world = landmark_points(frame.meta, instance_id)
            assert list(track.landmark_names) == names
            reference = landmark_reference(frame.meta, _reference(frame), world, OCCLUSION_TOLERANCE)
            np.testing.assert_allclose(track.landmarks_uv[t], reference["uv"], rtol=0, atol=1e-3)
            assert not track.landmarks_visible[t][~reference["in_frame"]].any()
            clear = reference["clear"]
            checked += int(clear.sum())
            agree += int((track.landmarks_visible[t] == reference["visible"])[clear].sum())
            stepped += reference["stepped"]
            visible_seen += int(reference["visible"][clear].sum())
    assert checked > 50 and 0 < visible_seen < checked and stepped <= 0.05 * checked
    assert agree == checked, f"landmark visibility agrees on {agree}/{checked} away from silhouettes"


def test_sequence_settings_out_of_range_are_one_config_error(tmp_path: Path) -> None:
    from renderer.config.schema import ConfigError

    for camera, objects, length, fps in (({"kind": "teleport"}, {}, 5, 12.0), ({}, {"kind": "physics"}, 10_000, 1.0),
                                         ({}, {}, 0, 12.0), ({}, {}, 5, 0.0)):
        with pytest.raises(ConfigError) as error:
            motion_scene(tmp_path, camera, objects, length=length, fps=fps)
        assert "\n" not in str(error.value) and "sequence." in str(error.value)
    for lights in ({"kind": "flicker"}, {"kind": "orbit", "orbit_speed_deg": 1e9}, {"speed": 1}):
        with pytest.raises(ConfigError) as error:
            motion_scene(tmp_path, {}, {}, lights=lights)
        assert "\n" not in str(error.value) and "sequence.lights" in str(error.value)
    with pytest.raises(ConfigError, match="constraints: not supported with sequences"):
        motion_scene(tmp_path, {}, {}, extra={"constraints": {"min_visible_objects": 1}})


def test_nocs_from_hostile_records_is_exact_or_one_value_error() -> None:
    """Hypothesis: any object records (ids and boxes of any float, duplicated, missing) give either NOCS
    equal to the formula on the pixels of objects with a record and 0 elsewhere, or one ValueError."""
    pytest.importorskip("hypothesis")
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from renderer.channels.nocs import nocs_image

    floats = (st.floats(allow_nan=True, allow_infinity=True, width=64) | st.floats(-10, 10)
              | st.sampled_from([1e308, -1e308, 5e-324, 0.0]))
    record = st.tuples(st.integers(-3, 70000) | st.sampled_from([1, 2, 3]),
                       st.lists(floats, min_size=6, max_size=6) | st.lists(floats, max_size=8))

    @settings(max_examples=300, deadline=None)
    @given(records=st.lists(record, max_size=4), seed=st.integers(0, 2**16))
    def check(records: list, seed: int) -> None:
        rng = np.random.default_rng(seed)
        coords = rng.normal(size=(6, 7, 3)).astype(np.float32)
        instance = rng.integers(0, 4, size=(6, 7)).astype(np.uint16)
        objects = [type("Record", (), {"instance_id": i, "asset_bounds": b if len(b) != 6 else
                                       [b[:3], b[3:]]})() for i, b in records]
        try:
            out = nocs_image(coords, instance, objects)
        except ValueError:
            return
        box = {}
        for obj in objects:
            box[obj.instance_id] = np.asarray(obj.asset_bounds, dtype=float)
        for i in range(4):
            mask = instance == i
            if i in box:
                lo, hi = box[i]
                expected = (coords[mask] - (lo + hi) / 2) / max(np.linalg.norm(hi - lo), 1e-12) + 0.5
                np.testing.assert_allclose(out[mask], expected.astype(np.float32), rtol=1e-6, atol=1e-6)
            else:
                assert not np.any(out[mask])

    check()
