"""Motion blur (sequence.shutter): a camera sliding over a flat floor blurs it exactly as the image-space
average of the sharp frame shifted over the shutter (the floor moves uniformly in the image, d = f B / z
pixels a frame), and the labels stay those of the shutter's mid-time."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from renderer.config.schema import scene_from_dict
from renderer.io.dataset import Dataset
from renderer.pipeline.run import generate


def _scene(shutter: float) -> dict:
    return {
        "image": {"width": 200, "height": 150},
        "camera": {"fov_deg": 40, "distance": 2.0, "elevation_deg": 90, "azimuth_deg": 0, "target_jitter": 0.0},
        "table": {"size": [20, 20], "thickness": 0.05, "texture": "checker"},
        "objects": {"count": 0},
        "lights": {"count": 1, "type": "directional", "intensity": 3.0, "elevation_deg": 90, "ambient": 0.4},
        "sequence": {"length": 3, "fps": 1.0, "shutter": shutter, "blur_samples": 24,
                     "camera": {"kind": "stereo", "baseline": 0.1}},
        "outputs": ["rgb", "depth", "instance"],
    }


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / np.mean((a - b) ** 2)))


def test_a_sliding_camera_blurs_a_floor_as_its_shifted_average(tmp_path: Path) -> None:
    generate(scene_from_dict(_scene(0.0)), tmp_path / "sharp", frames=3, seed=1, workers=1)
    generate(scene_from_dict(_scene(0.6)), tmp_path / "blur", frames=3, seed=1, workers=1)
    sharp, blur = Dataset(tmp_path / "sharp")[1], Dataset(tmp_path / "blur")[1]
    meta = json.loads((tmp_path / "blur" / "meta" / "000001.json").read_text())
    assert meta["objects"] == json.loads((tmp_path / "sharp" / "meta" / "000001.json").read_text())["objects"]
    assert np.array_equal(sharp.depth, blur.depth)
    fx = meta["camera"]["K"][0][0]
    step = fx * 0.1 / 2.0  # pixels the floor moves per frame (camera +x: the image moves -x)
    linear = (sharp.rgb.astype(np.float64) / 255) ** 2.2
    shifted = []
    for tau in 0.6 * ((np.arange(24) + 0.5) / 24 - 0.5):
        M = np.float32([[1, 0, -step * tau], [0, 1, 0]])
        shifted.append(cv2.warpAffine(linear, M, (200, 150), flags=cv2.INTER_LINEAR))
    expected = np.mean(shifted, axis=0) ** (1 / 2.2)
    measured = blur.rgb.astype(np.float64) / 255
    inner = (slice(10, -10), slice(20, -20))
    print(f"motion blur: {step * 0.6:.1f} px streak; PSNR against the shifted average "
          f"{_psnr(measured[inner], expected[inner]):.1f} dB, against the sharp frame "
          f"{_psnr(measured[inner], sharp.rgb[inner] / 255):.1f} dB")
    assert _psnr(measured[inner], expected[inner]) > 38
    assert _psnr(measured[inner], expected[inner]) > _psnr(measured[inner], sharp.rgb[inner] / 255) + 10


def test_a_rolling_shutter_shears_the_sliding_floor_row_by_row(tmp_path: Path) -> None:
    scene = _scene(0.0)
    scene["sequence"]["rolling_shutter"] = 0.8
    scene["sequence"]["blur_samples"] = 64
    generate(scene_from_dict(_scene(0.0)), tmp_path / "sharp", frames=3, seed=1, workers=1)
    generate(scene_from_dict(scene), tmp_path / "rolling", frames=3, seed=1, workers=1)
    sharp, rolling = Dataset(tmp_path / "sharp")[1], Dataset(tmp_path / "rolling")[1]
    meta = json.loads((tmp_path / "rolling" / "meta" / "000001.json").read_text())
    assert np.array_equal(sharp.instance, rolling.instance)  # labels at mid-time
    step = meta["camera"]["K"][0][0] * 0.1 / 2.0
    linear = (sharp.rgb.astype(np.float64) / 255) ** 2.2
    expected = np.empty_like(linear)
    columns = np.arange(200, dtype=float)
    for row in range(150):
        shift = step * 0.8 * (row / 149 - 0.5)  # the row's time, and how far the floor has moved by then
        for c in range(3):
            expected[row, :, c] = np.interp(columns + shift, columns, linear[row, :, c])
    expected = expected ** (1 / 2.2)
    measured = rolling.rgb.astype(np.float64) / 255
    inner = (slice(10, -10), slice(20, -20))
    print(f"rolling shutter: {step * 0.8:.1f} px shear; PSNR against the sheared frame "
          f"{_psnr(measured[inner], expected[inner]):.1f} dB, against the sharp frame "
          f"{_psnr(measured[inner], sharp.rgb[inner] / 255):.1f} dB")
    assert _psnr(measured[inner], expected[inner]) > 35
    assert _psnr(measured[inner], expected[inner]) > _psnr(measured[inner], sharp.rgb[inner] / 255) + 8
