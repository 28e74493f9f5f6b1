"""What a person looks like: skin, clothing, hair, brows and eyes painted into one texture in anny's UV
layout, so that both engines draw the same person from the mesh's own material.

Every face of the body gets a *slot* (skin, palm, top, bottom, shoes, hair, brow, sclera, iris) from its
body part, its position along the limb in the rest pose (sleeve and trouser lengths) and, on the head, its
position relative to the eyes (hair line, brows); the texture is the slot's colour per texel, with the
garment's pattern. The slots and the garments (which stretch of which body part each covers) are entries
of renderer.humans.wardrobe, one per kind. Garments and hair are painted, not modelled: a long-haired
person has hair down the back of the head and neck, not strands over the shoulders (docs/people.md).
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import NDArray

from renderer.config.people import HAIR_STYLES as HAIR_STYLE_NAMES
from renderer.humans.layout import TEXTURE_SIZE, FaceLayout, face_layout
from renderer.humans.parts import BODY_PARTS
from renderer.humans.skin_map import SKIN_ROUGHNESS, skin_fields, skin_texels
from renderer.humans.wardrobe import GARMENTS, SLOTS_TABLE
from renderer.scene.body import COVERINGS, FACE_CLASSES, pack_face_classes
from renderer.scene.color import srgb_from_linear
from renderer.scene.description import BodyDescription

SLOTS = tuple(slot.name for slot in SLOTS_TABLE)  # a face's slot: an index into this
# Hair styles: the hair line's height above the eyes (metres) at the forehead, over the ears and at the
# nape (below: neck), as a function of the distance behind the eyes; None: bald.
HAIR_STYLES = {"bald": None, "buzz": (0.065, 0.012, -0.045), "short": (0.058, 0.010, -0.055),
               "curly": (0.052, -0.005, -0.07), "tied": (0.06, 0.008, -0.05), "bob": (0.05, -0.03, -0.10),
               "long": (0.05, -0.04, -0.17)}
assert set(HAIR_STYLES) == set(HAIR_STYLE_NAMES)


def face_slots(body: BodyDescription) -> NDArray[np.int64]:
    """(F,) SLOTS index of every face for this person's garments and hair."""
    return _face_slots(body.top.kind, body.bottom.kind, body.shoes.kind, body.hair_style, body.facial_hair)


def face_classes(body: BodyDescription) -> NDArray[np.uint32]:
    """(F,) packed body part, covering and face class of every face (renderer.scene.body), read-only."""
    return garment_face_classes(body.top.kind, body.bottom.kind, body.shoes.kind, body.hair_style, body.facial_hair)


@functools.lru_cache(maxsize=128)
def garment_face_classes(top: str, bottom: str, shoes: str, hair_style: str,
                         facial_hair: str = "none") -> NDArray[np.uint32]:
    covering = np.array([COVERINGS.index(slot.covering) for slot in SLOTS_TABLE])
    slots = _face_slots(top, bottom, shoes, hair_style, facial_hair)
    classes = pack_face_classes(face_layout().part, covering[slots], face_segmentation_classes(slots))
    classes.setflags(write=False)
    return classes


# The face_segmentation class (renderer.scene.body.FACE_CLASSES) of each anatomical region where the
# skin is bare, and of each painted slot that covers it whatever the region.
CLASS_OF_REGION = {"other": "body_skin", "skin": "skin", "nose": "nose", "right_eye": "right_eye",
                   "left_eye": "left_eye", "right_brow": "right_brow", "left_brow": "left_brow",
                   "right_ear": "right_ear", "left_ear": "left_ear", "mouth_interior": "mouth_interior",
                   "upper_lip": "top_lip", "lower_lip": "bottom_lip", "neck": "neck"}


def face_segmentation_classes(slots: NDArray[np.int64]) -> NDArray[np.int64]:
    """(F,) FACE_CLASSES index per face: its painted covering where that hides the skin (clothes,
    hair), else its anatomical region (renderer.humans.face_regions)."""
    from renderer.humans.face_regions import FACE_REGIONS, face_regions

    region_class = np.array([FACE_CLASSES.index(CLASS_OF_REGION[name]) for name in FACE_REGIONS])
    out = region_class[face_regions()]
    for k, slot in enumerate(SLOTS_TABLE):
        if slot.face_class is not None:
            out[slots == k] = FACE_CLASSES.index(slot.face_class)
    return np.asarray(out, dtype=np.int64)


@functools.lru_cache(maxsize=128)
def _texel_slots(top: str, bottom: str, shoes: str, hair_style: str, facial_hair: str = "none") -> NDArray[np.uint8]:
    """(S, S) SLOTS index per texel, uint8 (256 kB each; read-only), per garment and hair combination."""
    slots = _face_slots(top, bottom, shoes, hair_style, facial_hair).astype(np.uint8)[face_layout().texel_face]
    slots.setflags(write=False)
    return slots


