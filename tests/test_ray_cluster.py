"""The Ray executor on a real two-node Ray cluster started by the test on this machine: two raylets
(``ray start --head`` and ``ray start --address``, each in its own processes), so tasks cross nodes;
output in one shared folder, byte-identical to one process. A node killed mid-run: the run finishes on
the other node or stops with one line, and a rerun completes it with nothing lost."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from renderer.config.schema import load_scene
from renderer.pipeline.run import generate

ROOT = Path(__file__).resolve().parent.parent
SIZE = ["--set", "image.width=96", "--set", "image.height=72"]
FRAMES = 150
RAY = Path(sys.executable).with_name("ray")
HEAD_PORT, NODE2_MANAGER_PORT = 6479, 6483


def _ray(args: list[str], env: dict[str, str]) -> None:
    result = subprocess.run([str(RAY), *args], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def _frame_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != "dataset.json"}


def _raylet_pids(port: int) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmdline and cmdline[0].endswith(b"raylet") and f"--node_manager_port={port}".encode() in cmdline:
            found.append(int(proc.name))
    return found


@pytest.fixture
def cluster():  # type: ignore[no-untyped-def]
    pytest.importorskip("ray")
    if not RAY.exists():
        pytest.skip("the ray command is not installed")
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # Ray's socket paths must stay short
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled",  # loopback only
           "LP_NUM_THREADS": "1"}
    try:
        _ray(["start", "--head", f"--port={HEAD_PORT}", "--num-cpus=1", "--include-dashboard=false",
              f"--temp-dir={temp}", "--node-manager-port=6481", "--object-manager-port=6482"], env)
        _ray(["start", f"--address=127.0.0.1:{HEAD_PORT}", "--num-cpus=1", f"--node-manager-port={NODE2_MANAGER_PORT}",
              "--object-manager-port=6484"], env)
        yield env
    finally:
        subprocess.run([str(RAY), "stop", "--force"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(temp, ignore_errors=True)


def test_two_node_cluster_writes_the_same_bytes_and_survives_a_lost_node(cluster: dict[str, str],
                                                                           tmp_path: Path) -> None:
    env = cluster
    scene = str(ROOT / "scenes" / "tabletop.yaml")
    reference = tmp_path / "one_process"
    generate(load_scene(scene, [s for s in SIZE if s != "--set"]), reference, frames=FRAMES, seed=5)
    expected = _frame_files(reference)

    command = [sys.executable, "-m", "renderer", "generate", scene, *SIZE, "--frames", str(FRAMES), "--seed", "5",
               "--executor", "ray", "--address", f"127.0.0.1:{HEAD_PORT}"]
    both = tmp_path / "both_nodes"
    done = subprocess.run([*command, "--out", str(both)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    import json

    assert json.loads((both / "dataset.json").read_text())["runs"][-1]["ray_nodes"] == 2  # tasks crossed raylets
    assert _frame_files(both) == expected

    # Kill the second node (its raylet, like a machine lost) once some frames are written.
    cut = tmp_path / "node_lost"
    run = subprocess.Popen([*command, "--out", str(cut)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((cut / "meta").glob("*.json"))) < 20:
        time.sleep(0.1)
    pids = _raylet_pids(NODE2_MANAGER_PORT)
    assert pids, "the second node's raylet was not found"
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    _, err = run.communicate(timeout=300)
    assert run.returncode in (0, 2), err[-2000:]
    if run.returncode == 2:
        assert err.count("\n") == 1 and "run the same command again" in err, err
    rerun = subprocess.run([*command, "--out", str(cut)], env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert _frame_files(cut) == expected
