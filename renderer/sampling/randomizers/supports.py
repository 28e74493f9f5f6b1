"""supports: the table (``table:``) and, for physics in a tray, the tray; they come first in a frame's
objects (instance ids 1, 2)."""

from __future__ import annotations

import numpy as np

from renderer.assets.catalog import TABLE_CATEGORY, TRAY_CATEGORY, AssetCatalog
from renderer.config.schema import SceneConfig
from renderer.sampling.materials import hsv
from renderer.sampling.placement import TRAY_WALL
from renderer.sampling.randomizers.base import FrameDraft, Randomizer
from renderer.scene.description import MaterialDescription, MeshSource, ObjectDescription, TextureDescription, as_matrix


def _draw(draft: FrameDraft) -> None:
    config, catalog = draft.config, draft.catalog
    rng = draft.stream("supports")
    if config.table.enabled:
        draft.objects.append(_table(config, catalog, rng, instance_id=len(draft.objects) + 1))
    if config.objects.placement == "physics" and config.objects.physics.container == "tray":
        draft.objects.append(_tray(config, catalog, rng, instance_id=len(draft.objects) + 1))


RANDOMIZER = Randomizer("supports", ("supports",), rank=0, draw=_draw)


def table_source(config: SceneConfig) -> MeshSource:
    """The table's geometry: a box whose top face is z = 0 once placed."""
    table = config.table
    return MeshSource("box", extents=(float(table.size[0]), float(table.size[1]), float(table.thickness)))

def tray_source(config: SceneConfig) -> MeshSource:
    physics = config.objects.physics
    return MeshSource("tray", extents=(float(physics.tray_size[0]), float(physics.tray_size[1]),
                                       float(physics.wall_height)), wall=TRAY_WALL)

def support_sources(config: SceneConfig) -> dict[str, MeshSource]:
    """{asset_id: source} of the supports a frame may hold (table, tray)."""
    sources = {}
    if config.table.enabled:
        sources["table"] = table_source(config)
    if config.objects.placement == "physics" and config.objects.physics.container == "tray":
        sources["tray"] = tray_source(config)
    return sources

def _table(config: SceneConfig, catalog: AssetCatalog, rng: np.random.Generator,
           instance_id: int) -> ObjectDescription:
    table = config.table
    pose = np.eye(4)
    pose[2, 3] = -table.thickness / 2.0  # top face at z = 0
    tint = hsv(rng, (0.05, 0.1), (0.45, 0.75), (0.5, 0.9))
    kind = table.texture.sample(rng)
    texture = None
    if kind != "none":
        texture = TextureDescription(kind=kind, seed=int(rng.integers(0, 16)), size=512)
    material = MaterialDescription(base_color=(*tint, 1.0), metallic=0.0, roughness=float(rng.uniform(0.5, 0.9)),
                                   texture=texture)
    return ObjectDescription(instance_id=instance_id, asset_id="table", category=TABLE_CATEGORY,
                             category_id=catalog.categories[TABLE_CATEGORY], mesh=table_source(config),
                             scale=1.0, object_to_world=as_matrix(pose), material=material)

def _tray(config: SceneConfig, catalog: AssetCatalog, rng: np.random.Generator,
          instance_id: int) -> ObjectDescription:
    tint = hsv(rng, (0.0, 1.0), (0.2, 0.6), (0.3, 0.7))
    material = MaterialDescription(base_color=(*tint, 1.0), metallic=0.0, roughness=float(rng.uniform(0.4, 0.8)))
    return ObjectDescription(instance_id=instance_id, asset_id="tray", category=TRAY_CATEGORY,
                             category_id=catalog.categories[TRAY_CATEGORY], mesh=tray_source(config),
                             scale=1.0, object_to_world=as_matrix(np.eye(4)), material=material)
