"""A face mask: a shell from the nose's bridge to under the chin, ear to ear (face class facewear),
smoothed enough to span the dips beside the nose."""

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
    face = region_faces("skin", "nose", "upper_lip", "lower_lip")
    under_chin = region_faces("neck") & (y < 0.02)
    return np.asarray((face | under_chin) & (z < -0.012) & (z > -0.135) & (y < 0.055))


KINDS = (Shell("face_mask", face_class="facewear", covers=_covers, offset=0.007, smoothing=12),)  # a mask's stand-off
