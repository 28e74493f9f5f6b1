"""A knitted hat: a shell over the scalp, down to the forehead, just above the ears, to the nape (face
class headwear)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from renderer.humans.wardrobe.base import Shell

if TYPE_CHECKING:
    from renderer.humans.layout import FaceLayout


def _covers(layout: FaceLayout) -> NDArray[np.bool_]:
    from renderer.humans.face_regions import region_faces

    x, y, z = layout.head.T  # from the eyes: x left, y back, z up
    line = np.interp(y, [0.0, 0.035, 0.06, 0.10, 0.15], [0.045, 0.035, 0.012, 0.012, -0.04])
    return np.asarray(region_faces("skin") & (z > line))


KINDS = (Shell("hat", face_class="headwear", covers=_covers, offset=0.006, smoothing=4),)  # hair under a hat
