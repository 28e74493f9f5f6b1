"""The path engine (Mitsuba 3) against closed forms, the label pass and the raster engine."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mitsuba")

from renderer.assets.catalog import AssetCatalog  # noqa: E402
from renderer.config.schema import RenderConfig, load_scene, scene_from_dict  # noqa: E402
from renderer.pipeline.run import generate  # noqa: E402
from renderer.render.frame import FrameRenderer  # noqa: E402
from renderer.scene.description import (  # noqa: E402
    BackgroundDescription,
    CameraDescription,
    EnvironmentDescription,
    FrameDescription,
    LightDescription,
    MaterialDescription,
    MeshSource,
    ObjectDescription,
    as_matrix,
)
from renderer.scene.environment import write_hdr_map  # noqa: E402
from renderer.scene.geometry import look_at_world_to_camera, opengl_from_opencv_pose, rigid_inverse  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
W, H = 64, 48
NO_ENVIRONMENT = EnvironmentDescription()
EMPTY = AssetCatalog(scene_from_dict({"objects": {"count": 0}, "table": {"enabled": False}}))


@pytest.fixture(scope="module")
def path_renderer() -> FrameRenderer:
    with FrameRenderer(W, H, RenderConfig(engine="path", samples=64, denoise=False)) as renderer:
        yield renderer


def camera(eye: tuple[float, float, float], target: tuple[float, float, float] = (0, 0, 0),
           K: np.ndarray | None = None) -> CameraDescription:
    if K is None:
        K = np.array([[50.0, 0, (W - 1) / 2], [0, 50.0, (H - 1) / 2], [0, 0, 1]])
    return CameraDescription(W, H, as_matrix(K), as_matrix(look_at_world_to_camera(np.array(eye), np.array(target))),
                             near=0.01, far=20.0)


def box(extents: tuple[float, float, float], center: tuple[float, float, float], albedo: float,
        instance_id: int = 1) -> ObjectDescription:
    pose = np.eye(4)
    pose[:3, 3] = center
    return ObjectDescription(instance_id, "box", "box", 1, MeshSource("box", extents=extents), 1.0, as_matrix(pose),
                             MaterialDescription((albedo, albedo, albedo, 1.0), 0.0, 1.0, kind="diffuse"))


def frame(cam: CameraDescription, objects: tuple[ObjectDescription, ...], lights: tuple[LightDescription, ...] = (),
          environment: EnvironmentDescription = NO_ENVIRONMENT, ambient: float = 0.0,
          index: int = 0) -> FrameDescription:
    return FrameDescription(index, 0, cam, objects, lights, ambient, BackgroundDescription("solid", ((0.0, 0.0, 0.0),)),
                            environment=environment)


def covered(renderer: FrameRenderer, description: FrameDescription) -> tuple[np.ndarray, np.ndarray]:
    """Linear radiance and the pixels fully covered by a surface (alpha 1) of a path render."""
    image = renderer.engine.render(description, EMPTY)
    assert image.linear is not None
    return image.linear, image.rgba[..., 3] > 0.999


@pytest.mark.parametrize("albedo", [1.0, 0.5])
def test_white_furnace(path_renderer: FrameRenderer, albedo: float) -> None:
    """A diffuse object inside a uniform environment of radiance L sends back albedo * L everywhere."""
    L = 0.6
    description = frame(camera((0.8, -0.6, 0.7)), (box((0.3, 0.3, 0.3), (0, 0, 0), albedo),),
                        environment=EnvironmentDescription("uniform", intensity=L))
    linear, inside = covered(path_renderer, description)
    assert inside.sum() > 150
    values = linear[inside]
    np.testing.assert_allclose(values.mean(axis=0), albedo * L, rtol=0.01)
    assert np.abs(values - albedo * L).max() < 0.12 * L  # per-pixel noise at 64 samples


@pytest.mark.parametrize("tilt_deg", [0.0, 50.0])
def test_lambertian_plane_under_a_directional_light(path_renderer: FrameRenderer, tilt_deg: float) -> None:
    """Radiance of a Lambertian plane: albedo * E * cos(angle) / pi, E the light's irradiance."""
    albedo, E = 0.7, 2.5
    direction = np.array([np.sin(np.deg2rad(tilt_deg)), 0.0, np.cos(np.deg2rad(tilt_deg))])  # towards the light
    light_pose = opengl_from_opencv_pose(rigid_inverse(look_at_world_to_camera(3 * direction, np.zeros(3))))
    light = LightDescription("directional", (1.0, 1.0, 1.0), E, as_matrix(light_pose))
    plane = box((2.0, 2.0, 0.02), (0, 0, -0.01), albedo)
    linear, inside = covered(path_renderer, frame(camera((0.1, -0.2, 1.0)), (plane,), (light,)))
    assert inside.all()
    expected = albedo * E * np.cos(np.deg2rad(tilt_deg)) / np.pi
    np.testing.assert_allclose(linear.reshape(-1, 3).mean(axis=0), expected, rtol=0.01)


