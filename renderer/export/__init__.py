"""Exports of a written dataset to other formats: a small registry, ``EXPORTERS[name](root, out)``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from renderer.export.bop import export_bop
from renderer.export.coco import export_coco

EXPORTERS: dict[str, Callable[[str | Path, str | Path | None], Path]] = {
    "coco": export_coco,
    "bop": export_bop,
}

__all__ = ["EXPORTERS", "export_bop", "export_coco"]
