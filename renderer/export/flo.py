"""Optical flow as Middlebury ``.flo`` files, the format flow benchmarks and ``cv2.readOpticalFlow`` read:
``<out>/forward/NNNNNN.flo``, ``<out>/backward/NNNNNN.flo`` and the validity masks beside them as
8-bit PNGs (``NNNNNN_valid.png``, 255 = valid); default out ``<root>/flo``. Invalid pixels keep the flow
we have (occluded points still project somewhere); the masks say which are valid.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from renderer.channels.motion_common import mask_bytes
from renderer.channels.optical_flow import write_flo
from renderer.export.base import Exporter
from renderer.io.dataset import Dataset
from renderer.io.format import atomic_write_bytes, frame_name


def export_flo(root: str | Path, out: str | Path | None = None) -> Path:
    dataset = Dataset(root)
    target = Path(out) if out is not None else Path(root) / "flo"
    directions = [d for d in ("forward", "backward") if f"flow_{d}" in dataset.channels]
    if not directions:
        dataset.require(("flow_forward",), "the .flo export")
    for direction in directions:
        (target / direction).mkdir(parents=True, exist_ok=True)
    for i in range(len(dataset)):
        frame = dataset[i]
        name = frame_name(frame.index)
        for direction in directions:
            folder = target / direction
            handle, tmp = tempfile.mkstemp(suffix=".flo", dir=folder, prefix=f".{name}.")
            os.close(handle)
            try:
                write_flo(tmp, frame.array(f"flow_{direction}"))
                os.replace(tmp, folder / f"{name}.flo")
            finally:
                Path(tmp).unlink(missing_ok=True)
            if f"flow_{direction}_valid" in dataset.channels:
                atomic_write_bytes(folder / f"{name}_valid.png", mask_bytes(frame.array(f"flow_{direction}_valid")))
    return target


EXPORTER = Exporter("flo", export_flo, "Middlebury .flo files of the optical flow")
