"""The command line as a user runs it: summary, exit codes, one-line errors, nothing half-written."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from renderer import cli
from renderer.io.dataset import Dataset

ROOT = Path(__file__).resolve().parent.parent
SMALL_SCENE = """
image: {width: 96, height: 72}
objects:
  count: [2, 4]
  assets:
    - path: %s
"""


def small_scene(tmp_path: Path, assets: str = str(ROOT / "assets" / "meshes" / "*.obj")) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL_SCENE % assets)
    return path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "renderer", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


def tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_generate_prints_summary_and_writes_dataset(tmp_path: Path) -> None:
    result = run("generate", str(small_scene(tmp_path)), "--out", str(tmp_path / "out"), "--frames", "3",
                 "--seed", "0")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wrote 3 frames to ") and "frames/s" in lines[0]
    ds = Dataset(tmp_path / "out")
    assert len(ds) == 3
    frame = ds[2]
    assert frame.rgb.shape == (72, 96, 3) and frame.rgb.dtype == np.uint8
    assert frame.depth.dtype == np.float32 and frame.normals.shape == (72, 96, 3)
    assert frame.instance.dtype == np.uint16 and frame.K.shape == (3, 3)
    assert set(np.unique(frame.instance)) <= {o.instance_id for o in frame.objects} | {0}
    assert ds.header.frames == 3 and ds.header.runs[0].frames_written == 3


def test_rgb_looks_like_a_lit_scene(tmp_path: Path) -> None:
    assert run("generate", str(small_scene(tmp_path)), "--out", str(tmp_path / "o"), "--frames", "1").returncode == 0
    frame = Dataset(tmp_path / "o")[0]
    rgb = frame.rgb.astype(float)
    background = rgb[frame.instance == 0]
    expected = np.array([0.55, 0.6, 0.65]) * 255
    # background pixels away from objects carry the background colour
    assert np.median(np.abs(background - expected), axis=0).max() < 2
    table = rgb[frame.instance == 1]
    assert table.std() > 3, "the table is textured and lit, not flat"
    assert 20 < rgb.mean() < 235


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("objects:\n  count: [5, 2]\n", "objects.count: min 5 > max 2"),
        ("nonsense: 1\n", "nonsense: unknown key"),
        ("camera: [\n", "malformed YAML"),
    ],
)
def test_config_errors_exit_2_with_one_line_and_write_nothing(tmp_path: Path, text: str, message: str) -> None:
    scene = tmp_path / "bad.yaml"
    scene.write_text(text)
    result = run("generate", str(scene), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "mesh has no faces"),
        (b"v 0 0 0\nv 1 0 0\nv nan 1 0\nf 1 2 3\n", "non-finite"),
        (b"ply\nformat binary_little_endian 1.0\nelement vertex 100\nproperty float x\n"
         b"property float y\nproperty float z\nelement face 10\nproperty list uchar int vertex_indices\n"
         b"end_header\n\x00\x00", "cannot read mesh"),
    ],
)
def test_corrupt_meshes_exit_2(tmp_path: Path, content: bytes, message: str) -> None:
    mesh = tmp_path / ("bad.ply" if content.startswith(b"ply") else "bad.obj")
    mesh.write_bytes(content)
    result = run("generate", str(small_scene(tmp_path, str(mesh))), "--out", str(tmp_path / "out"))
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and str(mesh) in result.stderr and result.stderr.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_output_that_is_not_writable_or_holds_other_data(tmp_path: Path) -> None:
    scene = small_scene(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run("generate", str(scene), "--out", str(blocker / "out"))
    assert result.returncode == 2 and "cannot write output" in result.stderr

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    result = run("generate", str(scene), "--out", str(foreign))
    assert result.returncode == 2 and "not empty" in result.stderr
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]

    out = tmp_path / "out"
    assert run("generate", str(scene), "--out", str(out), "--frames", "1", "--seed", "1").returncode == 0
    before = tree_digest(out)
    result = run("generate", str(scene), "--out", str(out), "--frames", "2", "--seed", "2")
    assert result.returncode == 2 and "different dataset (seed differs)" in result.stderr
    assert tree_digest(out) == before


def test_resume_and_single_frame_equal_an_uninterrupted_run(tmp_path: Path) -> None:
    scene = small_scene(tmp_path)
    full, part = tmp_path / "full", tmp_path / "part"
    assert run("generate", str(scene), "--out", str(full), "--frames", "4", "--seed", "9").returncode == 0
    assert run("generate", str(scene), "--out", str(part), "--frames", "2", "--seed", "9").returncode == 0
    # Frame 1 alone, in a new process: drop it and let the next run make only it (and 2, 3).
    for folder in ("rgb", "depth", "normals", "instance", "semantic", "meta"):
        for path in (part / folder).glob("000001.*"):
            path.unlink()
    result = run("generate", str(scene), "--out", str(part), "--frames", "4", "--seed", "9")
    assert result.returncode == 0 and "wrote 3 frames (1 already there)" in result.stdout
    a, b = tree_digest(full), tree_digest(part)
    a.pop("dataset.json")
    b.pop("dataset.json")
    assert a == b, "every file of every frame is byte-for-byte equal"


def test_full_disk_keeps_finished_frames_and_leaves_no_partial_files(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    real_replace = os.replace
    calls = {"n": 0}

    def replace(src: str, dst: str) -> None:
        calls["n"] += 1
        if "000001" in str(dst):
            raise OSError(errno.ENOSPC, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    out = tmp_path / "out"
    code = cli.main(["generate", str(small_scene(tmp_path)), "--out", str(out), "--frames", "3"])
    assert code == 2
    err = capsys.readouterr().err
    assert "no space left on device" in err and err.count("\n") == 1
    assert Dataset(out).indices == [0]
    leftovers = [p for p in out.rglob("*") if p.name.endswith(".tmp") or "000001" in p.name]
    assert leftovers == []


def test_interrupted_run_leaves_only_complete_frames(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "renderer", "generate", str(small_scene(tmp_path)), "--out",
                             str(out), "--frames", "400"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    meta = out / "meta"
    for _ in range(600):
        if meta.is_dir() and len(list(meta.glob("*.json"))) >= 3:
            break
        subprocess.run(["sleep", "0.05"])
    proc.kill()  # like kill -9
    proc.wait()
    ds = Dataset(out)
    assert len(ds) >= 3
    for i in range(len(ds)):
        frame = ds[i]
        assert frame.rgb.shape == (72, 96, 3) and frame.depth.shape == (72, 96)
    assert not [p for p in out.rglob("*") if p.name.endswith(".npz") and
                not (meta / f"{p.stem}.json").exists() and p.stat().st_size == 0]
    result = run("generate", str(small_scene(tmp_path)), "--out", str(out), "--frames", str(len(ds) + 1))
    assert result.returncode == 0 and "wrote 1 frames" in result.stdout
    shutil.rmtree(out)


def test_missing_gl_platform_is_one_line_naming_the_package(tmp_path: Path) -> None:
    env = dict(os.environ, PYOPENGL_PLATFORM="osmesa")  # not installed on these machines
    result = subprocess.run([sys.executable, "-m", "renderer", "generate", str(small_scene(tmp_path)), "--out",
                             str(tmp_path / "out"), "--frames", "1"], capture_output=True, text=True, cwd=ROOT,
                            env=env, timeout=300)
    if result.returncode == 0:
        pytest.skip("OSMesa is installed here")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "could not create an offscreen OpenGL context through osmesa" in result.stderr
    assert "libosmesa6" in result.stderr
    assert not (tmp_path / "out").exists()
