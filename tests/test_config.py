"""Scene file -> config: valid files load; every kind of bad value is one line naming the key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from renderer.config.schema import ConfigError, load_scene, scene_from_dict, scene_to_dict

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_scene_loads() -> None:
    config = load_scene(ROOT / "scenes" / "tabletop.yaml")
    assert config.image.width == 640 and config.objects.count.min == 5 and config.objects.count.max == 20
    assert scene_from_dict(scene_to_dict(config), source=config.source) == config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "x.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("objects:\n  count: [5, 2]\n", "objects.count: min 5 > max 2"),
        ("camera:\n  fov: 60\n", "camera.fov: unknown key"),
        ("camera:\n  fov_deg: [10, 190]\n", "camera.fov_deg: draws from [10, 190], outside [0.001, 180)"),
        ("camera:\n  fov_deg: {normal: [60, 10]}\n", "camera.fov_deg: draws from [-inf, inf], outside [0.001, 180) "
         "(clip the normal)"),
        ("camera:\n  distance: fast\n", "camera.distance: expected a number or a distribution, got the string"),
        ("image:\n  width: 12.5\n", "image.width: expected an integer, got a number"),
        ("image:\n  width: 2\n", "image.width: 2 is outside [8, 8192]"),
        ("objects:\n  count: [-1, 3]\n", "objects.count: draws from [-1, 3], outside [0, 500]"),
        ("objects:\n  count: {gauss: [3, 1]}\n", "objects.count: unknown distribution 'gauss'"),
        ("objects:\n  count: {normal: [3, 1]}\n", "objects.count: normal draws real numbers"),
        ("lights:\n  type: {choice: [point, laser]}\n", "lights.type: 'laser' is not one of"),
        ("lights:\n  intensity: {loguniform: [0, 3]}\n", "lights.intensity: loguniform: low 0 must be > 0"),
        ("sensor:\n  jpeg_quality: [50, 120]\n", "sensor.jpeg_quality: draws from [50, 120], outside [0, 100]"),
        ("materials:\n  metallic: {choice: [0, 1], weights: [1]}\n", "materials.metallic: weights: expected a list"),
        ("camera:\n  roll_deg: {normal: [0, 5], clip: [20, 30]}\n", "camera.roll_deg: normal: clip [20, 30] holds"),
        ("lights: [1, 2]\n", "lights: expected a mapping, got a list"),
        ("table:\n  texture: marble\n", "table.texture: 'marble' is not one of"),
        ("objects:\n  assets:\n    - path: nowhere/*.obj\n",
         "objects.assets[0].path: 'nowhere/*.obj' matches no mesh file"),
        ("objects:\n  assets:\n    - {path: ../x.obj, colour: red}\n", "objects.assets[0].colour: unknown key"),
        ("objects:\n  assets:\n    - {category: mug}\n", "objects.assets[0].path: required key is missing"),
        ("camera: {near: 2, far: 1}\n", "camera: near 2 and far 1 must satisfy 0.0001 <= near < far"),
        ("camera:\n  fov_deg: [50\n", "malformed YAML at line"),
        ("- 1\n- 2\n", "the scene file must be a mapping"),
    ],
)
def test_bad_values_name_the_key_path(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_scene(path)
    line = str(info.value)
    assert line.startswith(f"{path}: ")
    assert message in line
    assert "\n" not in line


def test_missing_scene_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read scene file"):
        load_scene(tmp_path / "absent.yaml")


def test_asset_paths_are_relative_to_the_scene_file(tmp_path: Path) -> None:
    (tmp_path / "meshes").mkdir()
    (tmp_path / "meshes" / "thing.obj").write_text((ROOT / "assets/meshes/cone.obj").read_text())
    path = write(tmp_path, "objects:\n  assets:\n    - path: meshes\n")
    config = load_scene(path)
    assert config.objects.assets[0].path == "meshes"


@pytest.mark.parametrize("scene", sorted(p.name for p in (ROOT / "scenes").glob("*.yaml")))
def test_every_shipped_scene_loads_round_trips_and_samples(scene: str) -> None:
    from renderer.assets.catalog import AssetCatalog
    from renderer.sampling.frame import sample_frame

    config = load_scene(ROOT / "scenes" / scene)
    assert scene_from_dict(scene_to_dict(config), source=config.source) == config
    if config.objects.placement != "physics":  # settling is covered by the physics tests
        frame = sample_frame(config, AssetCatalog(config), seed=0, index=0)
        assert frame.objects or not config.objects.count.max
