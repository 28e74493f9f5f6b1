"""People (renderer.humans): keypoints and their visibility against ray casting of the posed mesh built
straight from anny, joint limits over 10 000 sampled poses, arms outside the torso, skin tones against the
Monk swatches (CIELAB through OpenCV), demographics by chi-square, and byte-identical people per seed."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import scipy.stats
import trimesh
from raycast import first_hits
from scene_reference import asset_mesh, body_reference, camera, placement, read_meta, reference_meshes

from renderer.config.schema import load_scene, scene_from_dict
from renderer.humans.catalog import PeopleCatalog, build_body
from renderer.humans.keypoints import KEYPOINTS
from renderer.humans.parts import BODY_PARTS
from renderer.humans.poses import JOINT_LIMITS, NAMED_POSES, angles_xyz, rotation_xyz, sample_pose
from renderer.humans.skin import MONK_HEX
from renderer.pipeline.run import generate
from renderer.sampling.frame import sample_frame

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("anny")

PEOPLE_SCENE = {
    "image": {"width": 320, "height": 240},
    "camera": {"fov_deg": 50, "distance": [3.5, 4.5], "elevation_deg": [5, 25], "target": [0, 0, 0.9],
               "target_jitter": 0.2, "far": 50},
    "table": {"size": [6, 6], "thickness": 0.05, "texture": "checker"},
    "objects": {"count": 0},
    "people": {"count": [2, 4], "area": [2.0, 2.0], "min_gap": 0.0,
               "poses": {"choice": ["standing", "walking", "arms_raised", "waving", "crouching", "sitting"]}},
    "lights": {"count": 1, "intensity": 3.0},
    "outputs": ["rgb", "depth", "normals", "instance", "semantic", "body_parts", "body_covering", "surface_uv"],
    "constraints": {"min_visible_people": 2, "min_person_keypoints": 8},
}


@pytest.fixture(scope="module")
def people_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("people") / "ds"
    generate(scene_from_dict(PEOPLE_SCENE), root, frames=4, seed=11, workers=1)
    return root


def test_keypoints_project_and_are_seen_as_ray_casting_of_the_anny_mesh_says(people_dataset: Path) -> None:
    import scipy.ndimage

    from renderer.io.dataset import Dataset

    data = Dataset(people_dataset)
    agree, total, persons = 0, 0, 0
    for index in range(4):
        meta = read_meta(people_dataset, index)
        # Pixels next to a change of surface (id or a depth step): where the pixel centre and the exact
        # ray to a keypoint may see two different surfaces. Keypoints there are left out of the count.
        instance, depth = data[index].instance, data[index].depth.astype(float)
        edges = (scipy.ndimage.maximum_filter(instance, 3) != scipy.ndimage.minimum_filter(instance, 3)) | (
            scipy.ndimage.maximum_filter(depth, 3) - scipy.ndimage.minimum_filter(depth, 3) > 0.05)
        K, world_to_camera, width, height = camera(meta)
        meshes = reference_meshes(meta)
        eye = np.linalg.inv(world_to_camera)[:3, 3]
        for obj in meta["objects"]:
            if obj["category"] != "person":
                continue
            persons += 1
            described = next(o for o in meta["description"]["objects"] if o["instance_id"] == obj["instance_id"])
            mesh, keypoints = body_reference(described["mesh"]["body"])
            world = trimesh.transform_points(keypoints, placement(described))
            camera_points = trimesh.transform_points(world, world_to_camera)
            uv = (camera_points @ K.T)[:, :2] / camera_points[:, 2:3]
            lm = obj["landmarks"]
            assert lm["names"] == list(KEYPOINTS)
            assert np.allclose(np.array(lm["uv"]), uv, atol=1e-3)  # the same keypoints, projected the same way
            # Visible: the first surface on the ray to the keypoint is no more than the documented allowance
            # (1.5 x its depth under the skin + 3 cm) in front of it, in camera z.
            posed = trimesh.transform_points(mesh.vertices, placement(described))
            under_skin = np.min(np.linalg.norm(posed[None] - world[:, None], axis=2), axis=1)
            directions = world - eye
            ids, distance, _ = first_hits(meshes, np.repeat(eye[None], len(world), axis=0), directions)
            in_front = np.where(ids > 0, (1.0 - distance) * camera_points[:, 2], -1.0)
            inside = (uv[:, 0] >= -0.5) & (uv[:, 0] < width - 0.5) & (uv[:, 1] >= -0.5) & (uv[:, 1] < height - 0.5)
            expected = inside & (in_front <= 1.5 * under_skin + 0.03)
            assert np.array_equal(np.array(lm["in_frame"]), inside)
            rows = np.clip(np.floor(uv[:, 1] + 0.5).astype(int), 0, height - 1)
            cols = np.clip(np.floor(uv[:, 0] + 0.5).astype(int), 0, width - 1)
            counted = ~(inside & edges[rows, cols])
            agree += int(np.sum((np.array(lm["visible"]) == expected) & counted))
            total += int(np.sum(counted))
    assert persons >= 6 and total >= 100
    # Off the edges, only a keypoint whose allowance is met within the depth buffer's precision can differ.
    assert agree / total >= 0.98, f"{agree} of {total} visibilities agree"


def test_person_masks_match_ray_casting_and_the_meta_carries_demographics(people_dataset: Path) -> None:
    from raycast import raycast

    from renderer.io.dataset import Dataset

    data = Dataset(people_dataset)
    meta = read_meta(people_dataset, 0)
    K, world_to_camera, width, height = camera(meta)
    ref = raycast(reference_meshes(meta), K, world_to_camera, width, height)
    instance = data[0].instance
    assert np.mean(instance == ref.instance) > 0.99
    header = json.loads((people_dataset / "dataset.json").read_text())
    assert "person" in [c["name"] for c in header["categories"]]
    people = [o for o in meta["objects"] if o["category"] == "person"]
    for obj in people:
        person = obj["person"]
        assert 18 <= person["age_years"] <= 65 and person["gender"] in ("female", "male")
        assert 1 <= person["monk_tone"] <= 10 and 1.3 < person["height_m"] < 2.2
        described = next(o for o in meta["description"]["objects"] if o["instance_id"] == obj["instance_id"])
        rest = asset_mesh(described["mesh"])
        assert rest.vertices[:, 2].min() == pytest.approx(0.0, abs=1e-9)  # standing on the floor


def test_body_parts_covering_and_uv_match_ray_cast_faces_of_the_anny_mesh(people_dataset: Path) -> None:
    """Per pixel, the face Embree hits first on the anny-built mesh gives the expected part (recomputed
    here from anny's skinning weights), covering (the painted face classes) and UV (anny's texture
    coordinates at the hit point's barycentric coordinates)."""
    from raycast import first_faces, silhouette_band

    from renderer.humans.appearance import garment_face_classes
    from renderer.humans.parts import part_of_bone
    from renderer.io.dataset import Dataset
    from renderer.scene.body import COVERINGS, unpack_face_classes

    data = Dataset(people_dataset)
    header = json.loads((people_dataset / "dataset.json").read_text())
    assert header["classes"]["body_parts"] == list(BODY_PARTS) and len(BODY_PARTS) >= 14
    assert header["classes"]["body_covering"] == list(COVERINGS)
    checked, part_agree, cover_agree, uv_errors = 0, 0, 0, []
    seen_parts: set[int] = set()
    for index in range(4):
        meta = read_meta(people_dataset, index)
        K, world_to_camera, width, height = camera(meta)
        meshes = reference_meshes(meta)
        ids, faces, points = first_faces(meshes, K, world_to_camera, width, height)
        ref = np.where(ids > 0, (points @ world_to_camera[:3, :3].T + world_to_camera[:3, 3])[..., 2], 0)
        band = silhouette_band(ids, ref)
        frame = data[index]
        parts, covering, uv = frame.array("body_parts"), frame.array("body_covering"), frame.array("surface_uv")
        assert np.all((parts > 0) <= np.isin(frame.instance, [o["instance_id"] for o in meta["objects"]
                                                                  if o["category"] == "person"]))
        for obj in meta["description"]["objects"]:
            if obj["mesh"]["kind"] != "body":
                continue
            body = obj["mesh"]["body"]
            mesh, _ = body_reference(body)
            model = _anny_model()
            bone_part = np.array([BODY_PARTS.index(part_of_bone(b)) for b in model.bone_labels])
            indices, weights = model.vertex_bone_indices.numpy(), model.vertex_bone_weights.numpy()
            vertex_parts = np.zeros((len(indices), len(BODY_PARTS)))
            for j in range(indices.shape[1]):
                np.add.at(vertex_parts, (np.arange(len(indices)), bone_part[indices[:, j]]), weights[:, j])
            face_part = np.argmax(vertex_parts[mesh.faces].sum(axis=1), axis=1) + 1
            _, face_cover, _ = unpack_face_classes(garment_face_classes(body["top"]["kind"], body["bottom"]["kind"],
                                                                     body["shoes"]["kind"], body["hair_style"]))
            here = (ids == obj["instance_id"]) & ~band & (frame.instance == obj["instance_id"])
            f = faces[here]
            checked += int(here.sum())
            part_agree += int(np.sum(parts[here] == face_part[f]))
            cover_agree += int(np.sum(covering[here] == face_cover[f]))
            seen_parts.update(np.unique(face_part[f]).tolist())
            # UV at the hit point: barycentric coordinates on the posed reference face.
            world = trimesh.transform_points(mesh.vertices, placement(obj))
            bary = trimesh.triangles.points_to_barycentric(world[mesh.faces[f]], points[here])
            corner_uv = model.texture_coordinates.numpy()[model.face_texture_coordinate_indices.numpy()[f]]
            same = parts[here] == face_part[f]
            uv_errors.append(np.abs(np.einsum("nk,nkj->nj", bary, corner_uv) - uv[here])[same])
    assert checked > 3000 and len(seen_parts) >= 12
    assert part_agree / checked > 0.99, f"{part_agree} of {checked} part labels agree"
    assert cover_agree / checked > 0.99, f"{cover_agree} of {checked} covering labels agree"
    errors = np.concatenate(uv_errors)
    assert np.quantile(errors, 0.99) < 1e-3, np.quantile(errors, [0.5, 0.99, 1.0])


def _anny_model():  # type: ignore[no-untyped-def]
    from scene_reference import _ANNY

    return _ANNY[0]


def test_sampled_poses_never_leave_the_joint_limits() -> None:
    rng = np.random.default_rng(0)
    names = sorted(NAMED_POSES)
    for _ in range(10_000):
        pose = sample_pose(rng, names[rng.integers(len(names))], names[rng.integers(len(names))],
                           float(rng.uniform()), 25.0)
        for bone, angles in pose.items():
            limits, values = JOINT_LIMITS[bone], np.asarray(angles)
            assert np.all(values >= limits[:, 0] - 1e-9) and np.all(values <= limits[:, 1] + 1e-9)
    # The Euler convention, against scipy's extrinsic xyz.
    import scipy.spatial.transform

    angles = rng.uniform(-80, 80, size=(200, 3))
    for a in angles:
        expected = scipy.spatial.transform.Rotation.from_euler("xyz", a, degrees=True).as_matrix()
        assert np.allclose(rotation_xyz(a), expected, atol=1e-12)
        assert np.allclose(angles_xyz(rotation_xyz(a)), a, atol=1e-9)


def test_sampled_arms_stay_outside_the_torso() -> None:
    from renderer.humans.model import body_model

    model = body_model()
    rng = np.random.default_rng(3)
    phenotype = (("age", 0.67), ("gender", 0.5))
    torso = np.isin(model.face_parts, [BODY_PARTS.index("torso"), BODY_PARTS.index("pelvis")])
    arms = np.isin(model.face_parts, [BODY_PARTS.index(p) for p in
                                     ("left_lower_arm", "left_hand", "right_lower_arm", "right_hand")])
    names = sorted(NAMED_POSES)
    worst = 0.0
    for k in range(60):
        pose = sample_pose(rng, names[k % len(names)], names[rng.integers(len(names))], float(rng.uniform()), 8.0)
        body = model.pose(phenotype, tuple(pose.items()))
        hull = trimesh.convex.convex_hull(body.vertices[np.unique(body.faces[torso])])
        arm_points = body.vertices[np.unique(body.faces[arms])]
        worst = max(worst, float(np.mean(hull.contains(arm_points))))
    assert worst < 0.02, f"up to {worst:.1%} of a forearm and hand inside the torso's hull"


# Sharma, Wu & Dalal (2005), "The CIEDE2000 color-difference formula: implementation notes", Table 1:
# (L1, a1, b1), (L2, a2, b2), Delta E00.
SHARMA_PAIRS = (
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 3.1571, -77.2803), (50.0, 0.0, -82.7485), 2.8615),
    ((50.0, 2.8361, -74.0200), (50.0, 0.0, -82.7485), 3.4412),
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((50.0, 2.5, 0.0), (61.0, -5.0, 29.0), 22.8977),
    ((50.0, 2.5, 0.0), (56.0, -27.0, -3.0), 31.9030),
    ((50.0, 2.5, 0.0), (58.0, 24.0, 15.0), 19.4535),
)


