"""Label and image statistics of datasets side by side: what changed when one randomizer changed?

    .venv/bin/python scripts/compare_datasets.py out/fixed_light out/random_light [--json stats.json]

Per dataset: per-frame mean brightness (mean over frames, spread across frames), per-frame brightness
contrast (std of luma within the frame), objects per frame, the visible-fraction histogram of objects
(10 bins), the share of landmarks visible / occluded / outside, and visible instances per category
(seen, not marked ignore). Everything comes from the written
files (rgb/, meta/), so any two datasets can be compared. docs/experiments.md uses it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from renderer.io.dataset import Dataset

LUMA = np.array([0.299, 0.587, 0.114])
BINS = np.linspace(0.0, 1.0, 11)


def dataset_statistics(root: Path) -> dict[str, Any]:
    ds = Dataset(root)
    brightness, contrast, objects, fractions = [], [], [], []
    per_category: dict[str, int] = {}
    landmarks = np.zeros(3, dtype=np.int64)  # visible, occluded, outside
    for i in range(len(ds)):
        frame = ds[i]
        luma = frame.rgb.astype(np.float64) @ LUMA
        brightness.append(luma.mean())
        contrast.append(luma.std())
        objects.append(len(frame.objects))
        for obj in frame.objects:
            if obj.unoccluded_pixels > 0:
                fractions.append(obj.visible_fraction)
            if obj.visible_pixels > 0 and not obj.ignore:
                per_category[obj.category] = per_category.get(obj.category, 0) + 1
            lm = obj.landmarks
            landmarks += [int(lm.visible.sum()), int((lm.in_frame & ~lm.visible).sum()), int((~lm.in_frame).sum())]
    histogram, _ = np.histogram(fractions, bins=BINS)
    return {
        "frames": len(ds),
        "brightness_mean": float(np.mean(brightness)),
        "brightness_spread": float(np.std(brightness)),
        "contrast_mean": float(np.mean(contrast)),
        "objects_per_frame": float(np.mean(objects)),
        "visible_fraction_mean": float(np.mean(fractions)) if fractions else 0.0,
        "visible_fraction_histogram": (histogram / max(histogram.sum(), 1)).round(3).tolist(),
        "landmarks_visible_occluded_outside": (landmarks / max(landmarks.sum(), 1)).round(3).tolist(),
        "visible_instances_per_category": dict(sorted(per_category.items())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("datasets", nargs="+", type=Path)
    parser.add_argument("--json", type=Path, default=None, help="also write the statistics here")
    args = parser.parse_args()
    stats = {str(root): dataset_statistics(root) for root in args.datasets}
    names = list(stats)
    width = max(len(n) for n in names) + 2
    keys = ["frames", "brightness_mean", "brightness_spread", "contrast_mean", "objects_per_frame",
            "visible_fraction_mean"]
    print("statistic".ljust(24) + "".join(n.rjust(width) for n in names))
    for key in keys:
        print(key.ljust(24) + "".join(f"{stats[n][key]:.3f}".rjust(width) for n in names))
    for key in ("visible_fraction_histogram", "landmarks_visible_occluded_outside", "visible_instances_per_category"):
        print(key)
        for n in names:
            print(f"  {n}: {stats[n][key]}")
    if args.json is not None:
        args.json.write_text(json.dumps(stats, indent=1))


if __name__ == "__main__":
    main()
