"""The per-face facts of the body's rest pose that painting and fitting read: body part, position along
the limb, place relative to the eyes, rest normal, the eyeballs and each texel's face (one per process).
Below both the painter (renderer.humans.appearance) and the wardrobe's kinds, which read it."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from renderer.humans.parts import BODY_PARTS

TEXTURE_SIZE = 512  # texels across a person's texture (anny's UV atlas)

@dataclass(frozen=True)
class FaceLayout:
    """Per-face facts of the body's rest pose that the painting rules read (one per process)."""

    part: NDArray[np.int64]  # BODY_PARTS index
    along: NDArray[np.float64]  # t along the limb (0 for head, neck, torso, pelvis)
    head: NDArray[np.float64]  # (F, 3) centroid relative to the eyes' midpoint (x left, y back, z up)
    normal: NDArray[np.float64]  # (F, 3) rest-pose face normal
    eye: NDArray[np.bool_]  # faces of the eyeballs
    texel_face: NDArray[np.int64]  # (S, S) the face each texel belongs to (nearest face off the atlas)


_LIMBS = {"upper_arm": ("upperarm01", "lowerarm01"), "lower_arm": ("lowerarm01", "wrist"),
          "upper_leg": ("upperleg01", "lowerleg01"), "lower_leg": ("lowerleg01", "foot"), "foot": ("foot", "toe3-1"),
          "hand": ("wrist", "finger3-1")}


@functools.cache
def face_layout() -> FaceLayout:
    from renderer.humans.model import body_model

    model = body_model()
    rest, heads = model.reference_rest
    bone = {name: heads[k] for k, name in enumerate(model.bone_labels)}
    faces = model.model_faces
    tri = rest[faces]
    centroid = tri.mean(axis=1)
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-12)
    part = model.face_parts
    along = np.zeros(len(faces))
    for k, name in enumerate(BODY_PARTS):
        side, _, limb = name.partition("_")
        if limb not in _LIMBS:
            continue
        suffix = ".L" if side == "left" else ".R"
        start, end = (bone[b + suffix] for b in _LIMBS[limb])
        axis = end - start
        chosen = part == k
        along[chosen] = np.clip((centroid[chosen] - start) @ axis / (axis @ axis), 0.0, 1.0)
    eyes = (bone["eye.L"] + bone["eye.R"]) / 2
    indices = model.model.vertex_bone_indices.cpu().numpy()
    weights = model.model.vertex_bone_weights.cpu().numpy()
    eye_bones = [model.bone_labels.index("eye.L"), model.bone_labels.index("eye.R")]
    eye_weight = (weights * np.isin(indices, eye_bones)).sum(axis=1)
    eye = eye_weight[faces].mean(axis=1) > 0.5
    # Drawn last, so that they win texels their UV islands share with others: the eyes, then the irises.
    priority = eye.astype(int) + (eye & (normal[:, 1] < -0.93))
    return FaceLayout(part=part, along=along, head=centroid - eyes, normal=normal, eye=eye,
                      texel_face=_texel_faces(model, np.argsort(priority, kind="stable")))


def _texel_faces(model: object, order: NDArray[np.int64]) -> NDArray[np.int64]:
    """Rasterise every face's UV triangle into the atlas by face index, in ``order`` (later ones win
    shared texels); texels off the atlas take their nearest painted texel's face, so bilinear lookups at
    seams never fetch an unpainted colour."""
    import cv2
    import scipy.ndimage

    size = TEXTURE_SIZE
    uv = model.texture_uv  # type: ignore[attr-defined]
    faces = model.faces  # type: ignore[attr-defined]
    ids = np.full((size, size), -1, dtype=np.int32)
    corners = np.stack([uv[faces][..., 0] * size, (1.0 - uv[faces][..., 1]) * size], axis=-1)
    points = np.round(corners * 4).astype(np.int32)  # 2 bits of sub-pixel precision
    for k in order:
        cv2.fillConvexPoly(ids, points[k], int(k), lineType=cv2.LINE_8, shift=2)
    empty = ids < 0
    nearest = scipy.ndimage.distance_transform_edt(empty, return_distances=False, return_indices=True)
    return ids[nearest[0], nearest[1]].astype(np.int64)
