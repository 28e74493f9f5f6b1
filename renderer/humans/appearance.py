"""What a person looks like: skin, clothing, hair, brows and eyes painted into one texture in anny's UV
layout, so that both engines draw the same person from the mesh's own material.

Every face of the body gets a *slot* (skin, palm, top, bottom, shoes, hair, brow, sclera, iris) from its
body part, its position along the limb in the rest pose (sleeve and trouser lengths) and, on the head, its
position relative to the eyes (hair line, brows); the texture is the slot's colour per texel, with the
garment's pattern. Garments and hair are painted, not modelled: a long-haired person has hair down the
back of the head and neck, not strands over the shoulders (docs/people.md).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from renderer.humans.parts import BODY_PARTS
from renderer.scene.body import COVERINGS, pack_face_classes
from renderer.scene.description import BodyDescription

TEXTURE_SIZE = 512
SLOTS = ("skin", "palm", "top", "bottom", "shoes", "hair", "stubble", "brow", "sclera", "iris", "lips")

# Garment -> {body part: (t from, t to)} it covers; t runs 0 -> 1 along the limb from its proximal joint.
_ARMS = ("left_upper_arm", "right_upper_arm")
_FOREARMS = ("left_lower_arm", "right_lower_arm")
_THIGHS = ("left_upper_leg", "right_upper_leg")
_SHINS = ("left_lower_leg", "right_lower_leg")
_FEET = ("left_foot", "right_foot")
GARMENTS: dict[str, dict[str, tuple[float, float]]] = {
    "none": {},
    "tshirt": {"torso": (0, 1), **{p: (0.0, 0.45) for p in _ARMS}},
    "longsleeve": {"torso": (0, 1), **{p: (0.0, 1.0) for p in _ARMS}, **{p: (0.0, 0.92) for p in _FOREARMS}},
    "tanktop": {"torso": (0, 1)},
    "shorts": {"pelvis": (0, 1), **{p: (0.0, 0.45) for p in _THIGHS}},
    "trousers": {"pelvis": (0, 1), **{p: (0.0, 1.0) for p in _THIGHS}, **{p: (0.0, 0.93) for p in _SHINS}},
    "skirt": {"pelvis": (0, 1), **{p: (0.0, 0.7) for p in _THIGHS}},
    "shoes": {p: (0.0, 1.0) for p in _FEET},
    "boots": {**{p: (0.0, 1.0) for p in _FEET}, **{p: (0.72, 1.0) for p in _SHINS}},
}
# Hair styles: (minimum height above the eyes at the front, at the back; lowest point at the back), metres.
HAIR_STYLES = {"bald": None, "buzz": (0.045, -0.03, -0.03), "short": (0.04, -0.04, -0.045),
               "bob": (0.035, -0.09, -0.10), "long": (0.035, -0.16, -0.20)}


@dataclass(frozen=True)
class FaceLayout:
    """Per-face facts of the body's rest pose that the painting rules read (one per process)."""

    part: NDArray[np.int64]  # BODY_PARTS index
    along: NDArray[np.float64]  # t along the limb (0 for head, neck, torso, pelvis)
    head: NDArray[np.float64]  # (F, 3) centroid relative to the eyes' midpoint (x left, y back, z up)
    normal: NDArray[np.float64]  # (F, 3) rest-pose face normal
    eye: NDArray[np.bool_]  # faces of the eyeballs
    texel_face: NDArray[np.int64]  # (S, S) the face each texel belongs to (nearest face off the atlas)


_LIMBS = {"upper_arm": ("upperarm01", "lowerarm01"), "lower_arm": ("lowerarm01", "wrist"),
          "upper_leg": ("upperleg01", "lowerleg01"), "lower_leg": ("lowerleg01", "foot"), "foot": ("foot", "toe3-1"),
          "hand": ("wrist", "finger3-1")}


@functools.cache
def face_layout() -> FaceLayout:
    import torch

    from renderer.humans.model import body_model

    model = body_model()
    with torch.no_grad():
        out = model.model(phenotype_kwargs={"age": 0.67})
    rest = out["rest_vertices"][0].cpu().numpy().astype(np.float64)
    heads = out["rest_bone_heads"][0].cpu().numpy().astype(np.float64)
    bone = {name: heads[k] for k, name in enumerate(model.bone_labels)}
    faces = model.model_faces
    tri = rest[faces]
    centroid = tri.mean(axis=1)
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-12)
    part = model.face_parts
    along = np.zeros(len(faces))
    for k, name in enumerate(BODY_PARTS):
        side, _, limb = name.partition("_")
        if limb not in _LIMBS:
            continue
        suffix = ".L" if side == "left" else ".R"
        start, end = (bone[b + suffix] for b in _LIMBS[limb])
        axis = end - start
        chosen = part == k
        along[chosen] = np.clip((centroid[chosen] - start) @ axis / (axis @ axis), 0.0, 1.0)
    eyes = (bone["eye.L"] + bone["eye.R"]) / 2
    indices = model.model.vertex_bone_indices.cpu().numpy()
    weights = model.model.vertex_bone_weights.cpu().numpy()
    eye_bones = [model.bone_labels.index("eye.L"), model.bone_labels.index("eye.R")]
    eye_weight = (weights * np.isin(indices, eye_bones)).sum(axis=1)
    return FaceLayout(part=part, along=along, head=centroid - eyes, normal=normal,
                      eye=eye_weight[faces].mean(axis=1) > 0.5, texel_face=_texel_faces(model))


