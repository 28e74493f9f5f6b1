"""How far each engine's image is from a converged path-traced reference, against its time per frame.

For frames of a scene: a reference at --reference-spp samples (path engine, no denoising, its own
seed, so its noise is independent of the images measured), then the raster engine and the path engine
at 16 and 64 samples with and without denoising. Error: RMSE of the final 8-bit RGB (same background
and display transform for all) in levels, and relative MSE of the path engine's linear radiance
(mean of (x - ref)^2 / (ref^2 + 0.01) over covered pixels).

    .venv/bin/python scripts/realism.py [--scene scenes/tabletop.yaml] [--frames 2] [--reference-spp 1024]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from renderer.assets.catalog import AssetCatalog
from renderer.config.schema import RenderConfig, load_scene
from renderer.render.frame import FrameRenderer, finish_rgb
from renderer.sampling.frame import sample_frame

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_SEED = 2**31 - 2  # not a value render_seed draws for these frames (checked below)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scene", type=Path, default=ROOT / "scenes" / "tabletop.yaml")
    parser.add_argument("--frames", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reference-spp", type=int, default=1024)
    args = parser.parse_args()
    config = load_scene(args.scene)
    catalog = AssetCatalog(config)
    frames = [sample_frame(config, catalog, seed=args.seed, index=i) for i in range(args.frames)]
    w, h = config.image.width, config.image.height

    references = []
    reference_settings = RenderConfig(engine="path", samples=args.reference_spp, denoise=False)
    with FrameRenderer(w, h, reference_settings) as renderer:
        from renderer.render.engines.path import render_seed

        assert all(render_seed(f) != REFERENCE_SEED for f in frames)
        start = time.perf_counter()
        for frame in frames:
            image = renderer.engine.render_seeded(frame, catalog, REFERENCE_SEED)  # type: ignore[attr-defined]
            references.append((finish_rgb(frame, image).astype(np.float64), image.linear))
        reference_seconds = (time.perf_counter() - start) / len(frames)

    rows = [("raster", RenderConfig())] + [
        (f"path {spp} spp{' denoised' if denoise else ''}", RenderConfig(engine="path", samples=spp, denoise=denoise))
        for spp in (16, 64) for denoise in (False, True)]
    print(f"scene {args.scene.name}, {w}x{h}, {len(frames)} frames; reference {args.reference_spp} spp "
          f"({reference_seconds:.1f} s/frame)")
    print("| image | s/frame | RMSE (8-bit levels) | relMSE (linear) |")
    print("| --- | --- | --- | --- |")
    for name, settings in rows:
        with FrameRenderer(w, h, settings) as renderer:
            renderer.engine.render(frames[0], catalog)  # warm-up (shaders, JIT kernels)
            errors, rel, seconds = [], [], 0.0
            for frame, (ref_rgb, ref_linear) in zip(frames, references, strict=True):
                start = time.perf_counter()
                image = renderer.engine.render(frame, catalog)
                rgb = finish_rgb(frame, image)
                seconds += time.perf_counter() - start
                errors.append(float(np.sqrt(np.mean((rgb.astype(np.float64) - ref_rgb) ** 2))))
                if image.linear is not None and ref_linear is not None:
                    covered = image.rgba[..., 3] > 0
                    d = (image.linear - ref_linear)[covered].astype(np.float64)
                    rel.append(float(np.mean(d**2 / (ref_linear[covered].astype(np.float64) ** 2 + 0.01))))
        rel_text = f"{np.mean(rel):.4f}" if rel else "-"
        print(f"| {name} | {seconds / len(frames):.2f} | {np.mean(errors):.2f} | {rel_text} |")


if __name__ == "__main__":
    main()
