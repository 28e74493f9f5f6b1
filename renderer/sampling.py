"""(config, seed, frame index) -> frame description. Pure data, no OpenGL.

Every draw comes from ``frame_rng(seed, index)`` in a fixed order, so frame i is the same whether it is
made alone, in a long run, or by any worker.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np
import trimesh

from renderer.assets import TABLE_CATEGORY, Asset, AssetCatalog
from renderer.config import FloatRange, IntRange, SceneConfig
from renderer.geometry import (
    intrinsics_from_fov,
    look_at_world_to_camera,
    opengl_from_opencv_pose,
    rigid_inverse,
    rotation_z,
)
from renderer.scene import (
    CameraDescription,
    FrameDescription,
    LightDescription,
    MaterialDescription,
    MeshSource,
    ObjectDescription,
    TextureDescription,
    as_matrix,
)
from renderer.seeding import frame_rng

PLACEMENT_TRIES = 200


def draw_float(rng: np.random.Generator, value: FloatRange) -> float:
    return float(rng.uniform(value.min, value.max)) if value.max > value.min else value.min


def draw_int(rng: np.random.Generator, value: IntRange) -> int:
    return int(rng.integers(value.min, value.max + 1))


def sample_frame(config: SceneConfig, catalog: AssetCatalog, *, seed: int, index: int) -> FrameDescription:
    """The description of frame ``index`` of the dataset made with ``seed``."""
    rng = frame_rng(seed, index)
    objects: list[ObjectDescription] = []
    if config.table.enabled:
        objects.append(_table(config, catalog, rng))
    objects.extend(_resting_objects(config, catalog, rng, first_id=len(objects) + 1))
    lights = _lights(config, rng)
    ambient = draw_float(rng, config.lights.ambient)
    camera = _camera(config, rng)
    return FrameDescription(
        index=index, seed=seed, camera=camera, objects=tuple(objects), lights=tuple(lights),
        ambient=ambient, background=tuple(float(c) for c in config.background),  # type: ignore[arg-type]
    )


def table_source(config: SceneConfig) -> MeshSource:
    """The table's geometry: a box whose top face is z = 0 once placed."""
    table = config.table
    return MeshSource("box", extents=(float(table.size[0]), float(table.size[1]), float(table.thickness)))


def _table(config: SceneConfig, catalog: AssetCatalog, rng: np.random.Generator) -> ObjectDescription:
    table = config.table
    pose = np.eye(4)
    pose[2, 3] = -table.thickness / 2.0  # top face at z = 0
    texture = None
    tint = _hsv_color(rng, hue=(0.05, 0.1), saturation=(0.45, 0.75), value=(0.5, 0.9))
    if table.texture != "none":
        texture = TextureDescription(kind=table.texture, seed=int(rng.integers(0, 16)),  # type: ignore[arg-type]
                                     size=512)
    material = MaterialDescription(
        base_color=(*tint, 1.0),
        metallic=0.0, roughness=float(rng.uniform(0.5, 0.9)), texture=texture,
    )
    return ObjectDescription(
        instance_id=1, asset_id="table", category=TABLE_CATEGORY,
        category_id=catalog.categories[TABLE_CATEGORY], mesh=table_source(config),
        scale=1.0, object_to_world=as_matrix(pose), material=material,
    )


@dataclass(frozen=True)
class _Placed:
    center_xy: np.ndarray  # centre of the disk covering the object's xy footprint, world
    radius: float


def _resting_objects(config: SceneConfig, catalog: AssetCatalog, rng: np.random.Generator,
                     first_id: int) -> list[ObjectDescription]:
    """Upright objects with random yaw, standing on z = 0, their footprint disks apart."""
    count = draw_int(rng, config.objects.count)
    if count == 0 or not catalog.assets:
        return []
    weights = np.array([a.weight for a in catalog.assets])
    weights /= weights.sum()
    half = np.array(config.table.size) / 2.0
    placed: list[_Placed] = []
    objects: list[ObjectDescription] = []
    for _ in range(count):
        asset: Asset = catalog.assets[int(rng.choice(len(catalog.assets), p=weights))]
        scale = float(rng.uniform(asset.scale_min, asset.scale_max)) if asset.scale_max > asset.scale_min \
            else asset.scale_min
        yaw = float(rng.uniform(0.0, 2.0 * np.pi))
        material = _object_material(rng, catalog, asset)
        candidates = rng.uniform(-1.0, 1.0, size=(PLACEMENT_TRIES, 2))
        footprint = catalog.footprint(asset.source)
        xy_center, radius = footprint.center_xy * scale, footprint.radius * scale
        room = half - radius
        if np.any(room <= 0):
            continue
        candidates = candidates * room
        if placed:
            centers = np.array([f.center_xy for f in placed])
            reach = np.array([f.radius for f in placed]) + radius + config.objects.min_gap
            distances = np.linalg.norm(candidates[:, None, :] - centers[None, :, :], axis=2)
            free = np.flatnonzero(np.all(distances >= reach[None, :], axis=1))
        else:
            free = np.arange(len(candidates))
        if len(free) == 0:
            continue  # the table is full: fewer objects rather than overlapping ones
        spot = candidates[free[0]]
        placed.append(_Placed(spot, radius))
        rotation = rotation_z(yaw)
        pose = np.eye(4)
        pose[:3, :3] = rotation
        # Rotate about the footprint centre, put that centre on the spot and the lowest point on z = 0.
        pose[:2, 3] = spot - (rotation[:2, :2] @ xy_center)
        pose[2, 3] = -footprint.min_z * scale
        objects.append(ObjectDescription(
            instance_id=first_id + len(objects), asset_id=asset.asset_id, category=asset.category,
            category_id=catalog.categories[asset.category], mesh=asset.source, scale=scale,
            object_to_world=as_matrix(pose), material=material,
        ))
    return objects


