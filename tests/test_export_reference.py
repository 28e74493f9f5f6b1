"""Exports read by the reference tools with no glue (issue 37), on tabletop, people and faces datasets:
pycocotools' COCOeval with its default parameters plus only the file's sigmas scores the ground truth
against itself at AP 1; menpo's ``import_images`` pairs every 300-W image with its landmarks; Ultralytics'
own loader reads a segment row for every visible object (boxes = mask extents) and the 68 face landmarks;
every export option given a bad value ends in one line and exit 2. Expected values come from the raw
meta files and images, never from the exporters."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from renderer.cli import main
from renderer.config.schema import load_scene, scene_from_dict, scene_to_dict
from renderer.export import EXPORTERS, export_coco, export_yolo
from renderer.pipeline.run import generate

pytest.importorskip("pycocotools")
from pycocotools.coco import COCO  # noqa: E402
from pycocotools.cocoeval import COCOeval, Params  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
try:  # at collection, as test_people does: importing torch (anny) after a GL context exists crashes
    import anny  # noqa: F401
    HAVE_ANNY = True
except ImportError:
    HAVE_ANNY = False


def _tiny(scene: str, width: int, height: int, **changes: object) -> dict:
    data = scene_to_dict(load_scene(ROOT / "scenes" / scene))
    data["image"] = {"width": width, "height": height}
    data["background"] = {"kind": "solid"}
    data.update(changes)
    return data


@pytest.fixture(scope="module")
def people_faces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """scenes/people.yaml (people and objects) at 160 x 120 with face labels: several faces per frame."""
    if not HAVE_ANNY:
        pytest.skip("anny (renderer[people]) is not installed")
    data = _tiny("people.yaml", 160, 120)
    data["people"]["count"] = 2
    data["people"]["face"]["labels"] = True
    data["camera"]["distance"] = [3.0, 3.5]
    root = tmp_path_factory.mktemp("people_faces") / "ds"
    generate(scene_from_dict(data, source=str(ROOT / "scenes" / "people.yaml")), root, frames=2, seed=4, workers=1)
    return root


@pytest.fixture(scope="module")
def portraits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """scenes/faces.yaml at 96 x 96: one face per frame."""
    if not HAVE_ANNY:
        pytest.skip("anny (renderer[people]) is not installed")
    root = tmp_path_factory.mktemp("portraits") / "ds"
    generate(scene_from_dict(_tiny("faces.yaml", 96, 96), source=str(ROOT / "scenes" / "faces.yaml")), root,
             frames=2, seed=5, workers=1)
    return root


def _read_image(path: Path) -> np.ndarray:
    """The image file as stored (8/16 bit, channels as written), read by OpenCV."""
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert image is not None, path
    return np.asarray(image)


def _meta_frames(root: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((root / "meta").glob("*.json"))]


def _keypoint_ap(path: Path) -> float:
    """COCOeval (keypoints) of the file against itself: default params plus the file's sigmas."""
    gt = COCO(str(path))
    categories = gt.loadCats(gt.getCatIds())
    detections = [{"image_id": a["image_id"], "category_id": a["category_id"], "keypoints": a["keypoints"],
                   "score": 1.0} for a in gt.loadAnns(gt.getAnnIds())]
    assert detections, path
    evaluation = COCOeval(gt, gt.loadRes(detections), "keypoints")
    evaluation.params.kpt_oks_sigmas = np.array(categories[0]["sigmas"])
    evaluation.evaluate()
    evaluation.accumulate()
    evaluation.summarize()
    return float(evaluation.stats[0])