def test_ciede2000_gives_the_published_differences() -> None:
    from renderer.humans.skin import delta_e_2000

    for first, second, expected in SHARMA_PAIRS:
        assert abs(float(delta_e_2000(np.array(first), np.array(second))) - expected) < 1e-4
        assert abs(float(delta_e_2000(np.array(second), np.array(first))) - expected) < 1e-4


def test_rendered_skin_albedo_matches_every_monk_swatch_and_darkens_with_every_tone() -> None:
    """One portrait per Monk tone, its skin's rendered albedo (the albedo channel at the pixels the
    body_covering channel calls skin, face and neck) against the published swatch: CIEDE2000 through
    OpenCV's CIELAB, luminance strictly falling from tone 1 to 10, tone 10 as dark as its swatch."""
    from renderer.humans.catalog import scene_catalog
    from renderer.humans.skin import delta_e_2000
    from renderer.labels.flow import surface_attributes
    from renderer.render.frame import FrameRenderer
    from renderer.sampling.frame import sample_frame
    from renderer.scene.body import BODY_PARTS, COVERINGS

    rows = []
    with FrameRenderer(160, 160) as renderer:
        for tone in range(1, 11):
            config = load_scene(ROOT / "scenes" / "faces.yaml",
                                ["image.width=160", "image.height=160", f"people.monk_tones=[{tone}, {tone}]",
                                 "people.balance=[]", "people.face.head_yaw_deg=[-20, 20]",
                                 "people.face.head_pitch_deg=[-10, 10]"])
            catalog = scene_catalog(config)
            frame = sample_frame(config, catalog, seed=11, index=tone)
            renderer.labels.render(frame, catalog)
            made = surface_attributes(renderer.labels, frame, catalog, ("albedo", "body_covering", "body_parts"))
            skin = (made["body_covering"] == COVERINGS.index("skin") + 1) & np.isin(
                made["body_parts"], [BODY_PARTS.index("head") + 1, BODY_PARTS.index("neck") + 1])
            assert skin.sum() > 200, f"tone {tone}: {skin.sum()} skin pixels"
            linear = np.median(made["albedo"][skin], axis=0).astype(np.float32)
            srgb = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
            ours = cv2.cvtColor(srgb.reshape(1, 1, 3).astype(np.float32), cv2.COLOR_RGB2Lab)[0, 0]
            code = MONK_HEX[tone - 1]
            swatch = np.array([[[int(code[i:i + 2], 16) for i in (1, 3, 5)]]], dtype=np.float32) / 255
            theirs = cv2.cvtColor(swatch, cv2.COLOR_RGB2Lab)[0, 0]
            swatch_linear = np.where(swatch <= 0.04045, swatch / 12.92, ((swatch + 0.055) / 1.055) ** 2.4)[0, 0]
            weights = np.array([0.2126, 0.7152, 0.0722])
            rows.append((float(delta_e_2000(ours.astype(float), theirs.astype(float))), float(linear @ weights),
                         float(swatch_linear @ weights)))
    delta = np.array([d for d, _, _ in rows])
    ours_y = np.array([y for _, y, _ in rows])
    print("CIEDE2000 per tone:", delta.round(2), "luminance:", ours_y.round(4))
    assert delta.mean() < 5.0 and delta.max() < 10.0, delta.round(2)
    assert np.all(np.diff(ours_y) < 0), ours_y.round(4)  # darker with every tone
    assert ours_y[-1] <= 1.1 * rows[-1][2]  # tone 10 as dark as its swatch (it was 1.9 x)