def _texel_faces(model: object) -> NDArray[np.int64]:
    """Rasterise every face's UV triangle into the atlas by face index; texels off the atlas take their
    nearest painted texel's face, so bilinear lookups at seams never fetch an unpainted colour."""
    import cv2
    import scipy.ndimage

    size = TEXTURE_SIZE
    uv = model.uv  # type: ignore[attr-defined]
    faces = model.faces  # type: ignore[attr-defined]
    ids = np.full((size, size), -1, dtype=np.int32)
    corners = np.stack([uv[faces][..., 0] * size, (1.0 - uv[faces][..., 1]) * size], axis=-1)
    points = np.round(corners * 4).astype(np.int32)  # 2 bits of sub-pixel precision
    for k in range(len(faces)):
        cv2.fillConvexPoly(ids, points[k], int(k), lineType=cv2.LINE_8, shift=2)
    empty = ids < 0
    nearest = scipy.ndimage.distance_transform_edt(empty, return_distances=False, return_indices=True)
    return ids[nearest[0], nearest[1]].astype(np.int64)


def face_slots(body: BodyDescription) -> NDArray[np.int64]:
    """(F,) SLOTS index of every face for this person's garments and hair."""
    return _face_slots(body.top.kind, body.bottom.kind, body.shoes.kind, body.hair_style)


# The covering label (renderer.scene.body.COVERINGS) of each painted slot.
COVERING_OF_SLOT = {"skin": "skin", "palm": "skin", "top": "top", "bottom": "bottom", "shoes": "shoes",
                    "hair": "hair", "stubble": "hair", "brow": "eyebrows", "sclera": "eyes", "iris": "eyes",
                    "lips": "lips"}


def face_classes(body: BodyDescription) -> NDArray[np.uint32]:
    """(F,) packed body part and covering of every face (renderer.scene.body), read-only."""
    return garment_face_classes(body.top.kind, body.bottom.kind, body.shoes.kind, body.hair_style)


@functools.lru_cache(maxsize=128)
def garment_face_classes(top: str, bottom: str, shoes: str, hair_style: str) -> NDArray[np.uint32]:
    covering = np.array([COVERINGS.index(COVERING_OF_SLOT[name]) for name in SLOTS])
    classes = pack_face_classes(face_layout().part, covering[_face_slots(top, bottom, shoes, hair_style)])
    classes.setflags(write=False)
    return classes


@functools.lru_cache(maxsize=128)
def _texel_slots(top: str, bottom: str, shoes: str, hair_style: str) -> NDArray[np.uint8]:
    """(S, S) SLOTS index per texel, uint8 (256 kB each; read-only), per garment and hair combination."""
    slots = _face_slots(top, bottom, shoes, hair_style).astype(np.uint8)[face_layout().texel_face]
    slots.setflags(write=False)
    return slots


