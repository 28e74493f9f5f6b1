"""Optical flow and its validity, made in the label pass's motion pass (a shader per pixel).

The motion pass gets, per pixel, the camera-frame position that the surface point seen at the pixel
centre has in another frame (its object and the camera moved; interpolated exactly, since the point is
linear over each triangle), and projects it with that frame's K into (u', v'); flow is
(u' - c, v' - r) for the pixel in row r, column c. The point is visible there (valid) when it lies in front of
the camera, inside the image (-1/2 <= u' < W - 1/2, the same for v'), and the surface the other frame
shows at that pixel, extended as a plane (its depth and normal) to the point's own ray, lies within
``tolerance`` (relative, renderer.labels.OCCLUSION_TOLERANCE as for landmarks) of the point's depth:
hidden behind another surface or turned away behind its own object, it is not.
"""

from __future__ import annotations

from typing import Any

from renderer.assets import MeshLookup
from renderer.buffers import LabelBuffers, MotionBuffers
from renderer.labels import OCCLUSION_TOLERANCE
from renderer.scene import FrameDescription

FLOW_CHANNELS = ("flow_forward", "flow_forward_valid", "flow_backward", "flow_backward_valid")
MOTION_CHANNELS = ("object_coords", "nocs", *FLOW_CHANNELS)


def motion_buffers(label_pass: Any, frame: FrameDescription, before: FrameDescription | None,
                   after: FrameDescription | None, buffers: LabelBuffers, catalog: MeshLookup,
                   flow: bool = True) -> MotionBuffers:
    """The motion labels of ``frame`` (renderer.backends.label_pass.LabelPass ``label_pass``), given its
    neighbours in the sequence; with ``flow`` False only the object coordinates (no neighbour passes)."""
    neighbours = [(other, label_pass.render(other, catalog)) if other is not None and flow else None
                  for other in (before, after)]  # full passes: frame t + 1 reuses its own (LabelPass.recent)
    out = label_pass.motion_labels(frame, catalog, neighbours[0], neighbours[1], OCCLUSION_TOLERANCE)
    flags = out["flags"]
    return MotionBuffers(
        object_coords=out["object_coords"], nocs=out["nocs"],
        flow_forward=out["flow_forward"], flow_forward_valid=(flags == 3) | (flags == 7),
        flow_backward=out["flow_backward"], flow_backward_valid=flags >= 5)
