"""(config, seed, frame index) -> frame description. Pure data, no OpenGL.

Every draw comes from streams seeded by (seed, index) (renderer.seeding), so frame i is the same whether
it is made alone, in a long run, or by any worker. Each randomizer (supports, objects, distractors,
placement, lights, camera, background, sensor) has its own stream: changing one leaves the others'
draws untouched.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np
import trimesh
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from renderer.assets.catalog import TABLE_CATEGORY, TRAY_CATEGORY, Asset, AssetCatalog, draw_probabilities
from renderer.config.distributions import Distribution
from renderer.config.schema import TEXTURE_KINDS, SceneConfig
from renderer.scene.color import color_from_temperature
from renderer.scene.description import (
    BackgroundDescription,
    CameraDescription,
    EnvironmentDescription,
    FrameDescription,
    LightDescription,
    MaterialDescription,
    Matrix,
    MeshSource,
    ObjectDescription,
    SensorDescription,
    TextureDescription,
    as_matrix,
)
from renderer.scene.environment import sun_color
from renderer.scene.geometry import (
    intrinsics_from_fov,
    look_at_world_to_camera,
    opengl_from_opencv_pose,
    rigid_inverse,
    rotation_z,
)
from renderer.seeding import randomizer_rng

PLACEMENT_TRIES = 200
TRAY_WALL = 0.01  # metres


def sample_frame(config: SceneConfig, catalog: AssetCatalog, *, seed: int, index: int,
                 attempt: int = 0) -> FrameDescription:
    """The description of frame ``index`` of the dataset made with ``seed`` (``attempt``: its redraw
    after failing the scene's constraints, renderer.labels.constraints)."""
    def stream(name: str) -> np.random.Generator:
        return randomizer_rng(seed, index, name, attempt)

    supports: list[ObjectDescription] = []
    support_rng = stream("supports")
    if config.table.enabled:
        supports.append(_table(config, catalog, support_rng, instance_id=1))
    physics = config.objects.placement == "physics"
    if physics and config.objects.physics.container == "tray":
        supports.append(_tray(config, catalog, support_rng, instance_id=len(supports) + 1))
    drafts = _drafts(config, catalog, stream("objects"), catalog.assets, config.objects.count)
    distractor_drafts = _drafts(config, catalog, stream("distractors"), catalog.distractors, config.distractors.count)
    placement_rng = stream("placement")
    # Place in a random order, so that when space runs out distractors are not always the ones left out.
    order = placement_rng.permutation(len(drafts) + len(distractor_drafts))
    placed = _place(config, catalog, placement_rng, [(drafts + distractor_drafts)[k] for k in order])
    objects = list(supports)
    labelled_distractors = config.distractors.labelled
    next_id = len(supports) + 1
    for draft, pose in placed:
        labelled = not draft.distractor or labelled_distractors
        instance_id = next_id if labelled else 0
        next_id += labelled
        category_id = catalog.categories[draft.asset.category] if labelled else 0
        objects.append(ObjectDescription(
            instance_id=instance_id, asset_id=draft.asset.asset_id, category=draft.asset.category,
            category_id=category_id, mesh=draft.asset.source, scale=draft.scale,
            object_to_world=as_matrix(pose), material=draft.material))
    light_rng = stream("lights")
    lights = _lights(config, light_rng)
    ambient = float(config.lights.ambient.sample(light_rng))
    camera = _camera(config, stream("camera"))
    background = _background(config, catalog, stream("background"))
    sensor = _sensor(config, stream("sensor"))
    environment, sun = _environment(config, catalog, stream("environment"))
    lights.extend(sun)
    return FrameDescription(index=index, seed=seed, camera=camera, objects=tuple(objects), lights=tuple(lights),
                            ambient=ambient, background=background, sensor=sensor, environment=environment,
                            attempt=attempt)


# -- supports -----------------------------------------------------------------------------------------

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
    tint = _hsv(rng, (0.05, 0.1), (0.45, 0.75), (0.5, 0.9))
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
    tint = _hsv(rng, (0.0, 1.0), (0.2, 0.6), (0.3, 0.7))
    material = MaterialDescription(base_color=(*tint, 1.0), metallic=0.0, roughness=float(rng.uniform(0.4, 0.8)))
    return ObjectDescription(instance_id=instance_id, asset_id="tray", category=TRAY_CATEGORY,
                             category_id=catalog.categories[TRAY_CATEGORY], mesh=tray_source(config),
                             scale=1.0, object_to_world=as_matrix(np.eye(4)), material=material)


# -- objects ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Draft:
    """An object chosen but not yet placed."""

    asset: Asset
    scale: float
    material: MaterialDescription
    distractor: bool


def objects_drawn(config: SceneConfig, *, seed: int, index: int, attempt: int = 0) -> int:
    """How many objects frame ``index`` draws before placement (the first draw of its objects stream,
    as _drafts makes it); placement may keep fewer."""
    if not config.objects.assets:
        return 0
    return int(config.objects.count.sample(randomizer_rng(seed, index, "objects", attempt)))


def _drafts(config: SceneConfig, catalog: AssetCatalog, rng: np.random.Generator, assets: list[Asset],
            count: Distribution) -> list[_Draft]:
    n = int(count.sample(rng))
    if n == 0 or not assets:
        return []
    distractor = assets is catalog.distractors
    weights = draw_probabilities(assets, "none" if distractor else config.objects.balance,
                                 dict(config.objects.category_weights))
    drafts = []
    for _ in range(n):
        asset = assets[int(rng.choice(len(assets), p=weights))]
        scale = float(asset.scale.sample(rng))
        drafts.append(_Draft(asset, scale, _object_material(config, rng, catalog, asset), distractor))
    return drafts


def _place(config: SceneConfig, catalog: AssetCatalog, rng: np.random.Generator,
           drafts: list[_Draft]) -> list[tuple[_Draft, NDArray[np.float64]]]:
    """Poses for the drafts that fit (others are left out rather than overlapping)."""
    placement = config.objects.placement
    if placement == "surface":
        return _place_on_surface(config, catalog, rng, drafts)
    if placement == "air":
        return _place_in_air(config, catalog, rng, drafts)
    from renderer.sampling.physics import drop_and_settle

    return drop_and_settle(config, catalog, rng, drafts)


def resting_rotation(config: SceneConfig, catalog: AssetCatalog, rng: np.random.Generator,
                     source: MeshSource) -> NDArray[np.float64]:
    """The rotation an object rests in before its yaw: upright (as modelled) or a stable pose."""
    if config.objects.pose == "upright":
        return np.eye(3)
    poses = catalog.resting_poses(source)
    return poses.rotations[int(rng.choice(len(poses.probabilities), p=poses.probabilities))]


def first_free(candidates: NDArray[np.float64], radius: float, centers: list[NDArray[np.float64]],
               radii: list[float], gap: float) -> NDArray[np.float64] | None:
    """The first candidate centre whose disc or ball of ``radius`` keeps ``gap`` from every placed one."""
    if not centers:
        return candidates[0]
    reach = np.array(radii) + radius + gap
    distances = np.linalg.norm(candidates[:, None, :] - np.array(centers)[None, :, :], axis=2)
    free = np.flatnonzero(np.all(distances >= reach[None, :], axis=1))
    return candidates[free[0]] if len(free) else None


def _place_on_surface(config: SceneConfig, catalog: AssetCatalog, rng: np.random.Generator,
                      drafts: list[_Draft]) -> list[tuple[_Draft, NDArray[np.float64]]]:
    """Resting on z = 0 with a random yaw, the disks covering their footprints apart by min_gap."""
    half = np.array(config.table.size) / 2.0
    centers: list[NDArray[np.float64]] = []
    radii: list[float] = []
    placed = []
    for draft in drafts:
        rest = resting_rotation(config, catalog, rng, draft.asset.source)
        yaw = float(rng.uniform(0.0, 2.0 * np.pi))
        candidates = rng.uniform(-1.0, 1.0, size=(PLACEMENT_TRIES, 2))
        footprint = catalog.footprint(draft.asset.source, rest)
        xy_center, radius = footprint.center_xy * draft.scale, footprint.radius * draft.scale
        room = half - radius
        if np.any(room <= 0):
            continue
        spot = first_free(candidates * room, radius, centers, radii, config.objects.min_gap)
        if spot is None:
            continue  # the table is full: fewer objects rather than overlapping ones
        centers.append(spot)
        radii.append(radius)
        turn = rotation_z(yaw)
        pose = np.eye(4)
        pose[:3, :3] = turn @ rest
        # Turn about the footprint centre, put that centre on the spot and the lowest point on z = 0.
        pose[:2, 3] = spot - (turn[:2, :2] @ xy_center)
        pose[2, 3] = -footprint.min_z * draft.scale
        placed.append((draft, pose))
    return placed


def _place_in_air(config: SceneConfig, catalog: AssetCatalog, rng: np.random.Generator,
                  drafts: list[_Draft]) -> list[tuple[_Draft, NDArray[np.float64]]]:
    """Anywhere in the air box, turned freely (or upright / resting pose plus yaw), bounding spheres apart."""
    air = config.objects.air
    low, high = np.array(air.low), np.array(air.high)
    centers: list[NDArray[np.float64]] = []
    radii: list[float] = []
    placed = []
    for draft in drafts:
        if config.objects.pose == "free":
            rotation = Rotation.random(random_state=rng).as_matrix()
        else:
            rotation = rotation_z(float(rng.uniform(0, 2 * np.pi))) @ resting_rotation(
                config, catalog, rng, draft.asset.source)
        candidates = low + rng.random((PLACEMENT_TRIES, 3)) * (high - low)
        sphere_center, sphere_radius = catalog.bounding_sphere(draft.asset.source)
        radius = sphere_radius * draft.scale
        spot = first_free(candidates, radius, centers, radii, config.objects.min_gap)
        if spot is None:
            continue
        centers.append(spot)
        radii.append(radius)
        pose = np.eye(4)
        pose[:3, :3] = rotation
        pose[:3, 3] = spot - rotation @ (sphere_center * draft.scale)  # the sphere's centre on the spot
        placed.append((draft, pose))
    return placed


# -- materials ----------------------------------------------------------------------------------------

def _hsv(rng: np.random.Generator, hue: tuple[float, float], saturation: tuple[float, float],
         value: tuple[float, float]) -> tuple[float, float, float]:
    rgb = colorsys.hsv_to_rgb(rng.uniform(*hue), rng.uniform(*saturation), rng.uniform(*value))
    return (float(rgb[0]), float(rgb[1]), float(rgb[2]))


def _hsv_from(rng: np.random.Generator, hue: Distribution, saturation: Distribution,
              value: Distribution) -> tuple[float, float, float]:
    rgb = colorsys.hsv_to_rgb(hue.sample(rng), saturation.sample(rng), value.sample(rng))
    return (float(rgb[0]), float(rgb[1]), float(rgb[2]))


def _object_material(config: SceneConfig, rng: np.random.Generator, catalog: AssetCatalog,
                     asset: Asset) -> MaterialDescription:
    m = config.materials
    color = _hsv_from(rng, m.hue, m.saturation, m.value)
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


# -- lights -------------------------------------------------------------------------------------------

def _direction(elevation_deg: float, azimuth_deg: float) -> NDArray[np.float64]:
    elevation, azimuth = np.deg2rad(elevation_deg), np.deg2rad(azimuth_deg)
    return np.array([np.cos(elevation) * np.cos(azimuth), np.cos(elevation) * np.sin(azimuth), np.sin(elevation)])


def _light_pose(target: NDArray[np.float64], direction: NDArray[np.float64], distance: float) -> Matrix:
    """light_to_world of a light at target + distance * direction shining at the target (along its -z)."""
    camera_to_world = rigid_inverse(look_at_world_to_camera(target + distance * direction, target))
    return as_matrix(opengl_from_opencv_pose(camera_to_world))


def _lights(config: SceneConfig, rng: np.random.Generator) -> list[LightDescription]:
    lc = config.lights
    target = np.array(config.camera.target)
    lights = []
    for _ in range(int(lc.count.sample(rng))):
        kind = lc.type.sample(rng)
        intensity = float(lc.intensity.sample(rng))
        color = color_from_temperature(float(lc.color_temperature_k.sample(rng)))
        direction = _direction(float(lc.elevation_deg.sample(rng)), float(lc.azimuth_deg.sample(rng)))
        distance = float(lc.distance.sample(rng))
        spot_angle = float(lc.spot_angle_deg.sample(rng)) if kind == "spot" else 0.0
        if kind != "directional":
            intensity *= distance**2  # the same illuminance at the target as a directional light
        lights.append(LightDescription(kind=kind, color=color, intensity=intensity,
                                       light_to_world=_light_pose(target, direction, distance),
                                       spot_angle_deg=spot_angle))
    return lights


# -- camera, background, sensor -----------------------------------------------------------------------

def _camera(config: SceneConfig, rng: np.random.Generator) -> CameraDescription:
    cam = config.camera
    width, height = config.image.width, config.image.height
    fov = float(cam.fov_deg.sample(rng))
    distance = float(cam.distance.sample(rng))
    direction = _direction(float(cam.elevation_deg.sample(rng)), float(cam.azimuth_deg.sample(rng)))
    roll = np.deg2rad(float(cam.roll_deg.sample(rng)))
    target = np.array(cam.target, dtype=float)
    if cam.target_jitter > 0:
        target[:2] += rng.normal(0.0, cam.target_jitter, size=2)
    eye = target + distance * direction
    world_to_camera = look_at_world_to_camera(eye, target)
    if roll:
        world_to_camera = _roll(roll) @ world_to_camera
    if cam.intrinsics is not None:
        i = cam.intrinsics
        K = np.array([[i.fx, 0.0, i.cx], [0.0, i.fy, i.cy], [0.0, 0.0, 1.0]])
    else:
        K = intrinsics_from_fov(fov, width, height)
    return CameraDescription(width=width, height=height, K=as_matrix(K), world_to_camera=as_matrix(world_to_camera),
                             near=cam.near, far=cam.far)


def _roll(angle: float) -> NDArray[np.float64]:
    """Turn the camera by angle about its optical axis (image content turns the other way)."""
    turn = np.eye(4)
    turn[:3, :3] = rotation_z(-angle)
    return turn


def _background(config: SceneConfig, catalog: AssetCatalog, rng: np.random.Generator) -> BackgroundDescription:
    bg = config.background
    kind = bg.kind.sample(rng)
    first = _hsv_from(rng, bg.hue, bg.saturation, bg.value)
    if kind == "solid":
        return BackgroundDescription("solid", (first,))
    if kind == "gradient":
        return BackgroundDescription("gradient", (first, _hsv_from(rng, bg.hue, bg.saturation, bg.value)))
    if kind == "texture":
        texture = TextureDescription(kind=TEXTURE_KINDS[int(rng.integers(len(TEXTURE_KINDS)))],  # type: ignore[arg-type]
                                     seed=int(rng.integers(0, 64)), size=512)
        return BackgroundDescription("texture", (first,), texture=texture)
    images = catalog.image_choices("background.images")
    return BackgroundDescription("image", (first,), path=str(images[int(rng.integers(len(images)))]))


def _environment(config: SceneConfig, catalog: AssetCatalog,
                 rng: np.random.Generator) -> tuple[EnvironmentDescription, list[LightDescription]]:
    """The frame's environment, and for a sky its sun as a directional light."""
    env = config.environment
    kind = env.kind.sample(rng)
    intensity = float(env.intensity.sample(rng))
    rotation = float(env.rotation_deg.sample(rng))
    if kind == "none":
        return EnvironmentDescription(), []
    if kind == "uniform":
        return EnvironmentDescription("uniform", intensity=intensity, visible=env.visible), []
    if kind == "hdri":
        maps = catalog.image_choices("environment.images")
        return EnvironmentDescription("hdri", intensity=intensity, rotation_deg=rotation,
                                      path=str(maps[int(rng.integers(len(maps)))]), visible=env.visible), []
    elevation = float(env.sun_elevation_deg.sample(rng))
    direction = _direction(elevation, float(env.sun_azimuth_deg.sample(rng)))
    turbidity = float(env.turbidity.sample(rng))
    sun_intensity = float(env.sun_intensity.sample(rng))
    sky = EnvironmentDescription("sky", intensity=intensity, sun_direction=(float(direction[0]), float(direction[1]),
                                 float(direction[2])), turbidity=turbidity, visible=env.visible)
    if sun_intensity <= 0:
        return sky, []
    sun = LightDescription(kind="directional", color=sun_color(elevation), intensity=sun_intensity,
                           light_to_world=_light_pose(np.array(config.camera.target, dtype=float), direction, 10.0))
    return sky, [sun]


def _sensor(config: SceneConfig, rng: np.random.Generator) -> SensorDescription:
    s = config.sensor
    return SensorDescription(
        exposure_ev=float(s.exposure_ev.sample(rng)), brightness=float(s.brightness.sample(rng)),
        contrast=float(s.contrast.sample(rng)), saturation=float(s.saturation.sample(rng)),
        blur_sigma=float(s.blur_sigma.sample(rng)), noise_std=float(s.noise_std.sample(rng)),
        noise_seed=int(rng.integers(0, 2**31)), jpeg_quality=int(s.jpeg_quality.sample(rng)),
    )
