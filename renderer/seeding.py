"""Per-frame random streams: frame i draws only from streams seeded by (seed, i).

Within a frame, each randomizer has its own stream (``randomizer_rng``), so switching one randomizer
on or off, or widening its range, leaves every other draw of the frame as it was: two datasets that
differ in one randomizer show the same objects from the same cameras, frame by frame.
"""

from __future__ import annotations

import zlib

import numpy as np

# The streams of the first randomizers, by position: their spawn keys, fixed so that datasets stay
# reproducible. Streams added later are keyed by their name (stream_key), so a new randomizer needs no
# entry here and never moves another's stream.
FIRST_STREAMS = ("supports", "objects", "distractors", "placement", "lights", "camera", "background", "sensor",
               "environment", "render", "motion")
NAMED_STREAMS = 1 << 32  # keys of named streams start here, above every position in FIRST_STREAMS


def stream_key(name: str) -> int:
    """The spawn key of a stream: its position in FIRST_STREAMS, else NAMED_STREAMS + crc32 of its name."""
    if not name:
        raise ValueError("a stream needs a name")
    if name in FIRST_STREAMS:
        return FIRST_STREAMS.index(name)
    return NAMED_STREAMS + zlib.crc32(name.encode())


def randomizer_rng(seed: int, index: int, randomizer: str, attempt: int = 0) -> np.random.Generator:
    """The stream of one randomizer in one frame: ``SeedSequence(seed, spawn_key=(index, k))``, k its
    stream_key (fixed, so datasets stay reproducible as randomizers are added).

    attempt: a frame that failed the scene's constraints is drawn again from fresh streams,
    ``spawn_key=(index, k, attempt)`` for attempt 1, 2, ...: still a function of (seed, index) alone.
    """
    if seed < 0 or index < 0 or attempt < 0:
        raise ValueError(f"seed ({seed}), frame index ({index}) and attempt ({attempt}) must be >= 0")
    k = stream_key(randomizer)
    key = (index, k) if attempt == 0 else (index, k, attempt)
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


IDENTITY_STREAMS = NAMED_STREAMS + zlib.crc32(b"identity")  # above every frame index a dataset can have


def identity_rng(seed: int, identity: int) -> np.random.Generator:
    """The stream of identity k of a scene's pool (people.identities): ``SeedSequence(seed, spawn_key=
    (IDENTITY_STREAMS, k))``, the same in every frame, so an identity's parameters are the same bytes
    wherever it appears."""
    if seed < 0 or identity < 0:
        raise ValueError(f"seed ({seed}) and identity ({identity}) must be >= 0")
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(IDENTITY_STREAMS, identity)))
