"""glare: sun glare (``glare:``): with its probability, a frame under a sky with a sun gets a veiling halo
and lens ghosts (renderer.render.conditions draws them where the sun is in front of the camera)."""

from __future__ import annotations

import colorsys

import numpy as np

from renderer.sampling.randomizers.base import FrameDraft, Randomizer
from renderer.scene.description import GlareDescription


def _draw(draft: FrameDraft) -> None:
    glare = draft.config.glare
    if draft.environment is None or draft.environment.kind != "sky" or draft.camera is None:
        return  # no sun: no draw
    rng = draft.stream_if("glare", glare.probability)
    if rng is None:
        return
    diagonal = float(np.hypot(draft.camera.width, draft.camera.height))
    strength = float(glare.strength.sample(rng))
    halo = float(glare.halo_fraction.sample(rng)) * diagonal
    ghosts = []
    for _ in range(int(glare.ghosts.sample(rng))):
        r, g, b = colorsys.hsv_to_rgb(float(rng.uniform()), float(rng.uniform(0.2, 0.7)), 1.0)
        ghosts.append((float(rng.uniform(-1.2, 0.8)), float(rng.uniform(0.01, 0.06)) * diagonal, r, g, b,
                       float(rng.uniform(0.01, 0.06)) * strength))
    draft.glare = GlareDescription(strength=strength, halo_px=halo, ghosts=tuple(ghosts))


RANDOMIZER = Randomizer("glare", ("glare",), rank=64, draw=_draw)
