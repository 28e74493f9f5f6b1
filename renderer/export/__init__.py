"""Exports of a written dataset to other formats: ``EXPORTERS[name](root, out, **options)``.

Each module of this package that defines ``EXPORTER`` (renderer.export.base.Exporter) is one format,
found on import: a new format is one module here plus its test; the CLI's ``--format`` choices and
flags come from the registry.
"""

from __future__ import annotations

from renderer.export.base import Exporter, ExportError, ExportOption
from renderer.export.bop import export_bop
from renderer.export.coco import export_coco
from renderer.export.flo import export_flo
from renderer.export.kitti_flow import export_kitti_flow
from renderer.export.yolo import export_yolo
from renderer.registry import add, module_entries

EXPORTERS: dict[str, Exporter] = {}


def _register_modules() -> None:
    for exporter in module_entries(__name__, __path__, "EXPORTER", Exporter):
        add(EXPORTERS, exporter.name, exporter, what="exporter")


_register_modules()

__all__ = ["EXPORTERS", "ExportError", "ExportOption", "Exporter", "export_bop", "export_coco", "export_flo",
           "export_kitti_flow", "export_yolo"]
