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
    still learn from; the mask says which is which); 0 where there is no surface."""
    h, w = surface.shape
    p = points_other.astype(np.float64)
    z = p[..., 2]
    front = surface & (z > 0)
    safe_z = np.where(front, z, 1.0)
    K = np.asarray(K_other, dtype=np.float64)
    u = (K[0, 0] * p[..., 0] + K[0, 1] * p[..., 1]) / safe_z + K[0, 2]
    v = (K[1, 1] * p[..., 1]) / safe_z + K[1, 2]
    inside = front & (u >= -0.5) & (u < w - 0.5) & (v >= -0.5) & (v < h - 0.5)
    cols = np.clip(np.floor(u + 0.5), 0, w - 1).astype(np.int64)
    rows = np.clip(np.floor(v + 0.5), 0, h - 1).astype(np.int64)
    d = depth_other[rows, cols].astype(np.float64)
    n = normals_other[rows, cols].astype(np.float64)
    K_inv = np.linalg.inv(K)
    # The other frame's surface at that pixel centre, as a plane, met by the point's own ray (z = 1 scaled).
    centre = np.stack([cols, rows, np.ones_like(cols)], -1).astype(np.float64) @ K_inv.T * d[..., None]
    ray = np.stack([u, v, np.ones_like(u)], -1) @ K_inv.T
    facing = np.einsum("...i,...i->...", n, ray)
    along = np.einsum("...i,...i->...", n, centre)
    plane_z = np.where(np.abs(facing) > 1e-9, along / np.where(np.abs(facing) > 1e-9, facing, 1.0), d)
    valid = inside & (d > 0) & (np.abs(plane_z - z) <= tolerance * np.abs(z))
    grid_v, grid_u = np.mgrid[0:h, 0:w]
    flow = np.zeros((h, w, 2), dtype=np.float32)
    flow[..., 0] = np.where(front, u - grid_u, 0.0)
    flow[..., 1] = np.where(front, v - grid_v, 0.0)
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
        seen = label_pass.render(other, catalog, count_alone=False)
        flows[name] = flow_and_validity(points[key][..., :3], surface, np.asarray(other.camera.K),
                                        seen.depth, seen.normals)
    return MotionBuffers(
        object_coords=np.ascontiguousarray(points["object_coords"][..., :3]),
        nocs=np.ascontiguousarray(points["nocs"][..., :3]),
        flow_forward=flows["forward"][0], flow_forward_valid=flows["forward"][1],
        flow_backward=flows["backward"][0], flow_backward_valid=flows["backward"][1])
