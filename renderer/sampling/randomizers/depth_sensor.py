"""depth_sensor: the depth camera's model and its noise seed, where the scene's outputs ask for the
depth_sensor channel (``depth_sensor:``; renderer.channels.depth_sensor applies it)."""

from __future__ import annotations

from renderer.sampling.randomizers.base import FrameDraft, Randomizer
from renderer.scene.description import DepthSensorDescription


def _draw(draft: FrameDraft) -> None:
    if "depth_sensor" not in draft.config.outputs:
        return  # no draw: the stream is untouched
    s = draft.config.depth_sensor
    sigma_0, sigma_2 = s.noise
    draft.depth_sensor = DepthSensorDescription(
        kind=s.kind, sigma_0=sigma_0, sigma_2=sigma_2, baseline_m=s.baseline_m, disparity_step_px=s.disparity_step_px,
        depth_step_m=s.depth_step_m, edge_jitter_px=s.edge_jitter_px, flying_probability=s.flying_probability,
        dark_threshold=s.dark_threshold, dark_dropout=s.dark_dropout, shiny_dropout=s.shiny_dropout,
        max_incidence_deg=s.max_incidence_deg, min_range_m=s.min_range_m, max_range_m=s.max_range_m,
        noise_seed=int(draft.stream("depth_sensor").integers(0, 2**31)))


RANDOMIZER = Randomizer("depth_sensor", ("depth_sensor",), rank=57, draw=_draw)