def test_raster_and_path_agree_on_a_uniform_environment(path_renderer: FrameRenderer) -> None:
    """The raster engine's ambient stand-in is exact where nothing occludes: both give albedo * L."""
    description = frame(camera((0.0, -0.5, 0.8)), (box((2.0, 2.0, 0.02), (0, 0, -0.01), 0.5),),
                        environment=EnvironmentDescription("uniform", intensity=0.8))
    with FrameRenderer(W, H) as raster:
        raster_rgb = raster.render(description, EMPTY).rgb.astype(float)
    path_rgb = path_renderer.render(description, EMPTY).rgb.astype(float)
    expected = 255 * (0.5 * 0.8) ** (1 / 2.2)
    assert abs(raster_rgb.mean() - expected) < 1.5
    assert abs(path_rgb.mean() - expected) < 1.5


@pytest.fixture(scope="module")
def converged_renderer() -> FrameRenderer:
    with FrameRenderer(W, H, RenderConfig(engine="path", samples=1024, denoise=False)) as renderer:
        yield renderer


@pytest.mark.parametrize("roll_deg", [0.0, 35.0])
def test_small_boxes_land_where_K_projects_them(converged_renderer: FrameRenderer, roll_deg: float) -> None:
    """Off-centre principal point and a rolled camera: each small box's coverage centroid is K's projection."""
    K = np.array([[58.0, 0, 27.3], [0, 58.0, 26.1], [0, 0, 1]])
    cam = camera((0.35, -0.25, 1.4), K=K)
    w2c = np.asarray(cam.world_to_camera)
    roll = np.eye(4)
    c, s = np.cos(np.deg2rad(roll_deg)), np.sin(np.deg2rad(roll_deg))
    roll[:2, :2] = [[c, s], [-s, c]]
    cam = dataclasses.replace(cam, world_to_camera=as_matrix(roll @ w2c))
    w2c = np.asarray(cam.world_to_camera)
    for point in ([0.1, 0.05, 0.02], [-0.2, 0.1, 0.0], [0.05, -0.15, 0.1]):
        description = frame(cam, (box((0.02, 0.02, 0.02), tuple(point), 1.0),),
                            environment=EnvironmentDescription("uniform"))
        alpha = converged_renderer.engine.render(description, EMPTY).rgba[..., 3]
        v, u = np.mgrid[0:H, 0:W]
        centroid = np.array([(alpha * u).sum(), (alpha * v).sum()]) / alpha.sum()
        p = w2c[:3, :3] @ np.array(point) + w2c[:3, 3]
        projected = (K @ p)[:2] / p[2]
        np.testing.assert_allclose(centroid, projected, atol=0.1)  # a half-pixel slip would be 0.5


