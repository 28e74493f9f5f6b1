"""sensor: exposure, tone, blur, noise and JPEG quality applied to the RGB image (``sensor:``)."""

from __future__ import annotations

import numpy as np

from renderer.config.schema import SceneConfig
from renderer.sampling.randomizers.base import FrameDraft, Randomizer
from renderer.scene.description import SensorDescription


def _draw(draft: FrameDraft) -> None:
    draft.sensor = _sensor(draft.config, draft.stream("sensor"))


RANDOMIZER = Randomizer("sensor", ("sensor",), rank=50, draw=_draw)


def _sensor(config: SceneConfig, rng: np.random.Generator) -> SensorDescription:
    s = config.sensor
    return SensorDescription(
        exposure_ev=float(s.exposure_ev.sample(rng)), brightness=float(s.brightness.sample(rng)),
        contrast=float(s.contrast.sample(rng)), saturation=float(s.saturation.sample(rng)),
        blur_sigma=float(s.blur_sigma.sample(rng)), noise_std=float(s.noise_std.sample(rng)),
        noise_seed=int(rng.integers(0, 2**31)), jpeg_quality=int(s.jpeg_quality.sample(rng)),
        **_photon(config, rng),  # type: ignore[arg-type]
    )


def _photon(config: SceneConfig, rng: np.random.Generator) -> dict[str, float]:
    """The photon-noise fields, drawn only where the scene asks for them (so older draws stay as they were)."""
    s = config.sensor
    if s.iso.kind == "constant" and float(s.iso.params[0]) == 0.0:
        return {}
    return {"iso": float(s.iso.sample(rng)), "full_well_e": s.full_well_e, "read_noise_e": s.read_noise_e,
            "photon_seed": int(rng.integers(0, 2**31))}  # (an int among floats)
