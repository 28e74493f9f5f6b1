"""nocs: float32 (H, W, 3), object coordinates normalised as in NOCS (Wang et al. 2019): (p - c) / d + 0.5
with c the centre and d the diagonal of the asset's axis-aligned box, so every object lies in [0, 1]^3;
0 where no labelled object is seen (background, and unlabelled distractors, which have no object record).

A derived channel: exactly a per-object affine map of ``object_coords``, so it is made when read, from
object_coords, the instance ids and each object record's ``asset_bounds``, and never stored (a quarter
of a motion dataset's bytes saved). Datasets written before format 5 stored it as a .npy.zst, still read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from renderer.channels.base import ChannelSource, array_panel
from renderer.channels.motion_common import float_image_channel


def nocs_panel(nocs: NDArray[np.float32]) -> NDArray[np.uint8]:
    return np.asarray(np.clip(nocs * 255.0, 0, 255), dtype=np.uint8)


def nocs_image(object_coords: NDArray[np.float32], instance: NDArray[np.integer[Any]],
               objects: Sequence[Any]) -> NDArray[np.float32]:
    """NOCS of each labelled object's pixels (objects: records with instance_id and asset_bounds (2, 3)),
    computed in float64; 0 elsewhere."""
    if object_coords.shape[:2] != instance.shape:
        raise ValueError(f"object_coords {object_coords.shape} and instance {instance.shape} differ in size")
    boxes = {}  # instance id -> (centre, 1 / diagonal), each record checked
    for obj in objects:
        # ids index the instance image (16-bit): a damaged record must not allocate more
        if not isinstance(obj.instance_id, int) or not 1 <= obj.instance_id <= np.iinfo(np.uint16).max:
            raise ValueError(f"object record with instance_id {obj.instance_id!r}: not an id of the instance image")
        if obj.asset_bounds is None:
            raise ValueError(f"object {obj.instance_id} has no asset_bounds (a dataset from before format 5 "
                             "stores nocs instead)")
        bounds = np.asarray(obj.asset_bounds, dtype=np.float64)
        if bounds.shape != (2, 3) or not np.all(np.isfinite(bounds)) or np.any(bounds[1] < bounds[0]):
            raise ValueError(f"object {obj.instance_id}: asset_bounds must be [min, max] corners, finite, "
                             f"min <= max (found {bounds.tolist()})")
        lo, hi = bounds
        with np.errstate(over="ignore"):
            middle, diagonal = (lo + hi) / 2, float(np.linalg.norm(hi - lo))
        if not (np.all(np.isfinite(middle)) and np.isfinite(diagonal)):
            raise ValueError(f"object {obj.instance_id}: asset_bounds {bounds.tolist()} out of range")
        boxes[obj.instance_id] = (middle, 1.0 / max(diagonal, 1e-12))
    top = max([int(instance.max(initial=0)), *boxes])
    centre = np.zeros((top + 1, 3))
    scale = np.zeros(top + 1)  # 0 leaves a pixel 0 (no record: background, distractors)
    for instance_id, (middle, inverse) in boxes.items():
        centre[instance_id], scale[instance_id] = middle, inverse
    out = np.zeros(object_coords.shape, dtype=np.float32)
    seen = scale[instance] > 0
    ids = instance[seen]
    values = (object_coords[seen] - centre[ids]) * scale[ids][:, None] + 0.5
    if not np.all(np.abs(values) <= np.finfo(np.float32).max):  # boxes absurdly far from their points
        raise ValueError("asset_bounds out of range: NOCS beyond float32")
    out[seen] = values
    return out


def _derive(source: ChannelSource) -> NDArray[np.float32]:
    return nocs_image(source.array("object_coords"), source.array("instance"), source.objects)


def _not_stored(frame: Any, buffers: Any) -> NDArray[np.float32]:
    raise ValueError("nocs is derived when read (renderer.channels.nocs), never extracted to be stored")


CHANNEL = dataclasses.replace(
    float_image_channel(
        "nocs", "float32 H×W×3, (p − box centre) / box diagonal + 0.5 in the asset frame, 0 = no labelled "
        "object; derived when read from object_coords, instance and the objects' asset_bounds (not stored)",
        nocs_panel, rank=60, preview=array_panel("nocs", nocs_panel), title="object coordinates (NOCS)"),
    derive=_derive, motion=False, requires=("object_coords", "instance"), extract=_not_stored)
