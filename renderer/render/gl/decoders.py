"""Decoders: the label pass's fragments and the numpy labels made from them, turned into the typed
buffers the labels and channels use. Pure numpy (no GL), so each one is tested on arrays alone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from renderer.scene.buffers import LabelBuffers, MotionBuffers
from renderer.scene.fragments import FrameSurfaces, SurfaceSeen, flow_to, moved_points

# The motion targets' flags: bit 0 a surface, bit 1 forward flow valid, bit 2 backward flow valid.
FORWARD_VALID, BACKWARD_VALID = 2, 4

# The motion target that makes each motion channel (validity: the flags target).
TARGET_OF = {"flow_forward": "flow_forward", "flow_backward": "flow_backward", "flow_forward_valid": "flags",
             "flow_backward_valid": "flags", "scene_flow_forward": "scene_flow_forward",
             "scene_flow_backward": "scene_flow_backward"}
# The targets that read the neighbouring frames' label passes: all of them.
NEIGHBOUR_TARGETS = frozenset(TARGET_OF.values())


def label_buffers(depth: NDArray[np.float32], normals: NDArray[np.float32], instance: NDArray[np.uint16],
                  unoccluded: NDArray[np.int64]) -> LabelBuffers:
    """The label pass's buffers: (H, W) depth, (H, W, 3) normals (both empty when not made), ids."""
    return LabelBuffers(depth=np.ascontiguousarray(depth), normals=np.ascontiguousarray(normals),
                        instance=np.ascontiguousarray(instance), unoccluded_pixels=unoccluded)


def motion_targets(here: FrameSurfaces, before: tuple[FrameSurfaces, SurfaceSeen] | None,
                   after: tuple[FrameSurfaces, SurfaceSeen] | None, tolerance: float,
                   targets: frozenset[str]) -> dict[str, NDArray[Any]]:
    """The motion targets (``flow_forward``, ``flow_backward``, ``flags``, ``scene_flow_forward``,
    ``scene_flow_backward``) of a frame's surfaces given its neighbours' (None at a sequence's ends):
    each pixel's surface point carried to the same triangle and barycentric coordinates there
    (renderer.labels.flow). Only ``targets`` are returned."""
    height, width = here.fragments.shape
    flags = here.image(np.ones(len(here.pixels), np.uint8), np.uint8)
    out: dict[str, NDArray[Any]] = {}
    for name, bit, other in (("forward", FORWARD_VALID, after), ("backward", BACKWARD_VALID, before)):
        wanted = {f"flow_{name}", f"scene_flow_{name}", "flags"} & targets
        if not wanted:
            continue
        if other is None:
            out[f"flow_{name}"] = np.zeros((height, width, 2), np.float32)
            out[f"scene_flow_{name}"] = np.zeros((height, width, 3), np.float32)
            continue
        surfaces, seen = other
        there = moved_points(here, surfaces)
        out[f"scene_flow_{name}"] = here.image((there - here.points).astype(np.float32), np.float32)
        flow, valid = flow_to(here, there, surfaces.frame, seen, tolerance)
        out[f"flow_{name}"] = here.image(flow.astype(np.float32), np.float32)
        flags[here.image(valid, bool)] |= np.uint8(bit)
    out["flags"] = flags
    return {name: out[name] for name in targets if name in out}


def motion_buffers(targets: Mapping[str, NDArray[Any]]) -> MotionBuffers:
    """The motion targets made (only those asked for); the others empty (0 x 0)."""
    flags = targets.get("flags")
    empty2, empty3 = np.zeros((0, 0, 2), np.float32), np.zeros((0, 0, 3), np.float32)
    no_mask = np.zeros((0, 0), dtype=bool)
    return MotionBuffers(
        flow_forward=targets.get("flow_forward", empty2),
        flow_forward_valid=(flags & FORWARD_VALID) != 0 if flags is not None else no_mask,
        flow_backward=targets.get("flow_backward", empty2),
        flow_backward_valid=(flags & BACKWARD_VALID) != 0 if flags is not None else no_mask,
        scene_flow_forward=targets.get("scene_flow_forward", empty3),
        scene_flow_backward=targets.get("scene_flow_backward", empty3))
