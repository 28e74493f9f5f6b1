"""Pictures of a written dataset: per-frame panels with label overlays, and contact sheets of them.

Pure functions of what the dataset stores (renderer.io.dataset.Frame); drawing with OpenCV. Images are
uint8 RGB (H, W, 3). A frame's row of panels, left to right:

1. ``rgb``: the image with visible boxes (instance colour) and landmarks — visible ones as filled dots
   with a dark rim, occluded ones (in frame, behind something) as hollow rings;
2. ``depth``: colour-mapped (turbo, near = blue) between the frame's nearest and farthest surface, with a
   scale bar in metres; background black;
3. ``normals``: camera-frame normals as colour, (n + 1) / 2; background black;
4. ``instances``: each instance mask tinted in its colour over the image, outlined, with its category;
5. ``flow`` (datasets with flow): forward flow (backward in a sequence's last frame) in the standard
   Middlebury colour wheel (hue = direction, saturation = magnitude over the frame's largest), pixels
   whose flow is not valid darkened;
6. ``nocs`` (datasets with object coordinates): NOCS as colour.

``sequence_animation`` makes an animated GIF (Pillow) of a sequence's rows, one frame each.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from numpy.typing import NDArray

from renderer.channels import CHANNELS
from renderer.io.dataset import Dataset, Frame

PANELS = ("rgb", "depth", "normals", "instances", "flow", "nocs")
OVERLAY_ALPHA = 0.55  # weight of the instance colour in the instances panel
LABEL_HEIGHT = 22  # pixels of the caption strip above each frame's row

Image = NDArray[np.uint8]


def instance_colors(count: int) -> NDArray[np.uint8]:
    """(count + 1, 3) RGB; index = instance id, 0 (background) black. Golden-ratio hues: neighbours differ."""
    hues = (np.arange(count + 1) * 0.618033988749895 * 180) % 180
    hsv = np.stack([hues, np.full_like(hues, 200), np.full_like(hues, 255)], -1).astype(np.uint8)[None]
    colors = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0]
    colors[0] = 0
    return colors


def draw_text(image: Image, text: str, origin: tuple[int, int], size: float = 0.45) -> None:
    """White text on a dark box, readable on any background."""
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, size, 1)
    x, y = origin
    cv2.rectangle(image, (x - 2, y - th - 2), (x + tw + 2, y + base), (24, 24, 24), thickness=-1)
    cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, size, (255, 255, 255), 1, cv2.LINE_AA)


def rgb_panel(frame: Frame, colors: NDArray[np.uint8]) -> Image:
    out = frame.rgb.copy()
    for obj in frame.objects:
        x, y, w, h = obj.bbox
        if w == 0:
            continue
        color = tuple(int(c) for c in colors[obj.instance_id])
        cv2.rectangle(out, (x, y), (x + w - 1, y + h - 1), color, 1)
    for obj in frame.objects:
        lm = obj.landmarks
        for (u, v), in_frame, visible in zip(lm.uv, lm.in_frame, lm.visible, strict=True):
            if not in_frame:
                continue
            centre = (int(round(u)), int(round(v)))
            if visible:
                cv2.circle(out, centre, 3, (20, 20, 20), -1, cv2.LINE_AA)
                cv2.circle(out, centre, 2, (255, 255, 0), -1, cv2.LINE_AA)
            else:
                cv2.circle(out, centre, 3, (255, 0, 255), 1, cv2.LINE_AA)
    return out


def instances_panel(frame: Frame, colors: NDArray[np.uint8]) -> Image:
    instance = frame.instance
    rgb = frame.rgb
    tint = colors[np.minimum(instance, len(colors) - 1)]
    covered = instance > 0
    out = rgb.copy()
    out[covered] = (OVERLAY_ALPHA * tint[covered] + (1 - OVERLAY_ALPHA) * rgb[covered]).astype(np.uint8)
    eroded = cv2.erode(instance, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE)
    dilated = cv2.dilate(instance, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE)
    edge = covered & ((eroded != instance) | (dilated != instance))
    out[edge] = tint[edge]
    for obj in frame.objects:
        if obj.visible_pixels == 0:
            continue
        rows, cols = np.nonzero(instance == obj.instance_id)
        k = int(np.argmin((rows - rows.mean()) ** 2 + (cols - cols.mean()) ** 2))  # a pixel of the mask
        draw_text(out, obj.category, (int(cols[k]) - 12, int(rows[k]) + 4), 0.35)
    return out


def frame_panels(frame: Frame) -> dict[str, Image]:
    """The panels of a frame (see module docstring) that its channels allow, each the frame's image size."""
    colors = instance_colors(max((o.instance_id for o in frame.objects), default=0))
    panels = {
        "rgb": rgb_panel(frame, colors),
        "depth": _channel_panel(frame, "depth"),
        "normals": _channel_panel(frame, "normals"),
        "instances": instances_panel(frame, colors),
    }
    flow = flow_panel(frame)
    if flow is not None:
        panels["flow"] = flow
    if "nocs" in frame.channels:
        panels["nocs"] = _channel_panel(frame, "nocs")
    elif "object_coords" in frame.channels:
        panels["nocs"] = _channel_panel(frame, "object_coords")
    return panels


