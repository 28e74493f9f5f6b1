"""Run the stages for a range of frames: sample -> render -> label -> write."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from renderer.assets import AssetCatalog
from renderer.config import SceneConfig
from renderer.labels import frame_labels
from renderer.sampling import sample_frame
from renderer.writers import DatasetWriter


@dataclass(frozen=True)
class GenerationSummary:
    out: Path
    frames_written: int
    frames_skipped: int
    seconds: float

    @property
    def frames_per_second(self) -> float:
        return self.frames_written / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        skipped = f" ({self.frames_skipped} already there)" if self.frames_skipped else ""
        return (f"wrote {self.frames_written} frames{skipped} to {self.out} in {self.seconds:.1f} s "
                f"({self.frames_per_second:.2f} frames/s)")


def generate(config: SceneConfig, out: str | os.PathLike[str], *, frames: int, seed: int,
             progress: Callable[[int, int], None] | None = None) -> GenerationSummary:
    """Write frames 0..frames-1 of (config, seed) to ``out``; frames already complete are kept."""
    if frames < 0:
        raise ValueError(f"frames must be >= 0, got {frames}")
    from renderer.backends.pyrender_backend import PyrenderBackend

    catalog = AssetCatalog(config)
    for asset in catalog.assets:  # fail on a bad mesh before anything is written
        catalog.mesh(asset.source)
        catalog.landmarks(asset.source)
    writer = DatasetWriter(out, config, seed, catalog)
    todo = [i for i in range(frames) if i not in writer.completed()]
    start = time.perf_counter()
    written = 0
    if todo:
        with PyrenderBackend(config.image.width, config.image.height) as backend:
            for index in todo:
                frame = sample_frame(config, catalog, seed=seed, index=index)
                buffers = backend.render(frame, catalog)
                writer.write_frame(frame, buffers, frame_labels(frame, buffers, catalog))
                written += 1
                if progress is not None:
                    progress(written, len(todo))
    seconds = time.perf_counter() - start
    summary = GenerationSummary(Path(out), written, frames - len(todo), seconds)
    writer.finish({"frames_written": written, "seconds": round(seconds, 3),
                   "frames_per_second": round(summary.frames_per_second, 3)})
    return summary
