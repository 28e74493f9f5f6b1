"""Parallel and distributed runs make the same dataset; crashes and bad assets are handled."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from renderer.config.schema import scene_from_dict
from renderer.io.dataset import Dataset
from renderer.pipeline.run import generate

ROOT = Path(__file__).resolve().parent.parent
MESHES = ROOT / "assets" / "meshes"


def small_config(tmp_path: Path, assets: str = str(MESHES / "*.obj")):
    return scene_from_dict({"image": {"width": 96, "height": 72},
                            "objects": {"count": [2, 5], "assets": [{"path": assets}]}},
                           source=str(tmp_path / "scene.yaml"))


def digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.name != "dataset.json"}


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("one")
    generate(small_config(tmp), tmp / "ds", frames=10, seed=11)
    return tmp / "ds"


def test_two_local_workers_write_the_same_bytes(tmp_path: Path, one_worker: Path) -> None:
    summary = generate(small_config(tmp_path), tmp_path / "ds", frames=10, seed=11, workers=2)
    assert summary.frames_written == 10
    assert digests(tmp_path / "ds") == digests(one_worker)
    assert json.loads((tmp_path / "ds" / "dataset.json").read_text())["runs"][0]["workers"] == 2


def test_ray_backend_on_a_local_instance_writes_the_same_bytes(tmp_path: Path, one_worker: Path) -> None:
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        summary = generate(small_config(tmp_path), tmp_path / "ds", frames=10, seed=11, executor="ray")
    finally:
        ray.shutdown()
    assert summary.frames_written == 10
    assert digests(tmp_path / "ds") == digests(one_worker)


def _spawned_workers(parent: int) -> list[int]:
    children = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True).stdout.split()
    workers = []
    for pid in children:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmdline:
            workers.append(int(pid))
    return workers


def test_a_worker_killed_mid_run_is_one_error_line_and_resumable(tmp_path: Path, one_worker: Path) -> None:
    scene = tmp_path / "scene.yaml"
    scene.write_text(f"image: {{width: 96, height: 72}}\nobjects:\n  count: [2, 5]\n  assets:\n"
                     f"    - path: {MESHES / '*.obj'}\n")
    out = tmp_path / "ds"
    args = [sys.executable, "-m", "renderer", "generate", str(scene), "--out", str(out), "--seed", "11",
            "--workers", "2"]
    proc = subprocess.Popen([*args, "--frames", "2000"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(list((out / "meta").glob("*.json")) if (out / "meta").is_dir() else []) < 8:
        time.sleep(0.1)
    workers = _spawned_workers(proc.pid)
    assert workers, "the run should have worker processes"
    os.kill(workers[0], signal.SIGKILL)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert stderr.count("\n") == 1 and "worker process stopped unexpectedly" in stderr
    assert "Traceback" not in stderr
    ds = Dataset(out)
    for i in range(len(ds)):  # every frame that is visible is complete
        assert ds[i].depth.shape == (72, 96) and ds[i].rgb.shape == (72, 96, 3)
    # Resuming up to 10 frames gives exactly the uninterrupted run's first 10 frames.
    # Frames from 10 on go, and so do the finished files of frames a stopped worker was writing (no
    # meta file: invisible by design, overwritten by whichever run makes that frame).
    for path in out.glob("*/[0-9][0-9][0-9][0-9][0-9][0-9].*"):
        if int(path.name[:6]) >= 10:
            path.unlink()
    result = subprocess.run([*args, "--frames", "10", "--resume"], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert digests(out) == digests(one_worker)


def test_one_bad_asset_among_many(tmp_path: Path) -> None:
    folder = tmp_path / "meshes"
    folder.mkdir()
    for name in ("cone", "can"):
        (folder / f"{name}.obj").write_text((MESHES / f"{name}.obj").read_text())
    (folder / "broken.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\n")  # vertices, zero faces
    config = small_config(tmp_path, str(folder))
    scene = tmp_path / "scene.yaml"
    scene.write_text(f"image: {{width: 96, height: 72}}\nobjects:\n  assets:\n    - path: {folder}\n")
    base = [sys.executable, "-m", "renderer", "generate", str(scene), "--frames", "2"]
    refused = subprocess.run([*base, "--out", str(tmp_path / "a")], cwd=ROOT, capture_output=True, text=True)
    assert refused.returncode == 2 and "broken.obj: mesh has no faces" in refused.stderr
    assert not (tmp_path / "a").exists()
    skipped = subprocess.run([*base, "--out", str(tmp_path / "b"), "--skip-bad-assets"], cwd=ROOT,
                             capture_output=True, text=True)
    assert skipped.returncode == 0, skipped.stderr
    assert skipped.stderr.startswith("renderer: warning: skipping asset:") and "broken.obj" in skipped.stderr
    ds = Dataset(tmp_path / "b")
    assert ds.header.skipped_assets == ("broken",)
    assert {o.category for i in range(len(ds)) for o in ds[i].objects} <= {"cone", "can", "table"}
    assert config.objects.assets  # the scene itself is unchanged


def test_resume_refuses_another_scene_and_needs_a_dataset(tmp_path: Path) -> None:
    scene = tmp_path / "scene.yaml"
    scene.write_text(f"image: {{width: 96, height: 72}}\nobjects:\n  assets:\n    - path: {MESHES / 'cone.obj'}\n")
    out = tmp_path / "ds"
    run = [sys.executable, "-m", "renderer", "generate", str(scene), "--out", str(out), "--frames", "1"]
    missing = subprocess.run([*run, "--resume"], cwd=ROOT, capture_output=True, text=True)
    assert missing.returncode == 2 and "holds no dataset to resume" in missing.stderr
    assert subprocess.run(run, cwd=ROOT, capture_output=True, text=True).returncode == 0
    scene.write_text(scene.read_text() + "table: {size: [0.5, 0.5]}\n")
    changed = subprocess.run([*run, "--resume"], cwd=ROOT, capture_output=True, text=True)
    assert changed.returncode == 2 and "different dataset (scene differs)" in changed.stderr
