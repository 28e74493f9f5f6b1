"""COCO face keypoints: one annotation per labelled face, category ``face``, its 68 iBUG landmarks as COCO
keypoints (v 2 visible, 1 in frame but hidden, 0 outside), its box the 68 points' pixel box, and the
person's instance mask as the segmentation; extras carry the head pose and the person's instance id.

Coordinates as renderer.export.coco: keypoints + 0.5 (COCO's pixel-edge origin), boxes as they are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from renderer.export.base import Exporter
from renderer.export.coco import COCO_PIXEL_OFFSET, _image_entry, coco_folder, rle_from_mask
from renderer.humans.face_landmarks import FACE_SIGMAS_68
from renderer.io.dataset import Dataset
from renderer.io.format import atomic_write_json

FACE_CATEGORY_ID = 1
# iBUG 68's contours as COCO skeleton edges (1-based): jaw, brows, nose, eyes (closed), lips (closed).
_CHAINS = ((1, 17, False), (18, 22, False), (23, 27, False), (28, 31, False), (32, 36, False), (37, 42, True),
           (43, 48, True), (49, 60, True), (61, 68, True))
FACE_SKELETON = [[a, a + 1] for first, last, _ in _CHAINS for a in range(first, last)] + \
    [[last, first] for first, last, closed in _CHAINS if closed]


def coco_faces_dict(dataset: Dataset) -> dict[str, Any]:
    """The COCO dictionary of every labelled face with at least one landmark in frame."""
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    names: list[str] | None = None
    for i in range(len(dataset)):
        frame = dataset[i]
        images.append(_image_entry(frame))
        for obj in frame.objects:
            face = obj.face
            if face is None or not face.landmarks.in_frame.any():
                continue
            names = names or list(face.landmarks.names)
            lm = face.landmarks
            keypoints: list[float] = []
            for k in range(len(lm.names)):
                if lm.in_frame[k]:
                    u, v = lm.uv[k] + COCO_PIXEL_OFFSET
                    keypoints += [float(u), float(v), 2 if lm.visible[k] else 1]
                else:
                    keypoints += [0.0, 0.0, 0]
            x, y, w, h = face.box
            yaw, pitch, roll = face.head_euler_deg
            annotations.append({
                "id": len(annotations) + 1, "image_id": frame.index, "category_id": FACE_CATEGORY_ID,
                "segmentation": rle_from_mask(frame.instance == obj.instance_id) if "instance" in dataset.channels
                else [], "area": float(w * h), "bbox": [float(x), float(y), float(w), float(h)], "iscrowd": 0,
                "keypoints": keypoints, "num_keypoints": int(lm.in_frame.sum()),
                "renderer_instance_id": obj.instance_id, "renderer_expression": face.expression,
                "renderer_head_pose_deg": {"yaw": yaw, "pitch": pitch, "roll": roll},
                "renderer_head_rotation": face.head_rotation.tolist(),
            })
    category = {"id": FACE_CATEGORY_ID, "name": "face", "supercategory": "person",
                "keypoints": names or [], "skeleton": FACE_SKELETON,
                "sigmas": list(FACE_SIGMAS_68) if names else []}  # COCO-WholeBody's face sigmas
    return {"info": {"description": "renderer faces", "frames": len(images)}, "licenses": [], "images": images,
            "annotations": annotations, "categories": [category]}


def export_coco_faces(root: str | Path, out: str | Path | None = None) -> Path:
    """Write ``<out>/faces.json`` (default out: ``<root>/coco``); image paths as the COCO export's."""
    dataset = Dataset(root)
    dataset.require(("rgb",), "the COCO faces export")
    path = coco_folder(dataset, root, out) / "faces.json"
    atomic_write_json(path, coco_faces_dict(dataset), indent=None)
    return path


EXPORTER = Exporter("coco_faces", export_coco_faces,
                    "COCO face keypoints: face boxes, 68 landmarks, head pose, person masks")
