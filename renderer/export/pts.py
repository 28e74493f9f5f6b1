"""300-W export: one face per image, each with an iBUG ``.pts`` file of its 68 landmarks named as its image
(``<stem>.png`` + ``<stem>.pts``), the pairing landmark tools read (menpo's ``import_images``, face-alignment,
dlib's trainers via their converters) with no glue.

A frame with one exported face is written whole: ``<frame>.png`` (a hard link to the dataset's image where
it can be) and ``<frame>.pts``. A frame with several faces is written as one crop per face, as 300-W/iBUG
distribute their images: ``<frame>_<instance>.png`` and ``.pts``, the crop the face box grown by
``crop_margin`` × its longer side on every side (clipped to the image), the points in the crop's pixels.
Coordinates: 300-W's files are 1-based (the top-left pixel's centre is (1, 1), as annotated in Matlab), so
``origin: one`` (the default) writes our pixel-centre (u, v) + 1; ``origin: zero`` writes (u, v) as they
are. Every point is written, seen or not (a .pts has no visibility); ``faces.csv`` lists each file with
its image, the crop's place in the frame, face box (in the written image), head pose (yaw, pitch, roll)
and how many of the 68 points are visible.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import cv2
import numpy as np

from renderer.export.base import Exporter, ExportError, ExportOption, whole_number
from renderer.io.dataset import Dataset
from renderer.io.format import atomic_write_bytes, frame_name

PTS_ORIGINS = {"one": 1.0, "zero": 0.0}
MAX_CROP_MARGIN = 2.0


def pts_text(points: list[tuple[float, float]]) -> str:
    """An iBUG .pts file of these (x, y) points."""
    lines = ["version: 1", f"n_points: {len(points)}", "{", *(f"{x:.4f} {y:.4f}" for x, y in points), "}"]
    return "\n".join(lines) + "\n"


def _crop(box: tuple[int, int, int, int], margin: float, width: int, height: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) pixel edges: the face box grown by margin x its longer side, clipped to the image."""
    x, y, w, h = box
    grow = int(np.ceil(margin * max(w, h)))
    return max(0, x - grow), max(0, y - grow), min(width, x + w + grow), min(height, y + h + grow)


def export_pts(root: str | Path, out: str | Path | None = None, origin: str = "one",
               min_visible_points: int = 0, crop_margin: float = 0.3) -> Path:
    """Write the 300-W files (default out: ``<root>/300w``) and return the folder. Faces with fewer than
    min_visible_points visible landmarks, or none in frame, are left out. Files a previous export listed
    in faces.csv are removed first (a rerun leaves no stale pairs)."""
    if origin not in PTS_ORIGINS:
        raise ExportError(f"origin: {origin!r} is not one of {', '.join(PTS_ORIGINS)}")
    if not 0 <= crop_margin <= MAX_CROP_MARGIN:
        raise ExportError(f"crop_margin: must be in [0, {MAX_CROP_MARGIN}], got {crop_margin}")
    dataset = Dataset(root)
    dataset.require(("rgb",), "the 300-W export")
    target = Path(out) if out is not None else Path(root) / "300w"
    target.mkdir(parents=True, exist_ok=True)
    _remove_previous(target)
    shift = PTS_ORIGINS[origin]
    table = io.StringIO()
    rows = csv.writer(table, lineterminator="\n")
    rows.writerow(["pts", "image", "frame_index", "instance_id", "crop_x", "crop_y", "x", "y", "w", "h", "yaw",
                   "pitch", "roll", "visible_points", "expression"])
    for i in range(len(dataset)):
        frame = dataset[i]
        faces = [o for o in frame.objects if o.face is not None and o.face.landmarks.in_frame.any()
                 and int(o.face.landmarks.visible.sum()) >= min_visible_points]
        width, height = frame.image_size
        for obj in faces:
            face = obj.face
            assert face is not None
            if len(faces) == 1:
                stem, (x0, y0, x1, y1) = frame_name(frame.index), (0, 0, width, height)
                frame.copy_file("rgb", target / f"{stem}.png")
            else:
                stem = f"{frame_name(frame.index)}_{obj.instance_id:03d}"
                x0, y0, x1, y1 = _crop(face.box, crop_margin, width, height)
                ok, png = cv2.imencode(".png", np.ascontiguousarray(frame.rgb[y0:y1, x0:x1, ::-1]))
                if not ok:
                    raise ExportError(f"frame {frame.index}: cannot encode the crop of face {obj.instance_id}")
                atomic_write_bytes(target / f"{stem}.png", png.tobytes())
            points = [(float(u) - x0 + shift, float(v) - y0 + shift) for u, v in face.landmarks.uv]
            atomic_write_bytes(target / f"{stem}.pts", pts_text(points).encode())
            yaw, pitch, roll = face.head_euler_deg
            x, y, w, h = face.box
            rows.writerow([f"{stem}.pts", f"{stem}.png", frame.index, obj.instance_id, x0, y0, x - x0, y - y0, w, h,
                           f"{yaw:.3f}", f"{pitch:.3f}", f"{roll:.3f}", int(face.landmarks.visible.sum()),
                           face.expression])
    atomic_write_bytes(target / "faces.csv", table.getvalue().encode())
    return target


def _remove_previous(target: Path) -> None:
    listing = target / "faces.csv"
    if not listing.is_file():
        return
    with listing.open(newline="") as handle:
        for row in csv.DictReader(handle):
            for name in (row.get("pts"), row.get("image")):
                if name and "/" not in name and "\\" not in name:
                    (target / name).unlink(missing_ok=True)


def _margin(text: str) -> float:
    """argparse type of crop_margin: a number in [0, MAX_CROP_MARGIN]."""
    import argparse

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 <= value <= MAX_CROP_MARGIN:
        raise argparse.ArgumentTypeError(f"must be in [0, {MAX_CROP_MARGIN}], got {value}")
    return value


EXPORTER = Exporter("300w", export_pts, "300-W: one face per image (whole frames or face crops) with its iBUG "
                    ".pts of 68 landmarks", options=(
    ExportOption("origin", "300w: one (300-W's 1-based pixel coordinates) or zero (ours)", "one",
                 choices=tuple(PTS_ORIGINS)),
    ExportOption("min_visible_points", "300w: leave out faces with fewer visible landmarks", 0,
                 parse=whole_number(0, 68)),
    ExportOption("crop_margin", "300w: frames with several faces become one crop per face, the face box grown by "
                 "this x its longer side", 0.3, parse=_margin),
))
