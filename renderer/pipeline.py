"""Run the stages for a range of frames: sample -> render -> label -> write."""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from renderer.assets import AssetCatalog
from renderer.config import SceneConfig
from renderer.labels import frame_labels
from renderer.sampling import sample_frame
from renderer.writers import DatasetWriter

if TYPE_CHECKING:
    from renderer.backends.pyrender_backend import PyrenderBackend


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
             progress: Callable[[int, int], None] | None = None,
             backend: PyrenderBackend | None = None) -> GenerationSummary:
    """Write frames 0..frames-1 of (config, seed) to ``out``; frames already complete are kept.

    Encoding and writing frame i (PNG encoders and file I/O release the GIL) overlaps rendering frame
    i + 1 in one writer thread; at most two frames are held in memory. Pass ``backend`` to reuse a GL
    context (it must match the image size); otherwise one is made and closed here.
    """
    if frames < 0:
        raise ValueError(f"frames must be >= 0, got {frames}")

    catalog = AssetCatalog(config)
    for asset in catalog.assets:  # fail on a bad mesh before anything is written
        catalog.mesh(asset.source)
        catalog.landmarks(asset.source)
    own_backend = backend is None
    if backend is None:  # and on a missing GL context
        from renderer.backends.pyrender_backend import PyrenderBackend

        backend = PyrenderBackend(config.image.width, config.image.height)
    written = 0
    try:
        writer = DatasetWriter(out, config, seed, catalog)
        todo = [i for i in range(frames) if i not in writer.completed()]
        start = time.perf_counter()
        pending: deque[Future[None]] = deque()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="writer") as pool:
            try:
                for index in todo:
                    frame = sample_frame(config, catalog, seed=seed, index=index)
                    buffers = backend.render(frame, catalog)
                    labels = frame_labels(frame, buffers, catalog)
                    while len(pending) >= 2 or (pending and pending[0].done()):
                        pending.popleft().result()  # re-raises a write error here
                        written += 1
                        if progress is not None:
                            progress(written, len(todo))
                    pending.append(pool.submit(writer.write_frame, frame, buffers, labels))
                while pending:
                    pending.popleft().result()
                    written += 1
                    if progress is not None:
                        progress(written, len(todo))
            finally:
                for future in pending:  # after an error or Ctrl-C: drop frames not yet started
                    future.cancel()
    finally:
        if own_backend:
            backend.close()
    seconds = time.perf_counter() - start
    summary = GenerationSummary(Path(out), written, frames - len(todo), seconds)
    writer.finish({"frames_written": written, "seconds": round(seconds, 3),
                   "frames_per_second": round(summary.frames_per_second, 3)})
    return summary