def test_demographics_are_drawn_uniformly_over_tones_and_genders() -> None:
    config = scene_from_dict({**PEOPLE_SCENE, "people": {"count": 1, "preset": "uniform"}})
    catalog = PeopleCatalog(config)
    counts = np.zeros((10, 2))
    ages = []
    for index in range(1000):
        frame = sample_frame(config, catalog, seed=5, index=index)
        person = next(o for o in frame.objects if o.category == "person").mesh.body
        assert person is not None
        counts[person.attributes.monk_tone - 1, ("female", "male").index(person.attributes.gender)] += 1
        ages.append(person.attributes.age_years)
    assert scipy.stats.chisquare(counts.ravel()).pvalue > 0.001
    assert scipy.stats.kstest(ages, scipy.stats.uniform(loc=1, scale=89).cdf).pvalue > 0.001
    # Uniform ages are far from uniform age groups (teens span 5 of 89 years): what balance is for.
    groups = np.histogram(ages, bins=[1, 13, 18, 65, 90.001])[0]
    assert scipy.stats.chisquare(groups).pvalue < 1e-6


def test_balance_makes_tones_age_groups_and_genders_jointly_uniform() -> None:
    from renderer.config.people import AGE_GROUPS

    people = {"count": 2, "preset": "uniform", "balance": ["monk_tone", "age_group", "gender"]}
    config = scene_from_dict({**PEOPLE_SCENE, "people": people})
    catalog = PeopleCatalog(config)
    groups = list(AGE_GROUPS)
    counts = np.zeros((10, len(groups), 2))
    for index in range(600):
        for obj in sample_frame(config, catalog, seed=9, index=index).objects:
            if obj.category != "person":
                continue
            person = obj.mesh.body.attributes  # type: ignore[union-attr]
            low, high = AGE_GROUPS[person.age_group]
            assert low <= person.age_years <= high
            counts[person.monk_tone - 1, groups.index(person.age_group), ("female", "male").index(person.gender)] += 1
    assert counts.sum() >= 1100 and counts.min() > 0
    assert scipy.stats.chisquare(counts.ravel()).pvalue > 0.001  # 80 cells, ~15 each
    # Within the configured ages only: children-only scenes balance over the groups they can give.
    kids = scene_from_dict({**PEOPLE_SCENE, "people": {"count": 1, "preset": "children", "balance": ["age_group"]}})
    assert kids.people.balance_values("age_group") == ("child",)


