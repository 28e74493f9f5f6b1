"""Exports of a written dataset to other formats: ``EXPORTERS[name](root, out, **options)``.

Each module of this package that defines ``EXPORTER`` (renderer.export.base.Exporter) is one format,
found on import: a new format is one module here plus its test; the CLI's ``--format`` choices and
flags come from the registry.
"""

from __future__ import annotations

import importlib
import pkgutil

from renderer.export.base import Exporter, ExportOption
from renderer.export.bop import export_bop
from renderer.export.coco import export_coco
from renderer.export.flo import export_flo
from renderer.export.kitti_flow import export_kitti_flow
from renderer.export.yolo import export_yolo

EXPORTERS: dict[str, Exporter] = {}


def _register_modules() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        exporter = getattr(importlib.import_module(f"{__name__}.{info.name}"), "EXPORTER", None)
        if isinstance(exporter, Exporter):
            if exporter.name in EXPORTERS:
                raise ValueError(f"exporter {exporter.name!r} registered twice")
            EXPORTERS[exporter.name] = exporter


_register_modules()

__all__ = ["EXPORTERS", "ExportOption", "Exporter", "export_bop", "export_coco", "export_flo", "export_kitti_flow",
           "export_yolo"]
