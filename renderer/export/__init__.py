"""Exports of a written dataset to other formats: a small registry, ``EXPORTERS[name](root, out)``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from renderer.export.bop import export_bop
from renderer.export.coco import export_coco
from renderer.export.flo import export_flo
from renderer.export.kitti_flow import export_kitti_flow
from renderer.export.yolo import export_yolo

EXPORTERS: dict[str, Callable[[str | Path, str | Path | None], Path]] = {
    "coco": export_coco,
    "bop": export_bop,
    "yolo": export_yolo,
    "flo": export_flo,
    "kitti_flow": export_kitti_flow,
}

__all__ = ["EXPORTERS", "export_bop", "export_coco", "export_flo", "export_kitti_flow", "export_yolo"]