def test_silhouettes_match_the_instance_mask() -> None:
    config = dataclasses.replace(load_scene(ROOT / "scenes" / "tabletop.yaml"),
                                 render=RenderConfig(engine="path", samples=4, denoise=True))
    from renderer.config.schema import ImageConfig
    from renderer.sampling.frame import sample_frame

    config = dataclasses.replace(config, image=ImageConfig(160, 120))
    catalog = AssetCatalog(config)
    description = sample_frame(config, catalog, seed=1, index=0)
    with FrameRenderer(160, 120, config.render) as renderer:
        alpha = renderer.engine.render(description, catalog).rgba[..., 3]
        instance = renderer.labels.render(description, catalog).instance
    import scipy.ndimage

    surface = instance > 0
    edge = scipy.ndimage.binary_dilation(surface) & ~scipy.ndimage.binary_erosion(surface)
    assert np.all(alpha[surface & ~edge] == 1.0)
    assert np.all(alpha[~surface & ~edge] == 0.0)


def test_environment_map_orientation(path_renderer: FrameRenderer, tmp_path: Path) -> None:
    """An HDR map bright over the +y half of the sky lights a box face looking along +y fully (albedo),
    one looking along -y not at all; turned by 180 degrees, the other way round."""
    h = 64
    theta = (np.arange(h) + 0.5) / h * np.pi
    phi = (np.arange(2 * h) + 0.5) / (2 * h) * 2 * np.pi
    t, p = np.meshgrid(theta, phi, indexing="ij")
    radiance = np.repeat((np.sin(t) * np.sin(p) > 0)[..., None], 3, axis=2).astype(np.float32)
    write_hdr_map(tmp_path / "half.exr", radiance)
    cube = box((0.3, 0.3, 0.3), (0, 0, 0), 0.8)
    for rotation, bright_side in ((0.0, 1.0), (180.0, -1.0)):
        environment = EnvironmentDescription("hdri", path=str(tmp_path / "half.exr"), rotation_deg=rotation)
        for side, expected in ((bright_side, 0.8), (-bright_side, 0.0)):
            description = frame(camera((0.0, 1.2 * side, 0.0)), (cube,), environment=environment)
            linear, inside = covered(path_renderer, description)
            assert inside.sum() > 100
            # Map pixels straddle the boundary: a band of width one pixel is half lit.
            np.testing.assert_allclose(linear[inside].mean(), expected, atol=0.03)


def test_same_frame_same_image_and_labels_identical_across_engines(tmp_path: Path) -> None:
    """Each label file is the same bytes whichever engine made the RGB; path images repeat exactly across
    runs and worker counts; another frame gets other noise."""
    base = scene_from_dict({
        "image": {"width": 96, "height": 72},
        "objects": {"count": [3, 5], "assets": [{"path": "../assets/meshes/*.obj"}]},
        "materials": {"glass_probability": 0.3, "texture_probability": 0.3},
        "environment": {"kind": "sky"},
    }, source=str(ROOT / "scenes" / "x.yaml"))
    path = dataclasses.replace(base, render=RenderConfig(engine="path", samples=4, denoise=True))
    generate(base, tmp_path / "raster", frames=2, seed=5)
    generate(path, tmp_path / "path", frames=2, seed=5)
    generate(path, tmp_path / "again", frames=2, seed=5, workers=2)
    for sub in ("depth", "normals", "meta"):
        for a in sorted((tmp_path / "raster" / sub).iterdir()):
            assert a.read_bytes() == (tmp_path / "path" / sub / a.name).read_bytes(), a
    for sub in ("instance", "semantic", "rgb"):
        for a in sorted((tmp_path / "path" / sub).iterdir()):
            assert a.read_bytes() == (tmp_path / "again" / sub / a.name).read_bytes(), a
            if sub != "rgb":
                assert a.read_bytes() == (tmp_path / "raster" / sub / a.name).read_bytes(), a
    assert (tmp_path / "path" / "rgb" / "000000.png").read_bytes() != (tmp_path / "raster" / "rgb" /
                                                                        "000000.png").read_bytes()


