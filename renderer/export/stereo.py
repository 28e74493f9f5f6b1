"""Stereo pairs (scenes with ``sequence.camera.kind: stereo``) as Middlebury 2014 and KITTI 2015 files.

Each sequence's first two frames are the left and right view of a rectified rig (the same orientation and
intrinsics, the right camera ``baseline`` metres along the left's x axis). Ground-truth disparity of the
left view is exact from its depth: d = fx B / z (pixels; the right view sees the left's pixel (u, v) at
(u - d, v)). A left pixel is *non-occluded* where the right view sees the same surface there: the right
depth at (u - d, v), read at the nearest pixel centre, within 1 % (and 2 cm) of z; elsewhere occluded
(hidden in the right view or outside it); invalid where the left pixel sees no surface.

- ``<out>/middlebury/<seq>/``: ``im0.png``, ``im1.png``, ``disp0GT.pfm`` (float32 disparity, inf where
  invalid), ``mask0nocc.png`` (255 non-occluded, 128 occluded, 0 invalid), ``calib.txt`` (cam0, cam1,
  doffs, baseline in mm, width, height, ndisp);
- ``<out>/kitti/``: ``image_2/<seq>_10.png`` (left), ``image_3/<seq>_10.png`` (right), ``disp_occ_0/``
  (every surface) and ``disp_noc_0/`` (non-occluded) as uint16 PNGs of disparity x 256, 0 = none, the
  KITTI devkit's format.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from renderer.channels.codecs import png_bytes
from renderer.export.base import Exporter
from renderer.io.dataset import Dataset, DatasetError
from renderer.io.format import atomic_write_bytes

OCCLUSION_DEPTH = (0.01, 0.02)  # (fraction of z, metres): the right view sees the same surface within this


def stereo_disparity(depth_left: NDArray[np.float32], depth_right: NDArray[np.float32], fx: float,
                     baseline: float) -> tuple[NDArray[np.float32], NDArray[np.bool_], NDArray[np.bool_]]:
    """(disparity, valid, non-occluded) of the left view of a rectified pair."""
    z = depth_left.astype(np.float64)
    valid = z > 0
    disparity = np.where(valid, fx * baseline / np.where(valid, z, 1.0), 0.0)
    height, width = z.shape
    rows, cols = np.mgrid[0:height, 0:width]
    right_col = np.floor(cols - disparity + 0.5).astype(int)
    inside = valid & (right_col >= 0) & (right_col < width)
    seen = np.zeros_like(z)
    seen[inside] = depth_right[rows[inside], right_col[inside]]
    tolerance = np.maximum(OCCLUSION_DEPTH[0] * z, OCCLUSION_DEPTH[1])
    visible = inside & (seen > 0) & (np.abs(seen - z) <= tolerance)
    return disparity.astype(np.float32), valid, visible


def pfm_bytes(image: NDArray[np.float32]) -> bytes:
    """A greyscale PFM (little-endian, rows bottom to top), as Middlebury's tools read."""
    height, width = image.shape
    header = f"Pf\n{width} {height}\n-1.0\n".encode()
    return header + np.ascontiguousarray(image[::-1].astype("<f4")).tobytes()


def _rig(left: object, right: object) -> float:
    """The baseline of a rectified pair, or DatasetError if the two cameras are not one."""
    w0, w1 = np.asarray(left.world_to_camera), np.asarray(right.world_to_camera)  # type: ignore[attr-defined]
    if not (np.allclose(w0[:3, :3], w1[:3, :3], atol=1e-9) and np.allclose(left.K, right.K)):  # type: ignore[attr-defined]
        raise DatasetError("stereo export: a pair's cameras differ in orientation or intrinsics "
                           "(make it with sequence.camera.kind: stereo)")
    shift = w0[:3, :3] @ (-w1[:3, :3].T @ w1[:3, 3]) + w0[:3, 3]  # the right camera's centre, left frame
    if abs(shift[1]) > 1e-9 or abs(shift[2]) > 1e-9 or shift[0] <= 0:
        raise DatasetError("stereo export: the right camera is not along the left one's +x axis")
    return float(shift[0])


def export_stereo(root: str | Path, out: str | Path | None = None) -> Path:
    dataset = Dataset(root)
    dataset.require(("rgb", "depth"), "the stereo export")
    if dataset.sequence_length < 2:
        raise DatasetError(f"{root}: the stereo export needs sequences of two views (sequence.length: 2, "
                           "sequence.camera.kind: stereo)")
    if len(dataset):
        dataset[0].require_pinhole("the stereo export (rectified pairs)")  # before anything is written
    target = Path(out) if out is not None else Path(root) / "stereo"
    sequences = sorted({i // dataset.sequence_length for i in dataset.indices})
    for s in sequences:
        frames = dataset.sequence(s)
        if len(frames) < 2:
            continue
        left, right = frames[0], frames[1]
        left.require_pinhole("the stereo export (rectified pairs)")
        baseline = _rig(left, right)
        fx = float(left.K[0, 0])
        disparity, valid, visible = stereo_disparity(left.depth, right.depth, fx, baseline)
        name = f"{s:06d}"
        mb = target / "middlebury" / name
        mb.mkdir(parents=True, exist_ok=True)
        left.copy_file("rgb", mb / "im0.png")
        right.copy_file("rgb", mb / "im1.png")
        atomic_write_bytes(mb / "disp0GT.pfm", pfm_bytes(np.where(valid, disparity, np.inf).astype(np.float32)))
        mask = np.where(visible, 255, np.where(valid, 128, 0)).astype(np.uint8)
        atomic_write_bytes(mb / "mask0nocc.png", png_bytes(mask))
        K = left.K
        cam = f"[{K[0, 0]:.6f} 0 {K[0, 2]:.6f}; 0 {K[1, 1]:.6f} {K[1, 2]:.6f}; 0 0 1]"
        height, width = disparity.shape
        ndisp = int(np.ceil(disparity.max() / 16.0) * 16) if valid.any() else 16
        atomic_write_bytes(mb / "calib.txt", (f"cam0={cam}\ncam1={cam}\ndoffs=0\nbaseline={baseline * 1000:.6f}\n"
                                               f"width={width}\nheight={height}\nndisp={ndisp}\n").encode())
        kitti = target / "kitti"
        for folder in ("image_2", "image_3", "disp_occ_0", "disp_noc_0"):
            (kitti / folder).mkdir(parents=True, exist_ok=True)
        left.copy_file("rgb", kitti / "image_2" / f"{name}_10.png")
        right.copy_file("rgb", kitti / "image_3" / f"{name}_10.png")
        scaled = np.clip(np.rint(disparity.astype(np.float64) * 256), 0, 65535).astype(np.uint16)
        atomic_write_bytes(kitti / "disp_occ_0" / f"{name}_10.png", png_bytes(np.where(valid, scaled, 0)))
        atomic_write_bytes(kitti / "disp_noc_0" / f"{name}_10.png", png_bytes(np.where(visible, scaled, 0)))
    return target


EXPORTER = Exporter("stereo", export_stereo, "stereo pairs: Middlebury 2014 and KITTI 2015 disparity files")