def test_constraints_keep_only_frames_with_enough_visible_people(people_dataset: Path) -> None:
    for index in range(4):
        meta = read_meta(people_dataset, index)
        seen = [o for o in meta["objects"] if o["category"] == "person" and o["visible_pixels"] > 0
                and not o.get("ignore") and sum(o["landmarks"]["visible"]) >= 8]
        assert len(seen) >= 2
    impossible = {**PEOPLE_SCENE, "people": {**PEOPLE_SCENE["people"], "count": 1},
                  "constraints": {"min_visible_people": 2, "max_attempts": 2}}
    from renderer.labels.constraints import ConstraintError

    with pytest.raises(ConstraintError, match="min_visible_people: 1 people seen"):
        generate(scene_from_dict(impossible), people_dataset.parent / "impossible", frames=1, seed=0, workers=1)


def test_same_seed_gives_byte_identical_people() -> None:
    config = scene_from_dict(PEOPLE_SCENE)
    catalog = PeopleCatalog(config)
    first = sample_frame(config, catalog, seed=2, index=7)
    again = sample_frame(config, PeopleCatalog(config), seed=2, index=7)
    assert json.dumps(first.to_dict()) == json.dumps(again.to_dict())
    body = next(o for o in first.objects if o.category == "person").mesh.body
    assert body is not None
    a, b = build_body(body), build_body(body)
    assert a[0].vertices.tobytes() == b[0].vertices.tobytes()
    assert np.asarray(a[0].visual.material.baseColorTexture).tobytes() == \
        np.asarray(b[0].visual.material.baseColorTexture).tobytes()
    other = sample_frame(config, catalog, seed=3, index=7)
    assert json.dumps(other.to_dict()) != json.dumps(first.to_dict())


