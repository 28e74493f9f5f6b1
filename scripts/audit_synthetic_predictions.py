"""COCO results made from a dataset's own ground truth with a chosen recall per Monk tone band: a stand-in
for a detector, to try ``renderer audit`` end to end (docs/experiments.md). Not a trained model.

    .venv/bin/python scripts/audit_synthetic_predictions.py out/audit out/audit/results.json \
        --recall-light 0.95 --recall-dark 0.70 --seed 1

Each person (visible, not ignored) is detected with probability --recall-light (Monk tones 1 to
--dark-from - 1) or --recall-dark (tones --dark-from to 10): its box jittered by up to 0.3 px, a score
in [0.5, 1]; a missed person gets a box scored under 0.5. Every other visible object is left out.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from renderer.io.dataset import Dataset


def synthetic_predictions(root: Path, recall_light: float, recall_dark: float, dark_from: int,
                          rng: np.random.Generator) -> list[dict[str, object]]:
    """The results list (image id = frame index, as the COCO export numbers images)."""
    dataset = Dataset(root)
    results: list[dict[str, object]] = []
    for i in range(len(dataset)):
        frame = dataset[i]
        for obj in frame.objects:
            if obj.person is None or obj.visible_pixels == 0 or obj.ignore:
                continue
            recall = recall_dark if obj.person.monk_tone >= dark_from else recall_light
            x, y, w, h = (float(v) for v in obj.bbox)
            if rng.random() < recall:
                dx, dy = rng.uniform(-0.3, 0.3, 2)
                box, score = [x + dx, y + dy, w, h], float(rng.uniform(0.5, 1.0))
            else:
                box, score = [x, y, w, h], float(rng.uniform(0.05, 0.45))
            results.append({"image_id": frame.index, "category_id": obj.category_id, "bbox": box, "score": score})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset")
    parser.add_argument("output")
    parser.add_argument("--recall-light", type=float, default=0.95)
    parser.add_argument("--recall-dark", type=float, default=0.70)
    parser.add_argument("--dark-from", type=int, default=7)
    parser.add_argument("--seed", type=int, required=True)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    results = synthetic_predictions(Path(args.dataset), args.recall_light, args.recall_dark, args.dark_from, rng)
    Path(args.output).write_text(json.dumps(results))
    print(f"{len(results)} predictions: {args.output}")


if __name__ == "__main__":
    main()
