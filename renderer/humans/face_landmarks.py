"""The 68 face landmarks of iBUG 300-W on anny's mesh: barycentric anchors authored once on its topology
(scripts/author_face_landmarks.py writes data/anny_ibug68.json; docs/faces.md shows them), so they
follow every shape, pose and expression of the mesh. Order and names are 300-W's, 1-based in its files:
1-17 the jaw from the person's right to their left, 18-27 brows, 28-36 nose, 37-48 eyes, 49-68 mouth
(left and right the person's own, so the person's right eye is on the image's left for a frontal face).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

ANCHORS_FILE = Path(__file__).with_name("data") / "anny_ibug68.json"
# A face landmark lies on the skin: it counts as seen where the surface at its pixel is at most this far
# in front of it (the label pass's depth is a plane per pixel; lips and eyelids fold over a few mm).
FACE_LANDMARK_RADIUS = 0.004  # metres
# 300-W's left/right mirror of the 68 points (0-based), for flipping augmentations.
FLIP_68 = (16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17,
           27, 28, 29, 30, 35, 34, 33, 32, 31, 45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40, 54, 53, 52, 51, 50,
           49, 48, 59, 58, 57, 56, 55, 64, 63, 62, 61, 60, 67, 66, 65)
# COCO-WholeBody's OKS sigmas of its 68 face points (the same iBUG 300-W order; jin-s13/COCO-WholeBody's
# evaluation/myeval_wholebody.py), for COCOeval of face keypoints.
FACE_SIGMAS_68 = (0.042, 0.043, 0.044, 0.043, 0.040, 0.035, 0.031, 0.025, 0.020, 0.023, 0.029, 0.032, 0.037, 0.038,
                  0.043, 0.041, 0.045, 0.013, 0.012, 0.011, 0.011, 0.012, 0.012, 0.011, 0.011, 0.013, 0.015, 0.009,
                  0.007, 0.007, 0.007, 0.012, 0.009, 0.008, 0.016, 0.010, 0.017, 0.011, 0.009, 0.011, 0.009, 0.007,
                  0.013, 0.008, 0.011, 0.012, 0.010, 0.034, 0.008, 0.008, 0.009, 0.008, 0.008, 0.007, 0.010, 0.008,
                  0.009, 0.009, 0.009, 0.007, 0.007, 0.008, 0.011, 0.008, 0.008, 0.008, 0.010, 0.008)


@dataclass(frozen=True)
class FaceAnchors:
    names: tuple[str, ...]
    faces: NDArray[np.int64]  # (68,) index into anny's model faces
    barycentric: NDArray[np.float64]  # (68, 3)


@functools.cache
def face_anchors() -> FaceAnchors:
    data = json.loads(ANCHORS_FILE.read_text())
    anchors = FaceAnchors(tuple(data["names"]), np.asarray(data["faces"], dtype=np.int64),
                          np.asarray(data["barycentric"], dtype=np.float64))
    if not len(anchors.names) == len(anchors.faces) == len(anchors.barycentric) == 68:
        raise ValueError(f"{ANCHORS_FILE}: expected 68 anchors")
    return anchors


def face_landmark_points(model_vertices: NDArray[np.float64], model_faces: NDArray[np.int64]) -> NDArray[np.float64]:
    """(68, 3) the landmarks on a posed mesh of anny's topology (same frame as its vertices)."""
    anchors = face_anchors()
    corners = model_vertices[model_faces[anchors.faces]]  # (68, 3, 3)
    return np.asarray(np.einsum("nk,nkd->nd", anchors.barycentric, corners))