def test_coco_person_keypoints_evaluate_with_pycocotools(people_dataset: Path, tmp_path: Path) -> None:
    """The COCO export's person keypoints, read and scored by pycocotools with our documented sigmas:
    the ground truth as detections scores AP 1; keypoints moved by 4 pixels score less."""
    import contextlib
    import io

    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    from renderer.export.coco import export_coco
    from renderer.humans.keypoints import COCO_SIGMAS, SKELETON

    path = export_coco(people_dataset, tmp_path / "coco")
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(path))
    person = next(c for c in gt.dataset["categories"] if c["name"] == "person")
    assert person["keypoints"] == list(KEYPOINTS)
    assert {tuple(sorted(e)) for e in person["skeleton"]} == {
        tuple(sorted((KEYPOINTS.index(a) + 1, KEYPOINTS.index(b) + 1))) for a, b in SKELETON}
    anns = [a for a in gt.dataset["annotations"] if a["category_id"] == person["id"] and a["num_keypoints"] > 0]
    assert anns

    def score(shift: float) -> float:
        detections = []
        for a in anns:
            kp = np.array(a["keypoints"], dtype=float).reshape(-1, 3)
            kp[:, :2] += shift
            detections.append({"image_id": a["image_id"], "category_id": a["category_id"], "score": 1.0,
                               "keypoints": kp.ravel().tolist()})
        with contextlib.redirect_stdout(io.StringIO()):
            dt = gt.loadRes(detections)
            ev = COCOeval(gt, dt, "keypoints")
            ev.params.catIds = [person["id"]]
            ev.params.kpt_oks_sigmas = np.array(COCO_SIGMAS)
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
        return float(ev.stats[0])

    assert score(0.0) == pytest.approx(1.0)
    assert score(4.0) < 0.9


