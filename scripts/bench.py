"""Frames/s of the default scene at its image size, every figure measured in one run.

(a) bare pyrender: for each frame description, build the pyrender scene and render RGB + depth once;
    nothing labelled, nothing written.
(b) full pipeline, one worker: sample, render RGB, our label pass, derive every label, write the frame.
(n) naive pipeline: the same labels and files, but each label buffer from its own pyrender pass, as
    one would write it with pyrender alone: RGB, depth (DEPTH_ONLY), instance ids (SEG), one SEG pass
    per object rendered alone (for the visible fraction), normals from depth differences.
(a), (b) and (n) run over the same frames, each after a warm-up pass over them (shaders, procedural
textures, mesh caches), alternating in rounds so that machine drift hits all of them.
(b3) the same as (b) with format 3's raw .npy depth and normals (the files before compression), and
(bs) with --layout shards (frames packed into tar shards as they complete): (b)/(b3) is the cost of
    compression, (bs)/(b) that of packing. Bytes per frame by channel for both layouts, and each
    channel's encode time per frame, follow.
(m0), (m1): the default scene as sequences (24 frames, orbiting camera, kinematic objects), full pipeline,
    without and with the motion channels (object coordinates, NOCS, forward and backward flow with
    their validity): (m1)/(m0) is what motion labels cost (NOCS is made when read: nothing to write).
(1w), (2w): `renderer generate` with --workers 1 and 2 from a cold start (process spawn, GL context,
warm-up included) over more frames, for the speed-up of a second worker.
(p) path engine (Mitsuba 3): seconds per frame of its RGB at 16 and 64 samples, denoised or not, over
    --path-frames frames after a warm-up frame; and the label pass's time beside it.
(c) Blender Cycles (CPU) on the same frames' geometry, lights and base materials at the same samples and
    bounces, denoised (its OIDN) or not, where a Python with bpy is given (scripts/cycles_frames.py).

    .venv/bin/python scripts/bench.py [--frames 30] [--rounds 2] [--worker-frames 60]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from renderer.assets.catalog import AssetCatalog
from renderer.channels import CHANNELS
from renderer.config.schema import DEFAULT_OUTPUTS, load_scene
from renderer.humans.catalog import scene_catalog
from renderer.io.writers import DatasetWriter, dataset_header, prepare_dataset
from renderer.labels.objects import frame_labels
from renderer.pipeline.run import generate, load_catalog
from renderer.render.frame import FrameRenderer, frame_renderer_for
from renderer.sampling.frame import sample_frame
from renderer.sampling.randomizers.supports import table_source
from renderer.scene.buffers import RenderBuffers
from renderer.scene.description import FrameDescription

ROOT = Path(__file__).resolve().parent.parent


def bare_pyrender(scene: Path, frames: int, seed: int) -> float:
    config = load_scene(scene)
    catalog = scene_catalog(config)
    descriptions = [sample_frame(config, catalog, seed=seed, index=i) for i in range(frames)]
    with FrameRenderer(config.image.width, config.image.height) as backend:
        for description in descriptions:  # warm-up
            backend.engine.render_pyrender_rgb_depth(description, catalog)
        start = time.perf_counter()
        for description in descriptions:
            backend.engine.render_pyrender_rgb_depth(description, catalog)
        return frames / (time.perf_counter() - start)


MOTION = ["sequence.length=24", "sequence.camera.kind=orbit", "sequence.objects.kind=kinematic"]
MOTION_OUTPUTS = ("outputs=[rgb, depth, normals, instance, semantic, object_coords, nocs, flow_forward, "
                  "flow_forward_valid, flow_backward, flow_backward_valid]")


def full_pipeline(scene: Path, frames: int, seed: int, layout: str = "files",
                  sizes: dict[str, float] | None = None, overrides: list[str] | None = None) -> float:
    """frames/s of generate(); ``sizes`` gets bytes per frame by folder (files) or of the shards."""
    config = load_scene(scene, overrides or [])
    out = Path(tempfile.mkdtemp(prefix="bench-"))
    try:
        with frame_renderer_for(config) as backend:
            generate(config, out / "warm", frames=frames, seed=seed, renderer=backend, layout=layout)  # warm-up
            summary = generate(config, out / "ds", frames=frames, seed=seed, renderer=backend, layout=layout)
        if sizes is not None:
            folders = ["shards"] if layout == "shards" else [*config.outputs, "meta"]
            for folder in folders:
                total = sum(p.stat().st_size for p in (out / "ds" / folder).iterdir() if p.is_file())
                sizes[folder] = total / frames
        return summary.frames_per_second
    finally:
        shutil.rmtree(out, ignore_errors=True)


@contextlib.contextmanager
def format3_encoders() -> Iterator[None]:
    """Depth and normals written as format 3 wrote them: raw .npy."""
    def npy(array: np.ndarray) -> bytes:
        buffer = io.BytesIO()
        np.save(buffer, array)
        return buffer.getvalue()

    saved = {name: CHANNELS[name] for name in ("depth", "normals")}
    try:
        for name, channel in saved.items():
            CHANNELS[name] = dataclasses.replace(channel, suffix=".npy", encode=npy)
        yield
    finally:
        CHANNELS.update(saved)


def encode_milliseconds(scene: Path, frames: int, seed: int) -> dict[str, float]:
    """Per channel (and the meta file), ms per frame to extract and encode, over rendered frames."""
    import json

    from renderer.io.writers import frame_meta
    from renderer.pipeline.run import make_frame

    config = load_scene(scene)
    catalog = load_catalog(config)
    times = dict.fromkeys([*config.outputs, "meta"], 0.0)
    with FrameRenderer(config.image.width, config.image.height) as backend:
        for i in range(frames):
            frame, buffers, labels = make_frame(config, catalog, backend, seed, i)
            for name in config.outputs:
                channel = CHANNELS[name]
                start = time.perf_counter()
                channel.encode(channel.extract(frame, buffers))
                times[name] += time.perf_counter() - start
            start = time.perf_counter()
            json.dumps(frame_meta(frame, labels), allow_nan=False)
            times["meta"] += time.perf_counter() - start
    return {name: seconds / frames * 1000 for name, seconds in times.items()}


def naive_buffers(backend: FrameRenderer, frame: FrameDescription, catalog: AssetCatalog) -> RenderBuffers:
    import pyrender

    flags = pyrender.RenderFlags
    engine = backend.engine
    renderer = engine._renderer  # type: ignore[attr-defined]
    scene, nodes = engine.pyrender_scene(frame, catalog)  # type: ignore[attr-defined]
    rgb, _ = renderer.render(scene, flags=flags.SHADOWS_DIRECTIONAL)
    depth = renderer.render(scene, flags=flags.DEPTH_ONLY)
    id_colours = {node: np.array([(k + 1) % 256, (k + 1) // 256, 0]) for k, node in enumerate(nodes)}
    seg, _ = renderer.render(scene, flags=flags.SEG, seg_node_map=id_colours)
    instance = (seg[..., 0].astype(np.uint16) + 256 * seg[..., 1].astype(np.uint16))
    alone = []
    for node in nodes:
        mask, _ = renderer.render(scene, flags=flags.SEG, seg_node_map={node: np.array([255, 255, 255])})
        alone.append(int((mask[..., 0] > 0).sum()))
    K = np.asarray(frame.camera.K)
    rows, cols = np.mgrid[0:depth.shape[0], 0:depth.shape[1]]
    points = np.stack([(cols - K[0, 2]) / K[0, 0] * depth, (rows - K[1, 2]) / K[1, 1] * depth, depth], -1)
    normals = np.cross(np.gradient(points, axis=0), np.gradient(points, axis=1))
    normals /= np.linalg.norm(normals, axis=-1, keepdims=True).clip(1e-12)
    normals[depth == 0] = 0
    return RenderBuffers(rgb=np.ascontiguousarray(rgb[..., :3]), depth=depth.astype(np.float32),
                         normals=normals.astype(np.float32), instance=instance,
                         unoccluded_pixels=np.array(alone, dtype=np.int64))


def naive_pipeline(scene: Path, frames: int, seed: int) -> float:
    config = load_scene(scene)
    catalog = load_catalog(config)
    descriptions = [sample_frame(config, catalog, seed=seed, index=i) for i in range(frames)]
    meshes = {a.asset_id: catalog.mesh(a.source) for a in catalog.assets}
    meshes["table"] = catalog.mesh(table_source(config))
    out = Path(tempfile.mkdtemp(prefix="bench-naive-"))
    try:
        with FrameRenderer(config.image.width, config.image.height) as backend:
            elapsed = 0.0
            for name in ("warm", "ds"):
                prepare_dataset(out / name, dataset_header(config, seed, catalog), meshes)
                writer = DatasetWriter(out / name)
                start = time.perf_counter()
                for description in descriptions:
                    buffers = naive_buffers(backend, description, catalog)
                    writer.write_frame(description, buffers, frame_labels(description, buffers, catalog))
                elapsed = time.perf_counter() - start
        return frames / elapsed
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def workers_run(scene: Path, frames: int, seed: int, workers: int, busy: list[float]) -> float:
    """frames/s of a generate() run; appends the mean number of busy cores (CPU time / wall time)."""
    config = load_scene(scene)
    out = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    try:
        start, cpu = time.perf_counter(), _cpu_seconds()
        generate(config, out / "ds", frames=frames, seed=seed, workers=workers)
        elapsed = time.perf_counter() - start
        busy.append((_cpu_seconds() - cpu) / elapsed)
        return frames / elapsed
    finally:
        shutil.rmtree(out, ignore_errors=True)


def path_engine_seconds(scene: Path, frames: int, seed: int, samples: int, denoise: bool,
                        label_seconds: list[float]) -> float:
    """Seconds per frame of the path engine's RGB (scene dictionary, render, denoise, display transform)
    over the scene's frames after one warm-up frame (JIT kernels); appends the label pass's s/frame."""
    import dataclasses

    from renderer.config.schema import RenderConfig

    config = load_scene(scene)
    config = dataclasses.replace(config, render=RenderConfig(engine="path", samples=samples, denoise=denoise))
    catalog = scene_catalog(config)
    descriptions = [sample_frame(config, catalog, seed=seed, index=i) for i in range(frames + 1)]
    with FrameRenderer(config.image.width, config.image.height, config.render) as renderer:
        renderer.engine.render(descriptions[0], catalog)
        start = time.perf_counter()
        for description in descriptions[1:]:
            renderer.engine.render(description, catalog)
        elapsed = (time.perf_counter() - start) / frames
        start = time.perf_counter()
        for description in descriptions[1:]:
            renderer.labels.render(description, catalog)
        label_seconds.append((time.perf_counter() - start) / frames)
    return elapsed


def dump_frames(scene: Path, frames: int, seed: int, path: Path) -> None:
    """The default scene's frames as plain data for scripts/cycles_frames.py (bpy): world-space smooth
    triangles (the path engine's shading arrays), base materials, lights, camera."""
    import json

    from renderer.render.engines.shading import shading_arrays
    from renderer.render.gl.label_pass import model_matrix
    from renderer.scene.environment import ambient_radiance
    from renderer.scene.geometry import transform_points

    config = load_scene(scene)
    catalog = scene_catalog(config)
    payload = []
    for i in range(frames + 1):
        frame = sample_frame(config, catalog, seed=seed, index=i)
        objects = []
        for obj in frame.objects:
            arrays = shading_arrays(catalog.mesh(obj.mesh))
            positions = transform_points(model_matrix(obj), arrays["positions"])
            objects.append({"positions": np.round(positions, 6).tolist(), "indices": arrays["indices"].tolist(),
                            "base_color": list(obj.material.base_color[:3]), "metallic": obj.material.metallic,
                            "roughness": obj.material.roughness})
        lights = [{"kind": light.kind, "color": list(light.color), "intensity": light.intensity,
                   "light_to_world": [list(row) for row in light.light_to_world],
                   "spot_angle_deg": light.spot_angle_deg} for light in frame.lights]
        payload.append({"width": frame.camera.width, "height": frame.camera.height,
                        "K": [list(row) for row in frame.camera.K],
                        "world_to_camera": [list(row) for row in frame.camera.world_to_camera],
                        "objects": objects, "lights": lights,
                        "ambient": frame.ambient + float(ambient_radiance(frame.environment).mean())})
    path.write_text(json.dumps(payload))


def cycles_seconds(python: str, frames_file: Path, samples: int, denoise: bool) -> float:
    import subprocess

    command = [python, str(ROOT / "scripts" / "cycles_frames.py"), str(frames_file), "--samples", str(samples)]
    output = subprocess.run(command + (["--denoise"] if denoise else []), check=True, capture_output=True,
                            text=True).stdout
    line = [row for row in output.splitlines() if row.startswith("cycles ")][-1]
    return float(line.split()[1])


def _python_with_bpy() -> str | None:
    import importlib.util
    import sys

    return sys.executable if importlib.util.find_spec("bpy") is not None else None


def people_rows(scene: Path, frames: int, seed: int) -> None:
    """People: per-person build and pose time after the one-time cache, memory, and scenes/people.yaml's
    frames/s against ``scene``'s in this run (the issue's goals: <= 30 ms per person, ratio >= 0.5)."""
    import resource

    from renderer.humans.catalog import PeopleCatalog, build_body
    from renderer.humans.model import body_model
    from renderer.sampling.frame import sample_frame

    people_scene = ROOT / "scenes" / "people.yaml"
    config = load_scene(people_scene)
    catalog = PeopleCatalog(config)
    bodies = [o.mesh.body for i in range(40) for o in sample_frame(config, catalog, seed=seed, index=i).objects
              if o.mesh.body is not None]
    model = body_model()
    build_body(bodies[0])  # warm-up: the texture layout and the skinning kernel are made once
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    for body in bodies:
        model.pose(body.phenotype, body.joints)
    pose_ms = (time.perf_counter() - start) / len(bodies) * 1000
    start = time.perf_counter()
    for body in bodies:
        build_body(body)
    build_ms = (time.perf_counter() - start) / len(bodies) * 1000
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    sizes: dict[str, float] = {}
    people_fps = full_pipeline(people_scene, frames, seed, sizes=sizes)
    base_fps = full_pipeline(scene, frames, seed)
    print(f"people: {len(bodies)} bodies; pose {pose_ms:.1f} ms/person, build (pose + mesh + texture) "
          f"{build_ms:.1f} ms/person; peak memory grew {grown:.0f} MB")
    print(f"people.yaml {people_fps:.2f} frames/s, {scene.name} {base_fps:.2f} frames/s: ratio "
          f"{people_fps / base_fps:.2f}; people.yaml {sum(sizes.values()) / 1000:.1f} kB/frame")


def face_rows(scene: Path, frames: int, path_frames: int, seed: int) -> None:
    """Faces: scenes/faces.yaml (512 x 512) against ``scene`` in this run, in the raster engine and in the
    path engine (16 samples, denoised), and faces.yaml's bytes per frame."""
    faces_scene = ROOT / "scenes" / "faces.yaml"
    sizes: dict[str, float] = {}
    faces_fps = full_pipeline(faces_scene, frames, seed, sizes=sizes)
    base_fps = full_pipeline(scene, frames, seed)
    print(f"faces.yaml (raster) {faces_fps:.2f} frames/s, {scene.name} {base_fps:.2f} frames/s: ratio "
          f"{faces_fps / base_fps:.2f}; faces.yaml {sum(sizes.values()) / 1000:.1f} kB/frame "
          + ", ".join(f"{k} {v / 1000:.1f}" for k, v in sizes.items()))
    if path_frames > 0:
        path = ["render.engine=path", "render.samples=16", "render.denoise=true"]
        faces_path = full_pipeline(faces_scene, path_frames, seed, overrides=path)
        base_path = full_pipeline(scene, path_frames, seed, overrides=path)
        print(f"faces.yaml (path, 16 spp, denoised) {faces_path:.3f} frames/s, {scene.name} {base_path:.3f} "
              f"frames/s: ratio {faces_path / base_path:.2f}")


LENS_ROWS = (
    ("pinhole", []),
    ("brown_conrady, fixed k", ["camera.lens={model: brown_conrady, k1: -0.3, k2: 0.08, p1: 0.001, p2: -0.001}"]),
    ("brown_conrady, k drawn per frame", ["camera.lens={model: brown_conrady, k1: [-0.35, -0.1], k2: [0, 0.1]}"]),
    ("brown_conrady, supersampling 1", ["camera.lens={model: brown_conrady, k1: -0.3, k2: 0.08, supersampling: 1}"]),
    ("fisheye 170 deg", ["camera.fov_deg=170", "camera.lens={model: fisheye, k1: 0.02, k2: -0.005}"]),
)


def lens_rows(scene: Path, frames: int, seed: int) -> None:
    """Lens models against the pinhole in this run (``scene``, raster engine), and bytes per frame."""
    pinhole = None
    for name, overrides in LENS_ROWS:
        sizes: dict[str, float] = {}
        fps = full_pipeline(scene, frames, seed, sizes=sizes, overrides=overrides)
        pinhole = fps if pinhole is None else pinhole
        print(f"lens {name:34s} {fps:6.2f} frames/s  ratio to pinhole {fps / pinhole:.2f}  "
              f"{sum(sizes.values()) / 1000:.1f} kB/frame")


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scene", type=Path, default=ROOT / "scenes" / "tabletop.yaml")
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--worker-frames", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--path-frames", type=int, default=3, help="frames per path-engine row (0: no path rows)")
    parser.add_argument("--cycles-python", default=_python_with_bpy(),
                        help="a Python with bpy (pip install bpy) for the Cycles rows (default: this one, if it "
                             "has bpy; else no Cycles rows)")
    parser.add_argument("--people-frames", type=int, default=10, help="frames of the people rows (0: none)")
    parser.add_argument("--people-only", action="store_true", help="only the people rows")
    parser.add_argument("--faces-frames", type=int, default=10, help="frames of the faces rows (0: none)")
    parser.add_argument("--faces-only", action="store_true", help="only the faces rows")
    parser.add_argument("--lens-frames", type=int, default=10, help="frames of the lens rows (0: none)")
    parser.add_argument("--lens-only", action="store_true", help="only the lens rows")
    args = parser.parse_args()
    if args.lens_only:
        lens_rows(args.scene, args.lens_frames, args.seed)
        return
    if args.people_only:
        people_rows(args.scene, args.people_frames, args.seed)
        return
    if args.faces_only:
        face_rows(args.scene, args.faces_frames, args.path_frames, args.seed)
        return

    bare, full, full3, shards, naive, one, two, still_seq, motion_seq = [], [], [], [], [], [], [], [], []
    sizes: dict[str, float] = {}
    sizes3: dict[str, float] = {}
    busy_one: list[float] = []
    busy_two: list[float] = []
    for _ in range(args.rounds):
        bare.append(bare_pyrender(args.scene, args.frames, args.seed))
        full.append(full_pipeline(args.scene, args.frames, args.seed, sizes=sizes))
        with format3_encoders():
            full3.append(full_pipeline(args.scene, args.frames, args.seed, sizes=sizes3))
        shards.append(full_pipeline(args.scene, args.frames, args.seed, layout="shards", sizes=sizes))
        still_seq.append(full_pipeline(args.scene, args.frames, args.seed, overrides=MOTION))
        motion_seq.append(full_pipeline(args.scene, args.frames, args.seed, overrides=[*MOTION, MOTION_OUTPUTS]))
        naive.append(naive_pipeline(args.scene, args.frames, args.seed))
        one.append(workers_run(args.scene, args.worker_frames, args.seed, 1, busy_one))
        two.append(workers_run(args.scene, args.worker_frames, args.seed, 2, busy_two))
    with FrameRenderer(8, 8):
        from OpenGL import GL  # imported only once the backend has chosen the GL platform

        gl_renderer = GL.glGetString(GL.GL_RENDERER).decode()

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; GL: {gl_renderer}")
    print(f"scene: {args.scene.name}; {args.frames} frames x {args.rounds} rounds; workers: "
          f"{args.worker_frames} frames from a cold start")
    rows = [("(a) bare pyrender RGB+depth", bare), ("(b) full pipeline, 1 worker", full),
            ("(b3) full, format 3 raw .npy", full3), ("(bs) full, --layout shards", shards),
            ("(m0) sequences, no motion labels", still_seq), ("(m1) sequences, motion labels", motion_seq),
            ("(n) naive pipeline, 1 worker", naive), ("(1w) generate --workers 1", one),
            ("(2w) generate --workers 2", two)]
    for name, values in rows:
        print(f"{name:32s} {mean(values):7.2f} frames/s  {[round(v, 2) for v in values]}")
    print(f"cores busy (CPU time / wall time): 1 worker {mean(busy_one):.2f}, 2 workers {mean(busy_two):.2f}")
    print(f"full/naive ratio: {mean(full) / mean(naive):.2f}")
    print(f"2 workers/1 worker ratio: {mean(two) / mean(one):.2f}")
    print(f"full/bare ratio: {mean(full) / mean(bare):.2f}")
    print(f"motion labels cost: (m1)/(m0) = {mean(motion_seq) / mean(still_seq):.3f} (pairs: "
          f"{[round(b / a, 3) for a, b in zip(still_seq, motion_seq, strict=True)]})")
    print(f"full/format-3 ratio: {mean(full) / mean(full3):.2f}; shards/files ratio: {mean(shards) / mean(full):.2f}")
    encode = encode_milliseconds(args.scene, min(args.frames, 10), args.seed)
    print("bytes per frame (kB) and encode ms per frame, by channel:")
    for name in [*DEFAULT_OUTPUTS, "meta"]:
        old = f"  (format 3: {sizes3[name] / 1000:7.1f} kB)" if name in sizes3 else ""
        print(f"  {name:9s} {sizes[name] / 1000:7.1f} kB  {encode[name]:6.1f} ms{old}")
    files_total = sum(sizes[n] for n in [*DEFAULT_OUTPUTS, "meta"])
    print(f"  total, files layout  {files_total / 1000:7.1f} kB  (format 3: "
          f"{sum(sizes3[n] for n in [*DEFAULT_OUTPUTS, 'meta']) / 1000:.1f} kB)")
    print(f"  total, shards layout {sizes['shards'] / 1000:7.1f} kB (tar headers included)")
    if args.people_frames > 0:
        people_rows(args.scene, args.people_frames, args.seed)
    if args.faces_frames > 0:
        face_rows(args.scene, args.faces_frames, args.path_frames, args.seed)
    if args.lens_frames > 0:
        lens_rows(args.scene, args.lens_frames, args.seed)
    if args.path_frames > 0:
        labels: list[float] = []
        frames_file = Path(tempfile.mkdtemp(prefix="bench-cycles-")) / "frames.json"
        if args.cycles_python:
            dump_frames(args.scene, args.path_frames, args.seed, frames_file)
        for samples in (16, 64):
            for denoise in (False, True):
                seconds = path_engine_seconds(args.scene, args.path_frames, args.seed, samples, denoise, labels)
                line = f"(p) path engine {samples:3d} spp, denoise {'on ' if denoise else 'off'} {seconds:7.2f} s/frame"
                if args.cycles_python:
                    cycles = cycles_seconds(args.cycles_python, frames_file, samples, denoise)
                    line += f"   (c) Cycles {cycles:7.2f} s/frame   cycles/path {cycles / seconds:5.2f}"
                print(line, flush=True)
        print(f"label pass beside the path engine: {mean(labels) * 1000:.1f} ms/frame")
        shutil.rmtree(frames_file.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
