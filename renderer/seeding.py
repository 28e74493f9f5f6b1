"""Per-frame random streams: frame i draws only from frame_rng(seed, i)."""

from __future__ import annotations

import numpy as np


def frame_rng(seed: int, index: int) -> np.random.Generator:
    """An independent Generator for one frame.

    Built from ``SeedSequence(seed, spawn_key=(index,))`` (numpy's recipe for parallel streams), so a
    frame's draws depend only on (seed, index): never on worker count, order, or other frames.
    """
    if seed < 0 or index < 0:
        raise ValueError(f"seed ({seed}) and frame index ({index}) must be >= 0")
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))
