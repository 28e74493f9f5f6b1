"""Faces (docs/faces.md): the 68 landmarks against ray casting of the posed mesh built straight from anny,
head pose against OpenCV's solvePnP on the projected landmarks, gaze against the eyeballs' own geometry,
face segmentation against ray-cast triangles, expressions against the mesh, identities byte for byte,
and the 300-W, COCO-faces and torch readers of what was written."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import scipy.ndimage
import trimesh
from raycast import first_hits, triangle_hits
from scene_reference import body_reference, camera, placement, read_meta, reference_meshes

from renderer.config.schema import load_scene, scene_from_dict, scene_to_dict
from renderer.pipeline.run import generate

pytest.importorskip("anny")

ROOT = Path(__file__).resolve().parents[1]
ANCHORS = ROOT / "renderer" / "humans" / "data" / "anny_ibug68.json"
FRAMES = 6


def faces_scene(**face: object) -> dict:
    """scenes/faces.yaml at 256 x 256, with face segmentation and the given people.face keys."""
    data = scene_to_dict(load_scene(ROOT / "scenes" / "faces.yaml"))
    data["image"] = {"width": 256, "height": 256}
    data["people"]["face"].update(face)
    data["background"] = {"kind": "solid"}
    data["outputs"] = ["rgb", "depth", "normals", "instance", "face_segmentation"]
    return data


@pytest.fixture(scope="module")
def faces_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("faces") / "ds"
    scene = scene_from_dict(faces_scene(glasses_probability=0.4, hat_probability=0.3, face_mask_probability=0.2),
                            source=str(ROOT / "scenes" / "faces.yaml"))
    generate(scene, root, frames=FRAMES, seed=5, workers=1)
    return root


def _anchor_points(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    data = json.loads(ANCHORS.read_text())
    corners = vertices[faces[np.asarray(data["faces"])]]
    return np.einsum("nk,nkd->nd", np.asarray(data["barycentric"]), corners)


def _people(meta: dict):
    for obj in meta["objects"]:
        if obj["category"] == "person":
            described = next(o for o in meta["description"]["objects"] if o["instance_id"] == obj["instance_id"])
            yield obj, described


def test_face_landmarks_project_and_are_seen_as_ray_casting_of_the_anny_mesh_says(faces_dataset: Path) -> None:
    agree = checked = 0
    for index in range(FRAMES):
        meta = read_meta(faces_dataset, index)
        K, world_to_camera, width, height = camera(meta)
        meshes = reference_meshes(meta)
        centre = np.linalg.inv(world_to_camera)[:3, 3]
        for obj, described in _people(meta):
            mesh, _ = body_reference(described["mesh"]["body"])
            world = trimesh.transform_points(_anchor_points(mesh.vertices, mesh.faces), placement(described))
            face = obj["face"]
            lm = face["landmarks"]
            assert len(lm["names"]) == 68
            assert np.allclose(lm["xyz_world"], world, atol=1e-6)
            rvec, _ = cv2.Rodrigues(world_to_camera[:3, :3])
            uv, _ = cv2.projectPoints(world, rvec, world_to_camera[:3, 3], K, None)
            assert np.allclose(lm["uv"], uv.reshape(-1, 2), atol=1e-3)
            # Seen: the first surface on the ray to the landmark lies at most 4 mm (camera z) before it.
            _, distance, _ = first_hits(meshes, np.tile(centre, (68, 1)), world - centre)
            z = (world @ world_to_camera[:3, :3].T + world_to_camera[:3, 3])[:, 2]
            gap = (1.0 - np.where(distance > 0, distance, 1.0)) * z
            inside = np.array(lm["in_frame"])
            reference = inside & (gap <= 0.004)
            clear = inside & (np.abs(gap - 0.004) > 0.0015)  # not within 1.5 mm of the threshold
            agree += int(np.sum(np.array(lm["visible"])[clear] == reference[clear]))
            checked += int(clear.sum())
    print(f"face landmark visibility: {agree} of {checked} agree with ray casting")
    assert checked > 150
    assert agree / checked >= 0.97, (agree, checked)


def _rigid_head_points(described: dict) -> tuple[np.ndarray, np.ndarray]:
    """The person's 68 landmarks with the head, neck and eyes at rest (same shape, expression and every
    other joint) in that body's head frame, and its head frame."""
    from renderer.humans.head import EYE_BONES, HEAD_BONES, head_frame
    from renderer.humans.model import body_model

    body = described["mesh"]["body"]
    turned = {b for b, _ in HEAD_BONES} | set(EYE_BONES)
    joints = tuple((b, tuple(a)) for b, a in body["joints"] if b not in turned)
    posed = body_model().pose(tuple((n, v) for n, v in body["phenotype"]), joints,
                              tuple((n, v) for n, v in body.get("expression", [])))
    frame = head_frame(posed.head_bone, posed.eye_bones)
    points = _anchor_points(posed.model_vertices, body_model().model_faces)
    return (points - frame[:3, 3]) @ frame[:3, :3], frame


