"""Pictures of a written dataset: per-frame panels with label overlays, and contact sheets of them.

Pure functions of what the dataset stores (renderer.io.dataset.Frame); drawing with OpenCV. Images are
uint8 RGB (H, W, 3). A frame's row has one panel per channel with a ``preview`` (renderer.channels), in
the registry's order; today:

1. ``rgb``: the image with visible boxes (instance colour) and landmarks — visible ones as filled dots
   with a dark rim, occluded ones (in frame, behind something) as hollow rings;
2. ``depth``: colour-mapped (turbo, near = blue) between the frame's nearest and farthest surface, with a
   scale bar in metres; background black;
3. ``normals``: camera-frame normals as colour, (n + 1) / 2; background black;
4. ``instance``: each instance mask tinted in its colour over the image, outlined, with its category;
5. ``object_coords`` or ``nocs`` (datasets with object coordinates): as colour;
6. ``flow_forward`` or ``flow_backward`` (datasets with flow): forward flow (backward in a sequence's
   last frame) in the standard Middlebury colour wheel (hue = direction, saturation = magnitude over the
   frame's largest), pixels whose flow is not valid darkened.

``sequence_animation`` makes an animated GIF (Pillow) of a sequence's rows, one frame each.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from renderer.channels import CHANNELS
from renderer.channels.panels import Image, draw_text, instance_colors  # noqa: F401  (instance_colors re-exported)
from renderer.io.dataset import Dataset, Frame

LABEL_HEIGHT = 22  # pixels of the caption strip above each frame's row


def panel_channels() -> tuple[str, ...]:
    """The channels with a preview panel, in the registry's order (the order of a row's panels)."""
    return tuple(name for name, channel in CHANNELS.items() if channel.preview is not None)


def frame_panels(frame: Frame) -> dict[str, Image]:
    """The panels of a frame's channels that have one (each channel's ``preview``), each the image size."""
    panels = {}
    for name in panel_channels():
        if name in frame.channels:
            preview = CHANNELS[name].preview
            assert preview is not None
            panel = preview(frame)
            if panel is not None:
                panels[name] = panel
    return panels


def frame_row(frame: Frame, scale: float = 1.0) -> Image:
    """The panels side by side under a caption strip (frame index, object count)."""
    panels = frame_panels(frame)
    if scale != 1.0:
        panels = {k: np.asarray(cv2.resize(v, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), dtype=np.uint8)
                  for k, v in panels.items()}
    for name, panel in panels.items():
        draw_text(panel, CHANNELS[name].title or name, (5, 14), 0.4)
    if not panels:  # none of the frame's channels draws a panel (e.g. flow only, on a sequence's last frame)
        width, height = frame.image_size
        blank = np.full((max(int(height * scale), 1), max(int(width * scale), 1), 3), 64, dtype=np.uint8)
        draw_text(blank, "no channel with a panel", (5, 14), 0.4)
        panels = {"": blank}
    row = np.concatenate(list(panels.values()), axis=1)
    caption = np.full((LABEL_HEIGHT, row.shape[1], 3), 32, dtype=np.uint8)
    visible = sum(1 for o in frame.objects if o.visible_pixels > 0)
    draw_text(caption, f"frame {frame.index}: {len(frame.objects)} objects, {visible} visible    "
                   "landmarks: dot visible, ring occluded", (6, LABEL_HEIGHT - 7))
    return np.concatenate([caption, row], axis=0)


def contact_sheet(dataset: Dataset, positions: Sequence[int], scale: float = 1.0) -> Image:
    """Rows of frame_row for the dataset's frames at these positions (0 .. len(dataset) - 1)."""
    if not positions:
        raise ValueError("no frames selected")
    return np.concatenate(_same_width([frame_row(dataset[p], scale) for p in positions]), axis=0)


def _same_width(rows: list[Image]) -> list[Image]:
    """Rows padded on the right (dark) to the widest: frames of one dataset can have different panels
    (the first frame of a sequence has no backward flow, the last no forward flow)."""
    width = max(row.shape[1] for row in rows)
    return [np.pad(row, ((0, 0), (0, width - row.shape[1]), (0, 0)), constant_values=16) for row in rows]


def sequence_animation(dataset: Dataset, sequence: int, scale: float = 0.5) -> list[Image]:
    """The rows of sequence ``sequence``'s frames, in time order (renderer preview --sequence)."""
    frames = dataset.sequence(sequence)
    if not frames:
        raise ValueError(f"--sequence: sequence {sequence} has no written frame")
    return _same_width([frame_row(frame, scale) for frame in frames])


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
