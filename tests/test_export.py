"""COCO and BOP exports, checked with pycocotools and with geometry the exporter does not use."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import trimesh
from raycast import raycast, silhouette_band
from scene_reference import camera as meta_camera
from scene_reference import landmark_points, read_meta

from renderer.cli import main
from renderer.export import export_bop, export_coco, export_yolo
from renderer.io.dataset import Dataset

pycocotools = pytest.importorskip("pycocotools")
from pycocotools import mask as mask_utils  # noqa: E402
from pycocotools.coco import COCO  # noqa: E402
from pycocotools.cocoeval import COCOeval  # noqa: E402


@pytest.fixture(scope="module")
def coco_file(tabletop_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_coco(tabletop_dataset, tmp_path_factory.mktemp("coco"))


def test_coco_masks_boxes_areas_equal_instance_masks(tabletop_dataset: Path, coco_file: Path) -> None:
    coco = COCO(str(coco_file))
    ds = Dataset(tabletop_dataset)
    assert sorted(coco.getImgIds()) == ds.indices
    checked = 0
    for frame in (ds[i] for i in range(len(ds))):
        anns = {a["renderer_instance_id"]: a for a in coco.loadAnns(coco.getAnnIds(imgIds=[frame.index]))}
        visible = [o for o in frame.objects if o.visible_pixels > 0]
        assert set(anns) == {o.instance_id for o in visible}
        image = coco.loadImgs([frame.index])[0]
        assert (image["width"], image["height"]) == frame.image_size
        assert (tabletop_dataset / image["file_name"]).is_file()
        for obj in visible:
            ann = anns[obj.instance_id]
            mask = coco.annToMask(ann).astype(bool)
            np.testing.assert_array_equal(mask, frame.instance == obj.instance_id)
            assert ann["area"] == mask.sum()
            rows, cols = np.nonzero(mask)
            assert ann["bbox"] == [cols.min(), rows.min(), cols.max() - cols.min() + 1, rows.max() - rows.min() + 1]
            assert coco.loadCats([ann["category_id"]])[0]["name"] == obj.category
            checked += 1
    assert checked > 20


def test_coco_keypoints_follow_landmarks(tabletop_dataset: Path, coco_file: Path) -> None:
    coco = COCO(str(coco_file))
    ds = Dataset(tabletop_dataset)
    frame = ds[0]
    anns = {a["renderer_instance_id"]: a for a in coco.loadAnns(coco.getAnnIds(imgIds=[frame.index]))}
    seen = {0: 0, 1: 0, 2: 0}
    for obj in frame.objects:
        if obj.instance_id not in anns:
            continue
        names = coco.loadCats([obj.category_id])[0]["keypoints"]
        kp = np.array(anns[obj.instance_id]["keypoints"], dtype=float).reshape(-1, 3)
        for k, name in enumerate(obj.landmarks.names):
            x, y, v = kp[names.index(name)]
            expected_v = 2 if obj.landmarks.visible[k] else 1 if obj.landmarks.in_frame[k] else 0
            assert v == expected_v
            seen[int(v)] += 1
            if v > 0:  # COCO's image corner is (0, 0): our pixel centres are at +0.5
                np.testing.assert_allclose([x, y], obj.landmarks.uv[k] + 0.5, atol=1e-9)
        assert anns[obj.instance_id]["num_keypoints"] == int(obj.landmarks.in_frame.sum())
    assert seen[1] > 0 and seen[2] > 0  # both occluded and visible landmarks occur
    table = coco.loadCats(coco.getCatIds(catNms=["table"]))[0]
    assert len(table["skeleton"]) == 12  # box edges, 1-based pairs of keypoint indices
    assert all(1 <= i <= len(table["keypoints"]) for edge in table["skeleton"] for i in edge)


def _independent_ground_truth(root: Path) -> dict:
    """COCO ground truth made here from the raw files, sharing nothing with the exporter: masks from each
    instance PNG read by OpenCV, RLE-encoded by pycocotools.mask, areas and boxes by its area and toBbox;
    keypoints the asset's landmarks (tests/scene_reference.py) projected with the meta file's camera,
    COCO's pixel corner at (0, 0) (ours are centres: +0.5), v = 2 where inside the image."""
    header = json.loads((root / "dataset.json").read_text())
    metas = [read_meta(root, int(p.stem)) for p in sorted((root / "meta").glob("*.json"))]
    keypoints: dict[str, list[str]] = {}
    images, annotations = [], []
    for meta in metas:
        K, world_to_camera, width, height = meta_camera(meta)
        images.append({"id": meta["index"], "width": width, "height": height})
        instance = cv2.imread(str(root / "instance" / f"{meta['index']:06d}.png"), cv2.IMREAD_UNCHANGED)
        assert instance.dtype == np.uint16 and instance.shape == (height, width)
        for obj in meta["description"]["objects"]:
            if obj["instance_id"] == 0:
                continue
            mask = instance == obj["instance_id"]
            if not mask.any():
                continue
            rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
            names, world = landmark_points(meta, obj["instance_id"])
            keypoints.setdefault(obj["category"], names)
            cam = world @ world_to_camera[:3, :3].T + world_to_camera[:3, 3]
            uv = (cam @ K.T)[:, :2] / cam[:, 2:3]
            inside = (cam[:, 2] > 0) & np.all((uv >= -0.5) & (uv < np.array([width, height]) - 0.5), axis=1)
            kp = np.column_stack([uv + 0.5, 2 * inside]) * inside[:, None]
            annotations.append({
                "id": len(annotations) + 1, "image_id": meta["index"], "category_id": obj["category_id"],
                "segmentation": {"size": rle["size"], "counts": rle["counts"].decode()},
                "area": float(mask_utils.area(rle)), "bbox": mask_utils.toBbox(rle).tolist(), "iscrowd": 0,
                "keypoints": kp.ravel().tolist(), "num_keypoints": int(inside.sum()),
                "instance_id": obj["instance_id"]})
    categories = [{"id": c["id"], "name": c["name"], "keypoints": keypoints.get(c["name"], [])}
                  for c in header["categories"]]
    return {"images": images, "annotations": annotations, "categories": categories}


