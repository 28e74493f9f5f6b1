"""depth_sensor: float32 (H, W), what a depth camera would measure at each pixel, metres along z, 0 where it
returns nothing; beside exact ``depth``, from it and the frame's DepthSensorDescription (pure numpy, seeded
by the description, so a frame's sensor depth replays exactly). docs/conditions.md has the model:

1. lateral edge noise: at depth edges a pixel takes the depth of a neighbour a Gaussian step away
   (edge_jitter_px), so edges fray as a real sensor's do; a time-of-flight sensor's edge pixels mix the
   near and far surfaces instead (flying pixels, with flying_probability);
2. axial noise: Gaussian, sigma(z) = sigma_0 + sigma_2 z^2;
3. quantisation: a structured-light sensor measures disparity d = f B / z in steps of disparity_step_px,
   so depth steps grow as z^2 / (f B); a time-of-flight sensor quantises depth to depth_step_m;
4. missing returns: grazing surfaces (incidence above max_incidence_deg), shiny ones (their object's
   metallic > 0.5, with shiny_dropout), dark ones (the RGB image's linear luminance below
   dark_threshold, with dark_dropout), and depths outside [min_range_m, max_range_m].
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from renderer.channels.base import Channel, array_panel
from renderer.channels.codecs import npz_array, npz_bytes
from renderer.channels.depth import depth_panel
from renderer.scene.buffers import RenderBuffers
from renderer.scene.camera import camera_model
from renderer.scene.color import linear_from_display
from renderer.scene.description import DepthSensorDescription, FrameDescription

EDGE_STEP = 0.03  # a depth edge: a 4-neighbour more than this fraction of the pixel's depth away
_LUMA = np.array([0.2126, 0.7152, 0.0722])


def sensor_depth(frame: FrameDescription, buffers: RenderBuffers) -> NDArray[np.float32]:
    model = frame.depth_sensor
    if model is None:
        raise ValueError(f"frame {frame.index}: depth_sensor asked for but the frame has no depth sensor model")
    rng = np.random.default_rng(model.noise_seed)
    z = buffers.depth.astype(np.float64)
    height, width = z.shape
    surface = z > 0
    z = _edges(z, surface, model, rng)
    noisy = z + rng.normal(0.0, 1.0, z.shape) * (model.sigma_0 + model.sigma_2 * z ** 2)
    K = np.asarray(frame.camera.K, dtype=np.float64)
    if model.kind == "structured_light":
        focal_baseline = K[0, 0] * model.baseline_m
        with np.errstate(divide="ignore", invalid="ignore"):
            disparity = np.round(focal_baseline / noisy / model.disparity_step_px) * model.disparity_step_px
            noisy = np.where(disparity > 0, focal_baseline / disparity, 0.0)
    else:
        noisy = np.round(noisy / model.depth_step_m) * model.depth_step_m
    returned = surface & (z > 0) & (noisy >= model.min_range_m) & (noisy <= model.max_range_m)
    returned &= ~_missing(frame, buffers, model, rng)
    return np.where(returned, noisy, 0.0).astype(np.float32)


def _edges(z: NDArray[np.float64], surface: NDArray[np.bool_], model: DepthSensorDescription,
           rng: np.random.Generator) -> NDArray[np.float64]:
    """Depth with its edges frayed (lateral noise) or, for time of flight, mixed (flying pixels)."""
    import scipy.ndimage
    padded = np.pad(z, 1, mode="edge")
    neighbours = np.stack([padded[:-2, 1:-1], padded[2:, 1:-1], padded[1:-1, :-2], padded[1:-1, 2:]])
    edge = (np.abs(neighbours - z).max(axis=0) > EDGE_STEP * np.maximum(z, 1e-6)) | (surface & (neighbours == 0).any(0))
    out = z.copy()
    rows, cols = np.nonzero(edge)
    if model.edge_jitter_px > 0 and len(rows):
        dr = np.rint(rng.normal(0.0, model.edge_jitter_px, len(rows))).astype(int)
        dc = np.rint(rng.normal(0.0, model.edge_jitter_px, len(rows))).astype(int)
        out[rows, cols] = z[np.clip(rows + dr, 0, z.shape[0] - 1), np.clip(cols + dc, 0, z.shape[1] - 1)]
    if model.kind == "tof" and len(rows):
        near = scipy.ndimage.minimum_filter(np.where(surface, z, np.inf), 3)[rows, cols]
        far = scipy.ndimage.maximum_filter(z, 3)[rows, cols]
        flying = (rng.uniform(size=len(rows)) < model.flying_probability) & np.isfinite(near)
        mix = rng.uniform(size=len(rows))
        out[rows[flying], cols[flying]] = (near + mix * (far - near))[flying]
    return out


def _missing(frame: FrameDescription, buffers: RenderBuffers, model: DepthSensorDescription,
             rng: np.random.Generator) -> NDArray[np.bool_]:
    rays = camera_model(frame.camera).pixel_rays()
    view = -rays / np.linalg.norm(rays, axis=2, keepdims=True)
    cosine = np.einsum("hwk,hwk->hw", buffers.normals.astype(np.float64), view)
    missing = cosine < np.cos(np.deg2rad(model.max_incidence_deg))
    draw = rng.uniform(size=cosine.shape)
    metallic = np.zeros(len(frame.labelled_objects) + 1)
    for obj in frame.labelled_objects:
        metallic[obj.instance_id] = obj.material.metallic
    shiny = metallic[np.minimum(buffers.instance, len(metallic) - 1)] > 0.5
    missing |= shiny & (draw < model.shiny_dropout)
    luminance = linear_from_display(buffers.rgb.astype(np.float64) / 255.0) @ _LUMA
    missing |= (luminance < model.dark_threshold) & (rng.uniform(size=cosine.shape) < model.dark_dropout)
    return np.asarray(missing)


CHANNEL = Channel(
    name="depth_sensor", suffix=".npz", dtype=np.dtype(np.float32), ndim=2, extract=sensor_depth,
    encode=lambda depth: npz_bytes(depth, "depth"), decode=lambda data: npz_array(data, "depth"),
    doc="float32 H×W metres as a depth camera measures them (noise, quantisation, missing returns = 0), "
        "numpy .npz (`np.load(f)[\"depth\"]`)",
    panel=depth_panel, rank=95, drawn=True, sample_key="depth_sensor", to_sample=lambda depth: depth[None],
    preview=array_panel("depth_sensor", depth_panel), title="depth sensor",
)
