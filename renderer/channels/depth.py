"""depth: float32 (H, W), camera z of the surface at each pixel centre in metres, 0 = no surface.

Stored bit-exact in a numpy .npz (deflate): about 12 times smaller than the raw array on the default
scene, read by ``np.load`` and webdataset's decoders with no glue (docs/format.md has the measurements
that chose it over OpenEXR and zstd).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from renderer.channels.base import Channel, array_panel
from renderer.channels.codecs import npy_array, npz_array, npz_bytes

Image = NDArray[np.uint8]


def depth_panel(depth: NDArray[np.float32]) -> Image:
    """Turbo colour map between the nearest and farthest surface, scale bar with metres bottom-left."""
    import cv2

    from renderer.channels.panels import draw_text

    surface = depth > 0
    h, w = depth.shape
    out = np.zeros((h, w, 3), dtype=np.uint8)
    if not surface.any():
        return out
    near, far = float(depth[surface].min()), float(depth[surface].max())
    scaled = np.zeros((h, w), dtype=np.uint8)
    scaled[surface] = np.clip(255 * (depth[surface] - near) / max(far - near, 1e-9), 0, 255).astype(np.uint8)
    colored = cv2.cvtColor(cv2.applyColorMap(scaled, cv2.COLORMAP_TURBO), cv2.COLOR_BGR2RGB)
    out[surface] = colored[surface]
    bar_w, bar_h = max(w // 3, 40), max(h // 40, 6)
    x0, y0 = 8, h - bar_h - 22
    ramp = np.tile(np.linspace(0, 255, bar_w).astype(np.uint8)[None], (bar_h, 1))
    bar = cv2.cvtColor(cv2.applyColorMap(ramp, cv2.COLORMAP_TURBO), cv2.COLOR_BGR2RGB)
    cv2.rectangle(out, (x0 - 4, y0 - 4), (x0 + bar_w + 4, h - 2), (0, 0, 0), thickness=-1)
    out[y0:y0 + bar_h, x0:x0 + bar_w] = bar
    draw_text(out, f"{near:.2f}", (x0, h - 6), 0.4)
    label = f"{far:.2f} m"
    (tw, _), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.4, 1)
    draw_text(out, label, (x0 + bar_w - tw, h - 6), 0.4)
    return out


CHANNEL = Channel(
    name="depth", suffix=".npz", dtype=np.dtype(np.float32), ndim=2,
    extract=lambda frame, buffers: buffers.depth,
    encode=lambda depth: npz_bytes(depth, "depth"),
    decode=lambda data: npz_array(data, "depth"),
    doc="float32 H×W metres, numpy .npz (`np.load(f)[\"depth\"]`), bit-exact",
    panel=depth_panel, legacy={".npy": npy_array},
    rank=10, sample_key="depth", to_sample=lambda depth: depth[None], preview=array_panel("depth", depth_panel),
    title="depth",
)
