"""Identity: what makes a person the same person (shape phenotype, age, gender, Monk tone, skin albedo),
as a digest that every frame showing them carries (PersonAttributes.identity).

Hair, clothes, pose, head pose, expression, lighting and camera are not part of an identity: a scene with
``people.identities: N`` draws identities from a pool of N and all of those per frame, which is the
"same person, another hairstyle and head pose" set that recognition training needs.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np


def identity_digest(phenotype: tuple[tuple[str, float], ...], monk_tone: int,
                    skin: tuple[float, float, float]) -> str:
    """16 hex digits of SHA-256 over the identity's parameters, written exactly (repr of each float)."""
    text = json.dumps({"phenotype": [[name, repr(float(v))] for name, v in phenotype], "monk_tone": int(monk_tone),
                       "skin": [repr(float(c)) for c in skin]}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# Iris colours, linear RGB (dark brown, brown, hazel, green, blue, grey), and how common each is for light
# (Monk 1-3), medium (4-6) and dark (7-10) skin tones.
EYE_COLOURS = ((0.04, 0.02, 0.01), (0.11, 0.055, 0.02), (0.16, 0.1, 0.04), (0.08, 0.13, 0.06),
               (0.07, 0.12, 0.22), (0.14, 0.15, 0.16))
_EYE_WEIGHTS = {"light": (0.15, 0.25, 0.15, 0.1, 0.28, 0.07), "medium": (0.45, 0.35, 0.12, 0.03, 0.04, 0.01),
                "dark": (0.8, 0.18, 0.02, 0.0, 0.0, 0.0)}


def eye_colour(identity: str, monk_tone: int) -> tuple[float, float, float]:
    """The iris colour of an identity: drawn by its digest (no random stream), so it is the same wherever
    the identity appears, with frequencies by skin tone."""
    group = "light" if monk_tone <= 3 else "medium" if monk_tone <= 6 else "dark"
    cumulative = np.cumsum(_EYE_WEIGHTS[group])
    u = int(identity[:8], 16) / 2 ** 32 * cumulative[-1]
    return EYE_COLOURS[int(np.searchsorted(cumulative, u, side="right"))]
