"""COCO export: one ``instances`` file with RLE masks, boxes and landmark keypoints.

Coordinates (docs/export.md): COCO puts the top-left corner of the image at (0, 0), so a pixel
centre is at (c + 0.5, r + 0.5). Boxes stay as they are (their integers are pixel edges), keypoints
and the principal point in ``K`` are shifted by +0.5 from our pixel-centre convention.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from renderer.export.base import Exporter, ExportError, ExportOption, fraction
from renderer.humans.keypoints import COCO_SIGMAS, KEYPOINTS
from renderer.io.dataset import Dataset, Frame
from renderer.io.format import atomic_write_json, frame_name

COCO_PIXEL_OFFSET = 0.5  # add to our (u, v) to get COCO's continuous image coordinates


def rle_from_mask(mask: NDArray[np.bool_]) -> dict[str, Any]:
    """Compressed COCO RLE of a binary (H, W) mask (the string form pycocotools writes)."""
    h, w = mask.shape
    flat = np.asarray(mask, dtype=bool).ravel(order="F")
    changes = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate([[0], changes, [flat.size]])
    counts = np.diff(bounds).tolist()
    if flat.size and flat[0]:
        counts.insert(0, 0)  # runs alternate starting with zeros
    return {"size": [h, w], "counts": _rle_string(counts)}


def _rle_string(counts: list[int]) -> str:
    """LEB128-like packing of run lengths, each (after the third) relative to the one two before."""
    chars = []
    for i, count in enumerate(counts):
        x = count - counts[i - 2] if i > 2 else count
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = x != -1 if c & 0x10 else x != 0
            if more:
                c |= 0x20
            chars.append(chr(c + 48))
    return "".join(chars)


KEYPOINT_LAYOUTS = ("per_category", "padded")
PADDING_PREFIX = "unused_"
# OKS sigma of a keypoint (COCOeval's per-keypoint falloff, a fraction of the object's scale): COCO's own for
# the body keypoints, this for object landmarks and padding (a tight 5 % of the object's scale).
OBJECT_KEYPOINT_SIGMA = 0.05
_NAMED_SIGMAS = dict(zip(KEYPOINTS, COCO_SIGMAS, strict=True))


def keypoint_sigmas(names: list[str]) -> list[float]:
    """The OKS sigma of each keypoint name (the category record's ``sigmas``, for COCOeval's
    ``params.kpt_oks_sigmas``): COCO's for the person keypoints, OBJECT_KEYPOINT_SIGMA for the rest."""
    return [_NAMED_SIGMAS.get(name, OBJECT_KEYPOINT_SIGMA) for name in names]


def keypoint_schema(dataset: Dataset, layout: str = "per_category") -> dict[str, tuple[list[str], list[list[int]]]]:
    """{category: (keypoint names, 1-based skeleton)}: landmark names in first-seen order over frames.

    padded: every category's list is padded to the longest one with names ``unused_k`` (always v = 0 in
    the annotations), so all categories share one keypoint count: what Keypoint R-CNN and COCOeval
    with one sigma array need (docs/export.md gives the COCOeval recipe)."""
    names: dict[str, list[str]] = {name: [] for name in dataset.categories.values()}
    for i in range(len(dataset)):
        for obj in dataset[i].objects:
            known = names.setdefault(obj.category, [])
            known.extend(n for n in obj.landmarks.names if n not in known)
    skeletons = dataset.header.skeletons
    schema = {}
    for category, keypoints in names.items():
        index = {n: k + 1 for k, n in enumerate(keypoints)}
        edges = [[index[a], index[b]] for a, b in skeletons.get(category, []) if a in index and b in index]
        schema[category] = (keypoints, edges)
    if layout == "padded":
        longest = max((len(k) for k, _ in schema.values()), default=0)
        schema = {c: (k + [f"{PADDING_PREFIX}{n}" for n in range(len(k), longest)], e) for c, (k, e) in schema.items()}
    return schema