@pytest.mark.parametrize("which", ["tabletop_dataset", "people_faces", "portraits"])
def test_cocoeval_scores_each_keypoint_file_at_ap_1(which: str, request: pytest.FixtureRequest,
                                                    tmp_path: Path) -> None:
    root = request.getfixturevalue(which)
    instances = export_coco(root, tmp_path / "coco")
    whole = json.loads(instances.read_text())
    for category in whole["categories"]:
        assert len(category["sigmas"]) == len(category["keypoints"]) and all(s > 0 for s in category["sigmas"])
        if category["name"] == "person":  # COCO's own 17 sigmas (pycocotools' defaults), then the feet
            np.testing.assert_allclose(category["sigmas"][:17], Params(iouType="keypoints").kpt_oks_sigmas)
    files = sorted(instances.parent.glob("keypoints_*.json"))
    with_keypoints = {c["name"] for c in whole["categories"] if c["keypoints"]}
    seen = set()
    for path in files:
        data = json.loads(path.read_text())
        layouts = {(tuple(c["keypoints"]), tuple(c["sigmas"])) for c in data["categories"]}
        assert len(layouts) == 1  # COCOeval has one sigma array
        assert all(a["num_keypoints"] > 0 for a in data["annotations"])
        seen |= {c["name"] for c in data["categories"]}
        if any(not a["iscrowd"] for a in data["annotations"]):  # crowd regions alone: nothing to score
            assert _keypoint_ap(path) == pytest.approx(1.0, abs=1e-12)  # tp / (tp + fp + eps)
    assert seen == with_keypoints
    # Every object with a keypoint in frame (raw meta) is in exactly one keypoint file.
    expected = sorted((i, o["instance_id"]) for i, m in enumerate(_meta_frames(root))
                      for o in m["objects"] if o["visible_pixels"] > 0 and any(o["landmarks"]["in_frame"]))
    written = sorted((a["image_id"], a["renderer_instance_id"]) for p in files
                     for a in json.loads(p.read_text())["annotations"])
    assert written == expected
    if which != "tabletop_dataset":
        faces = EXPORTERS["coco_faces"](root, tmp_path / "coco")
        category = json.loads(faces.read_text())["categories"][0]
        assert len(category["sigmas"]) == 68
        assert _keypoint_ap(faces) == pytest.approx(1.0, abs=1e-12)


