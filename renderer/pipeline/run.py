"""Run the stages over a dataset's frames: sample -> render -> label -> write.

Frames are independent (frame i draws only from streams seeded by (seed, i)) and written atomically, so any
split of the frame indices over workers gives the same files. Three ways to run them:

- in this process (``workers=1``), with a writer thread overlapping encoding and rendering;
- ``workers=N`` local processes (spawned, each with its own GL context), fed chunks of indices;
- ``executor="ray"``: shards of indices as Ray tasks, on a local Ray instance or a cluster whose
  workers share the output folder's filesystem (docs/scaling.md).
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from renderer.assets.catalog import AssetCatalog, AssetError
from renderer.channels import CHANNELS
from renderer.config.schema import SceneConfig, check_scene_files
from renderer.errors import RendererError, require_extra
from renderer.humans.cache import check_body_model_cache
from renderer.humans.catalog import scene_catalog
from renderer.io.records import RunRecord
from renderer.io.shards import DEFAULT_SHARD_SIZE
from renderer.io.writers import DatasetWriter, ShardPacking, dataset_header, prepare_dataset
from renderer.labels.constraints import ConstraintError, unmet_constraint
from renderer.labels.flow import start_motion_buffers, surface_attributes
from renderer.labels.objects import frame_labels
from renderer.render.gl.gl_platform import BackendError
from renderer.sampling.motion import describe_frame, neighbours, shutter_frames
from renderer.sampling.randomizers.supports import support_sources
from renderer.scene.buffers import RenderBuffers
from renderer.scene.description import FrameDescription
from renderer.scene.records import ObjectLabels

if TYPE_CHECKING:
    from renderer.render.frame import FrameRenderer

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
Written = Callable[[list[int]], None]  # told the indices of frames as they complete
CHUNK = 4  # frames per local task: small enough to balance, large enough to amortise the hand-off
IN_FLIGHT_PER_WORKER = 2  # local tasks queued per worker
RAY_SHARD = 25  # frames per Ray task
RAY_IN_FLIGHT = 256  # Ray tasks submitted at a time


class WorkerError(RendererError, RuntimeError):
    """A worker process died; frames already written are complete and a rerun resumes."""


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


def load_catalog(config: SceneConfig, skip_bad_assets: bool = False,
                 warn: Callable[[str], None] | None = None) -> AssetCatalog:
    """The scene's assets, every mesh loaded and checked.

    A bad mesh or landmark file raises AssetError, unless ``skip_bad_assets``: then each bad asset is
    reported through ``warn`` and left out (recorded in dataset.json as skipped_assets). What the scene
    names on disk is checked first (ConfigError naming the key), also for a config made in code, and for a
    scene with people the body model's cache (a damaged file removed to be rebuilt, else BodyModelCacheError).
    """
    check_scene_files(config)
    if config.people.count.max > 0:
        check_body_model_cache(warn or log.warning)
    catalog = scene_catalog(config)
    bad = catalog.find_bad_assets()
    if not bad:
        return catalog
    if not skip_bad_assets:
        raise AssetError(next(iter(bad.values())))
    for reason in bad.values():
        (warn or log.warning)(f"skipping asset: {reason}")
    catalog = scene_catalog(config, skip=frozenset(bad))
    if not catalog.assets and config.objects.count.max > 0:
        raise AssetError(f"{config.source}: no usable asset left after skipping {len(bad)} bad ones")
    for key, paths in catalog.images.items():
        if not paths:
            raise AssetError(f"{config.source}: {key}: no usable image left after skipping the bad ones")
    return catalog


def generate(config: SceneConfig, out: str | os.PathLike[str], *, frames: int, seed: int, start: int = 0,
             workers: int = 1, executor: Literal["local", "ray"] = "local", ray_address: str | None = None,
             skip_bad_assets: bool = False, progress: Progress | None = None,
             layout: Literal["files", "shards"] = "files", shard_size: int = DEFAULT_SHARD_SIZE,
             warn: Callable[[str], None] | None = None,
             renderer: FrameRenderer | None = None) -> GenerationSummary:
    """Write frames start .. start+frames-1 of (config, seed) to ``out``; frames already complete are kept.

    Everything that can fail on bad input (scene, meshes, GL context, output folder) is checked before
    the first file is written. ``renderer`` reuses an engine and GL context in this process (workers=1 only).
    ``layout="shards"``: frames packed into tar shards of ``shard_size`` (renderer.io.shards) as they complete.
    """
    if frames < 0 or start < 0:
        raise ValueError(f"frames and start must be >= 0, got {frames} and {start}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if executor == "ray":
        check_ray_address(ray_address)  # ray.init would retry an address that does not answer for minutes
    catalog = load_catalog(config, skip_bad_assets, warn)
    if config.objects.balance_visible:
        from renderer.pipeline.balance import planned_config

        config = planned_config(config, catalog, seed)  # category weights from pilot frames, before writing
    if config.objects.placement == "physics":
        from renderer.sampling.physics import require_pybullet

        require_pybullet()  # before anything is written
    own_renderer = renderer is None and executor == "local"
    if own_renderer:  # also proves a GL context and the engine can be made before anything is written
        renderer = _frame_renderer(config) if workers == 1 else _frame_renderer(config, probe=True)
    try:
        meshes = {a.asset_id: catalog.mesh(a.source) for a in catalog.all_assets}
        meshes.update({asset_id: catalog.mesh(source) for asset_id, source in support_sources(config).items()})
        prepare_dataset(out, dataset_header(config, seed, catalog, layout, shard_size), meshes)
        writer = DatasetWriter(out)
        done = writer.completed()
        on_written: Written | None = None
        run_facts: dict[str, Any] = {}  # what the executor learnt (e.g. how many Ray nodes worked)
        if writer.layout == "shards":
            packing = ShardPacking(writer, start, start + frames, done)
            packing.begin()
            on_written = packing.written
        # Lazily: a run of 10^9 frames holds no list of them (only the frames already on disk are a set).
        pending = frames - sum(1 for i in done if start <= i < start + frames)
        todo = Pending((i for i in range(start, start + frames) if i not in done), pending)
        began = time.perf_counter()
        if not pending:
            written = 0
        elif executor == "ray":
            written = _run_ray(config, out, seed, frozenset(catalog.skipped), todo, ray_address, progress, on_written,
                               run_facts)
        elif workers > 1:
            if own_renderer and renderer is not None:
                renderer.close()
            written = _run_processes(config, out, seed, frozenset(catalog.skipped), todo, workers, progress,
                                     on_written)
        else:
            assert renderer is not None
            written = render_frames(config, catalog, renderer, writer, seed, todo, progress, on_written)
        seconds = time.perf_counter() - began
    finally:
        if own_renderer and renderer is not None:
            renderer.close()
    summary = GenerationSummary(Path(out), written, frames - pending, seconds)
    writer.finish(RunRecord(frames_written=written, seconds=round(seconds, 3), workers=workers, executor=executor,
                            frames_per_second=round(summary.frames_per_second, 3), **run_facts))
    return summary


def _frame_renderer(config: SceneConfig, probe: bool = False) -> FrameRenderer:
    """The scene's engine and label pass (``probe``: a tiny one, to fail early in the main process)."""
    from renderer.render.frame import FrameRenderer, frame_renderer_for

    return FrameRenderer(8, 8, config.render) if probe else frame_renderer_for(config)


