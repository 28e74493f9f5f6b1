"""Domain randomization: distributions, overrides, placement (meshes, not boxes), physics, replay."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.spatial
import scipy.stats
import trimesh

from renderer.assets.catalog import AssetCatalog
from renderer.config.distributions import parse_distribution
from renderer.config.schema import ConfigError, load_scene
from renderer.io.dataset import Dataset
from renderer.pipeline.run import generate
from renderer.render.sensor import apply_sensor
from renderer.sampling.frame import sample_frame
from renderer.scene.color import color_from_temperature
from renderer.scene.description import SensorDescription

ROOT = Path(__file__).resolve().parent.parent
SCENES = ROOT / "scenes"
N = 40_000


def draws(spec: object, integer: bool = False, words: bool = False) -> np.ndarray:
    dist = parse_distribution(spec, integer=integer, allow_words=words)
    rng = np.random.default_rng(1234)
    return np.array([dist.sample(rng) for _ in range(N)])


def test_uniform_and_randint() -> None:
    x = draws([2.0, 5.0])
    assert x.min() >= 2.0 and x.max() <= 5.0
    assert abs(x.mean() - 3.5) < 4 * np.sqrt(0.75 / N)  # var of U(2, 5) = 9 / 12
    assert abs(x.std() - np.sqrt(0.75)) < 0.01
    k = draws({"randint": [3, 7]}, integer=True)
    assert set(np.unique(k)) == {3, 4, 5, 6, 7}  # both ends included
    assert scipy.stats.chisquare(np.bincount(k)[3:]).pvalue > 1e-3
    assert set(np.unique(draws([0, 2], integer=True))) == {0, 1, 2}


def test_normal_plain_and_clipped() -> None:
    x = draws({"normal": [1.5, 0.4]})
    assert abs(x.mean() - 1.5) < 4 * 0.4 / np.sqrt(N) and abs(x.std() - 0.4) < 0.01
    c = draws({"normal": [0.0, 1.0], "clip": [-0.5, 2.0]})
    assert c.min() >= -0.5 and c.max() <= 2.0
    reference = scipy.stats.truncnorm(-0.5, 2.0)  # the normal restricted to the interval
    assert abs(c.mean() - reference.mean()) < 4 * reference.std() / np.sqrt(N)
    assert abs(c.std() - reference.std()) < 0.01
    assert scipy.stats.kstest(c, reference.cdf).pvalue > 1e-3


def test_loguniform() -> None:
    x = draws({"loguniform": [0.01, 10.0]})
    assert x.min() >= 0.01 and x.max() <= 10.0
    logs = np.log(x)  # uniform in log space
    assert scipy.stats.kstest(logs, scipy.stats.uniform(np.log(0.01), np.log(1000.0)).cdf).pvalue > 1e-3


def test_choice_with_and_without_weights() -> None:
    x = draws({"choice": [0.5, 1.0, 2.0], "weights": [1, 2, 7]})
    counts = np.array([(x == v).sum() for v in (0.5, 1.0, 2.0)])
    assert counts.sum() == N
    assert scipy.stats.chisquare(counts, N * np.array([0.1, 0.2, 0.7])).pvalue > 1e-3
    w = draws({"choice": ["point", "spot"]}, words=True)
    assert abs((w == "spot").mean() - 0.5) < 4 * 0.5 / np.sqrt(N)


def test_constants_draw_nothing_and_forms_round_trip() -> None:
    rng = np.random.default_rng(5)
    state = rng.bit_generator.state
    assert parse_distribution(3.0).sample(rng) == 3.0
    assert rng.bit_generator.state == state
    for spec in ([1.0, 2.0], {"normal": [0.0, 1.0], "clip": [-1.0, 1.0]}, {"loguniform": [0.1, 1.0]},
                 {"choice": [1.0, 2.0], "weights": [0.25, 0.75]}, 4.0):
        dist = parse_distribution(spec)
        assert parse_distribution(dist.to_plain()) == dist


def test_set_overrides_any_value(tmp_path: Path) -> None:
    config = load_scene(SCENES / "tabletop.yaml", ["camera.fov_deg=60", "lights.count=1",
                                                     "objects.assets[0].scale={normal: [1, 0.1], clip: [0.5, 2]}",
                                                     "lights.type={choice: [point, spot]}"])
    assert config.camera.fov_deg.is_constant and config.camera.fov_deg.min == 60.0
    assert config.lights.count.min == config.lights.count.max == 1
    assert config.objects.assets[0].scale.kind == "normal"
    with pytest.raises(ConfigError, match=r"camera\.fov_deg: draws from \[0, 0\]"):
        load_scene(SCENES / "tabletop.yaml", ["camera.fov_deg=0"])
    with pytest.raises(ConfigError, match=r"camera\.fov: unknown key"):
        load_scene(SCENES / "tabletop.yaml", ["camera.fov=60"])
    with pytest.raises(ConfigError, match=r"objects\.assets\[3\] does not exist"):
        load_scene(SCENES / "tabletop.yaml", ["objects.assets[3].scale=1"])


def test_sample_command_prints_descriptions_that_change_with_set() -> None:
    def sample(*extra: str) -> list[dict]:
        result = subprocess.run([sys.executable, "-m", "renderer", "sample", str(SCENES / "tabletop.yaml"),
                                 "--frames", "3", "--indent", "0", *extra], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return [json.loads(line) for line in result.stdout.splitlines()]

    plain, fixed = sample(), sample("--set", "lights.count=1", "--set", "camera.fov_deg=60")
    assert [d["index"] for d in plain] == [0, 1, 2]
    assert all(len(d["lights"]) == 1 for d in fixed)
    for d in fixed:  # fy = (H / 2) / tan(fov / 2)
        assert d["camera"]["K"][1][1] == pytest.approx(240 / np.tan(np.deg2rad(30)))


def _world_meshes(config, catalog, frame) -> dict[int, trimesh.Trimesh]:
    meshes = {}
    for k, obj in enumerate(frame.objects):
        mesh = catalog.mesh(obj.mesh).copy()
        mesh.apply_scale(obj.scale)
        mesh.apply_transform(np.asarray(obj.object_to_world))
        meshes[k] = mesh
    return meshes


def _supports(frame) -> set[int]:
    return {k for k, o in enumerate(frame.objects) if o.asset_id in ("table", "tray")}


@pytest.mark.parametrize("pose", ["upright", "stable"])
def test_surface_objects_rest_on_the_table_and_never_interpenetrate(pose: str) -> None:
    config = load_scene(SCENES / "tabletop.yaml", [f"objects.pose={pose}", "objects.count=[15, 20]",
                                                   "objects.min_gap=0.0"])
    catalog = AssetCatalog(config)
    for index in range(4):
        frame = sample_frame(config, catalog, seed=11, index=index)
        meshes = _world_meshes(config, catalog, frame)
        supports = _supports(frame)
        manager = trimesh.collision.CollisionManager()
        for k, mesh in meshes.items():
            if k in supports:
                continue
            manager.add_object(str(k), mesh)
            lowest = mesh.vertices[:, 2].min()
            assert -1e-9 <= lowest < 1e-3  # touches the table top z = 0 within 1 mm, never below
            # resting, not balancing: the centre of mass is above the area it stands on (the vertices
            # within 2 mm of the table; a ball's tessellated bottom gives a small patch)
            contact = mesh.vertices[mesh.vertices[:, 2] < lowest + 2e-3, :2]
            com = mesh.convex_hull.center_mass[:2]
            assert len(contact) >= 3, (frame.objects[k].asset_id, pose, "stands on a point or an edge")
            area = scipy.spatial.ConvexHull(contact)
            hull = scipy.spatial.Delaunay(contact[area.vertices])
            assert hull.find_simplex(com) >= 0, (frame.objects[k].asset_id, pose)
        assert not manager.in_collision_internal(), f"frame {index}: meshes interpenetrate"
        assert len(meshes) - len(supports) >= 10


def test_flying_objects_never_interpenetrate() -> None:
    config = load_scene(SCENES / "flying_objects.yaml")
    catalog = AssetCatalog(config)
    rotations = []
    with_distractors = 0
    for index in range(4):
        frame = sample_frame(config, catalog, seed=2, index=index)
        manager = trimesh.collision.CollisionManager()
        for k, mesh in _world_meshes(config, catalog, frame).items():
            manager.add_object(str(k), mesh)
        assert not manager.in_collision_internal()
        rotations += [np.asarray(o.object_to_world)[:3, 2] for o in frame.objects]
        with_distractors += any(not o.labelled for o in frame.objects)  # distractors, unlabelled
    assert with_distractors >= 3
    up = np.array(rotations)[:, 2]
    assert up.min() < -0.5 and up.max() > 0.5  # free rotations: some upside down, some upright


def test_physics_settles_objects_in_the_tray() -> None:
    pytest.importorskip("pybullet")
    config = load_scene(SCENES / "bin_picking.yaml", ["objects.count=10"])
    catalog = AssetCatalog(config)
    frame = sample_frame(config, catalog, seed=4, index=0)
    meshes = _world_meshes(config, catalog, frame)
    supports = _supports(frame)
    objects = [k for k in meshes if k not in supports]
    assert len(objects) >= 8
    support_manager = trimesh.collision.CollisionManager()
    for k in supports:
        support_manager.add_object(str(k), meshes[k])
    for k in objects:
        mesh = meshes[k]
        assert mesh.vertices[:, 2].min() > -2e-3, "below the support"
        others = trimesh.collision.CollisionManager()
        for j in objects:
            if j != k:
                others.add_object(str(j), meshes[j])
        gap = min(support_manager.min_distance_single(mesh), others.min_distance_single(mesh))
        assert gap < 3e-3, f"object {k} is flying ({gap * 1000:.1f} mm from anything)"
        # interpenetration (convex-hull collision shapes): no surface point deeper than 3 mm in another mesh
        points, _ = trimesh.sample.sample_surface(mesh, 400, seed=k)
        for j in objects + sorted(supports):
            if j == k or not meshes[j].is_watertight:
                continue
            depth = trimesh.proximity.signed_distance(meshes[j], points)  # > 0 inside
            assert depth.max() < 3e-3, f"objects {k} and {j} interpenetrate by {depth.max() * 1000:.1f} mm"


def test_frame_alone_equals_frame_of_a_long_run(tmp_path: Path) -> None:
    """Every label file of frame i made alone equals, byte for byte, frame i of a 50-frame run."""
    small = ["image.width=96", "image.height=72"]
    config = load_scene(SCENES / "flying_objects.yaml", small)
    generate(config, tmp_path / "long", frames=50, seed=9)
    for i in (0, 23, 49):
        generate(config, tmp_path / f"alone{i}", frames=1, start=i, seed=9)
        for folder, suffix in (("rgb", ".png"), ("depth", ".npz"), ("normals", ".npz"), ("instance", ".png"),
                               ("semantic", ".png"), ("meta", ".json")):
            name = f"{folder}/{i:06d}{suffix}"
            assert (tmp_path / f"alone{i}" / name).read_bytes() == (tmp_path / "long" / name).read_bytes(), name
    assert len(Dataset(tmp_path / "long")) == 50


def test_randomizers_reach_the_image(tmp_path: Path) -> None:
    """Backgrounds, lights and sensor effects change the RGB image and leave the labels alone."""
    base = load_scene(SCENES / "flying_objects.yaml", ["image.width=96", "image.height=72", "sensor={}",
                                                        "background.kind=images"])
    noisy = load_scene(SCENES / "flying_objects.yaml", ["image.width=96", "image.height=72", "sensor={}",
                                                         "background.kind=images", "sensor.noise_std=20",
                                                         "sensor.blur_sigma=1.0"])
    generate(base, tmp_path / "base", frames=2, seed=1)
    generate(noisy, tmp_path / "noisy", frames=2, seed=1)
    a, b = Dataset(tmp_path / "base")[0], Dataset(tmp_path / "noisy")[0]
    np.testing.assert_array_equal(a.instance, b.instance)
    np.testing.assert_array_equal(a.depth, b.depth)
    assert np.abs(a.rgb.astype(int) - b.rgb.astype(int)).mean() > 5
    background = a.rgb[a.instance == 0].reshape(-1, 3)
    assert background.std(axis=0).max() > 10  # an image, not a flat colour


def test_sensor_effects_are_what_they_say() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(40, 200, (64, 64, 3), dtype=np.uint8)
    assert apply_sensor(image, SensorDescription()) is image
    brighter = apply_sensor(image, SensorDescription(exposure_ev=1.0)).astype(int)
    np.testing.assert_allclose(brighter, np.minimum(2 * image.astype(int), 255), atol=1)
    noisy = apply_sensor(image, SensorDescription(noise_std=8.0, noise_seed=3)).astype(int) - image
    assert abs(noisy.std() - 8.0) < 0.5 and abs(noisy.mean()) < 0.3
    grey = apply_sensor(image, SensorDescription(saturation=-1.0)).astype(int)
    assert np.abs(grey - grey[..., :1]).max() <= 1
    blurred = apply_sensor(image, SensorDescription(blur_sigma=2.0)).astype(float)
    assert blurred.std() < 0.6 * image.astype(float).std()


def test_colour_temperature() -> None:
    warm, day, cool = (np.array(color_from_temperature(k)) for k in (2700, 6600, 10000))
    assert warm[0] == 1 and warm[2] < 0.6  # candle-ish: red
    assert np.all(day > 0.95)  # about white
    assert cool[2] == 1 and cool[0] < 0.85  # blue sky


def test_every_light_type_lights_the_scene(tmp_path: Path) -> None:
    for kind in ("directional", "point", "spot"):
        config = load_scene(SCENES / "tabletop.yaml", ["image.width=96", "image.height=72", "lights.count=1",
                                                       f"lights.type={kind}", "lights.ambient=0",
                                                       "lights.elevation_deg=80", "lights.spot_angle_deg=40"])
        generate(config, tmp_path / kind, frames=1, seed=0)
        frame = Dataset(tmp_path / kind)[0]
        table = frame.rgb[frame.instance == 1]
        assert table.mean() > 25, kind  # lit: with no ambient light, an unlit table is black


def test_bad_distribution_values_name_the_key(tmp_path: Path) -> None:
    cases = {
        "objects:\n  count: {randint: [4, 2]}\n": "objects.count: min 4 > max 2",
        "distractors:\n  count: -2\n": "distractors.count: draws from [-2, -2], outside [0, 500]",
        "background:\n  kind: images\n": "background.images: a folder of images is needed",
        "objects:\n  count: 0\nbackground:\n  kind: images\n  images: nowhere\n":
            "background.images: 'nowhere' holds no image files",
        "objects:\n  placement: levitate\n": "objects.placement: 'levitate' is not one of",
        "materials:\n  roughness: {uniform: [0.5, 1.5]}\n":
            "materials.roughness: draws from [0.5, 1.5], outside [0, 1]",
    }
    for text, message in cases.items():
        path = tmp_path / "x.yaml"
        path.write_text(text)
        with pytest.raises(ConfigError) as info:
            load_scene(path)
        assert message in str(info.value) and "\n" not in str(info.value), str(info.value)


FIXED_LIGHT = ["lights.count=1", "lights.intensity=3", "lights.elevation_deg=60", "lights.azimuth_deg=45",
               "lights.ambient=0.25", "lights.color_temperature_k=6500"]
RANDOM_LIGHT = ["lights.count=[1, 4]", "lights.type={choice: [directional, point, spot]}",
                "lights.intensity={loguniform: [1, 6]}", "lights.elevation_deg=[15, 90]", "lights.ambient=[0.05, 0.5]",
                "lights.color_temperature_k=[2700, 9000]"]


def test_changing_one_randomizer_leaves_the_other_draws_alone() -> None:
    fixed = load_scene(SCENES / "tabletop.yaml", FIXED_LIGHT)
    random = load_scene(SCENES / "tabletop.yaml", RANDOM_LIGHT)
    catalog = AssetCatalog(fixed)
    for index in range(5):
        a = sample_frame(fixed, catalog, seed=3, index=index)
        b = sample_frame(random, catalog, seed=3, index=index)
        assert a.objects == b.objects and a.camera == b.camera and a.background == b.background
        assert a.lights != b.lights


def test_experiment_script_sees_the_lighting_randomizer(tmp_path: Path) -> None:
    small = ["image.width=80", "image.height=60"]
    generate(load_scene(SCENES / "tabletop.yaml", small + FIXED_LIGHT), tmp_path / "fixed", frames=12, seed=0)
    generate(load_scene(SCENES / "tabletop.yaml", small + RANDOM_LIGHT), tmp_path / "random", frames=12, seed=0)
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "compare_datasets.py"), str(tmp_path / "fixed"),
                             str(tmp_path / "random"), "--json", str(tmp_path / "stats.json")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    stats = json.loads((tmp_path / "stats.json").read_text())
    fixed, random = stats[str(tmp_path / "fixed")], stats[str(tmp_path / "random")]
    assert random["brightness_spread"] > 1.5 * fixed["brightness_spread"]
    # same objects from the same cameras: the geometry statistics do not move
    assert fixed["objects_per_frame"] == random["objects_per_frame"]
    assert fixed["visible_fraction_histogram"] == random["visible_fraction_histogram"]


def test_intrinsics_backgrounds_and_image_textures(tmp_path: Path) -> None:
    size = ["image.width=96", "image.height=72"]
    config = load_scene(SCENES / "tabletop.yaml", size + ["camera.intrinsics={fx: 80, fy: 90, cx: 40.5, cy: 30}"])
    catalog = AssetCatalog(config)
    frame = sample_frame(config, catalog, seed=0, index=0)
    np.testing.assert_array_equal(np.asarray(frame.camera.K), [[80, 0, 40.5], [0, 90, 30], [0, 0, 1]])

    textured = load_scene(SCENES / "tabletop.yaml", size + [
        "materials.texture_probability=1", "materials.textures=image",
        "materials.texture_images=../assets/backgrounds", "background.kind=gradient",
        "background.value=[0.1, 0.9]"])
    frame = sample_frame(textured, AssetCatalog(textured), seed=0, index=0)
    assert all(o.material.texture.kind == "image" for o in frame.objects[1:])
    generate(textured, tmp_path / "g", frames=1, seed=0)
    rendered = Dataset(tmp_path / "g")[0]
    top, bottom = np.array(frame.background.colors) * 255
    column = rendered.rgb[:, :, :].astype(float)
    empty = rendered.depth == 0
    rows = np.nonzero(empty.any(axis=1))[0]
    assert len(rows) > 5
    first, last = rows[0], rows[-1]  # background rows run from the top colour towards the bottom one
    t = np.array([first, last]) / (rendered.depth.shape[0] - 1)
    expected = (1 - t)[:, None] * top + t[:, None] * bottom
    got = np.array([column[r][empty[r]].mean(axis=0) for r in (first, last)])
    np.testing.assert_allclose(got, expected, atol=2.0)

    texture_bg = load_scene(SCENES / "tabletop.yaml", size + ["background.kind=texture", "table.enabled=false",
                                                              "objects.count=0"])
    generate(texture_bg, tmp_path / "t", frames=1, seed=0)
    assert Dataset(tmp_path / "t")[0].rgb.reshape(-1, 3).std(axis=0).max() > 5  # a pattern, not a flat fill


def test_physics_without_pybullet_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    code = ("import sys; sys.modules['pybullet'] = None\n"  # as if the physics extra were not installed
            "from renderer.cli import main; sys.exit(main(sys.argv[1:]))")
    out = tmp_path / "bins"
    result = subprocess.run([sys.executable, "-c", code, "generate", str(SCENES / "bin_picking.yaml"),
                             "--out", str(out), "--frames", "1"], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "renderer: error: objects.placement: physics needs pybullet: pip install 'renderer[physics]'"]
    assert not out.exists()