def test_export_cli_names_the_keypoint_files(tabletop_dataset: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", str(tabletop_dataset), "--format", "coco", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "kpt_oks_sigmas" in out
    for path in tmp_path.glob("keypoints_*.json"):
        assert str(path) in out


def _pts(path: Path) -> np.ndarray:
    lines = path.read_text().splitlines()
    return np.array([[float(v) for v in line.split()] for line in lines[3:-1]])


@pytest.mark.parametrize("which", ["people_faces", "portraits"])
def test_300w_pairs_every_face_with_its_image(which: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """menpo's import_images attaches each face's 68 points to its image (its own <stem>.pts rule); the
    image is the frame (one face) or a crop of it (several), and the points are the raw labels there."""
    root = request.getfixturevalue(which)
    out = EXPORTERS["300w"](root, tmp_path / "300w", crop_margin=0.2)
    faces = {(i, o["instance_id"]): o for i, m in enumerate(_meta_frames(root)) for o in m["objects"]
             if "face" in o and any(o["face"]["landmarks"]["in_frame"])}
    assert faces
    listed = list(csv.DictReader((out / "faces.csv").open()))
    assert len(listed) == len(faces)
    several = any(sum(k[0] == i for k in faces) > 1 for i, _ in faces)
    assert several == (which == "people_faces")  # both ways of pairing are exercised
    try:
        import menpo.io as mio
    except ImportError:
        mio = None
    if mio is not None:
        images = mio.import_images(str(out / "*.png"))
        paired = {Path(str(im.path)).stem: im for im in images if im.landmarks.n_groups > 0}
        assert len(paired) == len(faces)
    for row in listed:
        frame, instance = int(row["frame_index"]), int(row["instance_id"])
        uv = np.array(faces[(frame, instance)]["face"]["landmarks"]["uv"])
        stem = Path(row["pts"]).stem
        assert row["image"] == f"{stem}.png"
        frame_faces = [k for k in faces if k[0] == frame]
        crop = _read_image(out / row["image"])
        whole = _read_image(root / "rgb" / f"{frame:06d}.png")
        x0, y0 = int(row["crop_x"]), int(row["crop_y"])
        if len(frame_faces) == 1:
            assert stem == f"{frame:06d}" and (x0, y0) == (0, 0)
        else:
            assert stem == f"{frame:06d}_{instance:03d}"
            box = faces[(frame, instance)]["face"]["box"]
            assert x0 <= box[0] and y0 <= box[1] and x0 + crop.shape[1] >= box[0] + box[2]
        np.testing.assert_array_equal(crop, whole[y0:y0 + crop.shape[0], x0:x0 + crop.shape[1]])
        np.testing.assert_allclose(_pts(out / row["pts"]), uv - [x0, y0] + 1.0, atol=1e-4)
        if mio is not None:
            # menpo reads .pts as 0-based (y, x): 300-W's 1-based (x, y) minus one, swapped.
            points = paired[stem].landmarks[paired[stem].landmarks.group_labels[0]].points
            np.testing.assert_allclose(points[:, ::-1], uv - [x0, y0], atol=1e-4)


YOLO_READ = """
import json, sys
from ultralytics.data.utils import check_det_dataset
from ultralytics.data.dataset import YOLODataset

data = check_det_dataset(sys.argv[1], autodownload=False)
dataset = YOLODataset(img_path=data["train"], data=data, task=sys.argv[2], imgsz=160, augment=False)
out = []
for label in dataset.labels:
    entry = {"file": label["im_file"], "cls": label["cls"].ravel().tolist(), "bboxes": label["bboxes"].tolist(),
             "segments": [s.tolist() for s in label["segments"]]}
    if sys.argv[2] == "pose":
        entry["keypoints"] = label["keypoints"].tolist()
    out.append(entry)
print(json.dumps({"labels": out, "kpt_shape": data.get("kpt_shape"), "flip_idx": data.get("flip_idx"),
                  "names": data["names"]}))
"""


def _ultralytics(data_yaml: Path, task: str, tmp_path: Path) -> dict:
    import importlib.util

    if importlib.util.find_spec("ultralytics") is None:
        pytest.skip("ultralytics is not installed")
    env = {**os.environ, "YOLO_OFFLINE": "1", "YOLO_CONFIG_DIR": str(tmp_path / "cfg")}
    result = subprocess.run([sys.executable, "-c", YOLO_READ, str(data_yaml), task], capture_output=True, text=True,
                            timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("which", ["tabletop_dataset", "people_faces"])
def test_yolo_segment_rows_for_every_visible_object(which: str, request: pytest.FixtureRequest,
                                                    tmp_path: Path) -> None:
    """A segment row for every object with a visible pixel, thin and split ones included; the box
    Ultralytics derives from the polygon is the instance mask's extent exactly."""
    root = request.getfixturevalue(which)
    read = _ultralytics(export_yolo(root, tmp_path / "yolo", task="segment"), "segment", tmp_path)
    by_file = {Path(label["file"]).stem: label for label in read["labels"]}
    for i, meta in enumerate(_meta_frames(root)):
        instance = _read_image(root / "instance" / f"{i:06d}.png")
        height, width = instance.shape[:2]
        seen = [o for o in meta["objects"] if o["visible_pixels"] > 0]
        label = by_file[f"{i:06d}"]
        assert len(label["cls"]) == len(seen) == len(label["segments"])
        for obj, box in zip(seen, label["bboxes"], strict=True):
            ys, xs = np.nonzero(instance == obj["instance_id"])
            x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
            expected = [(x0 + x1) / 2 / width, (y0 + y1) / 2 / height, (x1 - x0) / width, (y1 - y0) / height]
            np.testing.assert_allclose(box, expected, atol=2e-6)


def test_yolo_pose_of_the_68_face_landmarks(people_faces: Path, tmp_path: Path) -> None:
    read = _ultralytics(export_yolo(people_faces, tmp_path / "yolo", task="pose", category="face"), "pose", tmp_path)
    assert read["kpt_shape"] == [68, 3] and list(read["names"].values()) == ["face"]
    # flip_idx against the geometry: the rest-pose face (anny_ibug68.json) mirrored across x = 0 lands on
    # the flipped points; the mirror is an involution.
    flip = np.array(read["flip_idx"])
    assert np.array_equal(flip[flip], np.arange(68))
    rest = np.array(json.loads((ROOT / "renderer/humans/data/anny_ibug68.json").read_text())["rest_points"])
    mirrored = rest * [-1, 1, 1]
    gaps = np.linalg.norm(mirrored - rest[flip], axis=1)
    others = np.linalg.norm(mirrored[:, None] - rest[None], axis=2)
    assert np.array_equal(others.argmin(axis=1), flip), gaps.max()
    by_file = {Path(label["file"]).stem: label for label in read["labels"]}
    total = 0
    for i, meta in enumerate(_meta_frames(people_faces)):
        height, width = _read_image(people_faces / "rgb" / f"{i:06d}.png").shape[:2]
        faces = [o["face"] for o in meta["objects"] if "face" in o and any(o["face"]["landmarks"]["in_frame"])]
        label = by_file[f"{i:06d}"]
        keypoints = np.array(label["keypoints"])
        assert len(keypoints) == len(faces)
        for face, points in zip(faces, keypoints, strict=True):
            lm = face["landmarks"]
            inside = np.array(lm["in_frame"])
            expected = (np.array(lm["uv"]) + 0.5) / [width, height]
            np.testing.assert_allclose(points[inside, :2], expected[inside], atol=2e-6)
            np.testing.assert_array_equal(points[:, 2] > 0, inside)
            total += 1
    assert total


def _bad(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    try:
        code = main(argv)
    except SystemExit as stop:
        code = int(stop.code or 0)
    err = capsys.readouterr().err
    assert code == 2, (argv, err)
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_every_export_option_with_a_bad_value_is_one_line_and_exit_2(tabletop_dataset: Path, tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    ds, out = str(tabletop_dataset), str(tmp_path / "x")
    _bad(["export", ds, "--format", "no_such_format"], capsys)
    for exporter in EXPORTERS.values():
        for option in exporter.options:
            # A value no option takes: not a choice, not a number, not a category of the dataset.
            _bad(["export", ds, "--format", exporter.name, "--out", out, option.flag, "no such value"], capsys)
            other = next(e for e in EXPORTERS.values() if option.keyword not in {o.keyword for o in e.options})
            value = option.choices[0] if option.choices else str(option.default if option.default != "" else "1")
            err = _bad(["export", ds, "--format", other.name, "--out", out, option.flag, value], capsys)
            assert option.flag in err
    err = _bad(["export", ds, "--format", "yolo", "--task", "pose", "--category", "face", "--out", out], capsys)
    assert "face labels" in err
    _bad(["export", ds, "--format", "yolo", "--task", "segment", "--category", "face", "--out", out], capsys)


def test_segment_polygons_rasterise_back_to_the_mask() -> None:
    """pycocotools rasterises each polygon (COCO's continuous coordinates, as YOLO's) back to exactly
    the mask for one piece, holes filled, one pixel wide too; pieces split by occlusion are all covered,
    plus at most the bridges' pixels, and the polygon's extent is the mask's box."""
    import scipy.ndimage
    from pycocotools import mask as mask_utils

    from renderer.export.yolo import mask_polygon

    rng = np.random.default_rng(0)
    h, w = 20, 24
    for trial in range(120):
        noise = rng.random((h, w))
        mask = scipy.ndimage.binary_opening(noise < 0.5) if trial % 3 else noise < 0.15
        if trial % 4 == 0:
            mask = np.zeros((h, w), bool)
            mask[3:15, 2 + trial % 20] = True  # one pixel wide
        pieces, count = scipy.ndimage.label(mask, structure=np.ones((3, 3)))
        if count == 0:
            continue
        for wanted in (scipy.ndimage.binary_fill_holes(pieces == 1), scipy.ndimage.binary_fill_holes(mask)):
            polygon = mask_polygon(wanted)
            back = mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects([polygon.ravel().tolist()], h, w)))
            back = back.astype(bool)
            ys, xs = np.nonzero(wanted)
            assert polygon.min(axis=0).tolist() == [xs.min(), ys.min()]
            assert polygon.max(axis=0).tolist() == [xs.max() + 1, ys.max() + 1]
            if scipy.ndimage.label(wanted)[1] == 1:
                np.testing.assert_array_equal(back, wanted)
            else:
                assert back[wanted].all()
