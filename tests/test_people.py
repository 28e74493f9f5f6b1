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

from renderer.config.schema import scene_from_dict
from renderer.humans.catalog import PeopleCatalog, build_body
from renderer.humans.keypoints import KEYPOINTS
from renderer.humans.parts import BODY_PARTS
from renderer.humans.poses import JOINT_LIMITS, NAMED_POSES, angles_xyz, rotation_xyz, sample_pose
from renderer.humans.skin import MONK_HEX, linear_rgb, monk_fit, reflectance
from renderer.pipeline.run import generate
from renderer.sampling.frame import sample_frame

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
    "outputs": ["rgb", "depth", "normals", "instance", "semantic"],
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


def test_skin_model_matches_the_monk_swatches_in_cielab() -> None:
    """Delta-E 1976 of each tone's fitted skin against its published hex colour, both through OpenCV's
    CIELAB (sRGB, D65): the table of docs/people.md."""
    table = []
    for tone, (melanin, blood, _) in enumerate(monk_fit(), start=1):
        linear = linear_rgb(reflectance(melanin, blood)).astype(np.float32)
        srgb = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
        ours = cv2.cvtColor(srgb.reshape(1, 1, 3).astype(np.float32), cv2.COLOR_RGB2Lab)[0, 0]
        code = MONK_HEX[tone - 1]
        swatch = np.array([[[int(code[i:i + 2], 16) for i in (1, 3, 5)]]], dtype=np.float32) / 255
        theirs = cv2.cvtColor(swatch, cv2.COLOR_RGB2Lab)[0, 0]
        table.append((float(np.linalg.norm(ours - theirs)), float(ours[0])))
    delta = np.array([d for d, _ in table])
    lightness = np.array([lum for _, lum in table])
    assert delta.mean() < 5.0 and delta.max() < 10.0, delta.round(2)
    assert np.all(np.diff(lightness) < 0.5)  # darker with every tone


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
