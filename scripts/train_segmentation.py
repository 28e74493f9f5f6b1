"""Train a tiny semantic-segmentation network on frames rendered on the fly (docs/pytorch.md).

    .venv/bin/python scripts/train_segmentation.py --frames 16 --steps 100

A few convolutions predict each pixel's category from the RGB image; the frames are rendered inside
two DataLoader workers by renderer.torch.GeneratedDataset. CPU only, a minute or so.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader

from renderer.assets.catalog import AssetCatalog
from renderer.config.schema import ImageConfig, load_scene
from renderer.torch import GeneratedDataset, collate

ROOT = Path(__file__).resolve().parent.parent


def tiny_segmenter(classes: int) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=2, dilation=2), nn.ReLU(),
        nn.Conv2d(32, 32, 3, padding=4, dilation=4), nn.ReLU(),
        nn.Conv2d(32, classes, 1),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scene", type=Path, default=ROOT / "scenes" / "tabletop.yaml")
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--size", default="160x120", help="image WIDTHxHEIGHT")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    torch.manual_seed(0)

    width, height = (int(x) for x in args.size.split("x"))
    config = dataclasses.replace(load_scene(args.scene), image=ImageConfig(width, height))
    data = GeneratedDataset(config, seed=0, length=args.frames, fields=["image", "semantic"])
    loader = DataLoader(data, batch_size=4, shuffle=True, num_workers=args.workers, collate_fn=collate,
                        multiprocessing_context="spawn" if args.workers else None, persistent_workers=args.workers > 0)
    classes = 1 + len(AssetCatalog(config).categories)  # ids 1 .. N, 0 = background
    model = tiny_segmenter(classes)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)

    step = 0
    while step < args.steps:
        for batch in loader:
            logits = model(batch["image"])
            loss = nn.functional.cross_entropy(logits, batch["semantic"])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            if step % 10 == 0 or step == args.steps - 1:
                print(f"step {step:4d} loss {loss.item():.4f}", flush=True)
            step += 1
            if step == args.steps:
                break


if __name__ == "__main__":
    main()
