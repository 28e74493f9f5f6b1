"""body_parts and body_covering: uint8 (H, W) per pixel, the part of a person's body seen at the pixel
centre (renderer.scene.body.BODY_PARTS, 1-based: 1 = head ... 16 = right_foot) and what covers the
surface there (COVERINGS, 1-based: 1 = skin ... 8 = shoes); 0 where no person is seen. 8-bit PNG.

Both are the class of the triangle seen at the pixel centre in the label pass's fragments (the same
rasterisation as the instance map), so a part mask is a subset of its person's instance mask.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from renderer.channels.base import Channel, PanelSource, attribute_of
from renderer.channels.codecs import png_array, png_bytes
from renderer.channels.panels import OVERLAY_ALPHA, Image, instance_colors
from renderer.scene.body import BODY_PARTS, COVERINGS, unpack_face_classes
from renderer.scene.fragments import FrameSurfaces


def class_panel(labels: NDArray[np.uint8], count: int) -> Image:
    """Each class its own colour (golden-ratio hues, as instances), 0 black."""
    return instance_colors(count)[labels]


def class_overlay(frame: PanelSource, name: str, count: int) -> Image | None:
    labels = frame.array(name)
    if not labels.any():
        return None  # no person in view
    colours = class_panel(labels, count)
    if "rgb" not in frame.channels:
        return colours
    out = frame.array("rgb").copy()
    seen = labels > 0
    out[seen] = (OVERLAY_ALPHA * colours[seen] + (1 - OVERLAY_ALPHA) * out[seen]).astype(np.uint8)
    return out


def face_classes(surfaces: FrameSurfaces) -> NDArray[np.uint32]:
    """uint32 (H, W): the packed class (renderer.scene.body) of the triangle seen at each pixel centre, 0 = none."""
    per_pixel = surfaces.face_attribute(lambda k, mesh: mesh.face_classes, np.uint32)
    return surfaces.image(per_pixel, np.uint32)


def _channel(name: str, group: str, classes: tuple[str, ...], which: int, rank: int, title: str) -> Channel:
    def surface(surfaces: FrameSurfaces) -> NDArray[np.uint8]:
        return unpack_face_classes(face_classes(surfaces))[which]

    return Channel(
        name=name, suffix=".png", dtype=np.dtype(np.uint8), ndim=2, extract=attribute_of(name), surface=surface,
        encode=png_bytes, decode=png_array,
        doc=f"uint8 PNG, 1-based index into {group} (1 {classes[0]} ... {len(classes)} {classes[-1]}; "
            "dataset.json names them), 0 = no person",
        panel=lambda labels: class_panel(labels, len(classes)), rank=rank, sample_key=name,
        to_sample=lambda labels: labels.astype(np.int64),
        preview=lambda frame: class_overlay(frame, name, len(classes)), title=title)


CHANNELS = (
    _channel("body_parts", "BODY_PARTS", BODY_PARTS, 0, rank=90, title="body parts"),
    _channel("body_covering", "COVERINGS", COVERINGS, 1, rank=91, title="skin, hair, clothing"),
)