def test_yolo_pose_export_reads_in_ultralytics_with_people_keypoints_and_flips(people_dataset: Path,
                                                                                tmp_path: Path) -> None:
    import importlib.util
    import os
    import subprocess
    import sys

    from test_export import YOLO_CHECK

    from renderer.export import export_yolo
    from renderer.io.dataset import Dataset

    if importlib.util.find_spec("ultralytics") is None:
        pytest.skip("ultralytics is not installed")
    data_yaml = export_yolo(people_dataset, tmp_path / "yolo", task="pose")
    import yaml

    data = yaml.safe_load(data_yaml.read_text())
    assert data["names"] == {0: "person"} and data["kpt_shape"] == [len(KEYPOINTS), 3]
    for k, name in enumerate(KEYPOINTS):  # left <-> right, the nose to itself
        partner = name.replace("left_", "RIGHT_").replace("right_", "left_").replace("RIGHT_", "right_")
        assert KEYPOINTS[data["flip_idx"][k]] == partner
    env = {**os.environ, "YOLO_OFFLINE": "1", "YOLO_CONFIG_DIR": str(tmp_path / "cfg")}
    result = subprocess.run([sys.executable, "-c", YOLO_CHECK, str(data_yaml), "pose"], capture_output=True,
                            text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    read = json.loads(result.stdout.strip().splitlines()[-1])
    by_file = {Path(label["file"]).stem: label for label in read["labels"]}
    ds = Dataset(people_dataset)
    people = 0
    for i in range(len(ds)):
        frame = ds[i]
        width, height = frame.image_size
        seen = [o for o in frame.objects if o.visible_pixels > 0 and o.category == "person"]
        keypoints = np.array(by_file[f"{frame.index:06d}"]["keypoints"])
        assert len(keypoints) == len(seen)
        for obj, read_points in zip(seen, keypoints, strict=True):
            lm = obj.landmarks
            v = np.where(lm.visible, 2, np.where(lm.in_frame, 1, 0))
            np.testing.assert_array_equal(read_points[:, 2], v)
            xy = (lm.uv + 0.5) / [width, height]
            np.testing.assert_allclose(read_points[lm.in_frame, :2], xy[lm.in_frame], atol=2e-6)
            people += 1
    assert people >= 6


KEYPOINT_RCNN_CHECK = """
import sys, torch
from torch.utils.data import DataLoader
from torchvision.models.detection import keypointrcnn_resnet50_fpn
from renderer.torch import RenderedDataset, collate_detection, keep_category

data = RenderedDataset(sys.argv[1], fields=["image", "boxes", "labels", "keypoints"])
person = next(k for k, name in data.frames.categories.items() if name == "person")
data.transform = keep_category(person, keypoints=17)
images, targets = next(iter(DataLoader(data, batch_size=2, collate_fn=collate_detection)))
assert all(t["keypoints"].shape[1:] == (17, 3) and len(t["keypoints"]) == len(t["boxes"]) > 0 for t in targets)
assert all(bool((t["labels"] == person).all()) for t in targets)
torch.manual_seed(0)
model = keypointrcnn_resnet50_fpn(weights=None, weights_backbone=None, num_classes=person + 1,
                                  min_size=240, max_size=320)
model.train()
optimiser = torch.optim.SGD(model.parameters(), lr=0.005, momentum=0.9)
totals = []
for step in range(4):
    losses = model(images, targets)
    assert "loss_keypoint" in losses and all(torch.isfinite(v) for v in losses.values())
    total = sum(losses.values())
    optimiser.zero_grad()
    total.backward()
    grad = model.roi_heads.keypoint_predictor.kps_score_lowres.weight.grad
    assert grad is not None and float(grad.abs().sum()) > 0
    optimiser.step()
    totals.append(float(total))
print("keypoint-rcnn", " ".join(f"{t:.4f}" for t in totals))
assert totals[-1] < totals[0], totals
"""


def test_keypoint_rcnn_trains_forward_and_backward_on_generated_people(people_dataset: Path) -> None:
    """torchvision's Keypoint R-CNN (random weights, CPU) takes a generated batch through
    keep_category + collate_detection: finite losses with a keypoint loss, gradients on its keypoint
    head, and a few SGD steps on the batch lower the loss. In a fresh interpreter (triton: see
    tests/test_torch.py)."""
    import importlib.util
    import subprocess
    import sys

    if importlib.util.find_spec("torchvision") is None:
        pytest.skip("torchvision is not installed")
    result = subprocess.run([sys.executable, "-c", KEYPOINT_RCNN_CHECK, str(people_dataset)], capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0 and "keypoint-rcnn" in result.stdout, result.stderr[-3000:]


ANIMATED_SCENE = {
    **{k: v for k, v in PEOPLE_SCENE.items() if k != "constraints"},
    "people": {"count": 2, "area": [2.0, 2.0], "min_gap": 0.0,
               "poses": {"choice": ["walking", "waving", "arms_raised", "crouching"]}},
    "sequence": {"length": 4, "fps": 8, "people": {"kind": "animate", "pose_period": 0.3, "walk_speed": 0.6}},
    "outputs": ["rgb", "depth", "normals", "instance", "semantic", "body_parts", "flow_forward",
                "flow_forward_valid"],
}


def test_animated_people_have_the_flow_of_their_deforming_surface(tmp_path: Path) -> None:
    """People animate between key poses and walk; optical flow follows each surface point of the
    deforming body: the point Embree hits in frame t (face and barycentric coordinates on the mesh built
    from frame t's meta by anny), carried to the same face and coordinates of frame t + 1's mesh and
    projected with that frame's camera, lands where our flow says."""
    from raycast import first_faces, silhouette_band

    from renderer.humans.poses import JOINT_LIMITS
    from renderer.io.dataset import Dataset

    root = tmp_path / "animated"
    generate(scene_from_dict(ANIMATED_SCENE), root, frames=4, seed=3, workers=1)
    data = Dataset(root)
    errors, moved = [], []
    for t in range(3):
        meta, after = read_meta(root, t), read_meta(root, t + 1)
        K, world_to_camera, width, height = camera(meta)
        K1, world_to_camera1, _, _ = camera(after)
        ids, faces, points = first_faces(reference_meshes(meta), K, world_to_camera, width, height)
        depth = np.where(ids > 0, (points @ world_to_camera[:3, :3].T + world_to_camera[:3, 3])[..., 2], 0)
        band = silhouette_band(ids, depth)
        frame = data[t]
        flow, valid = frame.array("flow_forward"), frame.array("flow_forward_valid")
        for obj, obj1 in zip(meta["description"]["objects"], after["description"]["objects"], strict=True):
            if obj["mesh"]["kind"] != "body":
                continue
            for bone, angles in obj1["mesh"]["body"]["joints"]:  # within the limits at every frame
                limits = JOINT_LIMITS[bone]
                values = np.asarray(angles)
                assert np.all(values >= limits[:, 0] - 1e-9) and np.all(values <= limits[:, 1] + 1e-9)
            mesh, keypoints = body_reference(obj["mesh"]["body"])
            mesh1, keypoints1 = body_reference(obj1["mesh"]["body"])
            world = trimesh.transform_points(mesh.vertices, placement(obj))
            world1 = trimesh.transform_points(mesh1.vertices, placement(obj1))
            moved.append(float(np.abs(trimesh.transform_points(keypoints1, placement(obj1))
                                      - trimesh.transform_points(keypoints, placement(obj))).max()))
            here = (ids == obj["instance_id"]) & ~band & valid
            f = faces[here]
            bary = trimesh.triangles.points_to_barycentric(world[mesh.faces[f]], points[here])
            carried = np.einsum("nk,nkj->nj", bary, world1[mesh1.faces[f]])
            camera1 = carried @ world_to_camera1[:3, :3].T + world_to_camera1[:3, 3]
            uv1 = (camera1 @ K1.T)[:, :2] / camera1[:, 2:3]
            rows, cols = np.nonzero(here)
            errors.append(np.linalg.norm(uv1 - np.stack([cols, rows], axis=1) - flow[here], axis=1))
    errors_all = np.concatenate(errors)
    assert len(errors_all) > 2000 and max(moved) > 0.05  # people do move (metres)
    assert np.median(errors_all) < 1e-3 and np.quantile(errors_all, 0.99) < 0.02, np.quantile(errors_all, [0.5, 0.99])


def test_physics_objects_hit_people_instead_of_passing_through() -> None:
    """A box thrown at a person's hips: pybullet with the person as a static concave obstacle sends it
    back; without the obstacle it flies on past where the person stands."""
    import dataclasses

    from renderer.sampling.physics import simulate_throws
    from renderer.scene.description import MaterialDescription, MeshSource, ObjectDescription, as_matrix

    config = scene_from_dict({**PEOPLE_SCENE, "people": {"count": 1, "poses": "standing", "area": [0.1, 0.1]}})
    catalog = PeopleCatalog(config)
    person = next(o for o in sample_frame(config, catalog, seed=1, index=0).objects if o.category == "person")
    person = dataclasses.replace(person, object_to_world=as_matrix(np.eye(4)))
    box = ObjectDescription(2, "box", "box", 1, MeshSource("box", extents=(0.1, 0.1, 0.1)), 1.0, as_matrix(np.eye(4)),
                            MaterialDescription((1, 1, 1, 1), 0.0, 0.5))
    start = np.eye(4)
    start[:3, 3] = (-1.0, 0.0, 1.2)
    times = np.linspace(0.0, 1.5, 16)
    throw = [(box, start, np.array([3.0, 0.0, 0.0]), np.zeros(3))]
    hit = simulate_throws(config, catalog, throw, times, obstacles=(person,))[0]
    free = simulate_throws(config, catalog, throw, times)[0]
    assert free[-1, 0, 3] > 0.3  # past the person's place
    assert hit[:, 0, 3].max() < 0.0 and hit[-1, 0, 3] < -0.05  # stopped in front of the body


def test_report_shows_demographic_histograms_and_keypoint_statistics(people_dataset: Path, tmp_path: Path) -> None:
    from collections import Counter

    pytest.importorskip("matplotlib")
    from renderer.inspect.report import dataset_statistics, write_report
    from renderer.io.dataset import Dataset

    stats = dataset_statistics(Dataset(people_dataset)).people
    placed, seen, visible_counts, nose = Counter(), Counter(), [], Counter()
    for index in range(4):  # straight from the meta JSON
        for obj in read_meta(people_dataset, index)["objects"]:
            if obj["category"] != "person":
                continue
            placed[obj["person"]["monk_tone"]] += 1
            if obj["visible_pixels"] > 0:
                seen[obj["person"]["gender"]] += 1
                visible_counts.append(sum(obj["landmarks"]["visible"]))
                nose["visible" if obj["landmarks"]["visible"][0] else "in" if obj["landmarks"]["in_frame"][0]
                     else "out"] += 1
    assert {int(k): v for k, v in stats.placed["monk_tone"].items()} == dict(placed)
    assert dict(stats.seen["gender"]) == dict(seen)
    assert sorted(stats.visible_keypoints) == sorted(visible_counts)
    assert (stats.keypoints["nose"].visible, stats.keypoints["nose"].occluded) == (nose["visible"], nose["in"])
    page = write_report(people_dataset, tmp_path / "report.html").read_text()
    for table in ("people-monk_tone", "people-age_group", "people-gender", "people-pose", "people-keypoints"):
        assert f"id='{table}'" in page
    assert "People by monk tone" in page and "Visible keypoints per person" in page


def test_stature_and_mass_are_those_of_the_rest_mesh_anny_itself_gives() -> None:
    """height_m and mass_kg (from the blended rest vertices alone) equal the extent and the volume x
    1010 kg/m^3 of anny's whole rest mesh."""
    import torch

    from renderer.humans.model import body_model

    model = body_model()
    rng = np.random.default_rng(0)
    names = ("age", "gender", "height", "weight", "muscle", "proportions", "african", "asian", "caucasian")
    for _ in range(5):
        phenotype = tuple(sorted((name, float(rng.uniform())) for name in names))
        with torch.no_grad():
            z = model.model(phenotype_kwargs=dict(phenotype))["rest_vertices"][0, :, 2].numpy()
            rest = model.model(phenotype_kwargs=dict(phenotype))["rest_vertices"][0].numpy().astype(float)
        assert model.stature(phenotype) == pytest.approx(float(z.max() - z.min()), abs=1e-9)
        mesh = trimesh.Trimesh(rest, model.model_faces, process=False)  # watertight: trimesh's volume
        assert mesh.is_watertight and model.mass(phenotype) == pytest.approx(mesh.volume * 1010.0, rel=1e-9)


def test_garments_take_fabric_images_from_a_folder(tmp_path: Path) -> None:
    """people.garment_images: garments tiled with a fabric image (a red/blue check here) instead of
    their colour: the top's texels are the image's colours, and the frame description names the file."""
    from PIL import Image

    from renderer.humans.appearance import SLOTS, _texel_slots

    fabric = np.zeros((64, 64, 3), np.uint8)
    check = ((np.arange(64)[:, None] // 16 + np.arange(64)[None, :] // 16) % 2).astype(bool)
    fabric[check], fabric[~check] = (220, 20, 20), (20, 20, 220)
    (tmp_path / "fabrics").mkdir()
    Image.fromarray(fabric).save(tmp_path / "fabrics" / "check.png")
    people = {"count": 2, "garment_images": str(tmp_path / "fabrics"), "garment_image_probability": 1.0,
              "tops": "tshirt"}
    config = scene_from_dict({**PEOPLE_SCENE, "people": people})
    catalog = PeopleCatalog(config)
    bodies = [o.mesh.body for o in sample_frame(config, catalog, seed=0, index=0).objects if o.category == "person"]
    assert bodies and all(b is not None and b.top.pattern == "image" and b.top.image.endswith("check.png")
                          for b in bodies)
    body = bodies[0]
    assert body is not None
    texture = np.asarray(build_body(body)[0].visual.material.baseColorTexture).astype(int)
    top = _texel_slots(body.top.kind, body.bottom.kind, body.shoes.kind, body.hair_style) == SLOTS.index("top")
    colours = texture[top]
    red = np.abs(colours - (220, 20, 20)).max(axis=1) < 40
    blue = np.abs(colours - (20, 20, 220)).max(axis=1) < 40
    assert (red | blue).mean() > 0.9 and red.mean() > 0.2 and blue.mean() > 0.2
    with pytest.raises(Exception, match="garment_image_probability: needs garment_images"):
        scene_from_dict({**PEOPLE_SCENE, "people": {"count": 1, "garment_image_probability": 0.5}})


def test_people_are_byte_identical_across_worker_processes(people_dataset: Path, tmp_path: Path) -> None:
    """The same scene and seed written by two worker processes gives the same files, byte for byte."""
    generate(scene_from_dict(PEOPLE_SCENE), tmp_path / "two", frames=4, seed=11, workers=2)
    for folder in ("rgb", "instance", "body_parts", "body_covering", "surface_uv", "meta"):
        for path in sorted((people_dataset / folder).iterdir()):
            assert (tmp_path / "two" / folder / path.name).read_bytes() == path.read_bytes(), f"{folder}/{path.name}"


def test_bodies_shade_smoothly_across_their_uv_seams() -> None:
    """The two copies of a vertex split at a UV seam get the same smooth normal (as pyrender receives
    it), pointing the way the faces around it do: no crease along the seams."""
    import pyrender

    from renderer.humans.model import body_model

    config = scene_from_dict({**PEOPLE_SCENE, "people": {"count": 1}})
    body = next(o for o in sample_frame(config, PeopleCatalog(config), seed=0, index=0).objects
                if o.category == "person").mesh.body
    assert body is not None
    mesh = build_body(body)[0]
    normals = pyrender.Mesh.from_trimesh(mesh).primitives[0].normals.astype(float)
    vertex_of = body_model().vertex_of
    order = np.argsort(vertex_of, kind="stable")
    same = np.nonzero(vertex_of[order][1:] == vertex_of[order][:-1])[0]
    a, b = order[same], order[same + 1]
    assert len(a) > 500
    assert np.degrees(np.arccos(np.clip(np.sum(normals[a] * normals[b], axis=1), -1, 1))).max() < 0.1
    # Outward like the faces: each vertex normal within 90 degrees of the mean of its faces' normals.
    face_mean = np.zeros_like(normals)
    np.add.at(face_mean, mesh.faces.ravel(), np.repeat(mesh.face_normals, 3, axis=0))
    assert np.mean(np.sum(face_mean * normals, axis=1) > 0) > 0.999
