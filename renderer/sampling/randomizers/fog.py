"""fog: homogeneous fog or haze (``fog:``): with its probability a frame gets a visibility and an airlight
(renderer.render.conditions applies them from exact depth)."""

from __future__ import annotations

from renderer.sampling.randomizers.base import FrameDraft, Randomizer
from renderer.scene.description import FogDescription

KOSCHMIEDER = 3.912  # -ln(0.02): beta x visibility at the 2 % contrast threshold


def _draw(draft: FrameDraft) -> None:
    fog = draft.config.fog
    if fog.probability <= 0:
        return  # no draw: the stream is untouched
    rng = draft.stream("fog")
    if float(rng.uniform()) >= fog.probability:
        return
    visibility = float(fog.visibility_m.sample(rng))
    grey = float(fog.airlight.sample(rng))
    draft.fog = FogDescription(beta=KOSCHMIEDER / visibility, visibility_m=visibility,
                               airlight=(grey * fog.tint[0], grey * fog.tint[1], grey * fog.tint[2]))


RANDOMIZER = Randomizer("fog", ("fog",), rank=55, draw=_draw)
