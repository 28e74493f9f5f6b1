"""Scene file -> config: valid files load; every kind of bad value is one line naming the key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from renderer.config import ConfigError, load_scene, scene_from_dict, scene_to_dict

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
        ("camera:\n  fov_deg: [10, 190]\n", "camera.fov_deg: [10, 190] is outside (0, 180)"),
        ("camera:\n  distance: fast\n", "camera.distance: expected a number or [min, max], got a string"),
        ("image:\n  width: 12.5\n", "image.width: expected an integer, got a number"),
        ("image:\n  width: 2\n", "image.width: 2 is outside [8, 8192]"),
        ("objects:\n  count: [-1, 3]\n", "objects.count: min -1 must be >= 0"),
        ("lights: [1, 2]\n", "lights: expected a mapping, got a list"),
        ("table:\n  texture: marble\n", "table.texture: 'marble' is not one of"),
        ("objects:\n  assets:\n    - path: nowhere/*.obj\n",
         "objects.assets[0].path: 'nowhere/*.obj' matches no mesh file"),
        ("objects:\n  assets:\n    - {path: ../x.obj, colour: red}\n", "objects.assets[0].colour: unknown key"),
        ("objects:\n  assets:\n    - {category: mug}\n", "objects.assets[0].path: required key is missing"),
        ("camera: {near: 2, far: 1}\n", "camera: near 2 and far 1 must satisfy 0 < near < far"),
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