def make_frame(config: SceneConfig, catalog: AssetCatalog, renderer: FrameRenderer, seed: int,
               index: int) -> tuple[FrameDescription, RenderBuffers, list[ObjectLabels]]:
    """Frame ``index``: drawn, its labels made and checked against the scene's constraints (redrawn
    from fresh streams of its own while they fail: renderer.labels.constraints), then its RGB image."""
    constraints = config.constraints
    failed = ""
    for attempt in range(constraints.max_attempts):
        frame = describe_frame(config, catalog, seed=seed, index=index, attempt=attempt)
        label_buffers = renderer.labels.render(frame, catalog)
        surface = [c for c in config.outputs if CHANNELS[c].surface is not None]
        if surface:
            label_buffers = dataclasses.replace(
                label_buffers, attributes=surface_attributes(renderer.labels, frame, catalog, surface))
        motion = [c for c in config.outputs if CHANNELS[c].motion]
        finish_motion = None
        exposure = (config.sequence.shutter, config.sequence.rolling_shutter)
        blurred = max(exposure) > 0 and frame.sequence is not None
        if motion or blurred:
            before, after = neighbours(config, catalog, frame, seed=seed)
        if motion:  # made after the RGB image
            finish_motion = start_motion_buffers(renderer.labels, frame, before, after, label_buffers, catalog,
                                                 motion)
        labels = frame_labels(frame, label_buffers, catalog, constraints.min_visible_fraction)
        unmet = unmet_constraint(constraints, frame, label_buffers, labels)
        if unmet is None:
            shutter = shutter_frames(frame, before, after, exposure[0], config.sequence.blur_samples, exposure[1]) \
                if blurred else None
            rgb = renderer.render_rgb(frame, catalog, label_buffers.depth, shutter, exposure)
            if finish_motion is not None:
                label_buffers = dataclasses.replace(label_buffers, motion=finish_motion())
            return frame, RenderBuffers.of(rgb, label_buffers), labels
        failed = unmet
    raise ConstraintError(f"{config.source}: frame {index}: no draw in {constraints.max_attempts} met the "
                          f"constraints (last: {failed}); loosen them or raise constraints.max_attempts")


