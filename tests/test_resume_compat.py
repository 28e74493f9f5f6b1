"""Resuming a dataset started by an older version: the scene is compared as this version reads it, so
keys a newer version added (with defaults) never block a resume, while a changed scene still does."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MESHES = ROOT / "assets" / "meshes"


def _run(scene: Path, out: Path, frames: int, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "renderer", "generate", str(scene), "--out", str(out), "--frames", str(frames)]
    return subprocess.run([*command, *extra], cwd=ROOT, capture_output=True, text=True)


def test_an_older_header_without_new_keys_resumes_to_the_same_frames(tmp_path: Path) -> None:
    scene = tmp_path / "scene.yaml"
    scene.write_text(f"image: {{width: 64, height: 48}}\nobjects:\n  assets:\n    - path: {MESHES / 'cone.obj'}\n")
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    assert _run(scene, whole, 2).returncode == 0
    assert _run(scene, resumed, 1).returncode == 0
    header_path = resumed / "dataset.json"
    header = json.loads(header_path.read_text())
    # What an older version wrote: sections and keys it did not have yet (their defaults are what it
    # did), and its own key order.
    for section in ("sequence", "environment"):
        header["scene"].pop(section)
    header["scene"]["camera"].pop("target_jitter")
    header["scene"] = dict(reversed(list(header["scene"].items())))
    header_path.write_text(json.dumps(header, indent=1))
    result = _run(scene, resumed, 2, "--resume")
    assert result.returncode == 0, result.stderr
    for name in ("000000", "000001"):
        assert (resumed / "rgb" / f"{name}.png").read_bytes() == (whole / "rgb" / f"{name}.png").read_bytes()
        assert (resumed / "instance" / f"{name}.png").read_bytes() == (whole / "instance" / f"{name}.png").read_bytes()


def test_a_header_with_an_unknown_or_changed_scene_is_refused(tmp_path: Path) -> None:
    scene = tmp_path / "scene.yaml"
    scene.write_text(f"image: {{width: 64, height: 48}}\nobjects:\n  assets:\n    - path: {MESHES / 'cone.obj'}\n")
    out = tmp_path / "ds"
    assert _run(scene, out, 1).returncode == 0
    header_path = out / "dataset.json"
    original = header_path.read_text()
    for change in ({"camera": {"near": 0.5}}, {"hologram": {"on": True}}):
        header = json.loads(original)
        for section, values in change.items():
            header["scene"].setdefault(section, {}).update(values)
        header_path.write_text(json.dumps(header, indent=1))
        result = _run(scene, out, 2, "--resume")
        assert result.returncode == 2 and "scene differs" in result.stderr, (change, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1


def test_resuming_from_another_folder_compares_relative_asset_paths_as_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    """The stored scene is compared as written, never resolved against the working directory: a scene
    whose assets are ``../assets/...`` (as every shipped scene's) resumes from any folder."""
    from renderer import cli

    (tmp_path / "assets").mkdir()
    shutil.copy(MESHES / "cone.obj", tmp_path / "assets" / "cone.obj")
    (tmp_path / "scenes").mkdir()
    (tmp_path / "scenes" / "scene.yaml").write_text(
        "image: {width: 64, height: 48}\nobjects:\n  count: 1\n  assets:\n    - path: ../assets/cone.obj\n")
    out = tmp_path / "ds"
    monkeypatch.chdir(tmp_path / "scenes")
    assert cli.main(["generate", "scene.yaml", "--out", str(out), "--frames", "1"]) == 0
    header_path = out / "dataset.json"
    original = json.loads(header_path.read_text())
    assert original["scene"]["objects"]["assets"][0]["path"] == "../assets/cone.obj"
    monkeypatch.chdir(tmp_path)  # where ../assets/cone.obj names nothing
    capfd.readouterr()

    older = json.loads(json.dumps(original))
    older["scene"]["camera"].pop("target_jitter")  # an older version's header: the same scene
    header_path.write_text(json.dumps(older, indent=1))
    assert cli.main(["generate", "scenes/scene.yaml", "--out", str(out), "--frames", "2", "--resume"]) == 0, \
        capfd.readouterr().err
    assert (out / "rgb" / "000001.png").is_file()

    changed = json.loads(json.dumps(original))
    changed["scene"]["camera"]["near"] = 0.5
    header_path.write_text(json.dumps(changed, indent=1))
    capfd.readouterr()
    assert cli.main(["generate", "scenes/scene.yaml", "--out", str(out), "--frames", "3", "--resume"]) == 2
    err = capfd.readouterr().err
    assert "scene differs" in err and "matches no mesh file" not in err and err.count("\n") == 1, err


def test_same_scene_never_resolves_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from renderer.config.schema import SceneConfig, scene_from_dict, scene_to_dict
    from renderer.io.writers import same_scene

    monkeypatch.chdir(tmp_path)  # an empty folder: no asset, image folder or map is found from here
    current = scene_to_dict(scene_from_dict({
        "objects": {"assets": [{"path": "../assets/meshes/*.obj"}]},
        "background": {"kind": "images", "images": "../backgrounds"},
        "environment": {"kind": "hdri", "images": "../maps"},
    }))
    written = json.loads(json.dumps(current))
    written["camera"].pop("target_jitter")
    assert same_scene(written, current)
    written["camera"]["near"] = 0.5
    assert not same_scene(written, current)
    assert isinstance(scene_from_dict(current), SceneConfig)
