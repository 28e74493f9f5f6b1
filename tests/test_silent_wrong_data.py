"""No silent wrong data: changed inputs on resume, lights the raster engine would drop, values out of
any usable range, non-finite JSON, bad textures, duplicate keys. Each is refused with one line."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from renderer.assets.catalog import AssetCatalog
from renderer.config.schema import ConfigError, load_scene, scene_from_dict
from renderer.io.format import OutputError, atomic_write_json
from renderer.render.gl.gl_platform import BackendError

ROOT = Path(__file__).resolve().parent.parent
MESHES = ROOT / "assets" / "meshes"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "renderer", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


def scene_with(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "scene.yaml"
    path.write_text("image: {width: 64, height: 48}\n" + body)
    return path


def test_resume_after_an_input_changed_is_refused_naming_the_file(tmp_path: Path) -> None:
    assets = tmp_path / "assets"
    assets.mkdir()
    for name in ("mug.obj", "mug.landmarks.json", "can.obj"):
        shutil.copy(MESHES / name, assets / name)
    scene = scene_with(tmp_path, "objects: {count: [2, 3], assets: [{path: assets/*.obj}]}\n")
    out = tmp_path / "out"
    assert run("generate", str(scene), "--out", str(out), "--frames", "1").returncode == 0
    header = json.loads((out / "dataset.json").read_text())
    assert {"assets/mug.obj", "assets/mug.landmarks.json", "assets/can.obj"} <= set(header["inputs"])
    before = sorted(p.name for p in (out / "meta").iterdir())

    for edit, what in ((lambda: (assets / "mug.obj").write_text((MESHES / "mug.obj").read_text() + "v 0 0 9\n"),
                        "assets/mug.obj (contents changed)"),
                       (lambda: (assets / "mug.landmarks.json").write_text('{"landmarks": {"a": [0, 0, 0]}}'),
                        "assets/mug.landmarks.json (contents changed)")):
        edit()
        result = run("generate", str(scene), "--out", str(out), "--frames", "3")
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1 and what in result.stderr, result.stderr
        assert sorted(p.name for p in (out / "meta").iterdir()) == before  # nothing written
        shutil.copy(MESHES / "mug.obj", assets / "mug.obj")
        shutil.copy(MESHES / "mug.landmarks.json", assets / "mug.landmarks.json")
    assert run("generate", str(scene), "--out", str(out), "--frames", "2").returncode == 0  # restored: resumes


def test_raster_scenes_that_could_draw_lights_pyrender_drops_are_refused(tmp_path: Path) -> None:
    base = {"objects": {"count": 0}}
    with pytest.raises(ConfigError, match=r"lights.count: the raster engine renders at most 4 lights"):
        scene_from_dict({**base, "lights": {"count": 8, "type": "point"}}, str(tmp_path / "s.yaml"))
    with pytest.raises(ConfigError, match=r"can draw 5 \(with the sky's sun\)"):
        scene_from_dict({**base, "lights": {"count": 4}, "environment": {"kind": "sky"}}, str(tmp_path / "s.yaml"))
    # The path engine has no slots: the same lights are fine there.
    scene_from_dict({**base, "lights": {"count": 8, "type": "point"}, "render": {"engine": "path"}})


def test_raster_engine_refuses_a_description_with_too_many_lights_of_one_type() -> None:
    from renderer.render.frame import FrameRenderer
    from renderer.sampling.frame import sample_frame

    config = scene_from_dict({"image": {"width": 32, "height": 24}, "objects": {"count": 0},
                              "lights": {"count": 8, "type": "point"}, "render": {"engine": "path"}})
    catalog = AssetCatalog(config)
    frame = sample_frame(config, catalog, seed=0, index=0)
    assert len(frame.lights) == 8
    with FrameRenderer(32, 24) as renderer, pytest.raises(BackendError, match="8 point lights"):
        renderer.render(frame, catalog)


@pytest.mark.parametrize(("override", "message"), [
    ("table.size=[1.0e+300, 1]", "table: size and thickness must lie in"),
    ("camera.near=1.0e-300", "camera: near"),
    ("camera.far=1.0e+300", "camera: near"),
    ("camera.distance=1.0e+300", "camera.distance"),
    ("objects.assets[0].scale=1.0e+300", "objects.assets[0].scale"),
    ("objects.count=1000000", "objects.count"),
    ("lights.intensity=1.0e+300", "lights.intensity"),
    ("objects.physics.settle_seconds=1.0e+9", "settle_seconds"),
    ("camera.intrinsics={fx: 1.0e+300, fy: 1, cx: 0, cy: 0}", "camera.intrinsics"),
])
def test_values_outside_any_usable_range_are_refused(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_scene(ROOT / "scenes" / "tabletop.yaml", [override])


def test_depth_range_ratio_is_bounded() -> None:
    with pytest.raises(ConfigError, match="far / near"):
        load_scene(ROOT / "scenes" / "tabletop.yaml", ["camera.near=0.0001", "camera.far=100000"])


def test_json_is_strict(tmp_path: Path) -> None:
    for bad in (math.nan, math.inf, [1.0, -math.inf]):
        with pytest.raises(OutputError, match="non-finite"):
            atomic_write_json(tmp_path / "x.json", {"value": bad})
    assert not list(tmp_path.iterdir())  # nothing left behind


def _textured_obj(folder: Path, texture: bytes | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "thing.obj").write_text("mtllib thing.mtl\nv 0 0 0\nv 0.1 0 0\nv 0 0.1 0\nv 0 0 0.1\n"
                                      "vt 0 0\nvt 1 0\nvt 0 1\nvt 1 1\nusemtl skin\n"
                                      "f 1/1 3/3 2/2\nf 1/1 2/2 4/4\nf 1/1 4/4 3/3\nf 2/2 3/3 4/4\n")
    (folder / "thing.mtl").write_text("newmtl skin\nKd 1 1 1\nmap_Kd -s 1 1 1 skin.png\n")
    if texture is not None:
        (folder / "skin.png").write_bytes(texture)
    return folder / "thing.obj"


@pytest.mark.parametrize(("texture", "message"), [(None, "names skin.png, which is missing"),
                                                  (b"\x89PNG\r\n\x1a\n broken", "unreadable texture image")])
def test_a_missing_or_corrupt_mesh_texture_is_a_bad_asset(tmp_path: Path, texture: bytes | None,
                                                          message: str) -> None:
    obj = _textured_obj(tmp_path / "assets", texture)
    scene = scene_with(tmp_path, f"objects: {{count: 2, assets: [{{path: {obj}}}, {{path: {MESHES / 'can.obj'}}}]}}\n")
    result = run("generate", str(scene), "--out", str(tmp_path / "out"), "--frames", "1")
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()
    skipped = run("generate", str(scene), "--out", str(tmp_path / "out"), "--frames", "1", "--skip-bad-assets")
    assert skipped.returncode == 0 and "skipping asset" in skipped.stderr and message in skipped.stderr
    assert json.loads((tmp_path / "out" / "dataset.json").read_text())["skipped_assets"] == ["thing"]


def test_a_good_texture_passes(tmp_path: Path) -> None:
    import cv2

    ok, png = cv2.imencode(".png", np.zeros((4, 4, 3), np.uint8))
    obj = _textured_obj(tmp_path / "assets", png.tobytes())
    config = scene_from_dict({"objects": {"count": 1, "assets": [{"path": str(obj)}]}})
    assert AssetCatalog(config).find_bad_assets() == {}


@pytest.mark.parametrize(("text", "where"), [
    ("objects:\n  count: 3\n  count: 5\n", "objects.count: duplicate key (line 3)"),
    ("lights: {count: 1}\nlights: {count: 2}\n", "lights: duplicate key (line 2)"),
    ("objects:\n  assets:\n    - {path: a.obj, scale: 1, scale: 2}\n", "objects.assets[0].scale: duplicate key"),
])
def test_duplicate_keys_are_refused_with_their_key_path(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=where.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")
                       .replace(")", r"\)")):
        load_scene(path)
