"""Resident memory of one worker over many frames: is anything (GL objects, meshes) leaking?

Renders and labels the default scene frame after frame (labels derived, nothing written, so the disk
is not the limit) and prints the process's resident set size every --every frames.

    .venv/bin/python scripts/memory.py [--frames 1000] [--every 100]
"""

from __future__ import annotations

import argparse
import resource
from pathlib import Path

from renderer.config.schema import load_scene
from renderer.labels.objects import frame_labels
from renderer.pipeline.run import load_catalog
from renderer.render.frame import FrameRenderer
from renderer.sampling.frame import sample_frame

ROOT = Path(__file__).resolve().parent.parent


def rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scene", type=Path, default=ROOT / "scenes" / "tabletop.yaml")
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--every", type=int, default=100)
    args = parser.parse_args()
    config = load_scene(args.scene)
    catalog = load_catalog(config)
    readings = []
    with FrameRenderer(config.image.width, config.image.height) as backend:
        for index in range(args.frames):
            frame = sample_frame(config, catalog, seed=0, index=index)
            frame_labels(frame, backend.render(frame, catalog), catalog)
            if (index + 1) % args.every == 0:
                readings.append(rss_mib())
                print(f"frame {index + 1:5d}: RSS {readings[-1]:7.1f} MiB", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.1f} MiB; RSS grew {readings[-1] - readings[0]:+.1f} MiB between frame "
          f"{args.every} and frame {args.frames}")


if __name__ == "__main__":
    main()