def _as_detections(exported: dict, truth: dict) -> list[dict]:
    """The exported annotations as scored detections in the reference's categories and keypoint order."""
    names = {c["id"]: c for c in exported["categories"]}
    ids = {c["name"]: c["id"] for c in truth["categories"]}
    order = {c["name"]: c["keypoints"] for c in truth["categories"]}
    detections = []
    for ann in exported["annotations"]:
        category = names[ann["category_id"]]
        kp = np.array(ann["keypoints"], dtype=float).reshape(-1, 3)
        slots = [category["keypoints"].index(n) for n in order[category["name"]]]
        detections.append({"image_id": ann["image_id"], "category_id": ids[category["name"]],
                           "bbox": ann["bbox"], "segmentation": ann["segmentation"], "score": 1.0,
                           "keypoints": kp[slots].ravel().tolist(),
                           "renderer_instance_id": ann["renderer_instance_id"]})
    return detections


def _average_precision(truth: COCO, detections: list[dict], iou_type: str, category: dict) -> np.ndarray:
    evaluator = COCOeval(truth, truth.loadRes(copy.deepcopy(detections)), iou_type)
    evaluator.params.catIds = [category["id"]]
    evaluator.params.maxDets = [100]
    if iou_type == "keypoints":
        evaluator.params.kpt_oks_sigmas = np.full(len(category["keypoints"]), 0.05)
    evaluator.evaluate()
    evaluator.accumulate()
    return evaluator.eval["precision"][:, :, 0, 0, -1]  # all IoU thresholds, recalls; area "all"


