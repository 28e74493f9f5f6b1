"""fog: homogeneous fog or haze (``fog:``): with its probability a frame gets a visibility and an airlight
(renderer.render.conditions applies them from exact depth)."""

from __future__ import annotations

from renderer.sampling.randomizers.base import FrameDraft, Randomizer
from renderer.scene.description import FogDescription

KOSCHMIEDER = 3.912  # -ln(0.02): beta x visibility at the 2 % contrast threshold


def _draw(draft: FrameDraft) -> None:
    fog = draft.config.fog
    rng = draft.stream_if("fog", fog.probability)
    if rng is None:
        return
    visibility = float(fog.visibility_m.sample(rng))
    grey = float(fog.airlight.sample(rng))
    draft.fog = FogDescription(beta=KOSCHMIEDER / visibility, visibility_m=visibility,
                               airlight=(grey * fog.tint[0], grey * fog.tint[1], grey * fog.tint[2]))


RANDOMIZER = Randomizer("fog", ("fog",), rank=55, draw=_draw)
