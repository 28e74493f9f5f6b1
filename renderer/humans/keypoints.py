"""Body keypoints: names, skeleton and OKS sigmas (COCO-17 then the 6 foot points of COCO-WholeBody),
in the order of every person's landmarks, and the names anny's keypoint regressor knows them by."""

from __future__ import annotations

from renderer.scene.body import KEYPOINTS

__all__ = ["COCO_SIGMAS", "KEYPOINTS", "SKELETON"]

# COCO's skeleton (pycocotools' person category, as names) and the foot edges.
SKELETON = (("left_ankle", "left_knee"), ("left_knee", "left_hip"), ("right_ankle", "right_knee"),
            ("right_knee", "right_hip"), ("left_hip", "right_hip"), ("left_shoulder", "left_hip"),
            ("right_shoulder", "right_hip"), ("left_shoulder", "right_shoulder"), ("left_shoulder", "left_elbow"),
            ("right_shoulder", "right_elbow"), ("left_elbow", "left_wrist"), ("right_elbow", "right_wrist"),
            ("left_eye", "right_eye"), ("nose", "left_eye"), ("nose", "right_eye"), ("left_eye", "left_ear"),
            ("right_eye", "right_ear"), ("left_ear", "left_shoulder"), ("right_ear", "right_shoulder"),
            ("left_ankle", "left_big_toe"), ("left_ankle", "left_small_toe"), ("left_ankle", "left_heel"),
            ("right_ankle", "right_big_toe"), ("right_ankle", "right_small_toe"), ("right_ankle", "right_heel"))
# COCO's per-keypoint OKS sigmas (pycocotools), then COCO-WholeBody's foot sigmas.
COCO_SIGMAS = (0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062, 0.107, 0.107,
               0.087, 0.087, 0.089, 0.089, 0.068, 0.066, 0.066, 0.092, 0.094, 0.094)