def test_head_pose_agrees_with_solvepnp_on_the_projected_landmarks(faces_dataset: Path) -> None:
    errors = []
    for index in range(FRAMES):
        meta = read_meta(faces_dataset, index)
        K, _, _, _ = camera(meta)
        for obj, described in _people(meta):
            model_points, _ = _rigid_head_points(described)
            face = obj["face"]
            uv = np.array(face["landmarks"]["uv"])
            rigid = slice(17, 48)  # brows, nose and eyes: carried by the head bone alone
            ok, rvec, _ = cv2.solvePnP(model_points[rigid], uv[rigid], K, None, flags=cv2.SOLVEPNP_ITERATIVE)
            assert ok
            measured = cv2.Rodrigues(rvec)[0]
            label = np.array(face["head_rotation"])
            angle = np.rad2deg(np.arccos(np.clip((np.trace(measured.T @ label) - 1) / 2, -1, 1)))
            errors.append(angle)
            from renderer.humans.head import euler_from_rotation, rotation_from_euler

            yaw, pitch, roll = (face["head_euler_deg"][k] for k in ("yaw", "pitch", "roll"))
            assert np.allclose(rotation_from_euler(yaw, pitch, roll), label, atol=1e-5)
            assert np.allclose(euler_from_rotation(label), (yaw, pitch, roll), atol=1e-4)
    print(f"head pose vs solvePnP: median {np.median(errors):.3f}, max {max(errors):.3f} degrees")
    assert len(errors) == FRAMES
    assert np.median(errors) < 1.0 and max(errors) < 3.0, errors


def test_gaze_follows_the_eyeballs_of_the_mesh(faces_dataset: Path) -> None:
    """The gaze label against each eyeball's own axis: from the centroid of its vertices to the centroid
    of those at its front (cornea) in the unposed body, carried through the pose by anny's skinning."""
    from renderer.humans.model import body_model

    model = body_model().model
    indices, weights = model.vertex_bone_indices.numpy(), model.vertex_bone_weights.numpy()
    rest = body_model().pose((), ()).model_vertices
    angles = []
    for index in range(FRAMES):
        meta = read_meta(faces_dataset, index)
        _, world_to_camera, _, _ = camera(meta)
        for obj, described in _people(meta):
            mesh, _ = body_reference(described["mesh"]["body"])
            to_camera = world_to_camera @ placement(described)
            for eye, bone in enumerate(("eye.L", "eye.R")):
                k = list(model.bone_labels).index(bone)
                on_eye = ((indices == k) * weights).sum(axis=1) > 0.9
                front = on_eye & (rest[:, 1] < np.quantile(rest[on_eye, 1], 0.1))
                axis = mesh.vertices[front].mean(axis=0) - mesh.vertices[on_eye].mean(axis=0)
                axis = to_camera[:3, :3] @ axis / np.linalg.norm(axis)
                label = np.array(obj["face"]["gaze_camera"][eye])
                angles.append(np.rad2deg(np.arccos(np.clip(axis @ label, -1, 1))))
    print(f"gaze vs eyeball axis: median {np.median(angles):.3f}, max {max(angles):.3f} degrees")
    assert max(angles) < 4.0, angles


