"""300-W export: every labelled face as an image and an iBUG ``.pts`` file of its 68 landmarks, the layout
landmark-alignment tools read (menpo, face-alignment, dlib's trainers via their converters).

``<out>/<frame>_<instance>.pts`` beside ``<out>/<frame>.png`` (a hard link to the dataset's image where
it can be). Coordinates: 300-W's files are 1-based (the top-left pixel's centre is (1, 1), as annotated
in Matlab), so ``origin: one`` (the default) writes our pixel-centre (u, v) + 1; ``origin: zero`` writes
(u, v) as they are. Every point is written, seen or not (a .pts has no visibility); ``faces.csv`` lists
each file with its face box, head pose (yaw, pitch, roll) and how many of the 68 points are visible.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from renderer.export.base import Exporter, ExportOption, whole_number
from renderer.io.dataset import Dataset
from renderer.io.format import atomic_write_bytes, frame_name

PTS_ORIGINS = {"one": 1.0, "zero": 0.0}


def pts_text(points: list[tuple[float, float]]) -> str:
    """An iBUG .pts file of these (x, y) points."""
    lines = ["version: 1", f"n_points: {len(points)}", "{", *(f"{x:.4f} {y:.4f}" for x, y in points), "}"]
    return "\n".join(lines) + "\n"


def export_pts(root: str | Path, out: str | Path | None = None, origin: str = "one",
               min_visible_points: int = 0) -> Path:
    """Write the 300-W files (default out: ``<root>/300w``) and return the folder. Faces with fewer than
    min_visible_points visible landmarks, or none in frame, are left out."""
    if origin not in PTS_ORIGINS:
        raise ValueError(f"origin: {origin!r} is not one of {', '.join(PTS_ORIGINS)}")
    dataset = Dataset(root)
    dataset.require(("rgb",), "the 300-W export")
    target = Path(out) if out is not None else Path(root) / "300w"
    target.mkdir(parents=True, exist_ok=True)
    shift = PTS_ORIGINS[origin]
    table = io.StringIO()
    rows = csv.writer(table, lineterminator="\n")
    rows.writerow(["pts", "image", "x", "y", "w", "h", "yaw", "pitch", "roll", "visible_points", "expression"])
    for i in range(len(dataset)):
        frame = dataset[i]
        faces = [o for o in frame.objects if o.face is not None and o.face.landmarks.in_frame.any()
                 and int(o.face.landmarks.visible.sum()) >= min_visible_points]
        if not faces:
            continue
        image = f"{frame_name(frame.index)}.png"
        if not (target / image).exists():
            frame.copy_file("rgb", target / image)
        for obj in faces:
            face = obj.face
            assert face is not None
            name = f"{frame_name(frame.index)}_{obj.instance_id:03d}.pts"
            points = [(float(u) + shift, float(v) + shift) for u, v in face.landmarks.uv]
            atomic_write_bytes(target / name, pts_text(points).encode())
            yaw, pitch, roll = face.head_euler_deg
            rows.writerow([name, image, *face.box, f"{yaw:.3f}", f"{pitch:.3f}", f"{roll:.3f}",
                           int(face.landmarks.visible.sum()), face.expression])
    atomic_write_bytes(target / "faces.csv", table.getvalue().encode())
    return target


EXPORTER = Exporter("300w", export_pts, "300-W: images and iBUG .pts files of every face's 68 landmarks", options=(
    ExportOption("origin", "300w: one (300-W's 1-based pixel coordinates) or zero (ours)", "one",
                 choices=tuple(PTS_ORIGINS)),
    ExportOption("min_visible_points", "300w: leave out faces with fewer visible landmarks", 0,
                 parse=whole_number(0, 68)),
))
