"""The config package's contracts: parsing is pure (no disk, the files checked apart, relative to the scene
file), checks across sections run for a config built in code, short forms are a hook of their section
that the generic parser and ``--set`` both use, and importing the config loads no channel code."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from renderer.config import parse
from renderer.config.appearance import LightsConfig
from renderer.config.camera import CameraConfig, IntrinsicsConfig
from renderer.config.distributions import constant
from renderer.config.schema import (
    LENS_MODELS,
    ConfigError,
    RenderConfig,
    SceneConfig,
    apply_override,
    check_scene_files,
    load_scene,
    scene_from_dict,
)
from renderer.scene import description

ROOT = Path(__file__).resolve().parent.parent


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport sys\nprint(' '.join(sys.modules))"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_importing_the_config_loads_no_channel_code() -> None:
    modules = _modules_after("import renderer.config")
    assert not {m for m in modules if m.startswith("renderer.channels") or m.split(".")[0] in ("cv2", "scipy")}


def test_parsing_a_scene_imports_no_cv2_or_scipy() -> None:
    modules = _modules_after("import renderer.config\nrenderer.config.load_scene('scenes/tabletop.yaml')")
    assert not {m for m in modules if m.split(".")[0] in ("cv2", "scipy")}


def test_parsing_looks_at_no_file_and_loading_checks_them_beside_the_scene_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = {"objects": {"count": 1, "assets": [{"path": "meshes/*.obj"}]},
            "background": {"kind": "images", "images": "backgrounds"}}
    monkeypatch.chdir(tmp_path)
    config = scene_from_dict(data, source=str(tmp_path / "scenes" / "x.yaml"))  # nothing there: still valid
    with pytest.raises(ConfigError, match=r"x.yaml: objects.assets\[0\].path: 'meshes/\*.obj' matches no mesh"):
        check_scene_files(config)
    scenes = tmp_path / "scenes"
    (scenes / "meshes").mkdir(parents=True)
    (scenes / "meshes" / "cone.obj").write_text((ROOT / "assets" / "meshes" / "cone.obj").read_text())
    (scenes / "x.yaml").write_text("objects: {count: 1, assets: [{path: meshes/*.obj}]}\n"
                                   "background: {kind: images, images: backgrounds}\n")
    with pytest.raises(ConfigError, match=r"x.yaml: background.images: 'backgrounds' holds no image files"):
        load_scene("scenes/x.yaml")  # the mesh is found beside the scene file, not in the working directory


def test_checks_across_sections_run_for_a_config_built_in_code() -> None:
    with pytest.raises(ValueError, match=r"^lights.count: the raster engine renders at most 4"):
        SceneConfig(lights=LightsConfig(count=constant(5, integer=True)))
    path = RenderConfig(engine="path")
    assert SceneConfig(lights=LightsConfig(count=constant(5, integer=True)), render=path).lights.count.max == 5
    with pytest.raises(ValueError, match=r"^camera.intrinsics: the path engine needs square pixels"):
        SceneConfig(render=path, camera=CameraConfig(intrinsics=IntrinsicsConfig(500.0, 400.0, 320.0, 240.0)))
    with pytest.raises(ConfigError, match=r"^s.yaml: lights.count: the raster engine"):
        scene_from_dict({"lights": {"count": 5}}, source="s.yaml")


@dataclasses.dataclass(frozen=True)
class _Pair:
    a: float = 0.0
    b: float = 0.0

    @classmethod
    def from_short_form(cls, value: Any) -> Any:
        if isinstance(value, int | float):
            return {"a": value, "b": value}
        return value


@dataclasses.dataclass(frozen=True)
class _Root:
    pair: _Pair = _Pair()
    pairs: tuple[_Pair, ...] = ()


def test_a_short_form_is_a_hook_of_its_section_in_parsing_and_in_set() -> None:
    assert parse.parse(_Root, {"pair": 2, "pairs": [3, {"a": 1}]}) == _Root(_Pair(2, 2), (_Pair(3, 3), _Pair(1, 0)))
    with pytest.raises(parse.KeyPathError, match=r"pairs\[0\]: expected a mapping, got a string"):
        parse.parse(_Root, {"pairs": ["x"]})
    data = parse.apply_override({"pairs": [4]}, "pairs[0].b=5", _Root)
    assert parse.parse(_Root, data) == _Root(pairs=(_Pair(4, 5),))
    # background: [r, g, b] is BackgroundConfig's short form, spelled out before a key of it is set.
    config = scene_from_dict(apply_override({"objects": {"count": 0}, "background": [0.0, 0.0, 0.5]},
                                            "background.value=0.25"))
    assert config.background.value.params == (0.25,) and config.background.saturation.params == (1.0,)
    with pytest.raises(ConfigError, match=r"^<memory>: background: colour channels must lie in \[0, 1\]$"):
        apply_override({"background": [0.0, 0.0, 2.0]}, "background.value=0.25")


def test_lens_models_are_defined_once() -> None:
    from renderer.scene import camera

    assert LENS_MODELS is camera.LENS_MODELS and not hasattr(description, "LENS_MODELS")


def test_a_config_made_in_code_is_checked_on_disk_before_anything_is_written(tmp_path: Path) -> None:
    from renderer.pipeline.run import generate

    config = scene_from_dict({"image": {"width": 32, "height": 24}, "objects": {"count": 1, "assets": [
        {"path": str(tmp_path / "nowhere" / "*.obj")}]}})
    with pytest.raises(ConfigError, match=r"objects.assets\[0\].path: .* matches no mesh file"):
        generate(config, tmp_path / "out", frames=1, seed=0)
    assert not (tmp_path / "out").exists()
