"""Material channels, for intrinsic-image and inverse-rendering work: what each pixel's surface is made
of, as both engines are given it (glTF's metallic-roughness: pyrender's material, Mitsuba's principled
BSDF; docs/engines.md), exact for every object, person (skin, garments, hair: a person's texture) and
the environment's surfaces (table, floor, tray).

albedo: float32 (H, W, 3), the linear base colour at the pixel centre: the material's factor times its
    texture (decoded from sRGB) at the surface point's texture coordinates, bilinear as the engines
    filter; 0 = no surface. Glass: its transmission tint.
roughness, metallic: float32 (H, W), the material's factors (times a mesh file's own metallic-roughness
    texture where it has one); diffuse materials roughness 1 and metallic 0, glass metallic 0; 0 = none.
material_id: uint16 (H, W), 1 + the index of the pixel's material among the frame's distinct materials
    in the order the frame's objects first use them, where a material is an object's MaterialDescription
    (a mesh file's own material: per mesh) and, on a person, what covers the surface there (skin, hair,
    eyebrows, eyes, lips, top, bottom, shoes: renderer.scene.body.COVERINGS); 0 = no surface.
All four are made from the label pass's fragments (renderer.scene.fragments.material_values).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from renderer.channels.base import Channel, array_panel, attribute_of
from renderer.channels.body import class_panel, face_classes
from renderer.channels.codecs import npy_zst_array, npy_zst_bytes, png_array, png_bytes
from renderer.channels.motion_common import float_image_channel
from renderer.scene.body import unpack_face_classes
from renderer.scene.color import srgb_from_linear
from renderer.scene.fragments import FrameSurfaces, material_values


def albedo(surfaces: FrameSurfaces) -> NDArray[np.float32]:
    return surfaces.image(material_values(surfaces)["albedo"].astype(np.float32), np.float32)


def _factor(name: str) -> Any:
    def make(surfaces: FrameSurfaces) -> NDArray[np.float32]:
        return surfaces.image(material_values(surfaces)[name].astype(np.float32), np.float32)
    return make


def material_id(surfaces: FrameSurfaces) -> NDArray[np.uint16]:
    """1 + the index of each pixel's (material, covering) among the frame's, in object order."""
    coverings = unpack_face_classes(face_classes(surfaces))[1].ravel()[surfaces.pixels]
    keys: dict[tuple[Any, ...], int] = {}
    ids = np.zeros(len(surfaces.pixels), dtype=np.uint16)
    for k, where in sorted(surfaces.groups):
        obj = surfaces.frame.objects[k]
        own = (obj.mesh,) if obj.material.use_asset_material else ()
        here = coverings[where]
        for covering in np.unique(here):
            key = (obj.material, *own, int(covering))
            ids[where][here == covering] = keys.setdefault(key, len(keys) + 1)
    return surfaces.image(ids, np.uint16)


def albedo_panel(linear: NDArray[np.float32]) -> NDArray[np.uint8]:
    """The albedo shown in sRGB."""
    return np.clip(np.rint(srgb_from_linear(np.clip(linear, 0, 1)) * 255), 0, 255).astype(np.uint8)


def factor_panel(values: NDArray[np.float32]) -> NDArray[np.uint8]:
    """A factor in [0, 1] as grey."""
    grey = np.clip(np.rint(values * 255), 0, 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=-1)


def _factor_channel(name: str, rank: int, doc: str) -> Channel:
    return Channel(
        name=name, suffix=".npy.zst", dtype=np.dtype(np.float32), ndim=2, extract=attribute_of(name),
        surface=_factor(name), encode=npy_zst_bytes, decode=npy_zst_array, doc=doc, panel=factor_panel,
        rank=rank, sample_key=name, preview=array_panel(name, factor_panel), title=name)


CHANNELS = (
    float_image_channel(
        "albedo", "float32 H×W×3, linear base colour (factor × texture), 0 = no surface; .npy.zst", albedo_panel,
        rank=94, surface=albedo, preview=array_panel("albedo", albedo_panel), title="albedo (linear, shown sRGB)"),
    _factor_channel("roughness", 98, "float32 H×W, the material's roughness in [0, 1], 0 = no surface; .npy.zst"),
    _factor_channel("metallic", 99, "float32 H×W, the material's metallic factor in [0, 1], 0 = no surface; .npy.zst"),
    Channel(
        name="material_id", suffix=".png", dtype=np.dtype(np.uint16), ndim=2, extract=attribute_of("material_id"),
        surface=material_id, encode=png_bytes, decode=png_array,
        doc="uint16 PNG, 1 + index of the (material, covering) among the frame's in object order, 0 = no surface",
        panel=lambda ids: class_panel(ids, int(ids.max()) if ids.size else 0), rank=100, sample_key="material_id",
        to_sample=lambda ids: ids.astype(np.int64),
        preview=array_panel("material_id", lambda ids: class_panel(ids, int(ids.max()) if ids.size else 0)),
        title="material id"),
)