@pytest.mark.parametrize("iou_type", ["bbox", "segm", "keypoints"])
def test_cocoeval_of_the_export_against_independent_ground_truth(tabletop_dataset: Path, coco_file: Path,
                                                                  iou_type: str) -> None:
    """The export scored as detections against ground truth made from the raw files
    (_independent_ground_truth) is perfect in every category; one detection perturbed is not."""
    reference = _independent_ground_truth(tabletop_dataset)
    exported = json.loads(coco_file.read_text())
    # The exported fields themselves equal the reference's (pycocotools decodes the exporter's RLE).
    by_key = {(a["image_id"], a["instance_id"]): a for a in reference["annotations"]}
    assert len(exported["annotations"]) == len(by_key) > 20
    for ann in exported["annotations"]:
        truth = by_key[(ann["image_id"], ann["renderer_instance_id"])]
        assert ann["iscrowd"] == 0 and ann["area"] == truth["area"] and ann["bbox"] == truth["bbox"]
        np.testing.assert_array_equal(mask_utils.decode(ann["segmentation"]), mask_utils.decode(truth["segmentation"]))
        assert ann["num_keypoints"] == truth["num_keypoints"]
    truth = COCO()
    truth.dataset = reference
    truth.createIndex()
    detections = _as_detections(exported, reference)
    for key in ("bbox", "segm", "keypoints"):
        if key != iou_type:  # loadRes derives boxes and areas from what a detection gives
            for det in detections:
                det.pop({"bbox": "bbox", "segm": "segmentation", "keypoints": "keypoints"}[key])
    evaluated = 0
    for category in truth.loadCats(truth.getCatIds()):
        anns = truth.loadAnns(truth.getAnnIds(catIds=[category["id"]]))
        if not anns or (iou_type == "keypoints" and not any(a["num_keypoints"] for a in anns)):
            continue
        precision = _average_precision(truth, detections, iou_type, category)
        assert precision.min() == pytest.approx(1.0), (category["name"], iou_type)
        evaluated += 1
    assert evaluated >= 5
    # One detection (box, mask or keypoints) moved right by half its width misses at every IoU/OKS threshold.
    target = max((a for a in reference["annotations"] if a["num_keypoints"] > 2), key=lambda a: a["area"])
    perturbed = copy.deepcopy(detections)
    det = next(d for d in perturbed if (d["image_id"], d["renderer_instance_id"]) == (target["image_id"],
                                                                                       target["instance_id"]))
    x, y, w, h = target["bbox"]
    if iou_type == "bbox":
        det["bbox"] = [x + w / 2, y, w, h]
    elif iou_type == "segm":
        mask = mask_utils.decode(det["segmentation"])
        shifted = np.zeros_like(mask)
        shifted[:, int(w / 2):] = mask[:, :mask.shape[1] - int(w / 2)]
        rle = mask_utils.encode(np.asfortranarray(shifted))
        det["segmentation"] = {"size": rle["size"], "counts": rle["counts"].decode()}
    else:
        kp = np.array(det["keypoints"]).reshape(-1, 3)
        kp[:, 0] += w / 2
        det["keypoints"] = kp.ravel().tolist()
    category = truth.loadCats([target["category_id"]])[0]
    precision = _average_precision(truth, perturbed, iou_type, category)
    assert precision.mean() < 1.0 and precision[:, -1].max() == 0.0  # AP < 1: full recall at no threshold


