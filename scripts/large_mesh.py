"""Peak memory of a one-frame run whose scene holds one large mesh (a photogrammetry-sized scan), against
the same run with a small mesh: what the large mesh costs, as a multiple of its own in-memory arrays.

The mesh is an icosphere of 1.31 M faces (subdivision 8), written as binary PLY or OBJ; each run is a
fresh ``renderer generate`` process (one frame, 320x240) and its peak resident set comes from the
kernel (``ru_maxrss`` of that child, from wait4). mesh arrays = vertices (float64) + faces (int64), as trimesh holds
them.

    .venv/bin/python scripts/large_mesh.py [--subdivisions 8] [--format ply|obj]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def peak_of_run(scene: Path, out: Path) -> tuple[float, float]:
    """(peak resident MiB, seconds) of one renderer generate process (its own rusage, from wait4)."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "renderer", "generate", str(scene), "--out", str(out),
                                "--frames", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"renderer generate failed on {scene}")
    return usage.ru_maxrss / 1024, time.perf_counter() - start


def scene_file(folder: Path, mesh_path: Path, name: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(f"""image: {{width: 320, height: 240}}
objects:
  count: 1
  assets:
    - path: {mesh_path}
      scale: 1.0
""")
    return path


def make_meshes(folder: Path, subdivisions: int, file_format: str) -> None:
    """Write small.FORMAT and large.FORMAT, and the large mesh's face count and array bytes (run in a
    child process: a measured child's peak also counts what its parent held when it was forked)."""
    import json

    import trimesh

    small = trimesh.creation.icosphere(subdivisions=2, radius=0.1)
    large = trimesh.creation.icosphere(subdivisions=subdivisions, radius=0.1)
    for name, mesh in (("small", small), ("large", large)):
        mesh.export(folder / f"{name}.{file_format}")
    (folder / "large.json").write_text(json.dumps({"faces": len(large.faces),
                                                   "arrays": large.vertices.nbytes + large.faces.nbytes}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subdivisions", type=int, default=8)
    parser.add_argument("--format", choices=("ply", "obj"), default="ply")
    parser.add_argument("--make", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make is not None:
        make_meshes(args.make, args.subdivisions, args.format)
        return
    folder = Path(tempfile.mkdtemp(prefix="large-mesh-"))
    try:
        measure(folder, args)
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # the meshes are hundreds of MB


def measure(folder: Path, args: argparse.Namespace) -> None:
    import json

    subprocess.run([sys.executable, __file__, "--make", str(folder), "--subdivisions", str(args.subdivisions),
                    "--format", args.format], check=True)
    facts = json.loads((folder / "large.json").read_text())
    arrays = facts["arrays"]
    small_peak, small_s = peak_of_run(scene_file(folder, folder / f"small.{args.format}", "small"), folder / "s")
    large_peak, large_s = peak_of_run(scene_file(folder, folder / f"large.{args.format}", "large"), folder / "l")
    size = os.path.getsize(folder / f"large.{args.format}")
    print(f"large mesh: {facts['faces']:,} faces, {size / 2**20:.0f} MiB {args.format.upper()}, arrays "
          f"{arrays / 2**20:.0f} MiB")
    print(f"peak resident: small mesh {small_peak:.0f} MiB ({small_s:.1f} s), large mesh {large_peak:.0f} MiB "
          f"({large_s:.1f} s)")
    print(f"what the large mesh costs: {large_peak - small_peak:.0f} MiB = "
          f"{(large_peak - small_peak) * 2**20 / arrays:.1f} x its arrays")


if __name__ == "__main__":
    main()
