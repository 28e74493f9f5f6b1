"""Materials of drawn objects and supports: colours (HSV ranges), procedural or image textures, glass."""

from __future__ import annotations

import colorsys

import numpy as np
import trimesh

from renderer.assets.catalog import Asset, AssetCatalog
from renderer.config.distributions import Distribution
from renderer.config.schema import SceneConfig
from renderer.scene.description import MaterialDescription, TextureDescription


def hsv(rng: np.random.Generator, hue: tuple[float, float], saturation: tuple[float, float],
         value: tuple[float, float]) -> tuple[float, float, float]:
    rgb = colorsys.hsv_to_rgb(rng.uniform(*hue), rng.uniform(*saturation), rng.uniform(*value))
    return (float(rgb[0]), float(rgb[1]), float(rgb[2]))

def hsv_from(rng: np.random.Generator, hue: Distribution, saturation: Distribution,
              value: Distribution) -> tuple[float, float, float]:
    rgb = colorsys.hsv_to_rgb(hue.sample(rng), saturation.sample(rng), value.sample(rng))
    return (float(rgb[0]), float(rgb[1]), float(rgb[2]))

def object_material(config: SceneConfig, rng: np.random.Generator, catalog: AssetCatalog,
                     asset: Asset) -> MaterialDescription:
    m = config.materials
    color = hsv_from(rng, m.hue, m.saturation, m.value)
    metallic = float(m.metallic.sample(rng))
    roughness = float(m.roughness.sample(rng))
    texture = None
    if m.texture_probability > 0 and rng.random() < m.texture_probability:
        kind = m.textures.sample(rng)
        if kind == "image":
            images = catalog.image_choices("materials.texture_images")
            texture = TextureDescription(kind="image", seed=0, size=512,
                                         path=str(images[int(rng.integers(len(images)))]))
            color = (1.0, 1.0, 1.0)  # show the image's own colours
        else:
            texture = TextureDescription(kind=kind, seed=int(rng.integers(0, 64)), size=256)
    keep = m.keep_asset_textures and has_own_texture(catalog.mesh(asset.source))
    if m.glass_probability > 0 and rng.random() < m.glass_probability:
        # Glass: a pale tint of the drawn colour, smooth or slightly frosted; the mesh's textures go.
        r, g, b = (0.75 + 0.25 * c for c in color)
        return MaterialDescription(base_color=(r, g, b, 1.0), metallic=0.0, roughness=min(roughness, 0.3) * 0.2,
                                   kind="glass", ior=float(m.ior.sample(rng)))
    return MaterialDescription(base_color=(*color, 1.0), metallic=metallic, roughness=roughness,
                               texture=texture, use_asset_material=keep)

def has_own_texture(mesh: trimesh.Trimesh) -> bool:
    """Whether a mesh file brought a texture image (OBJ+MTL map_Kd, GLB baseColorTexture) to keep."""
    visual = mesh.visual
    if getattr(visual, "kind", None) != "texture" or getattr(visual, "uv", None) is None:
        return False
    material = getattr(visual, "material", None)
    return any(getattr(material, name, None) is not None for name in ("image", "baseColorTexture"))
