"""Resuming a dataset started by an older version: the scene is compared as this version reads it, so
keys a newer version added (with defaults) never block a resume, while a changed scene still does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
