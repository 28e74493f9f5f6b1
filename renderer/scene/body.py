"""The per-pixel classes of people's surfaces (the body_parts and body_covering channels), named once
here so that the humans layer that assigns them and the channels that write them agree.

A mesh may give a uint32 class per face (MeshLookup ``face_classes``); for a body it packs
``part + 1`` in bits 0-7, ``covering + 1`` in bits 8-15 and ``face class + 1`` in bits 16-23 (0 = none),
so that one integer target of the label pass's second pass carries all three labels
(renderer.render.gl.label_pass).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

# Left and right are the person's own (as COCO's keypoints are).
BODY_PARTS = ("head", "neck", "torso", "pelvis",
              "left_upper_arm", "left_lower_arm", "left_hand", "right_upper_arm", "right_lower_arm", "right_hand",
              "left_upper_leg", "left_lower_leg", "left_foot", "right_upper_leg", "right_lower_leg", "right_foot")

# What covers the body's surface there: bare skin (palms and soles included), hair (and stubble),
# eyebrows, eyes, lips, or a garment.
COVERINGS = ("skin", "hair", "eyebrows", "eyes", "lips", "top", "bottom", "shoes")

# COCO's 17 keypoints then the 6 foot points of COCO-WholeBody, in anny's regressor's names.
KEYPOINTS = ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
             "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
             "right_knee", "left_ankle", "right_ankle", "left_big_toe", "left_small_toe", "left_heel",
             "right_big_toe", "right_small_toe", "right_heel")

# The face_segmentation classes: Microsoft FaceSynthetics' 19 (Wood et al. 2021), same ids, so their
# parsers and ours read each other's masks; then body_skin, bare skin below the neck (arms, hands, legs),
# which their head-and-shoulders renders never show. Left and right are the person's own.
FACE_CLASSES = ("background", "skin", "nose", "right_eye", "left_eye", "right_brow", "left_brow", "right_ear",
                "left_ear", "mouth_interior", "top_lip", "bottom_lip", "neck", "hair", "beard", "clothing",
                "glasses", "headwear", "facewear", "body_skin")

PART_BITS = 8


def pack_face_classes(parts: NDArray[np.integer], coverings: NDArray[np.integer],
                      face: NDArray[np.integer] | None = None) -> NDArray[np.uint32]:
    """(F,) uint32 per-face classes of a body from its 0-based part, covering and FACE_CLASSES indices."""
    part = np.asarray(parts, np.uint32) + 1
    covering = np.asarray(coverings, np.uint32) + 1
    packed = part | (covering << PART_BITS)
    if face is not None:
        packed |= (np.asarray(face, np.uint32) + 1) << (2 * PART_BITS)
    return packed.astype(np.uint32)


def worn_face_classes(face_class: str, count: int) -> NDArray[np.uint32]:
    """(count,) uint32 per-face classes of a worn thing: its FACE_CLASSES name alone (part and covering
    0: not a body's), so that face parsing labels it where its triangles are seen."""
    return np.full(count, (FACE_CLASSES.index(face_class) + 1) << (2 * PART_BITS), dtype=np.uint32)


def unpack_face_classes(classes: NDArray[np.uint32]) -> tuple[NDArray[np.uint8], NDArray[np.uint8], NDArray[np.uint8]]:
    """(body part, covering, face class) per pixel or face, each 1-based (0 = not a body)."""
    classes = np.asarray(classes, dtype=np.uint32)
    return ((classes & 0xFF).astype(np.uint8), ((classes >> PART_BITS) & 0xFF).astype(np.uint8),
            ((classes >> (2 * PART_BITS)) & 0xFF).astype(np.uint8))
