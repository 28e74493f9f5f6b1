"""Frames rendered through lenses (Brown-Conrady, fisheye), against references that share no code with
the renderer: rays of every pixel from OpenCV's own undistortPoints (cv2 / cv2.fisheye) ray-cast into the
scene rebuilt from the meta JSON (tests/scene_reference.py); landmarks against cv2.projectPoints; the RGB
image undistorted by cv2.undistort against a pinhole render of the same frame; optical flow against the
ray-cast surface moved with the described poses and projected by cv2.projectPoints in the next frame.
``pytest -s`` prints the figures docs/conditions.md quotes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest
from raycast import first_hits, silhouette_band
from scene_reference import landmark_points, read_meta, reference_meshes

from renderer.config.schema import ConfigError, scene_from_dict
from renderer.pipeline.run import generate

ROOT = Path(__file__).resolve().parent.parent
W, H = 200, 150
LENSES = {
    "brown_conrady": {"model": "brown_conrady", "k1": [-0.32, -0.25], "k2": [0.05, 0.1], "p1": 0.001,
                      "p2": -0.0015, "k3": -0.01},
    "fisheye": {"model": "fisheye", "k1": [0.0, 0.04], "k2": -0.01, "k3": 0.002, "field_of_view_deg": 180},
}


def lens_scene(tmp: Path, lens: dict, extra: dict | None = None, fov: float = 70.0):
    return scene_from_dict({
        "image": {"width": W, "height": H},
        "camera": {"fov_deg": fov, "distance": [0.6, 0.9], "elevation_deg": [40, 60], "lens": lens},
        "table": {"size": [1.0, 0.7], "texture": "checker"},
        "objects": {"count": [5, 8], "assets": [{"path": str(ROOT / "assets" / "meshes" / "*.obj")}]},
        "outputs": ["rgb", "depth", "normals", "instance"],
        **(extra or {}),
    }, source=str(tmp / "lens.yaml"))


@pytest.fixture(scope="module")
def lens_datasets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("lens")
    out = {}
    for name, lens in LENSES.items():
        config = lens_scene(tmp, lens, fov=70.0 if name == "brown_conrady" else 160.0)
        generate(config, tmp / name, frames=2, seed=3)
        out[name] = tmp / name
    return out


def opencv_rays(meta: dict) -> tuple[np.ndarray, np.ndarray]:
    """(H*W, 3) camera rays (z = 1) of every pixel centre from OpenCV's undistortPoints, and where the
    ray is defined (fisheye: less than 85 degrees off the axis)."""
    cam = meta["camera"]
    K, d = np.array(cam["K"]), np.array(cam["distortion"], float)
    cols, rows = np.meshgrid(np.arange(W, dtype=float), np.arange(H, dtype=float))
    pixels = np.stack([cols.ravel(), rows.ravel()], axis=1)[:, None, :]
    if cam["model"] == "fisheye":
        crit = (cv2.TERM_CRITERIA_COUNT + cv2.TERM_CRITERIA_EPS, 100, 1e-12)
        ideal = cv2.fisheye.undistortPoints(pixels, K, d, criteria=crit)[:, 0]
        theta = np.arctan(np.hypot(ideal[:, 0], ideal[:, 1]))
        back = cv2.fisheye.distortPoints(ideal[:, None, :], K, d)[:, 0]
        ok = (theta < np.deg2rad(85)) & (np.linalg.norm(back - pixels[:, 0], axis=1) < 1e-3)
    else:
        crit = (cv2.TERM_CRITERIA_COUNT + cv2.TERM_CRITERIA_EPS, 200, 1e-14)
        ideal = cv2.undistortPoints(pixels, K, d, None, None, criteria=crit)[:, 0]
        back = cv2.projectPoints(np.concatenate([ideal, np.ones((len(ideal), 1))], 1), np.zeros(3), np.zeros(3),
                                 K, d)[0][:, 0]
        ok = np.linalg.norm(back - pixels[:, 0], axis=1) < 1e-3
    return np.concatenate([ideal, np.ones((len(ideal), 1))], axis=1), ok


def raycast_through(meta: dict, rays: np.ndarray):
    """(instance, depth z, camera-frame normals) of the rebuilt scene along camera rays (z = 1)."""
    w2c = np.array(meta["camera"]["world_to_camera"])
    R, t = w2c[:3, :3], w2c[:3, 3]
    ids, z, normals_world = first_hits(reference_meshes(meta), np.tile(-R.T @ t, (len(rays), 1)), rays @ R)
    normals = normals_world @ R.T
    normals[np.einsum("ij,ij->i", normals, rays) > 0] *= -1
    return ids, z, normals


def read(root: Path, index: int, name: str) -> np.ndarray:
    from renderer.io.dataset import Dataset

    return Dataset(root)[index].array(name)


@pytest.mark.parametrize("model", list(LENSES))
def test_every_label_is_the_surface_seen_along_the_pixels_own_ray(lens_datasets: dict[str, Path],
                                                                  model: str) -> None:
    root = lens_datasets[model]
    agree = total = mismatched_off_edges = 0
    depth_errors, normal_errors = [], []
    for index in range(2):
        meta = read_meta(root, index)
        assert meta["camera"]["model"] == model and len(meta["camera"]["distortion"]) in (4, 8)
        rays, ok = opencv_rays(meta)
        ids, z, normals = raycast_through(meta, rays)
        ref_ids = np.where(ok, ids, -1).reshape(H, W)
        instance = read(root, index, "instance").astype(int)
        depth = read(root, index, "depth").astype(float).ravel()
        ours_normals = read(root, index, "normals").reshape(-1, 3).astype(float)
        valid = ok.reshape(H, W)
        agree += int(np.count_nonzero((instance == ref_ids) & valid))
        total += int(np.count_nonzero(valid))
        band = silhouette_band(np.where(valid, ref_ids, 0), z.reshape(H, W))
        mismatched_off_edges += int(np.count_nonzero((instance != ref_ids) & valid & ~band))
        interior = (valid & ~band & (instance == ref_ids) & (ref_ids >= 0)).ravel() & (z > 0)
        depth_errors.append(np.abs(depth[interior] - z[interior]) / z[interior])
        cosine = np.clip(np.einsum("ij,ij->i", ours_normals[interior], normals[interior]), -1, 1)
        normal_errors.append(np.rad2deg(np.arccos(cosine)))
        assert (instance[~valid & (instance > 0)]).size <= 0.01 * valid.size  # the lens's own edge only
    depth_error, normal_error = np.concatenate(depth_errors), np.concatenate(normal_errors)
    print(f"\n{model}: ids agree with ray casting on {agree / total:.4%} of {total} pixels "
          f"({mismatched_off_edges} off silhouettes); depth rel. error median {np.median(depth_error):.1e} "
          f"p99 {np.percentile(depth_error, 99):.1e}; normals median {np.median(normal_error):.3f} deg, "
          f"p99 {np.percentile(normal_error, 99):.2f} deg")
    assert agree >= 0.99 * total
    assert mismatched_off_edges <= 0.001 * total  # ids never smeared: disagreements sit on silhouettes
    assert np.median(depth_error) < 1e-5 and np.percentile(depth_error, 99) < 2e-3
    assert np.median(normal_error) < 0.01 and np.percentile(normal_error, 95) < 1.0


@pytest.mark.parametrize("model", list(LENSES))
def test_landmarks_project_as_opencv_projects_them(lens_datasets: dict[str, Path], model: str) -> None:
    root = lens_datasets[model]
    worst, checked = 0.0, 0
    for index in range(2):
        meta = read_meta(root, index)
        cam = meta["camera"]
        K, d, w2c = np.array(cam["K"]), np.array(cam["distortion"], float), np.array(cam["world_to_camera"])
        for obj in meta["objects"]:
            _, world = landmark_points(meta, obj["instance_id"])
            points = world @ w2c[:3, :3].T + w2c[:3, 3]
            front = points[:, 2] > 0.05
            rvec, tvec = np.zeros(3), np.zeros(3)
            if model == "fisheye":
                expected = cv2.fisheye.projectPoints(points[front][:, None, :], rvec, tvec, K, d)[0][:, 0]
            else:
                expected = cv2.projectPoints(points[front], rvec, tvec, K, d)[0][:, 0]
            uv = np.array(obj["landmarks"]["uv"], float)[front]
            worst = max(worst, float(np.abs(uv - expected).max(initial=0)))
            checked += int(front.sum())
    print(f"\n{model}: {checked} landmarks within {worst:.2e} px of OpenCV's projection")
    assert checked > 20 and worst <= 0.05


@pytest.mark.parametrize("model", list(LENSES))
def test_visible_fractions_count_the_lens_pixels_each_object_covers_alone(lens_datasets: dict[str, Path],
                                                                         model: str) -> None:
    root = lens_datasets[model]
    errors = []
    for index in range(2):
        meta = read_meta(root, index)
        rays, ok = opencv_rays(meta)
        w2c = np.array(meta["camera"]["world_to_camera"])
        R, t = w2c[:3, :3], w2c[:3, 3]
        meshes = reference_meshes(meta)
        for obj in meta["objects"]:
            alone = {obj["instance_id"]: meshes[obj["instance_id"]]}
            ids, z, _ = first_hits(alone, np.tile(-R.T @ t, (len(rays), 1)), rays @ R)
            covered = (ids > 0) & ok
            expected = int(np.count_nonzero(covered))
            edge = int(np.count_nonzero(silhouette_band(covered.reshape(H, W).astype(int), z.reshape(H, W), None)
                                        & covered.reshape(H, W)))
            if expected > 50:  # off by at most a fifth of the object's edge pixels (its ids never smear)
                errors.append(abs(obj["unoccluded_pixels"] - expected) / edge)
    print(f"\n{model}: unoccluded pixels off ray casting by at most {max(errors):.1%} of the object's edge "
          f"pixels ({len(errors)} objects)")
    assert errors and max(errors) < 0.25


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(float) - b.astype(float)) ** 2))
    return 10 * np.log10(255.0 ** 2 / max(mse, 1e-12))


def test_undistorting_the_image_gives_the_pinhole_render_of_the_same_frame(lens_datasets: dict[str, Path]) -> None:
    from renderer.io.dataset import Dataset
    from renderer.pipeline.run import load_catalog
    from renderer.render.frame import FrameRenderer

    results = {}
    for model, root in lens_datasets.items():
        ds = Dataset(root)
        frame = ds[0]
        meta = read_meta(root, 0)
        cam = meta["camera"]
        K, d = np.array(cam["K"]), np.array(cam["distortion"], float)
        description = frame.description
        scene = lens_scene(root.parent, LENSES[model], fov=70.0 if model == "brown_conrady" else 160.0)
        catalog = load_catalog(scene)
        if model == "fisheye":  # undistort to a pinhole of 100 degrees across the height
            f = (H / 2) / np.tan(np.deg2rad(50))
            K_new = np.array([[f, 0, (W - 1) / 2], [0, f, (H - 1) / 2], [0, 0, 1]])
            undistorted = cv2.fisheye.undistortImage(frame.rgb, K, d, Knew=K_new)
        else:
            K_new = K
            undistorted = cv2.undistort(frame.rgb, K, d)
        pinhole = dataclasses.replace(description, camera=dataclasses.replace(
            description.camera, lens=None, K=tuple(map(tuple, K_new))))
        with FrameRenderer(W, H, scene.render) as renderer:
            reference = renderer.render(pinhole, catalog).rgb
        white = np.full((H, W), 255, np.uint8)
        covered = (cv2.fisheye.undistortImage(white, K, d, Knew=K_new) if model == "fisheye"
                   else cv2.undistort(white, K, d))
        mask = cv2.erode((covered == 255).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        results[model] = _psnr(undistorted[mask], reference[mask])
    print("\nundistorted vs pinhole render, PSNR: " + ", ".join(f"{m} {p:.1f} dB" for m, p in results.items()))
    assert all(p > 28.0 for p in results.values()), results


def test_flow_through_a_lens_is_the_surface_motion_projected_by_opencv(tmp_path: Path) -> None:
    config = lens_scene(tmp_path, LENSES["brown_conrady"], extra={
        "sequence": {"length": 3, "fps": 12.0, "camera": {"kind": "orbit", "orbit_speed_deg": [25, 40]},
                     "objects": {"kind": "kinematic", "speed": [0.1, 0.3], "spin_deg": [30, 120]}},
        "outputs": ["rgb", "depth", "instance", "flow_forward", "flow_forward_valid", "scene_flow_forward"]})
    generate(config, tmp_path / "ds", frames=3, seed=5)
    checked = within = 0
    for index in range(2):
        meta, after = read_meta(tmp_path / "ds", index), read_meta(tmp_path / "ds", index + 1)
        rays, ok = opencv_rays(meta)
        ids, z, _ = raycast_through(meta, rays)
        instance = read(tmp_path / "ds", index, "instance").ravel().astype(int)
        band = silhouette_band(ids.reshape(H, W), z.reshape(H, W)).ravel()
        use = ok & (ids > 0) & (instance == ids) & ~band
        here = rays[use] * z[use][:, None]
        poses = {}
        for m in (meta, after):
            w2c = np.array(m["camera"]["world_to_camera"])
            poses[id(m)] = {o["instance_id"]: w2c @ np.array(o["object_to_world"]) for o in m["description"]["objects"]
                            if o["instance_id"] > 0}
        moved = np.empty_like(here)
        for i in np.unique(ids[use]):
            k = ids[use] == i
            T = poses[id(after)][i] @ np.linalg.inv(poses[id(meta)][i])
            moved[k] = here[k] @ T[:3, :3].T + T[:3, 3]
        cam = after["camera"]
        expected = cv2.projectPoints(moved, np.zeros(3), np.zeros(3), np.array(cam["K"]),
                                     np.array(cam["distortion"], float))[0][:, 0]
        rows, cols = np.divmod(np.nonzero(use)[0], W)
        expected -= np.stack([cols, rows], axis=1)
        flow = read(tmp_path / "ds", index, "flow_forward").reshape(-1, 2)[use]
        error = np.abs(flow - expected).max(axis=1)
        checked += len(error)
        within += int(np.count_nonzero(error < 0.01))
    print(f"\nflow through brown_conrady: {within / checked:.3%} of {checked} pixels within 0.01 px of OpenCV")
    assert checked > 2000 and within >= 0.99 * checked


def test_bad_lens_settings_are_one_config_error(tmp_path: Path) -> None:
    for lens, words in (({"model": "zoom"}, "not one of"),
                        ({"model": "fisheye", "p1": 0.1}, "fisheye model has only k1, k2, k3, k4"),
                        ({"k1": float("nan")}, "k1"), ({"k1": 1e9}, "k1"), ({"supersampling": 9}, "supersampling"),
                        ({"field_of_view_deg": -5}, "field_of_view_deg"), ({"k7": 0.1}, "k7")):
        with pytest.raises(ConfigError, match=words):
            lens_scene(tmp_path, lens)


def test_pinhole_only_exports_refuse_lens_frames_before_writing(lens_datasets: dict[str, Path],
                                                                tmp_path: Path) -> None:
    from renderer.export.bop import export_bop
    from renderer.io.dataset import DatasetError

    with pytest.raises(DatasetError, match="pinhole cameras only.*brown_conrady"):
        export_bop(lens_datasets["brown_conrady"], tmp_path / "bop")
    assert not (tmp_path / "bop").exists()


def test_frames_made_on_the_fly_in_a_dataloader_equal_the_written_ones(lens_datasets: dict[str, Path]) -> None:
    from renderer.io.dataset import Dataset
    from renderer.torch import GeneratedDataset

    root = lens_datasets["fisheye"]
    config = lens_scene(root.parent, LENSES["fisheye"], fov=160.0)
    sample = GeneratedDataset(config, seed=3, length=2, fields=("image", "depth", "instance"))[1]
    written = Dataset(root)[1]
    assert np.array_equal(sample["depth"].numpy().squeeze(), written.depth)
    assert np.array_equal(sample["instance"].numpy().squeeze(), written.instance)


def test_coco_images_carry_the_lens_in_opencvs_form(lens_datasets: dict[str, Path], tmp_path: Path) -> None:
    import json

    from renderer.export.coco import export_coco

    export_coco(lens_datasets["fisheye"], tmp_path / "coco")
    image = json.loads((tmp_path / "coco" / "instances.json").read_text())["images"][0]
    meta = read_meta(lens_datasets["fisheye"], image["frame_index"])
    assert image["camera_model"] == "fisheye" and image["distortion"] == meta["camera"]["distortion"]