def test_face_segmentation_is_the_class_of_the_ray_cast_triangle(faces_dataset: Path) -> None:
    from renderer.humans.appearance import face_segmentation_classes, face_slots
    from renderer.humans.wardrobe import WORN
    from renderer.io.dataset import Dataset
    from renderer.scene.body import FACE_CLASSES
    from renderer.scene.description import FrameDescription

    data = Dataset(faces_dataset)
    agree = checked = 0
    seen: set[int] = set()
    for index in range(FRAMES):
        meta = read_meta(faces_dataset, index)
        K, world_to_camera, width, height = camera(meta)
        ids, triangles = triangle_hits(reference_meshes(meta), K, world_to_camera, width, height)
        frame = FrameDescription.from_dict(meta["description"])
        labels = data[index].array("face_segmentation")
        expected = np.zeros((height, width), dtype=int)
        for obj in frame.labelled_objects:
            here = ids == obj.instance_id
            if obj.category == "person":
                assert obj.mesh.body is not None
                classes = face_segmentation_classes(face_slots(obj.mesh.body))
                expected[here] = classes[triangles[here]]
            elif obj.category in WORN:
                expected[here] = FACE_CLASSES.index(WORN[obj.category].face_class)
        edge = scipy.ndimage.maximum_filter(expected, 3) != scipy.ndimage.minimum_filter(expected, 3)
        edge |= scipy.ndimage.maximum_filter(ids, 3) != scipy.ndimage.minimum_filter(ids, 3)
        person = (expected > 0) & ~edge
        agree += int(np.sum(labels[person] == expected[person]))
        checked += int(person.sum())
        seen.update(np.unique(labels[person]).tolist())
    print(f"face segmentation: {agree} of {checked} pixels agree with ray casting, classes {sorted(seen)}")
    assert checked > 20_000
    assert agree / checked > 0.995, agree / checked
    assert len(seen) >= 8  # skin, eyes, brows, lips, nose, hair, neck, clothing at least


def test_expressions_move_the_face_as_named() -> None:
    """On anny's mesh: a smile lifts the mouth corners, closed eyes close the eyelids, an open mouth
    parts the inner lips (landmarks in the body frame, z up)."""
    from renderer.humans.expressions import EXPRESSIONS
    from renderer.humans.model import body_model

    model = body_model()

    def landmarks(name: str) -> np.ndarray:
        posed = model.pose((), (), tuple(EXPRESSIONS[name].items()))
        return _anchor_points(posed.model_vertices, model.model_faces)

    neutral, smile, closed, open_mouth = (landmarks(n) for n in ("neutral", "smile", "eyes_closed", "mouth_open"))
    assert smile[[48, 54], 2].mean() > neutral[[48, 54], 2].mean() + 0.002
    lid_gap = lambda p: np.linalg.norm(p[[37, 38, 43, 44]] - p[[41, 40, 47, 46]], axis=1).mean()  # noqa: E731
    assert lid_gap(closed) < 0.4 * lid_gap(neutral)
    assert np.linalg.norm(open_mouth[62] - open_mouth[66]) > np.linalg.norm(neutral[62] - neutral[66]) + 0.01


def test_identities_repeat_byte_for_byte_and_nothing_else_does() -> None:
    from renderer.humans.catalog import scene_catalog
    from renderer.humans.identity import identity_digest
    from renderer.sampling.frame import sample_frame

    data = faces_scene()
    data["people"]["identities"] = 2
    config = scene_from_dict(data)
    catalog = scene_catalog(config)
    by_identity: dict[int, list] = {}
    for index in range(10):
        frame = sample_frame(config, catalog, seed=3, index=index)
        body = next(o.mesh.body for o in frame.objects if o.mesh.body is not None)
        by_identity.setdefault(body.attributes.identity_index, []).append(body)
    assert set(by_identity) == {0, 1}
    digests = set()
    for bodies in by_identity.values():
        first = bodies[0]
        for body in bodies:
            assert json.dumps(body.phenotype) == json.dumps(first.phenotype)  # the same bytes
            assert body.skin == first.skin and body.attributes.monk_tone == first.attributes.monk_tone
            assert body.attributes.identity == identity_digest(body.phenotype, body.attributes.monk_tone, body.skin)
        digests.add(first.attributes.identity)
        if len(bodies) > 2:  # per frame: pose, head, expression, clothes
            assert len({b.joints for b in bodies}) == len(bodies)
    assert len(digests) == 2


