"""Decoders: the label and motion passes' raw render targets, read back from GL, turned into the typed
buffers the labels and channels use. Pure numpy (no GL), so each one is tested on arrays alone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from renderer.scene.buffers import LabelBuffers, MotionBuffers

# The motion pass's flags target: bit 0 a surface, bit 1 forward flow valid, bit 2 backward flow valid.
FORWARD_VALID, BACKWARD_VALID = 2, 4

# The render target of the motion pass that makes each motion channel (validity: the flags target).
TARGET_OF = {"object_coords": "object_coords", "flow_forward": "flow_forward",
             "flow_backward": "flow_backward", "flow_forward_valid": "flags", "flow_backward_valid": "flags",
             "scene_flow_forward": "scene_flow_forward", "scene_flow_backward": "scene_flow_backward",
             "surface_uv": "surface_uv", "body_parts": "face_class", "body_covering": "face_class",
             "face_segmentation": "face_class"}
# The targets that read the neighbouring frames' label passes (the others need no sequence).
NEIGHBOUR_TARGETS = frozenset({"flow_forward", "flow_backward", "flags", "scene_flow_forward", "scene_flow_backward"})


def label_buffers(normal_z: NDArray[np.float32], ids: NDArray[np.float32],
                  unoccluded: NDArray[np.int64]) -> LabelBuffers:
    """The label pass's targets: (H, W, 4) normal + camera z (empty when not read) and (H, W) float ids."""
    return LabelBuffers(depth=np.ascontiguousarray(normal_z[..., 3]), normals=np.ascontiguousarray(normal_z[..., :3]),
                        instance=np.rint(ids).astype(np.uint16), unoccluded_pixels=unoccluded)


def motion_buffers(targets: Mapping[str, NDArray[Any]]) -> MotionBuffers:
    """The motion pass's targets read back (only those asked for); the others empty (0 x 0)."""
    flags = targets.get("flags")
    empty2, empty3 = np.zeros((0, 0, 2), np.float32), np.zeros((0, 0, 3), np.float32)
    no_mask = np.zeros((0, 0), dtype=bool)
    return MotionBuffers(
        object_coords=targets.get("object_coords", empty3),
        flow_forward=targets.get("flow_forward", empty2),
        flow_forward_valid=(flags & FORWARD_VALID) != 0 if flags is not None else no_mask,
        flow_backward=targets.get("flow_backward", empty2),
        flow_backward_valid=(flags & BACKWARD_VALID) != 0 if flags is not None else no_mask,
        scene_flow_forward=targets.get("scene_flow_forward", empty3),
        scene_flow_backward=targets.get("scene_flow_backward", empty3),
        surface_uv=targets.get("surface_uv", empty2),
        face_class=targets.get("face_class", np.zeros((0, 0), dtype=np.uint32)))