@functools.lru_cache(maxsize=512)
def _face_slots(top: str, bottom: str, shoes: str, hair_style: str) -> NDArray[np.int64]:
    layout = face_layout()
    slots = np.zeros(len(layout.part), dtype=np.int64)
    part_name = np.array(BODY_PARTS)[layout.part]
    hands = np.isin(part_name, ("left_hand", "right_hand"))
    inward = np.where(part_name == "left_hand", -1.0, 1.0)  # the palm faces the thigh in the rest pose
    slots[hands & (layout.normal[:, 0] * inward > 0.45)] = SLOTS.index("palm")
    soles = np.isin(part_name, _FEET) & (layout.normal[:, 2] < -0.6)
    slots[soles] = SLOTS.index("palm")
    for kind, slot in ((bottom, "bottom"), (top, "top"), (shoes, "shoes")):
        for part, (lo, hi) in GARMENTS[kind].items():
            covered = (layout.part == BODY_PARTS.index(part)) & (layout.along >= lo) & (layout.along <= hi)
            slots[covered] = SLOTS.index(slot)
    head = layout.part == BODY_PARTS.index("head")
    neck = layout.part == BODY_PARTS.index("neck")
    x, y, z = layout.head.T
    face_front = (y < -0.045) & (np.abs(x) < 0.065)
    style = HAIR_STYLES[hair_style]
    if style is not None:
        front, back, lowest = style
        # The hair line rises from the back of the head to the forehead; the face itself stays bare.
        line = np.interp(y, [-0.09, 0.0, 0.09], [front, (front + back) / 2, back])
        hair = (head | (neck & (y > 0.0) & (z > lowest))) & (z > line) & ~(face_front & (z < front))
        hair &= ~layout.eye
        slots[hair] = SLOTS.index("stubble" if hair_style == "buzz" else "hair")
    brow = head & (z > 0.012) & (z < 0.026) & (np.abs(x) > 0.012) & (np.abs(x) < 0.052) & (y < -0.04) \
        & (layout.normal[:, 1] < -0.4)
    slots[brow] = SLOTS.index("brow")
    lips = head & (z > -0.075) & (z < -0.055) & (np.abs(x) < 0.024) & (y < -0.075) & (layout.normal[:, 1] < -0.5)
    slots[lips] = SLOTS.index("lips")
    eye_front = layout.eye & (layout.normal[:, 1] < -0.93)
    slots[layout.eye] = SLOTS.index("sclera")
    slots[eye_front] = SLOTS.index("iris")
    slots.setflags(write=False)
    return slots


@functools.lru_cache(maxsize=64)
def _pattern(pattern: str, scale: float, size: int) -> NDArray[np.bool_]:
    """(S, S) where a garment shows its pattern colour rather than its base colour (read-only)."""
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float64)
    period = max(scale, 2.0)
    if pattern == "stripes":
        mask = (rows // (period / 2)) % 2 == 1
    elif pattern == "checker":
        mask = ((rows // period) + (cols // period)) % 2 == 1
    elif pattern == "dots":
        mask = np.hypot((rows % period) - period / 2, (cols % period) - period / 2) < period / 4
    else:
        mask = np.zeros((size, size), dtype=bool)
    mask.setflags(write=False)
    return mask


def _srgb8(linear: NDArray[np.float64]) -> NDArray[np.uint8]:
    srgb = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * np.power(np.clip(linear, 0, 1), 1 / 2.4) - 0.055)
    return np.clip(np.round(srgb * 255), 0, 255).astype(np.uint8)


def body_texture(body: BodyDescription, lips_rgb: tuple[float, float, float],
                 palm_rgb: tuple[float, float, float]) -> NDArray[np.uint8]:
    """(S, S, 3) sRGB uint8 texture of the person (rows top to bottom, v = 1 at the top).

    Every texel is one of a few colours (a slot's, or a garment's pattern colour), so the texture is a
    palette of those colours in sRGB indexed per texel: the sRGB conversion runs on 14 colours, not on
    every texel."""
    slots = _texel_slots(body.top.kind, body.bottom.kind, body.shoes.kind, body.hair_style)
    palette = np.zeros((len(SLOTS) + 3, 3))
    colours = {"skin": body.skin, "palm": palm_rgb, "hair": body.hair_color,
               "stubble": tuple(0.5 * np.asarray(body.hair_color) + 0.5 * np.asarray(body.skin)),
               "brow": tuple(0.6 * np.asarray(body.hair_color)), "sclera": (0.8, 0.78, 0.75),
               "iris": (0.05, 0.03, 0.02), "lips": lips_rgb}
    for name, rgb in colours.items():
        palette[SLOTS.index(name)] = rgb
    index = slots
    fabrics = []
    for k, (garment, name) in enumerate(((body.top, "top"), (body.bottom, "bottom"), (body.shoes, "shoes"))):
        palette[SLOTS.index(name)] = garment.color
        palette[len(SLOTS) + k] = garment.pattern_color
        if garment.pattern == "image":
            fabrics.append((slots == SLOTS.index(name), garment))
        elif garment.pattern != "solid":
            patterned = (slots == SLOTS.index(name)) & _pattern(garment.pattern, garment.pattern_scale, slots.shape[0])
            index = np.where(patterned, np.uint8(len(SLOTS) + k), index)
    texture = _srgb8(palette)[index]
    for covered, garment in fabrics:  # the fabric image tiled over the garment's texels, as it is (sRGB)
        tile = _fabric(garment.image, int(8 * garment.pattern_scale))
        rows, cols = np.nonzero(covered)
        texture[rows, cols] = tile[rows % tile.shape[0], cols % tile.shape[1]]
    return texture


@functools.lru_cache(maxsize=32)
def _fabric(path: str, size: int) -> NDArray[np.uint8]:
    """A fabric image as a (size, size, 3) sRGB tile."""
    from renderer.scene.description import TextureDescription
    from renderer.scene.textures import texture_rgb

    return texture_rgb(TextureDescription("image", 0, size=size, path=path))