def test_300w_and_coco_faces_exports_read_back(faces_dataset: Path, tmp_path: Path) -> None:
    from pycocotools.coco import COCO

    from renderer.export import EXPORTERS

    out = EXPORTERS["300w"](faces_dataset, tmp_path / "300w")
    written = sorted(out.glob("*.pts"))
    assert written
    for path in written:
        lines = path.read_text().splitlines()
        assert lines[:3] == ["version: 1", "n_points: 68", "{"] and lines[-1] == "}"
        points = np.array([[float(v) for v in line.split()] for line in lines[3:-1]])
        # One face per frame here: <frame>.pts beside <frame>.png (the pairing 300-W tools use).
        meta = read_meta(faces_dataset, int(path.stem))
        obj = next(o for o in meta["objects"] if "face" in o)
        assert np.allclose(points, np.array(obj["face"]["landmarks"]["uv"]) + 1.0, atol=1e-4)
        assert (out / f"{path.stem}.png").is_file()
    path = EXPORTERS["coco_faces"](faces_dataset, tmp_path / "coco")
    coco = COCO(str(path))
    annotations = coco.loadAnns(coco.getAnnIds())
    assert len(annotations) == len(written)
    assert len(coco.loadCats(1)[0]["keypoints"]) == 68
    for ann in annotations:
        meta = read_meta(faces_dataset, ann["image_id"])
        obj = next(o for o in meta["objects"] if o["instance_id"] == ann["renderer_instance_id"])
        assert ann["bbox"] == [float(v) for v in obj["face"]["box"]]
        keypoints = np.array(ann["keypoints"]).reshape(68, 3)
        visible = np.array(obj["face"]["landmarks"]["visible"])
        assert np.array_equal(keypoints[:, 2] == 2, visible)
        mask = coco.annToMask(ann).astype(bool)
        assert mask.sum() == obj["visible_pixels"]


def test_torch_dataset_gives_face_keypoints_boxes_and_head_rotations(faces_dataset: Path) -> None:
    pytest.importorskip("torch")
    from renderer.torch import RenderedDataset

    data = RenderedDataset(faces_dataset)
    sample = data[0]
    meta = read_meta(faces_dataset, 0)
    seen = [o for o in meta["objects"] if o["visible_pixels"] > 0]
    assert sample["face_keypoints"].shape == (len(seen), 68, 3)
    for n, obj in enumerate(seen):
        if "face" in obj:
            lm = obj["face"]["landmarks"]
            inside = np.array(lm["in_frame"])
            assert np.allclose(sample["face_keypoints"][n, inside, :2].numpy(), np.array(lm["uv"])[inside], atol=1e-3)
            assert np.allclose(sample["head_rotations"][n].numpy(), obj["face"]["head_rotation"])
        else:
            assert not sample["face_keypoints"][n].any() and not sample["head_rotations"][n].any()


@pytest.mark.parametrize(("setting", "message"), [
    ("people.face.head_yaw_deg=[-120, 0]", "people.face.head_yaw_deg"),
    ("people.face.expressions={choice: [grin]}", "people.face.expressions"),
    ("people.face.glasses_probability=1.5", "glasses_probability"),
    ("people.face.facial_hair=braids", "people.face.facial_hair"),
    ("people.identities=-1", "people.identities"),
    ("camera.aim=eyes", "camera.aim"),
])
def test_bad_face_settings_are_one_clear_error(setting: str, message: str) -> None:
    from renderer.config.schema import ConfigError

    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        load_scene(ROOT / "scenes" / "faces.yaml", [setting])


def test_dense_face_vertices_are_the_posed_mesh_the_landmarks_sit_on(faces_dataset: Path) -> None:
    from renderer.humans.catalog import dense_face
    from renderer.scene.description import FrameDescription

    meta = read_meta(faces_dataset, 0)
    frame = FrameDescription.from_dict(meta["description"])
    person = next(o for o in frame.objects if o.mesh.body is not None)
    labels = next(o for o in meta["objects"] if o["instance_id"] == person.instance_id)
    indices, points = dense_face(person.mesh.body)
    mesh, _ = body_reference(meta["description"]["objects"][[o["instance_id"] for o in meta["description"]["objects"]]
                                                              .index(person.instance_id)]["mesh"]["body"])
    assert 4000 < len(indices) < 9000
    assert np.allclose(points, mesh.vertices[indices], atol=1e-6)  # anny's own posed vertices
    anchors = json.loads(ANCHORS.read_text())
    corners = mesh.faces[np.asarray(anchors["faces"])]
    assert np.isin(corners, indices).all()  # every landmark lies on the dense face
    to_camera = np.array(labels["object_to_camera"])
    cam = points @ to_camera[:3, :3].T + to_camera[:3, 3]
    assert (cam[:, 2] > 0).all()