@dataclass(frozen=True)
class Pending:
    """Frame indices still to make, produced lazily, and how many there are (for progress)."""

    indices: Iterator[int]
    count: int


def render_frames(config: SceneConfig, catalog: AssetCatalog, renderer: FrameRenderer, writer: DatasetWriter,
                  seed: int, indices: Sequence[int] | Pending, progress: Progress | None = None,
                  on_written: Written | None = None) -> int:
    """Render and write the given frames in this process; returns how many were written.

    Encoding and writing frame i (PNG encoders and file I/O release the GIL) overlaps rendering frame
    i + 1 in one writer thread; at most two frames wait in memory.
    """
    todo = indices if isinstance(indices, Pending) else Pending(iter(indices), len(indices))
    written = 0
    pending: deque[tuple[int, Future[None]]] = deque()

    def settle(index: int, future: Future[None]) -> None:
        nonlocal written
        future.result()  # re-raises a write error here
        written += 1
        if on_written is not None:
            on_written([index])
        if progress is not None:
            progress(written, todo.count)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="writer") as pool:
        try:
            for index in todo.indices:
                frame, buffers, labels = make_frame(config, catalog, renderer, seed, index)
                while len(pending) >= 2 or (pending and pending[0][1].done()):
                    settle(*pending.popleft())
                pending.append((index, pool.submit(writer.write_frame, frame, buffers, labels)))
            while pending:
                settle(*pending.popleft())
        finally:
            for _, future in pending:  # after an error or Ctrl-C: drop frames not yet started
                future.cancel()
    return written


# -- workers ------------------------------------------------------------------------------------------

_WORKER_STATE: dict[str, object] = {}


def _worker_render(config: SceneConfig, out: str, seed: int, skip: frozenset[str], indices: list[int]) -> int:
    """Render some frames in a worker process, keeping its catalog and GL context between tasks."""
    key = (config, skip)
    if _WORKER_STATE.get("key") != key:
        old = _WORKER_STATE.get("renderer")
        if old is not None:
            old.close()  # type: ignore[attr-defined]
        _WORKER_STATE["catalog"] = scene_catalog(config, skip=skip)
        _WORKER_STATE["renderer"] = _frame_renderer(config)
        _WORKER_STATE["key"] = key
    catalog = _WORKER_STATE["catalog"]
    renderer = _WORKER_STATE["renderer"]
    return render_frames(config, catalog, renderer, DatasetWriter(out), seed, indices)  # type: ignore[arg-type]


def _init_local_worker(rasteriser_threads: int) -> None:
    # Mesa's llvmpipe starts one rasteriser thread per core in every context; N workers on N cores
    # each get their share instead of all fighting for every core. A user's own setting wins.
    os.environ.setdefault("LP_NUM_THREADS", str(rasteriser_threads))


