"""Frames/s of the default scene: bare pyrender vs the full pipeline, measured in one run.

(a) bare pyrender: for each frame description, build the pyrender scene and render RGB + depth once;
    nothing labelled, nothing written.
(b) full pipeline, one worker: sample, render RGB, the label pass, derive every label, write the frame.
Both run over the same frames (same seed), each after a warm-up pass over those frames (shader
compilation, procedural textures, mesh caches), alternating in rounds so that drift hits both.

    .venv/bin/python scripts/bench.py [--frames 30] [--rounds 2] [--scene scenes/tabletop.yaml]
"""

from __future__ import annotations

import argparse
import platform
import shutil
import tempfile
import time
from pathlib import Path

from renderer.assets import AssetCatalog
from renderer.backends.pyrender_backend import PyrenderBackend
from renderer.config import load_scene
from renderer.pipeline import generate
from renderer.sampling import sample_frame

ROOT = Path(__file__).resolve().parent.parent


def bare_pyrender(scene: Path, frames: int, seed: int) -> float:
    config = load_scene(scene)
    catalog = AssetCatalog(config)
    descriptions = [sample_frame(config, catalog, seed=seed, index=i) for i in range(frames)]
    with PyrenderBackend(config.image.width, config.image.height) as backend:
        for description in descriptions:  # warm-up: shaders, textures, mesh caches
            backend.render_pyrender_rgb_depth(description, catalog)
        start = time.perf_counter()
        for description in descriptions:
            backend.render_pyrender_rgb_depth(description, catalog)
        return frames / (time.perf_counter() - start)


def full_pipeline(scene: Path, frames: int, seed: int) -> float:
    config = load_scene(scene)
    out = Path(tempfile.mkdtemp(prefix="bench-"))
    try:
        with PyrenderBackend(config.image.width, config.image.height) as backend:
            generate(config, out / "warm", frames=frames, seed=seed, backend=backend)  # as in (a)
            summary = generate(config, out / "ds", frames=frames, seed=seed, backend=backend)
        return summary.frames_per_second
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scene", type=Path, default=ROOT / "scenes" / "tabletop.yaml")
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    bare, full = [], []
    for _ in range(args.rounds):
        bare.append(bare_pyrender(args.scene, args.frames, args.seed))
        full.append(full_pipeline(args.scene, args.frames, args.seed))
    with PyrenderBackend(8, 8):
        from OpenGL import GL  # imported only once the backend has chosen the GL platform

        gl_renderer = GL.glGetString(GL.GL_RENDERER).decode()
    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}; GL: {gl_renderer}")
    print(f"scene: {args.scene.name}, {args.frames} frames x {args.rounds} rounds")
    print(f"(a) bare pyrender RGB+depth:     {sum(bare) / len(bare):7.2f} frames/s  {[round(b, 2) for b in bare]}")
    print(f"(b) full pipeline, one worker:   {sum(full) / len(full):7.2f} frames/s  {[round(f, 2) for f in full]}")
    print(f"full/bare ratio: {sum(full) / sum(bare):.2f}")


if __name__ == "__main__":
    main()