@functools.lru_cache(maxsize=512)
def _face_slots(top: str, bottom: str, shoes: str, hair_style: str, facial_hair: str = "none") -> NDArray[np.int64]:
    from renderer.humans.face_regions import region_faces

    layout = face_layout()
    slots = np.zeros(len(layout.part), dtype=np.int64)
    part_name = np.array(BODY_PARTS)[layout.part]
    hands = np.isin(part_name, ("left_hand", "right_hand"))
    inward = np.where(part_name == "left_hand", -1.0, 1.0)  # the palm faces the thigh in the rest pose
    slots[hands & (layout.normal[:, 0] * inward > 0.45)] = SLOTS.index("palm")
    soles = np.isin(part_name, ("left_foot", "right_foot")) & (layout.normal[:, 2] < -0.6)
    slots[soles] = SLOTS.index("palm")
    for kind, slot in ((bottom, "bottom"), (top, "top"), (shoes, "shoes")):  # the garment of each slot
        for part, (lo, hi) in GARMENTS[kind].covers.items():
            covered = (layout.part == BODY_PARTS.index(part)) & (layout.along >= lo) & (layout.along <= hi)
            slots[covered] = SLOTS.index(slot)
    x, y, z = layout.head.T  # from the eyes: x the person's left, y back, z up
    scalp = region_faces("skin")
    style = HAIR_STYLES[hair_style]
    if style is not None:
        front, over_ears, nape = style
        # The hair line: high over the forehead, down to just above the ears at the temples (below them
        # for bob and long), down to the nape at the back; the face itself stays bare.
        line = np.interp(y, [0.0, 0.035, 0.06, 0.10, 0.15], [front, front - 0.012, over_ears, over_ears, nape])
        hair = scalp & (z > line)
        if nape < -0.09:  # bob and long hair fall over the back of the neck
            hair |= region_faces("neck") & (y > 0.09) & (z > line)
        slots[hair] = SLOTS.index("stubble" if hair_style == "buzz" else "hair")
    slots[_facial_hair(facial_hair, scalp, layout)] = SLOTS.index(
        "beard_stubble" if facial_hair == "stubble" else "beard")
    slots[region_faces("left_brow", "right_brow")] = SLOTS.index("brow")
    slots[region_faces("upper_lip", "lower_lip")] = SLOTS.index("lips")
    slots[region_faces("mouth_interior")] = SLOTS.index("mouth")
    eyes = region_faces("left_eye", "right_eye")
    slots[eyes] = SLOTS.index("sclera")
    # (the iris and pupil are painted by texel on the eye tiles: _eye_rings)
    # Lashes: the lid faces that border the eyeball, a dark rim around the eye opening.
    slots[scalp & _borders(eyes & layout.eye) & (np.abs(z) < 0.014)] = SLOTS.index("lashes")
    slots.setflags(write=False)
    return slots


def _facial_hair(kind: str, skin: NDArray[np.bool_], layout: FaceLayout) -> NDArray[np.bool_]:
    """The faces a kind of facial hair covers: below the nose on the front and sides of the face and the
    chin (stubble and beard; the beard also under the chin), over the upper lip (moustache), around the
    mouth and on the chin (goatee)."""
    from renderer.humans.face_regions import region_faces

    x, y, z = layout.head.T
    none = np.zeros(len(x), dtype=bool)
    if kind == "none":
        return none
    lower_face = skin & (z < -0.045) & (y < 0.065)
    moustache = skin & (z > -0.066) & (z < -0.05) & (np.abs(x) < 0.03) & (y < 0.0)
    chin = skin & (z < -0.08) & (np.abs(x) < 0.026) & (y < 0.0)
    if kind == "moustache":
        return moustache
    if kind == "goatee":
        return moustache | chin | (skin & (z < -0.06) & (np.abs(x) < 0.032) & (y < -0.01) & (z > -0.09))
    under_chin = region_faces("neck") & (y < 0.04) & (z > -0.13)
    return lower_face | moustache | chin | (under_chin if kind == "beard" else none)


