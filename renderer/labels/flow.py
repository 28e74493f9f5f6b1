"""Optical flow and its validity, made in the label pass's motion pass (a shader per pixel).

The motion pass gets, per pixel, the camera-frame position that the surface point seen at the pixel
centre has in another frame (its object and the camera moved; interpolated exactly, since the point is
linear over each triangle), and projects it with that frame's K into (u', v'); flow is
(u' - c, v' - r) for the pixel in row r, column c. The point is visible there (valid) when it lies in front of
the camera, inside the image (-1/2 <= u' < W - 1/2, the same for v'), and the surface the other frame
shows at that pixel, extended as a plane (its depth and normal) to the point's own ray, lies within
``tolerance`` (relative, renderer.scene.records.OCCLUSION_TOLERANCE as for landmarks) of the point's depth:
hidden behind another surface or turned away behind its own object, it is not. Scene flow is that
other-frame position minus the point's position in this frame's camera frame.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

import numpy as np

from renderer.assets.meshes import MeshLookup
from renderer.scene.buffers import LabelBuffers, MotionBuffers
from renderer.scene.description import FrameDescription
from renderer.scene.records import OCCLUSION_TOLERANCE

FLOW_CHANNELS = ("flow_forward", "flow_forward_valid", "flow_backward", "flow_backward_valid")
SCENE_FLOW_CHANNELS = ("scene_flow_forward", "scene_flow_backward")
MOTION_CHANNELS = ("object_coords", *FLOW_CHANNELS, *SCENE_FLOW_CHANNELS)


def motion_buffers(label_pass: Any, frame: FrameDescription, before: FrameDescription | None,
                   after: FrameDescription | None, buffers: LabelBuffers, catalog: MeshLookup,
                   channels: Collection[str] = MOTION_CHANNELS) -> MotionBuffers:
    """The motion labels of ``frame`` (renderer.render.gl.label_pass.LabelPass ``label_pass``), given its
    neighbours in the sequence; only ``channels`` are made (the others are empty, 0 x 0), and the
    neighbours' label passes only if a flow or scene-flow channel is among them."""
    return start_motion_buffers(label_pass, frame, before, after, buffers, catalog, channels)()


def start_motion_buffers(label_pass: Any, frame: FrameDescription, before: FrameDescription | None,
                         after: FrameDescription | None, buffers: LabelBuffers, catalog: MeshLookup,
                         channels: Collection[str] = MOTION_CHANNELS) -> Callable[[], MotionBuffers]:
    """motion_buffers with its motion pass left drawing: call the result for the buffers (after other
    work, such as the RGB image, has run beside the rasteriser)."""
    flow = any(c in FLOW_CHANNELS or c in SCENE_FLOW_CHANNELS for c in channels)
    neighbours = [(other, label_pass.render(other, catalog)) if other is not None and flow else None
                  for other in (before, after)]  # full passes: frame t + 1 reuses its own (LabelPass.recent)
    pending = label_pass.draw_motion(frame, catalog, neighbours[0], neighbours[1], OCCLUSION_TOLERANCE,
                                     targets=frozenset(_TARGET_OF[c] for c in channels))

    def finish() -> MotionBuffers:
        out = pending.read()
        flags = out.get("flags")
        empty2, empty3 = np.zeros((0, 0, 2), np.float32), np.zeros((0, 0, 3), np.float32)
        no_mask = np.zeros((0, 0), dtype=bool)
        return MotionBuffers(
            object_coords=out.get("object_coords", empty3),
            flow_forward=out.get("flow_forward", empty2),
            flow_forward_valid=(flags & 2) != 0 if flags is not None else no_mask,
            flow_backward=out.get("flow_backward", empty2),
            flow_backward_valid=(flags & 4) != 0 if flags is not None else no_mask,
            scene_flow_forward=out.get("scene_flow_forward", empty3),
            scene_flow_backward=out.get("scene_flow_backward", empty3))

    return finish


# The motion pass's render target that makes each channel (validity: the flags target).
_TARGET_OF = {"object_coords": "object_coords", "flow_forward": "flow_forward",
              "flow_backward": "flow_backward", "flow_forward_valid": "flags", "flow_backward_valid": "flags",
              "scene_flow_forward": "scene_flow_forward", "scene_flow_backward": "scene_flow_backward"}