@pytest.fixture(scope="module")
def bop_root(pybullet_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_bop(pybullet_dataset, tmp_path_factory.mktemp("bop"))


def _bop_scene(bop_root: Path) -> tuple[Path, dict, dict, dict]:
    scene = bop_root / "train_pbr" / "000000"
    load = lambda name: json.loads((scene / name).read_text())  # noqa: E731
    return scene, load("scene_camera.json"), load("scene_gt.json"), load("scene_gt_info.json")


def test_bop_depth_and_visible_masks(pybullet_dataset: Path, bop_root: Path) -> None:
    ds = Dataset(pybullet_dataset)
    scene, cameras, gts, _ = _bop_scene(bop_root)
    for frame in (ds[i] for i in range(len(ds))):
        im = str(frame.index)
        depth_png = cv2.imread(str(scene / "depth" / f"{frame.index:06d}.png"), cv2.IMREAD_UNCHANGED)
        assert depth_png.dtype == np.uint16
        scale = cameras[im]["depth_scale"]
        np.testing.assert_allclose(depth_png * scale, frame.depth * 1000.0, atol=scale / 2 + 1e-3)
        # The toolkit's renderer puts pixel (c, r)'s centre at (c + 1/2, r + 1/2) in K's coordinates.
        np.testing.assert_allclose(np.array(cameras[im]["cam_K"]).reshape(3, 3) - frame.K,
                                   [[0, 0, 0.5], [0, 0, 0.5], [0, 0, 0]], atol=1e-12)
        for k, obj in enumerate(frame.objects):
            visib = cv2.imread(str(scene / "mask_visib" / f"{frame.index:06d}_{k:06d}.png"), cv2.IMREAD_UNCHANGED)
            np.testing.assert_array_equal(visib > 0, frame.instance == obj.instance_id)
        assert len(gts[im]) == len(frame.objects)


def _toolkit_box(mask: np.ndarray, offset: tuple[int, int] = (0, 0)) -> list[int]:
    """bop_toolkit's misc.calc_2d_bbox on a mask's pixels (unclipped): [x, y, x_max - x, y_max - y]."""
    ys, xs = np.nonzero(mask)
    return [int(xs.min()) - offset[0], int(ys.min()) - offset[1], int(xs.max() - xs.min()), int(ys.max() - ys.min())]


def test_bop_poses_put_the_model_on_its_amodal_mask(pybullet_dataset: Path, bop_root: Path) -> None:
    """Ray-cast each BOP model (mm, centred) alone with its BOP pose and K, in the toolkit's pixel
    convention (pixel centres at c + 1/2): it must cover exactly mask/; on a canvas three times the
    image (the toolkit's calc_gt_info) it gives px_count_all and the unclipped bbox_obj."""
    ds = Dataset(pybullet_dataset)
    scene, cameras, gts, infos = _bop_scene(bop_root)
    info = json.loads((bop_root / "models" / "models_info.json").read_text())
    checked = truncated = 0
    for frame in (ds[i] for i in range(len(ds))):
        im = str(frame.index)
        width, height = frame.image_size
        K = np.array(cameras[im]["cam_K"]).reshape(3, 3)
        K_centres = K - np.array([[0, 0, 0.5], [0, 0, 0.5], [0, 0, 0]])  # rays through (c + 1/2, r + 1/2)
        K_large = K_centres + np.array([[0, 0, width], [0, 0, height], [0, 0, 0]])
        for k, (gt, gt_info) in enumerate(zip(gts[im], infos[im], strict=True)):
            model = trimesh.load(str(bop_root / "models" / f"obj_{gt['obj_id']:06d}.ply"), force="mesh")
            assert info[str(gt["obj_id"])]["asset_id"] == frame.description.labelled_objects[k].asset_id
            model_to_camera = np.eye(4)
            model_to_camera[:3, :3] = np.array(gt["cam_R_m2c"]).reshape(3, 3)
            model_to_camera[:3, 3] = np.array(gt["cam_t_m2c"]) / 1000.0
            model.apply_scale(1e-3)
            reference = raycast({1: model}, K_centres, model_to_camera, width, height)
            mask = cv2.imread(str(scene / "mask" / f"{frame.index:06d}_{k:06d}.png"), cv2.IMREAD_UNCHANGED) > 0
            away = ~silhouette_band(reference.instance, reference.depth, jump=None)
            np.testing.assert_array_equal(mask[away], reference.instance[away] == 1)
            large = raycast({1: model}, K_large, model_to_camera, 3 * width, 3 * height)
            band = silhouette_band(large.instance, large.depth, jump=None) & (large.instance == 1)
            assert abs(gt_info["px_count_all"] - int((large.instance == 1).sum())) <= band.sum() // 2 + 1
            assert gt_info["px_count_visib"] == frame.objects[k].visible_pixels
            truncated += gt_info["px_count_all"] > mask.sum() + band.sum()
            if gt_info["px_count_visib"] > 0:
                expected = _toolkit_box(large.instance == 1, (width, height))
                assert np.abs(np.array(gt_info["bbox_obj"]) - expected).max() <= 1
                visib = cv2.imread(str(scene / "mask_visib" / f"{frame.index:06d}_{k:06d}.png"),
                                   cv2.IMREAD_UNCHANGED) > 0
                assert gt_info["bbox_visib"] == _toolkit_box(visib)
            else:
                assert gt_info["bbox_obj"] == gt_info["bbox_visib"] == [-1, -1, -1, -1]
            checked += 1
    assert checked >= 18 and truncated >= 1  # some objects are cut by the image border


def test_bop_models_have_normals_centred_origins_and_symmetries(tabletop_dataset: Path, tmp_path: Path) -> None:
    root = export_bop(tabletop_dataset, tmp_path / "bop")
    info = json.loads((root / "models" / "models_info.json").read_text())
    expected = {"ball": "continuous", "bottle": "continuous", "bowl": "continuous", "can": "continuous",
                "cone": "continuous", "donut": "continuous", "cereal_box": "discrete", "mug": None,
                "table": "discrete"}  # shape symmetries (a table top is a box)
    seen = set()
    for obj_id, entry in info.items():
        header = (root / "models" / f"obj_{int(obj_id):06d}.ply").read_bytes()[:400]
        assert b"property float nx" in header or b"property double nx" in header
        for axis in "xyz":
            assert entry[f"min_{axis}"] == pytest.approx(-entry[f"size_{axis}"] / 2, abs=1e-6)
        kind = ("continuous" if "symmetries_continuous" in entry else
                "discrete" if "symmetries_discrete" in entry else None)
        assert kind == expected[entry["asset_id"]], entry["asset_id"]
        if kind == "discrete":
            assert len(entry["symmetries_discrete"]) == 3 and all(len(m) == 16 for m in entry["symmetries_discrete"])
        seen.add(entry["asset_id"])
    assert {"mug", "cereal_box", "bottle"} <= seen
    targets = json.loads((root / "test_targets_bop19.json").read_text())
    gt_info = json.loads((root / "train_pbr" / "000000" / "scene_gt_info.json").read_text())
    gt = json.loads((root / "train_pbr" / "000000" / "scene_gt.json").read_text())
    expected_targets = []
    for im_id in sorted(gt, key=int):
        counts: dict[int, int] = {}
        for g, i in zip(gt[im_id], gt_info[im_id], strict=True):
            if i["visib_fract"] >= 0.1:
                counts[g["obj_id"]] = counts.get(g["obj_id"], 0) + 1
        expected_targets += [{"im_id": int(im_id), "inst_count": n, "obj_id": o, "scene_id": 0}
                             for o, n in sorted(counts.items())]
    assert targets == expected_targets and targets


def test_export_cli(pybullet_dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "ds"
    shutil.copytree(pybullet_dataset, copy)
    assert main(["export", str(copy), "--format", "coco"]) == 0
    assert (copy / "coco" / "instances.json").is_file()
    assert main(["export", str(tmp_path / "missing"), "--format", "bop"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a renderer dataset" in err[0]


def test_coco_min_visible_fraction_makes_crowd_regions(pybullet_dataset: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    assert main(["export", str(pybullet_dataset), "--format", "coco", "--out", str(tmp_path / "c"),
                 "--min-visible-fraction", "0.9"]) == 0
    coco = COCO(str(tmp_path / "c" / "instances.json"))
    anns = coco.loadAnns(coco.getAnnIds())
    assert all("instance_id" not in a for a in anns)  # FiftyOne reserves it; ours are prefixed
    crowd = [a for a in anns if a["iscrowd"]]
    assert crowd and all(a["renderer_visible_fraction"] < 0.9 for a in crowd)
    assert all(a["renderer_visible_fraction"] >= 0.9 for a in anns if not a["iscrowd"])
    # COCOeval ignores crowd regions: detections of the other objects alone score AP 1.
    detections = [{"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"], "score": 1.0}
                  for a in anns if not a["iscrowd"]]
    evaluation = COCOeval(coco, coco.loadRes(detections), "bbox")
    evaluation.evaluate()
    evaluation.accumulate()
    evaluation.summarize()
    assert evaluation.stats[0] == pytest.approx(1.0)
    with pytest.raises(SystemExit) as stop:
        main(["export", str(pybullet_dataset), "--format", "coco", "--min-visible-fraction", "2"])
    assert stop.value.code == 2 and "must be in [0, 1]" in capsys.readouterr().err


def test_coco_padded_keypoints_and_the_documented_cocoeval_recipe(tabletop_dataset: Path, tmp_path: Path) -> None:
    """One keypoint count for every category (Keypoint R-CNN's need); COCOeval with one sigma per
    keypoint, as docs/export.md says, scores the ground truth against itself at AP 1."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    assert main(["export", str(tabletop_dataset), "--format", "coco", "--out", str(tmp_path / "own")]) == 0
    own = json.loads((tmp_path / "own" / "instances.json").read_text())
    assert len({len(c["keypoints"]) for c in own["categories"]}) > 1  # categories differ: padding matters
    assert main(["export", str(tabletop_dataset), "--format", "coco", "--out", str(tmp_path / "k"),
                 "--keypoints", "padded"]) == 0
    coco = COCO(str(tmp_path / "k" / "instances.json"))
    counts = {len(c["keypoints"]) for c in coco.loadCats(coco.getCatIds())}
    assert len(counts) == 1
    count = counts.pop()
    anns = coco.loadAnns(coco.getAnnIds())
    assert all(len(a["keypoints"]) == 3 * count for a in anns)
    for category in coco.loadCats(coco.getCatIds()):
        for slot, name in enumerate(category["keypoints"]):
            if name.startswith("unused_"):
                assert all(a["keypoints"][3 * slot + 2] == 0 for a in anns if a["category_id"] == category["id"])
    # Each padded slot holds the landmark of its name, as the independent reference projects it.
    reference = _independent_ground_truth(tabletop_dataset)
    by_key = {(a["image_id"], a["instance_id"]): a for a in reference["annotations"]}
    names = {c["name"]: c["keypoints"] for c in reference["categories"]}
    for ann in anns:
        truth = by_key[(ann["image_id"], ann["renderer_instance_id"])]
        category = coco.loadCats([ann["category_id"]])[0]
        slots = [category["keypoints"].index(n) for n in names[category["name"]]]
        kp = np.array(ann["keypoints"], dtype=float).reshape(-1, 3)[slots]
        expected = np.array(truth["keypoints"]).reshape(-1, 3)
        np.testing.assert_array_equal(kp[:, 2] > 0, expected[:, 2] > 0)
        np.testing.assert_allclose(kp[:, :2], expected[:, :2], atol=1e-3)
    # The recipe (docs/export.md):
    detections = [{"image_id": a["image_id"], "category_id": a["category_id"], "keypoints": a["keypoints"],
                   "score": 1.0} for a in anns if a["num_keypoints"] > 0]
    evaluation = COCOeval(coco, coco.loadRes(detections), "keypoints")
    evaluation.params.kpt_oks_sigmas = np.full(count, 0.05)
    evaluation.evaluate()
    evaluation.accumulate()
    evaluation.summarize()
    assert evaluation.stats[0] == pytest.approx(1.0)


YOLO_CHECK = """
import json, sys
from ultralytics.data.utils import check_det_dataset
from ultralytics.data.dataset import YOLODataset

data = check_det_dataset(sys.argv[1], autodownload=False)
dataset = YOLODataset(img_path=data["train"], data=data, task=sys.argv[2], imgsz=160, augment=False)
out = []
for label in dataset.labels:
    entry = {"file": label["im_file"], "cls": label["cls"].ravel().tolist(), "bboxes": label["bboxes"].tolist()}
    if sys.argv[2] == "segment":
        entry["segments"] = [s.tolist() for s in label["segments"]]
    if sys.argv[2] == "pose":
        entry["keypoints"] = label["keypoints"].tolist()
    out.append(entry)
print(json.dumps({"names": data["names"], "nc": data["nc"], "labels": out, "kpt_shape": data.get("kpt_shape")}))
"""


@pytest.mark.parametrize("task", ["detect", "segment", "pose"])
def test_yolo_export_reads_in_ultralytics(tabletop_dataset: Path, tmp_path: Path, task: str) -> None:
    """Ultralytics' own dataset checker and loader read the export; its boxes equal the instance masks'
    extents, its classes our categories (in a fresh interpreter, offline, settings kept in tmp)."""
    import importlib.util
    import os
    import subprocess
    import sys

    if importlib.util.find_spec("ultralytics") is None:
        pytest.skip("ultralytics is not installed")
    data_yaml = export_yolo(tabletop_dataset, tmp_path / "yolo", task=task)
    env = {**os.environ, "YOLO_OFFLINE": "1", "YOLO_CONFIG_DIR": str(tmp_path / "cfg")}
    result = subprocess.run([sys.executable, "-c", YOLO_CHECK, str(data_yaml), task], capture_output=True,
                            text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    read = json.loads(result.stdout.strip().splitlines()[-1])
    ds = Dataset(tabletop_dataset)
    names = [name for _, name in sorted(ds.categories.items())]
    assert read["nc"] == len(names) and [read["names"][str(k)] if isinstance(read["names"], dict) and str(k) in
                                         read["names"] else read["names"][k] for k in range(len(names))] == names
    by_file = {Path(label["file"]).stem: label for label in read["labels"]}
    for i in range(len(ds)):
        frame = ds[i]
        label = by_file[f"{frame.index:06d}"]
        width, height = frame.image_size
        seen = [o for o in frame.objects if o.visible_pixels > 0]
        assert len(label["cls"]) == len(seen)
        class_of = {cid: k for k, cid in enumerate(sorted(ds.categories))}
        for obj, cls, box in zip(seen, label["cls"], label["bboxes"], strict=True):
            ys, xs = np.nonzero(frame.instance == obj.instance_id)
            x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1  # pixel edges
            expected = [(x0 + x1) / 2 / width, (y0 + y1) / 2 / height, (x1 - x0) / width, (y1 - y0) / height]
            assert cls == class_of[obj.category_id]
            if task != "segment":
                np.testing.assert_allclose(box, expected, atol=2e-6)
                continue
            # segment: Ultralytics takes boxes from the outline of the largest visible piece, which runs
            # through the boundary pixels' centres (documented): inside the mask's extent, and within one
            # pixel of it when the object shows in one piece.
            cx, cy, bw, bh = box
            eps = 1e-5
            assert x0 / width - eps <= cx - bw / 2 and cx + bw / 2 <= x1 / width + eps
            assert y0 / height - eps <= cy - bh / 2 and cy + bh / 2 <= y1 / height + eps
            import scipy.ndimage

            if scipy.ndimage.label(frame.instance == obj.instance_id)[1] == 1:
                np.testing.assert_allclose(box, expected, atol=1.01 / min(width, height))
        if task == "segment":
            assert len(label["segments"]) == len(seen) and all(len(s) >= 3 for s in label["segments"])
        if task == "pose":
            keypoints = np.array(label["keypoints"])
            assert keypoints.shape[1:] == tuple(read["kpt_shape"])


def test_the_bop_scene_exports_one_model_per_asset(tmp_path: Path) -> None:
    from renderer.config.schema import load_scene
    from renderer.pipeline.run import generate

    config = load_scene(Path(__file__).resolve().parent.parent / "scenes" / "bop.yaml",
                        ["image.width=96", "image.height=72", "render.engine=raster"])
    generate(config, tmp_path / "ds", frames=3, seed=1)
    root = export_bop(tmp_path / "ds", tmp_path / "bop")
    info = json.loads((root / "models" / "models_info.json").read_text())
    ds = Dataset(tmp_path / "ds")
    assets = {o.asset_id for i in range(len(ds)) for o in ds[i].description.labelled_objects}
    assert len(info) == len(assets) >= 5
    assert sorted(entry["asset_id"] for entry in info.values()) == sorted(assets)
