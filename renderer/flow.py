"""Optical flow and its validity from the label pass's buffers: pure numpy.

The label pass gives, per pixel, the camera-frame position that the surface point seen at the pixel
centre has in another frame (its object and the camera moved; interpolated exactly, since the point is
linear over each triangle). Here it is projected with that frame's K into (u', v'); flow is
(u' - c, v' - r) for the pixel in row r, column c. The point is visible there (valid) when it lies in front of
the camera, inside the image (-1/2 <= u' < W - 1/2, the same for v'), and the surface the other frame
shows at that pixel, extended as a plane (its depth and normal) to the point's own ray, lies within
``tolerance`` (relative, renderer.labels.OCCLUSION_TOLERANCE as for landmarks) of the point's depth:
hidden behind another surface or turned away behind its own object, it is not.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from renderer.assets import MeshLookup
from renderer.buffers import LabelBuffers, MotionBuffers
from renderer.labels import OCCLUSION_TOLERANCE
from renderer.scene import FrameDescription


def flow_and_validity(points_other: NDArray[np.float32], surface: NDArray[np.bool_], K_other: NDArray[np.float64],
                      depth_other: NDArray[np.float32], normals_other: NDArray[np.float32],
                      tolerance: float = OCCLUSION_TOLERANCE) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
    """(flow (H, W, 2) float32, valid (H, W) bool) towards the other frame. Flow is given wherever the
    point is in front of the other camera, visible there or not (occluded flow is what a network may
    still learn from; the mask says which is which); 0 where there is no surface. Computed over the
    surface pixels only, in float64."""
    h, w = surface.shape
    flow = np.zeros((h, w, 2), dtype=np.float32)
    valid = np.zeros((h, w), dtype=bool)
    rows, cols = np.nonzero(surface)
    p = points_other[rows, cols].astype(np.float64)
    front = p[:, 2] > 0
    rows, cols, p = rows[front], cols[front], p[front]
    K = np.asarray(K_other, dtype=np.float64)
    z = p[:, 2]
    u = (K[0, 0] * p[:, 0] + K[0, 1] * p[:, 1]) / z + K[0, 2]
    v = (K[1, 1] * p[:, 1]) / z + K[1, 2]
    flow[rows, cols, 0] = u - cols
    flow[rows, cols, 1] = v - rows
    inside = (u >= -0.5) & (u < w - 0.5) & (v >= -0.5) & (v < h - 0.5)
    rows, cols, z, u, v = rows[inside], cols[inside], z[inside], u[inside], v[inside]
    pc = np.floor(u + 0.5).astype(np.int64)
    pr = np.floor(v + 0.5).astype(np.int64)
    d = depth_other[pr, pc].astype(np.float64)
    n = normals_other[pr, pc].astype(np.float64)
    # The other frame's surface at that pixel centre, as a plane, met by the point's own ray (both as
    # camera-frame directions with z = 1, scaled): plane depth = (n . centre) / (n . ray).
    fx, skew, cx, fy, cy = K[0, 0], K[0, 1], K[0, 2], K[1, 1], K[1, 2]
    ray_y = (v - cy) / fy
    ray_x = (u - cx - skew * ray_y) / fx
    centre_y = (pr - cy) / fy
    centre_x = (pc - cx - skew * centre_y) / fx
    nx, ny, nz = n[:, 0], n[:, 1], n[:, 2]
    facing = nx * ray_x + ny * ray_y + nz
    along = (nx * centre_x + ny * centre_y + nz) * d
    usable = np.abs(facing) > 1e-9
    plane_z = np.where(usable, along / np.where(usable, facing, 1.0), d)
    valid[rows, cols] = (d > 0) & (np.abs(plane_z - z) <= tolerance * z)
    return flow, valid


FLOW_CHANNELS = ("flow_forward", "flow_forward_valid", "flow_backward", "flow_backward_valid")
MOTION_CHANNELS = ("object_coords", "nocs", *FLOW_CHANNELS)


def motion_buffers(label_pass: Any, frame: FrameDescription, before: FrameDescription | None,
                   after: FrameDescription | None, buffers: LabelBuffers, catalog: MeshLookup,
                   flow: bool = True) -> MotionBuffers:
    """The motion labels of ``frame`` (renderer.backends.label_pass.LabelPass ``label_pass``), given its
    neighbours in the sequence; with ``flow`` False only the object coordinates (no neighbour passes)."""
    points = label_pass.motion_points(frame, before, after, catalog)
    surface = points["object_coords"][..., 3] > 0
    h, w = surface.shape
    flows = {}
    for name, other, key in (("forward", after, "after"), ("backward", before, "before")):
        if other is None or not flow:
            flows[name] = (np.zeros((h, w, 2), np.float32), np.zeros((h, w), bool))
            continue
        seen = label_pass.render(other, catalog)  # a full pass: frame t + 1 reuses it (LabelPass.recent)
        flows[name] = flow_and_validity(points[key][..., :3], surface, np.asarray(other.camera.K),
                                        seen.depth, seen.normals)
    return MotionBuffers(
        object_coords=np.ascontiguousarray(points["object_coords"][..., :3]),
        nocs=np.ascontiguousarray(points["nocs"][..., :3]),
        flow_forward=flows["forward"][0], flow_forward_valid=flows["forward"][1],
        flow_backward=flows["backward"][0], flow_backward_valid=flows["backward"][1])