def coco_dict(dataset: Dataset, min_visible_fraction: float = 0.0, keypoints: str = "per_category") -> dict[str, Any]:
    """The whole COCO instances+keypoints dictionary of a dataset (every complete frame). Objects
    marked ignore at generation (constraints.min_visible_fraction) or seen less than
    min_visible_fraction here are crowd regions (iscrowd 1: COCOeval neither rewards nor penalises
    detections on them)."""
    if keypoints not in KEYPOINT_LAYOUTS:
        raise ExportError(f"keypoints: {keypoints!r} is not one of {', '.join(KEYPOINT_LAYOUTS)}")
    schema = keypoint_schema(dataset, keypoints)
    categories = [
        {"id": cid, "name": name, "supercategory": "object", "keypoints": schema[name][0],
         "skeleton": schema[name][1], "sigmas": keypoint_sigmas(schema[name][0])}
        for cid, name in sorted(dataset.categories.items())
    ]
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for i in range(len(dataset)):
        frame = dataset[i]
        images.append(_image_entry(frame))
        annotations.extend(_annotations(frame, schema, len(annotations) + 1, min_visible_fraction))
    return {
        "info": {"description": f"renderer dataset {dataset.root}", "version": str(dataset.header.version),
                 "seed": dataset.header.seed},
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": categories,
    }


def _image_entry(frame: Frame) -> dict[str, Any]:
    width, height = frame.image_size
    K = frame.K.copy()
    K[0, 2] += COCO_PIXEL_OFFSET
    K[1, 2] += COCO_PIXEL_OFFSET
    return {
        "id": frame.index, "file_name": f"rgb/{frame_name(frame.index)}.png", "width": width, "height": height,
        "frame_index": frame.index, "K": K.tolist(), "world_to_camera": frame.world_to_camera.tolist(),
        **({"camera_model": frame.lens_model, "distortion": list(frame.record.camera.distortion)}
           if frame.lens_model != "pinhole" else {}),  # OpenCV's form (docs/format.md); K as above
    }


def _annotations(frame: Frame, schema: dict[str, tuple[list[str], list[list[int]]]],
                 first_id: int, min_visible_fraction: float = 0.0) -> list[dict[str, Any]]:
    instance = frame.instance
    annotations: list[dict[str, Any]] = []
    for obj in frame.objects:
        if obj.visible_pixels == 0:
            continue  # COCO has no annotation without a mask
        mask = instance == obj.instance_id
        names = schema[obj.category][0]
        keypoints = [0.0] * (3 * len(names))
        lm = obj.landmarks
        for k, name in enumerate(lm.names):
            slot = names.index(name)
            if lm.in_frame[k]:
                u, v = lm.uv[k] + COCO_PIXEL_OFFSET
                keypoints[3 * slot: 3 * slot + 3] = [float(u), float(v), 2 if lm.visible[k] else 1]
        annotations.append({
            "id": first_id + len(annotations), "image_id": frame.index, "category_id": obj.category_id,
            "segmentation": rle_from_mask(mask), "area": int(obj.visible_pixels),
            "bbox": [float(x) for x in obj.bbox],
            "iscrowd": int(obj.ignore or obj.visible_fraction < min_visible_fraction),
            "keypoints": keypoints, "num_keypoints": int(np.count_nonzero(lm.in_frame)),
            # Our extras carry a prefix: FiftyOne's COCO importer reserves "instance_id" and the like.
            "renderer_instance_id": obj.instance_id, "renderer_visible_fraction": obj.visible_fraction,
        })
    return annotations


