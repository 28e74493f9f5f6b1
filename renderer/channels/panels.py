"""Drawing shared by channel panels and dataset previews (uint8 RGB images, OpenCV)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from renderer.scene.records import LandmarkLabels, ObjectLabels

Image = NDArray[np.uint8]


def draw_text(image: Image, text: str, origin: tuple[int, int], size: float = 0.45) -> None:
    """White text on a dark box, readable on any background."""
    import cv2
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, size, 1)
    x, y = origin
    cv2.rectangle(image, (x - 2, y - th - 2), (x + tw + 2, y + base), (24, 24, 24), thickness=-1)
    cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, size, (255, 255, 255), 1, cv2.LINE_AA)


OVERLAY_ALPHA = 0.55  # weight of the instance colour in the instances panel


def instance_colors(count: int) -> NDArray[np.uint8]:
    """(count + 1, 3) RGB; index = instance id, 0 (background) black. Golden-ratio hues: neighbours differ."""
    import cv2
    hues = (np.arange(count + 1) * 0.618033988749895 * 180) % 180
    hsv = np.stack([hues, np.full_like(hues, 200), np.full_like(hues, 255)], -1).astype(np.uint8)[None]
    colors = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0]
    colors[0] = 0
    return colors


def _colors_of(objects: Sequence[ObjectLabels]) -> NDArray[np.uint8]:
    return instance_colors(max((o.instance_id for o in objects), default=0))


def boxes_and_landmarks(rgb: Image, objects: Sequence[ObjectLabels]) -> Image:
    """The image with visible boxes (instance colour) and landmarks: visible ones as filled dots with a dark
    rim, occluded ones (in frame, behind something) as hollow rings."""
    import cv2
    colors = _colors_of(objects)
    out = rgb.copy()
    for obj in objects:
        x, y, w, h = obj.bbox
        if w == 0:
            continue
        color = tuple(int(c) for c in colors[obj.instance_id])
        cv2.rectangle(out, (x, y), (x + w - 1, y + h - 1), color, 1)
    for obj in objects:
        _draw_points(out, obj.landmarks, 3)
        if obj.face is not None:  # a face's box (white) and its 68 landmarks, smaller
            x, y, w, h = obj.face.box
            if w:
                cv2.rectangle(out, (x, y), (x + w - 1, y + h - 1), (255, 255, 255), 1)
            _draw_points(out, obj.face.landmarks, 2)
    return out


def _draw_points(out: Image, lm: LandmarkLabels, radius: int) -> None:
    import cv2
    for (u, v), in_frame, visible in zip(lm.uv, lm.in_frame, lm.visible, strict=True):
        if not in_frame:
            continue
        centre = (int(round(u)), int(round(v)))
        if visible:
            cv2.circle(out, centre, radius, (20, 20, 20), -1, cv2.LINE_AA)
            cv2.circle(out, centre, radius - 1, (255, 255, 0), -1, cv2.LINE_AA)
        else:
            cv2.circle(out, centre, radius, (255, 0, 255), 1, cv2.LINE_AA)


def tinted_instances(rgb: Image, instance: NDArray[np.uint16], objects: Sequence[ObjectLabels]) -> Image:
    """Each instance mask tinted in its colour over the image, outlined, with its category."""
    import cv2
    colors = _colors_of(objects)
    tint = colors[np.minimum(instance, len(colors) - 1)]
    covered = instance > 0
    out = rgb.copy()
    out[covered] = (OVERLAY_ALPHA * tint[covered] + (1 - OVERLAY_ALPHA) * rgb[covered]).astype(np.uint8)
    eroded = cv2.erode(instance, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE)
    dilated = cv2.dilate(instance, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE)
    edge = covered & ((eroded != instance) | (dilated != instance))
    out[edge] = tint[edge]
    for obj in objects:
        if obj.visible_pixels == 0:
            continue
        rows, cols = np.nonzero(instance == obj.instance_id)
        if rows.size == 0:
            continue
        k = int(np.argmin((rows - rows.mean()) ** 2 + (cols - cols.mean()) ** 2))  # a pixel of the mask
        draw_text(out, obj.category, (int(cols[k]) - 12, int(rows[k]) + 4), 0.35)
    return out
