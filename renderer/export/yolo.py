"""Ultralytics YOLO export: the layout its trainers and dataset checker read with no glue.

    <out>/data.yaml                 path, train, val, names (and kpt_shape, flip_idx for pose)
    <out>/images/train/NNNNNN.png   our RGB (hard link where possible)
    <out>/labels/train/NNNNNN.txt   one row per object with at least one visible pixel

Rows, all coordinates normalised by the image size: detect ``class cx cy w h``; segment ``class x1 y1
x2 y2 ...`` (one polygon per object: the outline along its visible pixels' outer edges, pieces split by
occlusion joined by zero-width bridges, holes filled; see mask_polygon: its extent is the mask's box, so
the box Ultralytics derives from it is exact); pose ``class cx cy w h`` then
``x y v`` per keypoint (every class padded to the longest landmark list, v = 0 for padding and for
landmarks outside the image, 1 occluded, 2 visible). Classes are our categories in id order, from 0,
or the one ``category`` asked for (pose on a dataset with people: ``person`` unless another is named, as
YOLO pose models are trained: one class, its keypoints; pose with ``category="face"``: the faces' 68
landmarks, class ``face``, box the face box). Boxes are the visible boxes' pixel edges;
keypoints shift by +0.5 px (YOLO, like COCO, puts the image corner at 0; ours is the first pixel's
centre). ``flip_idx`` swaps each ``left_*`` keypoint with its ``right_*`` (what a horizontal-flip
augmentation needs); landmarks without a side map to themselves; faces use 300-W's mirror (FLIP_68).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from renderer.export.base import Exporter, ExportError, ExportOption
from renderer.humans.face_landmarks import FLIP_68
from renderer.io.dataset import Dataset, Frame
from renderer.io.format import atomic_write_bytes, frame_name

YOLO_TASKS = ("detect", "segment", "pose")
YOLO_PIXEL_OFFSET = 0.5
FACE_CATEGORY = "face"  # --category face --task pose: the faces' 68 landmarks, not a category of objects


def mask_polygon(mask: np.ndarray) -> np.ndarray:
    """One closed polygon ((N, 2) x, y in pixel-edge coordinates: pixel (c, r) covers [c, c + 1) x [r, r + 1))
    that covers exactly the mask's pixels, holes filled, whatever its shape: the outline runs along the
    pixels' outer edges (so an object one pixel wide still has area, and the polygon's extent is the mask's
    box), and pieces split by occlusion are joined into one outline by zero-width bridges between their
    nearest vertices (the way Ultralytics' own ``merge_multi_segment`` joins COCO's pieces)."""
    h, w = mask.shape
    # Pixel (r, c) becomes the 3 x 3 block [2r, 2r + 2] x [2c, 2c + 2] of a grid of half-pixel steps, so
    # pixel edges are grid cells and the contour through cell centres is the outline of the pixels' edges.
    grid = np.zeros((2 * h + 1, 2 * w + 1), dtype=np.uint8)
    for dr in range(3):
        for dc in range(3):
            grid[dr:dr + 2 * h:2, dc:dc + 2 * w:2] |= mask.astype(np.uint8)
    contours, _ = cv2.findContours(grid, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    pieces = sorted((np.asarray(c, dtype=np.float64).reshape(-1, 2) / 2.0 for c in contours),
                    key=lambda piece: -cv2.contourArea(piece.astype(np.float32)))
    if not pieces:
        return np.zeros((0, 2))
    outline = pieces[0]
    for piece in pieces[1:]:
        gaps = np.linalg.norm(outline[:, None, :] - piece[None, :, :], axis=2)
        i, j = np.unravel_index(int(np.argmin(gaps)), gaps.shape)
        # ... to outline[i], across to piece[j], round the piece back to piece[j], back to outline[i], on.
        outline = np.concatenate([outline[:i + 1], piece[j:], piece[:j + 1], outline[i:]])
    return outline


def _face_rows(frame: Frame, width: int, height: int) -> list[list[float | int]]:
    rows: list[list[float | int]] = []
    for obj in frame.objects:
        face = obj.face
        if face is None or not face.landmarks.in_frame.any():
            continue
        x, y, w, h = face.box
        if w <= 0 or h <= 0:
            continue
        lm = face.landmarks
        keypoints = np.zeros((len(lm.names), 3))
        keypoints[:, :2] = np.where(lm.in_frame[:, None], (lm.uv + YOLO_PIXEL_OFFSET) / [width, height], 0.0)
        keypoints[:, 2] = np.where(lm.visible, 2, np.where(lm.in_frame, 1, 0))
        rows.append([0, (x + w / 2) / width, (y + h / 2) / height, w / width, h / height,
                     *keypoints.ravel().tolist()])
    return rows


def _rows(frame: Frame, classes: dict[int, int], task: str, keypoint_count: int, faces: bool = False) -> list[str]:
    width, height = frame.image_size
    if faces:
        return [_row_text(values) for values in _face_rows(frame, width, height)]
    instance = frame.instance if task == "segment" else None
    rows = []
    for obj in frame.objects:
        if obj.visible_pixels == 0 or obj.category_id not in classes:
            continue
        x, y, w, h = obj.bbox
        head = [classes[obj.category_id]]
        box = [(x + w / 2) / width, (y + h / 2) / height, w / width, h / height]
        values: list[float | int]
        if task == "segment":
            assert instance is not None
            points = mask_polygon(instance == obj.instance_id) / np.array([width, height])
            values = [*head, *points.ravel().tolist()]
        elif task == "pose":
            lm = obj.landmarks
            keypoints = np.zeros((keypoint_count, 3))
            n = len(lm.names)
            keypoints[:n, :2] = np.where(lm.in_frame[:, None], (lm.uv + YOLO_PIXEL_OFFSET) / [width, height], 0.0)
            keypoints[:n, 2] = np.where(lm.visible, 2, np.where(lm.in_frame, 1, 0))
            values = [*head, *box, *keypoints.ravel().tolist()]
        else:
            values = [*head, *box]
        rows.append(_row_text(values))
    return rows


def _row_text(values: list[float | int]) -> str:
    return " ".join(str(v) if isinstance(v, int) else f"{v:.6f}" for v in values)


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
                raise ExportError(f"keypoint {k} flips differently in two categories' landmarks; export one "
                                 "category (--category)")
    for k, partner in decided.items():
        flip[k] = partner
    return flip


def export_yolo(root: str | Path, out: str | Path | None = None, task: str = "detect", category: str = "") -> Path:
    """Write the Ultralytics layout under ``out`` (default ``<root>/yolo``); returns its data.yaml.
    ``task="pose", category="face"`` exports the faces' 68 landmarks (one class ``face``, its box the face
    box, flip_idx 300-W's mirror) from a dataset with face labels."""
    if task not in YOLO_TASKS:
        raise ExportError(f"task: {task!r} is not one of {', '.join(YOLO_TASKS)}")
    import yaml

    dataset = Dataset(root)
    dataset.require(("rgb", "instance"), "the YOLO export")
    categories = sorted(dataset.categories.items())
    faces = category == FACE_CATEGORY and FACE_CATEGORY not in dataset.categories.values()
    if faces:
        if task != "pose":
            raise ExportError(f"category: {FACE_CATEGORY!r} (the face landmarks) exports with --task pose only; "
                              f"for {task}, name one of the dataset's categories "
                              f"({', '.join(name for _, name in categories)})")
        if not any(o.face is not None for i in range(len(dataset)) for o in dataset[i].objects):
            raise ExportError(f"category: {FACE_CATEGORY!r}: the dataset has no face labels (people.face.labels, "
                              "docs/faces.md)")
    elif not category and task == "pose" and "person" in dataset.categories.values():
        category = "person"
    if category and not faces:
        if category not in dataset.categories.values():
            extra = f" or {FACE_CATEGORY} (--task pose)" if task == "pose" else ""
            raise ExportError(f"category: {category!r} is not one of the dataset's "
                              f"({', '.join(name for _, name in categories)}){extra}")
        categories = [(cid, name) for cid, name in categories if name == category]
    target = Path(out) if out is not None else Path(root) / "yolo"
    for sub in ("images/train", "labels/train"):
        (target / sub).mkdir(parents=True, exist_ok=True)
    classes = {cid: k for k, (cid, _) in enumerate(categories)}
    keypoint_count, name_lists = 0, dict[int, tuple[str, ...]]()
    flip: list[int] = []
    if faces:
        keypoint_count, flip = len(FLIP_68), list(FLIP_68)
        categories = [(0, FACE_CATEGORY)]
    elif task == "pose":
        for i in range(len(dataset)):
            for o in dataset[i].objects:
                if o.category_id in classes:
                    name_lists.setdefault(o.category_id, o.landmarks.names)
                    keypoint_count = max(keypoint_count, len(o.landmarks.names))
        try:
            flip = flip_index(list(name_lists.values()), keypoint_count)
        except ValueError as exc:
            raise ExportError(str(exc)) from None
        if keypoint_count == 0:
            raise ExportError(f"task pose: the exported categories ({', '.join(n for _, n in categories)}) have "
                              "no landmarks")
    for i in range(len(dataset)):
        frame = dataset[i]
        name = frame_name(frame.index)
        frame.copy_file("rgb", target / "images" / "train" / f"{name}.png")
        rows = _rows(frame, classes, task, keypoint_count, faces)
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
    ExportOption("category", "yolo: export only this category (default all; pose with people: person); with "
                 "--task pose, face: the faces' 68 landmarks", ""),
))
