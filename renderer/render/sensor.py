"""Camera effects on the RGB image only (labels are never touched): a pure function of the image and
a SensorDescription, so a frame's effects can be replayed from its description."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from renderer.scene.color import display_from_linear, linear_from_display
from renderer.scene.description import SensorDescription

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def photon_noise(image: NDArray[np.float32], sensor: SensorDescription) -> NDArray[np.float32]:
    """Shot and read noise on a display-encoded image in [0, 1]: decoded to linear radiance (the engines'
    1 / 2.2 transfer), each pixel's expected electrons (linear x full-scale electrons) drawn as Poisson,
    Gaussian read noise added, scaled back and encoded again, so the variance in linear units is
    mean / N + (read / N)^2 with N the full-scale electrons: the photon transfer curve."""
    rng = np.random.default_rng(sensor.photon_seed)
    electrons_full = sensor.full_scale_electrons
    linear = linear_from_display(image.astype(np.float64))
    electrons = rng.poisson(linear * electrons_full).astype(np.float64)
    electrons += rng.normal(0.0, sensor.read_noise_e, electrons.shape)
    noisy = np.clip(electrons / electrons_full, 0.0, 1.0)
    return display_from_linear(noisy).astype(np.float32)


def apply_sensor(rgb: NDArray[np.uint8], sensor: SensorDescription) -> NDArray[np.uint8]:
    """The image as the simulated sensor records it (see SensorDescription for the order)."""
    if sensor.is_identity:
        return rgb
    image: NDArray[np.float32] = rgb.astype(np.float32) / 255.0
    if sensor.iso > 0:
        image = photon_noise(image, sensor)
    if sensor.exposure_ev:
        image = image * np.float32(2.0**sensor.exposure_ev)
    if sensor.brightness:
        image = image + np.float32(sensor.brightness)
    if sensor.contrast:
        mean = float((image @ _LUMA).mean())
        image = (image - mean) * np.float32(1.0 + sensor.contrast) + mean
    if sensor.saturation:
        grey = (image @ _LUMA)[..., None]
        image = (grey + (image - grey) * np.float32(1.0 + sensor.saturation)).astype(np.float32)
    if sensor.blur_sigma > 0:
        image = np.asarray(cv2.GaussianBlur(image, (0, 0), sigmaX=sensor.blur_sigma, borderType=cv2.BORDER_REFLECT),
                           dtype=np.float32)
    if sensor.noise_std > 0:
        noise = np.random.default_rng(sensor.noise_seed).normal(0.0, sensor.noise_std / 255.0, image.shape)
        image = image + noise.astype(np.float32)
    out = np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)
    if sensor.jpeg_quality > 0:
        ok, data = cv2.imencode(".jpg", out[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(sensor.jpeg_quality)])
        decoded = cv2.imdecode(data, cv2.IMREAD_COLOR) if ok else None
        if decoded is not None:
            out = np.ascontiguousarray(decoded[..., ::-1])
    return out