def flow_panel(frame: Frame) -> Image | None:
    """Forward flow (backward where the forward one has no valid pixel), invalid pixels darkened."""
    for direction in ("forward", "backward"):
        if f"flow_{direction}" not in frame.channels:
            continue
        valid_name = f"flow_{direction}_valid"
        valid = frame.array(valid_name) if valid_name in frame.channels else None
        if valid is not None and not valid.any() and direction == "forward":
            continue
        panel = _channel_panel(frame, f"flow_{direction}")
        if valid is not None:
            panel[~valid] = (panel[~valid] * 0.35).astype(np.uint8)
        return panel
    return None


def _channel_panel(frame: Frame, name: str) -> Image:
    panel = CHANNELS[name].panel
    assert panel is not None
    return panel(frame.array(name))


def frame_row(frame: Frame, scale: float = 1.0) -> Image:
    """The panels side by side under a caption strip (frame index, object count)."""
    panels = frame_panels(frame)
    if scale != 1.0:
        panels = {k: np.asarray(cv2.resize(v, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), dtype=np.uint8)
                  for k, v in panels.items()}
    titles = {"rgb": "rgb, boxes, landmarks", "depth": "depth", "normals": "normals (camera frame)",
              "instances": "instances", "flow": "optical flow", "nocs": "object coordinates (NOCS)"}
    for name, panel in panels.items():
        draw_text(panel, titles[name], (5, 14), 0.4)
    row = np.concatenate([panels[name] for name in PANELS if name in panels], axis=1)
    caption = np.full((LABEL_HEIGHT, row.shape[1], 3), 32, dtype=np.uint8)
    visible = sum(1 for o in frame.objects if o.visible_pixels > 0)
    draw_text(caption, f"frame {frame.index}: {len(frame.objects)} objects, {visible} visible    "
                   "landmarks: dot visible, ring occluded", (6, LABEL_HEIGHT - 7))
    return np.concatenate([caption, row], axis=0)


def contact_sheet(dataset: Dataset, positions: Sequence[int], scale: float = 1.0) -> Image:
    """Rows of frame_row for the dataset's frames at these positions (0 .. len(dataset) - 1)."""
    if not positions:
        raise ValueError("no frames selected")
    return np.concatenate([frame_row(dataset[p], scale) for p in positions], axis=0)


def sequence_animation(dataset: Dataset, sequence: int, scale: float = 0.5) -> list[Image]:
    """The rows of sequence ``sequence``'s frames, in time order (renderer preview --sequence)."""
    frames = dataset.sequence(sequence)
    if not frames:
        raise ValueError(f"--sequence: sequence {sequence} has no written frame")
    return [frame_row(frame, scale) for frame in frames]


def gif_bytes(rows: Sequence[Image], fps: float) -> bytes:
    """An animated GIF (looping) of the images."""
    import io

    from PIL import Image as PILImage

    pictures = [PILImage.fromarray(row) for row in rows]
    buffer = io.BytesIO()
    pictures[0].save(buffer, format="GIF", save_all=True, append_images=pictures[1:],
                     duration=max(int(round(1000 / fps)), 20), loop=0)
    return buffer.getvalue()


def parse_frame_selection(text: str, count: int) -> list[int]:
    """'0:16', '5', '2,4,9' or '::10' -> positions among the dataset's count frames (Python slices)."""
    try:
        if ":" in text:
            parts = [int(p) if p.strip() else None for p in text.split(":")]
            if len(parts) > 3:
                raise ValueError
            positions = list(range(count))[slice(*parts)]
        else:
            positions = [int(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise ValueError(f"--frames: expected START:STOP[:STEP] or comma-separated positions, got {text!r}") from None
    bad = [p for p in positions if not 0 <= p < count]
    if bad:
        raise ValueError(f"--frames: {bad[0]} is out of range for a dataset of {count} frames")
    if not positions:
        raise ValueError(f"--frames: {text!r} selects no frame of a dataset of {count} frames")
    return positions
