"""Per-frame random streams: frame i draws only from streams seeded by (seed, i).

Within a frame, each randomizer has its own stream (``randomizer_rng``), so switching one randomizer
on or off, or widening its range, leaves every other draw of the frame as it was: two datasets that
differ in one randomizer show the same objects from the same cameras, frame by frame.
"""

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


RANDOMIZERS = ("supports", "objects", "distractors", "placement", "lights", "camera", "background", "sensor",
               "environment", "render", "motion")


def randomizer_rng(seed: int, index: int, randomizer: str, attempt: int = 0) -> np.random.Generator:
    """The stream of one randomizer in one frame: ``SeedSequence(seed, spawn_key=(index, k))``, k its
    position in RANDOMIZERS (fixed, so datasets stay reproducible as randomizers are added at the end).

    attempt: a frame that failed the scene's constraints is drawn again from fresh streams,
    ``spawn_key=(index, k, attempt)`` for attempt 1, 2, ...: still a function of (seed, index) alone.
    """
    if seed < 0 or index < 0 or attempt < 0:
        raise ValueError(f"seed ({seed}), frame index ({index}) and attempt ({attempt}) must be >= 0")
    k = RANDOMIZERS.index(randomizer)
    key = (index, k) if attempt == 0 else (index, k, attempt)
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))
