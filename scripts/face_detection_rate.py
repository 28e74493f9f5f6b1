"""How often a face detector trained on real photos finds our faces: near-frontal portraits of
scenes/faces.yaml, per Monk tone and with/without facial hair.

The detector is MTCNN (Zhang et al. 2016; trained on WIDER FACE and CelebA) as facenet-pytorch ships it,
weights inside the wheel, run on the CPU; nothing is downloaded. It is not a dependency of renderer:
install it beside the venv for this measurement only:

    .venv/bin/pip install --no-deps --target /tmp/fnp_lib facenet-pytorch==2.6.0 tqdm
    PYTHONPATH=/tmp/fnp_lib .venv/bin/python scripts/face_detection_rate.py DATASET [DATASET ...]

Each DATASET is a dataset written from scenes/faces.yaml (e.g. `renderer generate scenes/faces.yaml
--out DIR --frames 200 --set 'people.face.head_yaw_deg=[-60, 60]' --set 'people.face.head_pitch_deg=[-30,
30]'`); the script reads the raw meta files (no renderer import), so datasets written by any version can
be compared. A face counts as found when a detection's box overlaps the face's labelled box with IoU >= 0.3
(the labelled box covers the 68 landmarks: brow to chin, a tighter box than the detector's).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np


def iou(a: np.ndarray, b: np.ndarray) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(x1 - x0, 0) * max(y1 - y0, 0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("datasets", type=Path, nargs="+")
    parser.add_argument("--min-iou", type=float, default=0.3)
    parser.add_argument("--max-yaw", type=float, default=60.0)
    parser.add_argument("--max-pitch", type=float, default=30.0)
    args = parser.parse_args()
    from facenet_pytorch import MTCNN  # the measurement's own tool (module docstring)

    detector = MTCNN(keep_all=True, device="cpu")
    for root in args.datasets:
        found: dict[str, list[bool]] = defaultdict(list)
        for meta_path in sorted((root / "meta").glob("*.json")):
            meta = json.loads(meta_path.read_text())
            description = {o.get("instance_id"): o for o in meta["description"]["objects"]}
            image = cv2.imread(str(root / "rgb" / f"{meta_path.stem}.png"))[..., ::-1].copy()
            boxes, _ = detector.detect(image)
            boxes = np.zeros((0, 4)) if boxes is None else np.asarray(boxes, dtype=float)
            for obj in meta["objects"]:
                face = obj.get("face")
                if obj["category"] != "person" or face is None:
                    continue
                yaw, pitch, _ = (face["head_euler_deg"][k] for k in ("yaw", "pitch", "roll"))
                x, y, w, h = face["box"]
                if abs(yaw) >= args.max_yaw or abs(pitch) >= args.max_pitch or w * h == 0:
                    continue
                label = np.array([x, y, x + w, y + h], dtype=float)
                hit = any(iou(label, box) >= args.min_iou for box in boxes)
                body = description[obj["instance_id"]]["mesh"]["body"]
                tone = obj["person"]["monk_tone"]
                found["all"].append(hit)
                found[f"monk {tone:2d}"].append(hit)
                found["facial hair" if body.get("facial_hair", "none") != "none" else "no facial hair"].append(hit)
        print(f"{root}:")
        for key in sorted(found):
            rate = np.mean(found[key])
            print(f"  {key:15s} {rate:6.1%}  of {len(found[key])}")


if __name__ == "__main__":
    main()
