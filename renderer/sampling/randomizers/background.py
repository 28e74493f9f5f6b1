"""background: solid, gradient, procedural texture or image behind the scene (``background:``)."""

from __future__ import annotations

import numpy as np

from renderer.assets.catalog import AssetCatalog
from renderer.config.schema import TEXTURE_KINDS, SceneConfig
from renderer.sampling.materials import hsv_from
from renderer.sampling.randomizers.base import FrameDraft, Randomizer
from renderer.scene.description import BackgroundDescription, TextureDescription


def _draw(draft: FrameDraft) -> None:
    draft.background = _background(draft.config, draft.catalog, draft.stream("background"))


RANDOMIZER = Randomizer("background", ("background",), rank=40, draw=_draw)


def _background(config: SceneConfig, catalog: AssetCatalog, rng: np.random.Generator) -> BackgroundDescription:
    bg = config.background
    kind = bg.kind.sample(rng)
    first = hsv_from(rng, bg.hue, bg.saturation, bg.value)
    if kind == "solid":
        return BackgroundDescription("solid", (first,))
    if kind == "gradient":
        return BackgroundDescription("gradient", (first, hsv_from(rng, bg.hue, bg.saturation, bg.value)))
    if kind == "texture":
        texture = TextureDescription(kind=TEXTURE_KINDS[int(rng.integers(len(TEXTURE_KINDS)))],  # type: ignore[arg-type]
                                     seed=int(rng.integers(0, 64)), size=512)
        return BackgroundDescription("texture", (first,), texture=texture)
    images = catalog.image_choices("background.images")
    return BackgroundDescription("image", (first,), path=str(images[int(rng.integers(len(images)))]))
