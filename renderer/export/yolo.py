"""Ultralytics YOLO export: the layout its trainers and dataset checker read with no glue.

    <out>/data.yaml                 path, train, val, names (and kpt_shape, flip_idx for pose)
    <out>/images/train/NNNNNN.png   our RGB (hard link where possible)
    <out>/labels/train/NNNNNN.txt   one row per object with at least one visible pixel

Rows, all coordinates normalised by the image size: detect ``class cx cy w h``; segment ``class x1 y1
x2 y2 ...`` (the outline of the object's largest visible piece, through its boundary pixels' centres,
so a box derived from it is up to a pixel smaller than the mask's extent); pose ``class cx cy w h`` then
``x y v`` per keypoint (every class padded to the longest landmark list, v = 0 for padding and for
landmarks outside the image, 1 occluded, 2 visible). Classes are our categories in id order, from 0,
or the one ``category`` asked for (pose on a dataset with people: ``person`` unless another is named, as
YOLO pose models are trained: one class, its keypoints). Boxes are the visible boxes' pixel edges;
keypoints shift by +0.5 px (YOLO, like COCO, puts the image corner at 0; ours is the first pixel's
centre). ``flip_idx`` swaps each ``left_*`` keypoint with its ``right_*`` (what a horizontal-flip
augmentation needs); landmarks without a side map to themselves.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from renderer.export.base import Exporter, ExportOption
from renderer.io.dataset import Dataset, Frame
from renderer.io.format import atomic_write_bytes, frame_name

YOLO_TASKS = ("detect", "segment", "pose")
YOLO_PIXEL_OFFSET = 0.5


def _largest_outline(mask: np.ndarray) -> np.ndarray | None:
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    contours = [c for c in contours if len(c) >= 3]
    if not contours:
        return None
    return np.asarray(max(contours, key=cv2.contourArea), dtype=np.float64).reshape(-1, 2)


def _rows(frame: Frame, classes: dict[int, int], task: str, keypoint_count: int) -> list[str]:
    width, height = frame.image_size
    instance = frame.instance if task == "segment" else None
    rows = []
    for obj in frame.objects:
        if obj.visible_pixels == 0 or obj.category_id not in classes:
            continue
        x, y, w, h = obj.bbox
        head = [classes[obj.category_id]]
        box = [(x + w / 2) / width, (y + h / 2) / height, w / width, h / height]
        if task == "segment":
            assert instance is not None
            # Pixel (c, r) covers [c, c + 1) x [r, r + 1) in YOLO's coordinates: outline through edges.
            outline = _largest_outline(instance == obj.instance_id)
            if outline is None:
                continue
            points = (outline + YOLO_PIXEL_OFFSET) / np.array([width, height])
            values = [*head, *np.clip(points, 0.0, 1.0).ravel().tolist()]
        elif task == "pose":
            lm = obj.landmarks
            keypoints = np.zeros((keypoint_count, 3))
            n = len(lm.names)
            keypoints[:n, :2] = np.where(lm.in_frame[:, None], (lm.uv + YOLO_PIXEL_OFFSET) / [width, height], 0.0)
            keypoints[:n, 2] = np.where(lm.visible, 2, np.where(lm.in_frame, 1, 0))
            values = [*head, *box, *keypoints.ravel().tolist()]
        else:
            values = [*head, *box]
        rows.append(" ".join(str(v) if isinstance(v, int) else f"{v:.6f}" for v in values))
    return rows


def flip_index(name_lists: list[tuple[str, ...]], count: int) -> list[int]:
    """YOLO's flip_idx over ``count`` keypoint slots: left_X <-> right_X where every landmark list that
    has slot k agrees; ValueError where two categories' lists would flip the same slot differently."""
    flip = list(range(count))
    decided: dict[int, int] = {}
    for names in name_lists:
        index = {name: k for k, name in enumerate(names)}
        for k, name in enumerate(names):
            side, _, rest = name.partition("_")
            other = {"left": "right", "right": "left"}.get(side)
            partner = index.get(f"{other}_{rest}", k) if other is not None else k
            if decided.setdefault(k, partner) != partner:
                raise ValueError(f"keypoint {k} flips differently in two categories' landmarks; export one "
                                 "category (--category)")
    for k, partner in decided.items():
        flip[k] = partner
    return flip


def export_yolo(root: str | Path, out: str | Path | None = None, task: str = "detect", category: str = "") -> Path:
    """Write the Ultralytics layout under ``out`` (default ``<root>/yolo``); returns its data.yaml."""
    if task not in YOLO_TASKS:
        raise ValueError(f"task: {task!r} is not one of {', '.join(YOLO_TASKS)}")
    import yaml

    dataset = Dataset(root)
    dataset.require(("rgb", "instance"), "the YOLO export")
    categories = sorted(dataset.categories.items())
    if not category and task == "pose" and "person" in dataset.categories.values():
        category = "person"
    if category:
        if category not in dataset.categories.values():
            raise ValueError(f"category: {category!r} is not one of the dataset's "
                             f"({', '.join(name for _, name in categories)})")
        categories = [(cid, name) for cid, name in categories if name == category]
    target = Path(out) if out is not None else Path(root) / "yolo"
    for sub in ("images/train", "labels/train"):
        (target / sub).mkdir(parents=True, exist_ok=True)
    classes = {cid: k for k, (cid, _) in enumerate(categories)}
    keypoint_count, name_lists = 0, dict[int, tuple[str, ...]]()
    if task == "pose":
        for i in range(len(dataset)):
            for o in dataset[i].objects:
                if o.category_id in classes:
                    name_lists.setdefault(o.category_id, o.landmarks.names)
                    keypoint_count = max(keypoint_count, len(o.landmarks.names))
        flip = flip_index(list(name_lists.values()), keypoint_count)
    for i in range(len(dataset)):
        frame = dataset[i]
        name = frame_name(frame.index)
        frame.copy_file("rgb", target / "images" / "train" / f"{name}.png")
        rows = _rows(frame, classes, task, keypoint_count)
        text = "\n".join(rows) + "\n" if rows else ""
        atomic_write_bytes(target / "labels" / "train" / f"{name}.txt", text.encode())
    data: dict[str, object] = {"path": str(target.resolve()), "train": "images/train", "val": "images/train",
                               "names": {k: name for k, (_, name) in enumerate(categories)}}
    if task == "pose":
        data.update(kpt_shape=[keypoint_count, 3], flip_idx=flip)
    path = target / "data.yaml"
    atomic_write_bytes(path, yaml.safe_dump(data, sort_keys=False).encode())
    return path


EXPORTER = Exporter("yolo", export_yolo, "Ultralytics YOLO layout: boxes, outlines or pose", options=(
    ExportOption("task", "yolo: boxes, outlines, or boxes with keypoints (default detect)", "detect",
                 choices=YOLO_TASKS),
    ExportOption("category", "yolo: export only this category (default all; pose with people: person)", ""),
))