def test_curved_surfaces_are_smooth_not_faceted(converged_renderer: FrameRenderer) -> None:
    """A diffuse ball (a 1280-face mesh of a 35 mm sphere) under a directional light matches Lambert's
    law on the true sphere's normals, which flat facets would not (their normals are off by degrees)."""
    ball_path = ROOT / "assets" / "meshes" / "ball.obj"
    config = scene_from_dict({"objects": {"count": 1, "assets": [{"path": str(ball_path)}]},
                              "table": {"enabled": False}})
    catalog = AssetCatalog(config)
    source = catalog.assets[0].source
    light_dir = np.array([0.3, -0.5, 0.81])
    light_dir /= np.linalg.norm(light_dir)
    light_pose = opengl_from_opencv_pose(rigid_inverse(look_at_world_to_camera(light_dir, np.zeros(3))))
    light = LightDescription("directional", (1.0, 1.0, 1.0), 3.0, as_matrix(light_pose))
    ball = ObjectDescription(1, "ball", "ball", 1, source, 1.0, as_matrix(np.eye(4)),
                             MaterialDescription((0.8, 0.8, 0.8, 1.0), 0.0, 1.0, kind="diffuse"))
    eye = np.array([0.0, -0.12, 0.035 + 0.05])
    cam = camera(tuple(eye), (0.0, 0.0, 0.035))
    image = converged_renderer.engine.render(frame(cam, (ball,), (light,)), catalog)
    assert image.linear is not None
    # Rays through pixel centres, intersected with the true sphere (centre (0, 0, 0.035), r 0.035).
    K = np.asarray(cam.K)
    w2c = np.asarray(cam.world_to_camera)
    v, u = np.mgrid[0:H, 0:W].astype(float)
    rays = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], -1) @ w2c[:3, :3]
    rays /= np.linalg.norm(rays, axis=-1, keepdims=True)
    centre, radius = np.array([0.0, 0.0, 0.035]), 0.035
    oc = eye - centre
    b = rays @ oc
    disc = b**2 - (oc @ oc - radius**2)
    hit = disc > 0
    t = -b - np.sqrt(np.where(hit, disc, 0.0))
    normals = (eye + t[..., None] * rays - centre) / radius
    cos = np.clip(normals @ light_dir, 0.0, None)
    expected = 0.8 * 3.0 * cos / np.pi
    inside = hit & (image.rgba[..., 3] > 0.999) & (cos > 0.2)
    grown = np.zeros_like(inside)  # keep off the silhouette, where mesh and sphere differ most
    grown[1:-1, 1:-1] = inside[1:-1, 1:-1] & inside[:-2, 1:-1] & inside[2:, 1:-1] & inside[1:-1, :-2] & inside[1:-1, 2:]
    assert grown.sum() > 300
    relative = np.abs(image.linear[..., 0] - expected)[grown] / expected[grown]
    # Measured: smooth 0.16 % median, 0.8 % 90th percentile; flat facets 0.9 % and 3.3 %.
    assert np.median(relative) < 0.004 and np.percentile(relative, 90) < 0.015


def test_mesh_files_bring_their_own_pbr_material(path_renderer: FrameRenderer, tmp_path: Path) -> None:
    """A GLB's base colour texture (through its factor) and metallic-roughness texture reach the path
    engine: a red rough dielectric box in a uniform environment returns its albedo (sRGB-decoded) * L."""
    import trimesh
    from PIL import Image

    mesh = trimesh.creation.box((0.3, 0.3, 0.3))
    uv = (mesh.vertices[:, :2] + 0.15) / 0.3
    red = Image.fromarray(np.tile(np.array([200, 30, 30], np.uint8), (8, 8, 1)))
    rough = Image.fromarray(np.tile(np.array([0, 255, 0], np.uint8), (8, 8, 1)))  # G roughness 1, B metallic 0
    material = trimesh.visual.material.PBRMaterial(baseColorTexture=red, metallicRoughnessTexture=rough,
                                                   baseColorFactor=[255, 255, 255, 255], metallicFactor=1.0,
                                                   roughnessFactor=1.0)
    mesh.visual = trimesh.visual.TextureVisuals(uv=uv, material=material)
    mesh.export(tmp_path / "red.glb")
    config = scene_from_dict({"objects": {"count": 1, "assets": [{"path": str(tmp_path / "red.glb")}]},
                              "table": {"enabled": False}})
    catalog = AssetCatalog(config)
    from renderer.sampling.frame import sample_frame

    drawn = sample_frame(config, catalog, seed=0, index=0).objects[0]
    assert drawn.material.use_asset_material
    obj = dataclasses.replace(drawn, object_to_world=as_matrix(np.eye(4)))
    L = 0.5
    linear, inside = covered(path_renderer, frame(camera((0.6, -0.5, 0.5)), (obj,),
                                                  environment=EnvironmentDescription("uniform", intensity=L)))
    assert inside.sum() > 150
    albedo = ((np.array([200, 30, 30]) / 255 + 0.055) / 1.055) ** 2.4
    mean = linear[inside].mean(axis=0)
    # A rough dielectric: diffuse albedo * L plus a few per cent of specular (Fresnel 0.04 at normal incidence).
    assert np.all(mean >= albedo * L * 0.95) and np.all(mean <= albedo * L * 1.15 + 0.02)


