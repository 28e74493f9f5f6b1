"""Skin that varies over the body, in the texture's texels: where blood shows (cheeks, nose, ears,
knuckles), darker skin under the eyes, the shadow of a shaved beard on adult men, freckles and moles, and
an oilier (less rough) forehead and nose.

Colour changes are the skin model's own (renderer.humans.skin): each texel's melanin is the person's
tone's times a local factor and its blood the tone's plus a local amount, and its colour is the person's
skin albedo times the ratio of the model's colour there to its colour at the tone's own, so the
person's drawn variation is kept and every change is one a physiological parameter explains (redness
shows on light skin and hardly on dark, as it does). The regions are smooth fields over the reference
body's faces (renderer.humans.layout), blurred in texture space so that no border follows a triangle
edge. Freckles and moles are an identity's own, drawn from its digest (like its eye colour): the same
person has the same marks in every frame, and no random stream moves.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from renderer.humans.layout import TEXTURE_SIZE, face_layout
from renderer.humans.parts import BODY_PARTS
from renderer.humans.skin import linear_rgb, monk_fit, reflectance

# The local changes the model is evaluated at (texels interpolate between them, bilinear): blood volume
# fraction added, melanin factor.
BLOOD_ADDED = np.array([0.0, 0.01, 0.02, 0.04, 0.07])
MELANIN_FACTORS = np.array([0.5, 1.0, 1.6, 2.6, 4.0])
FLUSH_BLOOD = 0.04  # blood volume fraction added at the centre of a flushed region, for a person of flush 1
UNDER_EYE_MELANIN = 0.45  # melanin factor - 1 under the eyes
FRECKLE_MELANIN = 1.2
MOLE_MELANIN = 2.8
BEARD_SHADOW = 0.22  # the fraction of the hair colour mixed into a shaved beard's skin (adult men)
SKIN_ROUGHNESS = 0.65  # the skin's roughness (glTF), and where it is oily:
OILY_ROUGHNESS = 0.45
BLUR_TEXELS = 3.0  # the fields' smoothing in texture space (the atlas is 512 texels across)


@dataclass(frozen=True)
class SkinFields:
    """Per-texel weights in [0, 1] on the atlas (float32 (S, S), rows top to bottom as the texture):
    flush (blood shows), under_eye, beard (the area a beard grows on), oily (forehead and nose), and face
    (the face's skin, where freckles gather)."""

    flush: NDArray[np.float32]
    under_eye: NDArray[np.float32]
    beard: NDArray[np.float32]
    oily: NDArray[np.float32]
    face: NDArray[np.float32]


def _bump(value: NDArray[np.float64], centre: float, width: float) -> NDArray[np.float64]:
    return np.asarray(np.exp(-(((value - centre) / width) ** 2)))


@functools.cache
def skin_fields() -> SkinFields:
    """The fields of the reference body (one per process)."""
    import cv2

    from renderer.humans.face_regions import region_faces

    layout = face_layout()
    x, y, z = layout.head.T  # from the eyes' midpoint: x the person's left, y back, z up (metres)
    face_skin = region_faces("skin") & (y < 0.03)  # the front of the head's skin
    side = np.abs(x)
    cheeks = face_skin * _bump(side, 0.043, 0.016) * _bump(z, -0.03, 0.018)
    nose = region_faces("nose") * 0.8
    ears = region_faces("left_ear", "right_ear") * 0.7
    part = np.array(BODY_PARTS)[layout.part]
    hands = np.isin(part, ("left_hand", "right_hand"))
    inward = np.where(part == "left_hand", -1.0, 1.0)
    knuckles = hands & (layout.normal[:, 0] * inward < -0.3) & (layout.along > 0.75)
    flush = np.maximum.reduce([cheeks, nose, ears, knuckles * 0.6])
    under_eye = face_skin * _bump(side, 0.031, 0.012) * _bump(z, -0.014, 0.006)
    beard = (face_skin & (z < -0.045)) | (region_faces("neck") & (y < 0.04) & (z > -0.13))
    forehead = face_skin & (z > 0.012) & (z < 0.07) & (side < 0.045)
    oily = np.maximum(forehead * 1.0, region_faces("nose") * 1.0)
    per_texel = layout.texel_face

    def field(per_face: NDArray[np.float64]) -> NDArray[np.float32]:
        texels = np.asarray(per_face, dtype=np.float32)[per_texel]
        return np.clip(cv2.GaussianBlur(texels, (0, 0), BLUR_TEXELS), 0.0, 1.0).astype(np.float32)

    return SkinFields(flush=field(flush), under_eye=field(under_eye), beard=field(beard.astype(float)),
                      oily=field(oily.astype(float)), face=field(face_skin.astype(float)))


@functools.lru_cache(maxsize=16)
def _ratio_grid(tone: int) -> NDArray[np.float64]:
    """(len(BLOOD_ADDED), len(MELANIN_FACTORS), 3): the model's linear colour at each pair of local
    changes over its colour at the tone's own."""
    melanin, blood, dermal, _ = monk_fit()[tone - 1]
    b, m = np.meshgrid(BLOOD_ADDED, MELANIN_FACTORS, indexing="ij")
    colours = linear_rgb(reflectance(melanin * m, blood + b, dermal * m))
    base = linear_rgb(reflectance(melanin, blood, dermal))
    return np.asarray(colours / np.maximum(base, 1e-6))


def _interpolate(grid: NDArray[np.float64], blood: NDArray[np.float64],
                 melanin: NDArray[np.float64]) -> NDArray[np.float64]:
    """Bilinear lookup of the ratio grid at per-texel blood added and melanin factor (clamped to the grid)."""
    def position(values: NDArray[np.float64],
                 axis: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        clipped = np.clip(values, axis[0], axis[-1])
        lower = np.clip(np.searchsorted(axis, clipped, side="right") - 1, 0, len(axis) - 2)
        t = (clipped - axis[lower]) / (axis[lower + 1] - axis[lower])
        return lower, t[:, None]

    i, s = position(blood, BLOOD_ADDED)
    j, t = position(melanin, MELANIN_FACTORS)
    return np.asarray(grid[i, j] * (1 - s) * (1 - t) + grid[i + 1, j] * s * (1 - t)
                       + grid[i, j + 1] * (1 - s) * t + grid[i + 1, j + 1] * s * t)


@dataclass(frozen=True)
class SkinMarks:
    """An identity's own: how strongly its skin flushes (a factor on FLUSH_BLOOD), its freckle density
    (freckles per face texel of the face's skin) and its moles."""

    flush: float
    freckle_density: float
    moles: int


def _identity_rng(identity: str, purpose: int) -> np.random.Generator:
    """A generator of an identity's own (its hex digest, renderer.humans.identity), one per purpose."""
    return np.random.default_rng(np.random.SeedSequence(int(identity or "0", 16), spawn_key=(purpose,)))


def skin_marks(identity: str, monk_tone: int, age_years: float) -> SkinMarks:
    """Drawn from the identity's digest (no random stream): freckles mostly on light skin (tones 1-4),
    more moles with age."""
    rng = _identity_rng(identity, 1)
    flush = float(rng.uniform(0.5, 1.3))
    freckled = rng.uniform() < (0.45 if monk_tone <= 3 else 0.2 if monk_tone <= 5 else 0.03)
    density = float(rng.uniform(0.004, 0.03)) if freckled else 0.0
    moles = int(rng.poisson(4 + min(age_years, 60.0) / 6))
    return SkinMarks(flush, density, moles)


def _marks(identity: str, marks: SkinMarks, skin: NDArray[np.bool_], fields: SkinFields) -> NDArray[np.float64]:
    """(S, S) extra melanin factor of freckles (small, soft, gathered on the face's skin) and moles
    (fewer, darker, anywhere on bare skin)."""
    import cv2

    rng = _identity_rng(identity, 2)
    size = TEXTURE_SIZE
    spots = np.zeros((size, size), dtype=np.float32)
    where = np.flatnonzero((fields.face.ravel() > 0.5) & skin.ravel())
    count = int(marks.freckle_density * len(where))
    if count:
        chosen = rng.choice(where, size=count, replace=False)
        spots.ravel()[chosen] = rng.uniform(0.5, 1.0, size=count).astype(np.float32) * FRECKLE_MELANIN
    bare = np.flatnonzero(skin.ravel())
    if marks.moles and len(bare):
        chosen = rng.choice(bare, size=min(marks.moles, len(bare)), replace=False)
        spots.ravel()[chosen] = MOLE_MELANIN * 4.0  # spread over ~4 texels by the blur below
    return np.asarray(cv2.GaussianBlur(spots, (0, 0), 0.7), dtype=np.float64)


def skin_texels(skin_rgb: tuple[float, float, float], hair_rgb: tuple[float, float, float], monk_tone: int,
                identity: str, age_years: float, bearded_man: bool, skin: NDArray[np.bool_]) -> NDArray[np.float64]:
    """(n, 3) linear RGB of the ``skin`` texels (a bool (S, S) mask, row order), the person's skin albedo
    varied over the body (module docstring). ``bearded_man``: an adult man with a shaved face, whose beard
    area shows the hair's shadow."""
    fields = skin_fields()
    marks = skin_marks(identity, monk_tone, age_years)
    blood = FLUSH_BLOOD * marks.flush * fields.flush[skin].astype(np.float64)
    melanin = 1.0 + UNDER_EYE_MELANIN * fields.under_eye[skin].astype(np.float64) \
        + _marks(identity, marks, skin, fields)[skin]
    colour = np.tile(np.asarray(skin_rgb, dtype=np.float64), (len(blood), 1))
    varied = (blood > 1e-5) | (np.abs(melanin - 1.0) > 1e-5)  # most of the body is the person's own colour
    colour[varied] *= _interpolate(_ratio_grid(monk_tone), blood[varied], melanin[varied])
    if bearded_man:
        shadow = BEARD_SHADOW * fields.beard[skin].astype(np.float64)[:, None]
        colour = colour * (1 - shadow) + np.asarray(hair_rgb) * np.asarray(skin_rgb) ** 0.5 * shadow
    return np.asarray(np.clip(colour, 0.0, 1.0))
