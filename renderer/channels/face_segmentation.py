"""face_segmentation: uint8 (H, W), the face-parsing class seen at each pixel centre, in FaceSynthetics'
ids (renderer.scene.body.FACE_CLASSES: 0 background, 1 skin, 2 nose, 3/4 right/left eye, 5/6 brows,
7/8 ears, 9 mouth interior, 10/11 top/bottom lip, 12 neck, 13 hair, 14 beard, 15 clothing, 16 glasses,
17 headwear, 18 facewear) and 19 body_skin (bare skin below the neck). 8-bit PNG.

A person's classes are those of the triangle seen at the pixel centre in the label pass's fragments
(renderer.humans.face_regions and the painted slots say which class each
triangle is); a worn thing's triangles carry its kind's class (renderer.humans.wardrobe), so a new worn
kind needs nothing here.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from renderer.channels.base import Channel, attribute_of
from renderer.channels.body import class_overlay, class_panel, face_classes
from renderer.channels.codecs import png_array, png_bytes
from renderer.scene.body import FACE_CLASSES, unpack_face_classes
from renderer.scene.fragments import FrameSurfaces


def face_segmentation(surfaces: FrameSurfaces) -> NDArray[np.uint8]:
    """The face class of the triangle seen at each pixel centre (a person's, or a worn thing's)."""
    face = unpack_face_classes(face_classes(surfaces))[2]
    return np.where(face > 0, face - 1, 0).astype(np.uint8)


CHANNEL = Channel(
    name="face_segmentation", suffix=".png", dtype=np.dtype(np.uint8), ndim=2,
    extract=attribute_of("face_segmentation"), surface=face_segmentation,
    encode=png_bytes, decode=png_array,
    doc="uint8 PNG, FACE_CLASSES index (FaceSynthetics' ids 0-18, 19 body_skin; dataset.json names them), "
        "0 = background",
    panel=lambda labels: class_panel(labels, len(FACE_CLASSES)), rank=93,
    sample_key="face_segmentation", to_sample=lambda labels: labels.astype(np.int64),
    preview=lambda frame: class_overlay(frame, "face_segmentation", len(FACE_CLASSES)), title="face parsing")