def test_checkerboard_corners_land_where_K_projects_them_in_both_engines() -> None:
    """Corners of a checker-textured plane (the procedural box's face spans the texture once: 8 squares
    of 125 mm), refined to sub-pixel saddle points in each engine's image, sit at K's projection; and the
    two engines' images agree pixel by pixel (a texture flipped in one engine would swap the squares)."""
    import cv2

    from renderer.scene.description import TextureDescription

    w, h = 160, 120
    K = np.array([[150.0, 0, 77.3], [0, 150.0, 61.8], [0, 0, 1]])
    eye = np.array([0.05, -0.35, 0.9])
    cam = CameraDescription(w, h, as_matrix(K), as_matrix(look_at_world_to_camera(eye, np.array([0.01, 0.0, 0.0]))),
                            near=0.01, far=10.0)
    checker = TextureDescription("checker", seed=0, size=256)
    pose = np.eye(4)
    pose[2, 3] = -0.01
    plane = ObjectDescription(1, "plane", "plane", 1, MeshSource("box", extents=(1.0, 1.0, 0.02)), 1.0,
                              as_matrix(pose), MaterialDescription((1.0, 1.0, 1.0, 1.0), 0.0, 1.0, checker,
                                                                    kind="diffuse"))
    description = FrameDescription(0, 0, cam, (plane,), (), 0.0, BackgroundDescription("solid", ((0.0, 0.0, 0.0),)),
                                   environment=EnvironmentDescription("uniform", intensity=0.5))
    step = 1.0 / 8
    xs = np.arange(-0.5 + step, 0.5 - step / 2, step)
    corners = np.array([[x, y, 0.0] for x in xs for y in xs])
    w2c = np.asarray(cam.world_to_camera)
    p = corners @ w2c[:3, :3].T + w2c[:3, 3]
    uv = (p @ K.T)[:, :2] / p[:, 2:3]
    predicted = uv[(uv[:, 0] > 6) & (uv[:, 0] < w - 7) & (uv[:, 1] > 6) & (uv[:, 1] < h - 7)].astype(np.float32)
    assert len(predicted) > 20
    images = {}
    for engine in ("raster", "path"):
        with FrameRenderer(w, h, RenderConfig(engine=engine, samples=256, denoise=False)) as renderer:
            images[engine] = renderer.render(description, EMPTY).rgb
        grey = images[engine].mean(axis=2).astype(np.float32)
        refined = cv2.cornerSubPix(grey, predicted.reshape(-1, 1, 2).copy(), (3, 3), (-1, -1),
                                   (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 50, 1e-4)).reshape(-1, 2)
        error = np.linalg.norm(refined - predicted, axis=1)
        assert np.median(error) < 0.1 and error.max() < 0.3, engine  # a half-pixel slip: 0.5 to 0.7
    difference = np.abs(images["raster"].astype(int) - images["path"].astype(int)).max(axis=2)
    assert np.median(difference) <= 3 and np.mean(difference > 40) < 0.01
