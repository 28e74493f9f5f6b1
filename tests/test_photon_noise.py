"""Photon noise (renderer.render.sensor): the photon transfer curve of flat fields (variance against mean
in linear radiance: mean / N + (read / N)^2, N the full-scale electrons at the ISO) and the noise seeded by
the description alone."""

from __future__ import annotations

import numpy as np

from renderer.render.sensor import apply_sensor
from renderer.scene.description import SensorDescription


def test_flat_fields_follow_the_photon_transfer_curve() -> None:
    for iso, read in ((800, 3.0), (6400, 5.0)):
        sensor = SensorDescription(iso=iso, full_well_e=15000.0, read_noise_e=read, photon_seed=7)
        n = sensor.full_scale_electrons
        for level in (0.1, 0.3, 0.6):
            display = np.full((256, 256, 3), np.uint8(round(255 * level ** (1 / 2.2))))
            mean = (display[0, 0, 0] / 255.0) ** 2.2
            linear = (apply_sensor(display, sensor).astype(np.float64) / 255.0) ** 2.2
            predicted = mean / n + (read / n) ** 2
            # 8-bit output adds its own rounding: (step in linear at this level)^2 / 12.
            step = 2.2 * (display[0, 0, 0] / 255.0) ** 1.2 / 255.0
            measured = linear.var()
            print(f"ISO {iso} level {mean:.3f}: variance {measured:.3e}, model {predicted:.3e} (+ rounding "
                  f"{step ** 2 / 12:.1e})")
            assert abs(linear.mean() - mean) < 0.02 * mean + 3 * np.sqrt(predicted / linear.size) + step
            assert abs(measured / (predicted + step ** 2 / 12) - 1) < 0.1


def test_photon_noise_replays_from_its_seed_and_iso_zero_is_off() -> None:
    image = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    sensor = SensorDescription(iso=1600, photon_seed=3)
    assert np.array_equal(apply_sensor(image, sensor), apply_sensor(image, sensor))
    other = SensorDescription(iso=1600, photon_seed=4)
    assert not np.array_equal(apply_sensor(image, sensor), apply_sensor(image, other))
    assert np.array_equal(apply_sensor(image, SensorDescription()), image)