def _chunks(indices: Iterable[int], size: int) -> Iterator[list[int]]:
    iterator = iter(indices)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _run_processes(config: SceneConfig, out: str | os.PathLike[str], seed: int, skip: frozenset[str],
                   todo: Pending, workers: int, progress: Progress | None, on_written: Written | None = None) -> int:
    threads = max(1, (os.cpu_count() or 1) // workers)
    context = multiprocessing.get_context("spawn")  # no GL state or threads inherited through fork
    written = 0
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_local_worker,
                               initargs=(threads,))
    chunks = _chunks(todo.indices, CHUNK)
    futures: dict[Future[int], list[int]] = {}

    def refill() -> None:  # a few chunks per worker in flight: constant memory for any frame count
        while len(futures) < IN_FLIGHT_PER_WORKER * workers and (chunk := next(chunks, None)) is not None:
            futures[pool.submit(_worker_render, config, str(out), seed, skip, chunk)] = chunk

    try:
        refill()
        while futures:
            finished, _ = wait(futures, return_when=FIRST_COMPLETED)
            for future in finished:
                written += future.result()
                chunk = futures.pop(future)
                if on_written is not None:
                    on_written(chunk)
                if progress is not None:
                    progress(written, todo.count)
            refill()
    except BrokenProcessPool:
        pool.shutdown(wait=True, cancel_futures=True)  # the other workers finish the frames they are on
        raise WorkerError(f"a worker process stopped unexpectedly after {written} frames; the frames "
                          "written are complete: run the same command again to resume") from None
    except BaseException:  # Ctrl-C, SIGTERM (the CLI turns it into KeyboardInterrupt), an error: stop now
        _stop_workers(pool)
        raise
    pool.shutdown(wait=True)
    return written


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Stop every worker now and the pool. Their frames in progress are dropped: each file is written
    atomically and the meta file last, so a frame is complete or invisible (its finished files wait
    for a later run to write them again)."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        if process.is_alive():
            process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


def _run_ray(config: SceneConfig, out: str | os.PathLike[str], seed: int, skip: frozenset[str],
             todo: Pending, address: str | None, progress: Progress | None, on_written: Written | None = None,
             run_facts: dict[str, Any] | None = None) -> int:
    require_extra("ray", "ray", "the ray executor", package="Ray")
    import ray

    if not ray.is_initialized():
        ray.init(address=address, log_to_driver=False, include_dashboard=False, logging_level=logging.WARNING)
    task = ray.remote(num_cpus=1)(_ray_shard)
    shards = _chunks(todo.indices, RAY_SHARD)
    refs: list[Any] = []
    indices_of: dict[Any, list[int]] = {}

    def refill() -> None:  # a bounded number of shards in flight: constant memory for any frame count
        while len(refs) < RAY_IN_FLIGHT and (shard := next(shards, None)) is not None:
            ref = task.remote(config, str(Path(out).resolve()), seed, skip, shard)
            refs.append(ref)
            indices_of[ref] = shard

    written = 0
    nodes: set[str] = set()
    try:
        refill()
        while refs:
            finished, refs = ray.wait(refs, num_returns=1)
            for ref in finished:
                try:
                    count, node = ray.get(ref)
                    written += count
                    nodes.add(node)
                except ray.exceptions.RayTaskError as exc:
                    cause = exc.as_instanceof_cause()
                    raise (cause if isinstance(cause, Exception) else WorkerError(str(exc))) from None
                except ray.exceptions.RayError as exc:
                    raise WorkerError(f"a Ray worker failed after {written} frames ({type(exc).__name__}); the "
                                      "frames written are complete: run the same command again to resume") from None
                if on_written is not None:
                    on_written(indices_of.pop(ref))
                if progress is not None:
                    progress(written, todo.count)
            refill()
    finally:
        for ref in refs:
            ray.cancel(ref)
        if run_facts is not None:
            run_facts["ray_nodes"] = len(nodes)
    return written


RAY_CONNECT_SECONDS = 10.0


def check_ray_address(address: str | None, timeout: float = RAY_CONNECT_SECONDS) -> None:
    """Fail in one line, within ``timeout``, when a Ray cluster address does not answer (ray.init itself
    retries for minutes). None and "auto" (a local or discovered cluster) are left to Ray."""
    import socket
    from urllib.parse import urlsplit

    if address is None or address in ("auto", "local"):
        return
    parts = urlsplit(address if "://" in address else f"ray://{address}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise BackendError(f"--address {address!r}: not a HOST:PORT or ray://HOST:PORT address") from None
    if not host or port is None:
        raise BackendError(f"--address {address!r}: not a HOST:PORT or ray://HOST:PORT address")
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        raise BackendError(f"--address {address}: no Ray cluster answers there ({exc.strerror or exc}); "
                           "check the address and that the cluster is running") from None


def _ray_shard(config: SceneConfig, out: str, seed: int, skip: frozenset[str],
               indices: list[int]) -> tuple[int, str]:
    """Frames written and the id of the Ray node that wrote them."""
    import ray

    os.environ.setdefault("LP_NUM_THREADS", "1")  # one CPU per task (num_cpus=1)
    return _worker_render(config, out, seed, skip, indices), ray.get_runtime_context().get_node_id()