def coco_folder(dataset: Dataset, root: str | Path, out: str | Path | None) -> Path:
    """The COCO exports' folder (default ``<root>/coco``), made; for a shards-layout dataset (no image
    files) its images written to ``<folder>/rgb/``, so the files' image paths resolve there."""
    target = Path(out) if out is not None else Path(root) / "coco"
    target.mkdir(parents=True, exist_ok=True)
    if dataset.layout == "shards":
        (target / "rgb").mkdir(exist_ok=True)
        for i in range(len(dataset)):
            frame = dataset[i]
            frame.copy_file("rgb", target / "rgb" / f"{frame_name(frame.index)}.png")
    return target


def keypoint_files(coco: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{file name: COCO dictionary} with one file per keypoint layout of ``coco`` (a coco_dict), which
    pycocotools' COCOeval scores with its default parameters plus the file's sigmas.

    COCOeval takes one sigma array (``params.kpt_oks_sigmas``) for all categories, so categories go into
    one file only where their keypoint names and sigmas are equal; categories without keypoints go into
    none. Each file holds every image, its categories, and their annotations with at least one keypoint
    in the image (``num_keypoints > 0``): COCOeval ignores ground truth without keypoints, so a detection
    of such an object would count as a false positive (COCO's person_keypoints does the same for
    people it labels without keypoints; here they are simply left out). The file is named after the
    layout's first category: ``keypoints_<category>.json``."""
    groups: dict[tuple[tuple[str, ...], tuple[float, ...]], list[dict[str, Any]]] = {}
    for category in coco["categories"]:
        if category["keypoints"]:
            groups.setdefault((tuple(category["keypoints"]), tuple(category["sigmas"])), []).append(category)
    files: dict[str, dict[str, Any]] = {}
    for categories in groups.values():
        ids = {c["id"] for c in categories}
        name = f"keypoints_{re.sub(r'[^A-Za-z0-9_.-]', '_', categories[0]['name'])}.json"
        files[name] = {**coco, "categories": categories,
                       "annotations": [a for a in coco["annotations"]
                                       if a["category_id"] in ids and a["num_keypoints"] > 0]}
    return files


def export_coco(root: str | Path, out: str | Path | None = None, min_visible_fraction: float = 0.0,
                keypoints: str = "per_category") -> Path:
    """Write ``<out>/instances.json`` (default out: ``<root>/coco``) and, for keypoint evaluation, one
    ``keypoints_<category>.json`` per keypoint layout (keypoint_files). Image paths (``rgb/NNNNNN.png``)
    are relative to the dataset root in the files layout; a shards-layout dataset has no image files, so
    its images are written to ``<out>/rgb/`` and the paths are relative to ``<out>``."""
    dataset = Dataset(root)
    dataset.require(("rgb", "instance"), "the COCO export")
    target = coco_folder(dataset, root, out)
    path = target / "instances.json"
    coco = coco_dict(dataset, min_visible_fraction, keypoints)
    for stale in target.glob("keypoints_*.json"):
        stale.unlink()  # a layout may be gone since the last export
    for name, data in keypoint_files(coco).items():
        atomic_write_json(target / name, data, indent=None)
    atomic_write_json(path, coco, indent=None)
    return path


def _describe(path: Path) -> list[str]:
    """What ``renderer export --format coco`` prints after the path: the keypoint files and their use."""
    files = sorted(path.parent.glob("keypoints_*.json"))
    if not files:
        return []
    return ["  keypoints, one file per layout (COCOeval scores one sigma array at a time; set "
            "params.kpt_oks_sigmas to the category's sigmas): " + ", ".join(str(f) for f in files)]


EXPORTER = Exporter("coco", export_coco, "COCO instances: RLE masks, boxes, landmark keypoints (and a keypoint "
                    "file per keypoint layout, for COCOeval)", describe=_describe,
                    options=(
    ExportOption("min_visible_fraction", "coco: objects seen less than this become crowd regions (iscrowd 1), "
                 "e.g. 0.1", 0.0, parse=fraction),
    ExportOption("keypoints", "coco: each category's own landmarks, or all padded to one count (Keypoint R-CNN)",
                 "per_category", choices=("per_category", "padded")),
))