def _hsv_color(rng: np.random.Generator, hue: tuple[float, float], saturation: tuple[float, float],
               value: tuple[float, float]) -> tuple[float, float, float]:
    rgb = colorsys.hsv_to_rgb(rng.uniform(*hue), rng.uniform(*saturation), rng.uniform(*value))
    return (float(rgb[0]), float(rgb[1]), float(rgb[2]))


def _object_material(rng: np.random.Generator, catalog: AssetCatalog, asset: Asset) -> MaterialDescription:
    color = _hsv_color(rng, hue=(0.0, 1.0), saturation=(0.25, 0.9), value=(0.35, 0.95))
    metallic = float(rng.choice([0.0, 0.0, 0.0, 0.6]))
    roughness = float(rng.uniform(0.25, 0.8))
    return MaterialDescription(base_color=(*color, 1.0), metallic=metallic, roughness=roughness,
                               use_asset_material=has_own_texture(catalog.mesh(asset.source)))


def has_own_texture(mesh: trimesh.Trimesh) -> bool:
    """Whether a mesh file brought a texture image (OBJ+MTL map_Kd, GLB baseColorTexture) to keep."""
    visual = mesh.visual
    if getattr(visual, "kind", None) != "texture" or getattr(visual, "uv", None) is None:
        return False
    material = getattr(visual, "material", None)
    return any(getattr(material, name, None) is not None for name in ("image", "baseColorTexture"))


def _lights(config: SceneConfig, rng: np.random.Generator) -> list[LightDescription]:
    lights = []
    for _ in range(draw_int(rng, config.lights.count)):
        elevation = np.deg2rad(draw_float(rng, config.lights.elevation_deg))
        azimuth = rng.uniform(0.0, 2.0 * np.pi)
        intensity = draw_float(rng, config.lights.intensity)
        warmth = rng.uniform(-1.0, 1.0)  # cool blue-ish to warm orange-ish white
        color = (1.0, 1.0 - 0.08 * max(warmth, 0.0) + 0.02 * min(warmth, 0.0),
                 1.0 - 0.2 * max(warmth, 0.0) + 0.05 * min(warmth, 0.0))
        position = 3.0 * np.array([np.cos(elevation) * np.cos(azimuth),
                                   np.cos(elevation) * np.sin(azimuth), np.sin(elevation)])
        camera_to_world = rigid_inverse(look_at_world_to_camera(position, np.zeros(3)))
        lights.append(LightDescription(
            kind="directional", color=tuple(float(c) for c in color),  # type: ignore[arg-type]
            intensity=intensity, light_to_world=as_matrix(opengl_from_opencv_pose(camera_to_world)),
        ))
    return lights


def _camera(config: SceneConfig, rng: np.random.Generator) -> CameraDescription:
    cam = config.camera
    fov = draw_float(rng, cam.fov_deg)
    distance = draw_float(rng, cam.distance)
    elevation = np.deg2rad(draw_float(rng, cam.elevation_deg))
    azimuth = np.deg2rad(draw_float(rng, cam.azimuth_deg))
    target = np.array([*rng.normal(0.0, cam.target_jitter, size=2), 0.0]) if cam.target_jitter > 0 \
        else np.zeros(3)
    eye = target + distance * np.array([np.cos(elevation) * np.cos(azimuth),
                                        np.cos(elevation) * np.sin(azimuth), np.sin(elevation)])
    width, height = config.image.width, config.image.height
    return CameraDescription(
        width=width, height=height, K=as_matrix(intrinsics_from_fov(fov, width, height)),
        world_to_camera=as_matrix(look_at_world_to_camera(eye, target)), near=cam.near, far=cam.far,
    )