def _borders(region: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Faces sharing an edge with a face of the region (not in it), or with a vertex of it."""
    from renderer.humans.model import body_model

    faces = body_model().model_faces
    touched = np.zeros(int(faces.max()) + 1, dtype=bool)
    touched[faces[region].ravel()] = True
    return touched[faces].any(axis=1) & ~region


@functools.cache
def _eye_rings() -> tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]]:
    """(S, S) texels of the irises, pupils and the irises' dark outer rims on the eye tiles
    (renderer.humans.model.EYE_TILES: an eyeball's front projected onto a disc of the tile's half size;
    the iris is the central 0.48 of it, the pupil 0.2)."""
    from renderer.humans.model import EYE_TILES

    rows, cols = np.mgrid[0:TEXTURE_SIZE, 0:TEXTURE_SIZE].astype(np.float64) + 0.5
    iris = np.zeros((TEXTURE_SIZE, TEXTURE_SIZE), dtype=bool)
    pupil, limbus = iris.copy(), iris.copy()
    for row, col, half in EYE_TILES:
        r = np.hypot(rows - row, cols - col) / half
        iris |= r < 0.48
        limbus |= (r >= 0.41) & (r < 0.48)
        pupil |= r < 0.2
    for mask in (iris, pupil, limbus):
        mask.setflags(write=False)
    return iris, pupil, limbus


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
    return np.clip(np.round(srgb_from_linear(linear) * 255), 0, 255).astype(np.uint8)


def body_texture(body: BodyDescription, lips_rgb: tuple[float, float, float],
                 palm_rgb: tuple[float, float, float]) -> NDArray[np.uint8]:
    """(S, S, 3) sRGB uint8 texture of the person (rows top to bottom, v = 1 at the top).

    Every texel but the skin's is one of a few colours (a slot's, or a garment's pattern colour), so those
    are a palette of colours in sRGB indexed per texel: the sRGB conversion runs on 14 colours; the skin's
    texels vary (renderer.humans.skin_map.skin_texels)."""
    slots = _texel_slots(body.top.kind, body.bottom.kind, body.shoes.kind, body.hair_style, body.facial_hair)
    palette = np.zeros((len(SLOTS) + 3, 3))
    colours = {"skin": body.skin, "palm": palm_rgb, "hair": body.hair_color,
               "stubble": tuple(0.5 * np.asarray(body.hair_color) + 0.5 * np.asarray(body.skin)),
               "brow": tuple(0.6 * np.asarray(body.hair_color)), "sclera": (0.8, 0.78, 0.75),
               "iris": body.eye_color, "lips": lips_rgb, "beard": tuple(0.8 * np.asarray(body.hair_color)),
               "beard_stubble": tuple(0.45 * np.asarray(body.hair_color) + 0.55 * np.asarray(body.skin)),
               "mouth": (0.25, 0.04, 0.05), "lashes": tuple(0.35 * np.asarray(body.hair_color))}
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
    if body.hair_style == "curly":  # curls: the hair broken into small darker ringlets
        curls = (slots == SLOTS.index("hair")) & _pattern("dots", 3.0, slots.shape[0])
        palette = np.concatenate([palette, [0.55 * np.asarray(body.hair_color)]])
        index = np.where(curls, np.uint8(len(palette) - 1), index)
    palette = np.concatenate([palette, [(0.004, 0.004, 0.005), 0.45 * np.asarray(body.eye_color)]])
    iris, pupil, limbus = _eye_rings()
    index = np.where(iris, np.uint8(SLOTS.index("iris")), index)
    index = np.where(limbus, np.uint8(len(palette) - 1), index)
    index = np.where(pupil, np.uint8(len(palette) - 2), index)
    texture = _srgb8(palette)[index]
    skin = index == SLOTS.index("skin")  # the skin varies over the body (renderer.humans.skin_map)
    attributes = body.attributes
    bearded_man = attributes.gender == "male" and attributes.age_years >= 18 and body.facial_hair == "none"
    texture[skin] = _srgb8(skin_texels(body.skin, body.hair_color, attributes.monk_tone, attributes.identity,
                                       attributes.age_years, bearded_man, skin))
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


# Roughness (glTF) of each slot's surface; skin's is SKIN_ROUGHNESS, less where it is oily.
SLOT_ROUGHNESS = {"skin": SKIN_ROUGHNESS, "palm": SKIN_ROUGHNESS, "hair": 0.5, "stubble": 0.6, "brow": 0.6,
                  "sclera": 0.15, "iris": 0.15, "lips": 0.45, "beard": 0.55, "beard_stubble": 0.6, "mouth": 0.35,
                  "lashes": 0.5, "top": 0.85, "bottom": 0.85, "shoes": 0.55}


@functools.lru_cache(maxsize=64)
def roughness_texture(top: str, bottom: str, shoes: str, hair_style: str,
                      facial_hair: str = "none") -> NDArray[np.uint8]:
    """(S, S, 3) uint8 glTF metallic-roughness texture of a person (G roughness, B metallic 0), for a
    roughness factor of 1: each slot's roughness, skin less rough where it is oily (forehead, nose)."""
    from renderer.humans.skin_map import OILY_ROUGHNESS

    slots = _texel_slots(top, bottom, shoes, hair_style, facial_hair)
    per_slot = np.array([SLOT_ROUGHNESS.get(name, SKIN_ROUGHNESS) for name in SLOTS])
    roughness = per_slot[slots]
    skin = slots == SLOTS.index("skin")
    roughness[skin] += (OILY_ROUGHNESS - SKIN_ROUGHNESS) * skin_fields().oily[skin]
    out = np.zeros((*slots.shape, 3), dtype=np.uint8)
    out[..., 1] = np.clip(np.rint(roughness * 255), 0, 255).astype(np.uint8)
    out.setflags(write=False)
    return out
