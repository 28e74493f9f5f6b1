"""Blender Cycles on the geometry of our frames, for scripts/bench.py's cycles/path ratio.

Runs under a Python that has ``bpy`` (``pip install bpy``; not a dependency of renderer):

    PYTHON_WITH_BPY scripts/cycles_frames.py FRAMES.json --samples 16 [--denoise]

FRAMES.json is written by scripts/bench.py (``dump_frames``): per frame the image size, K, the camera
pose, world-space triangles with smooth normals and each object's base colour, metallic and roughness,
the lights (with the raster engine's units turned into Blender's) and the ambient radiance. Textures
are left out. Prints one line: mean seconds per frame of bpy.ops.render.render (scene sync, BVH build
and path tracing on the CPU) over the frames after the first (a warm-up).
"""

from __future__ import annotations

import argparse
import json
import math
import time

import bpy  # type: ignore[import-not-found]
import numpy as np
from mathutils import Matrix  # type: ignore[import-not-found]


def build(frame: dict, samples: int, denoise: bool, max_bounces: int) -> None:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = samples
    scene.cycles.use_adaptive_sampling = False
    scene.cycles.use_denoising = denoise
    scene.cycles.max_bounces = max_bounces
    scene.render.resolution_x, scene.render.resolution_y = frame["width"], frame["height"]
    scene.render.resolution_percentage = 100
    world = bpy.data.worlds.new("world")
    world.use_nodes = True
    background = world.node_tree.nodes["Background"]
    background.inputs["Color"].default_value = (1.0, 1.0, 1.0, 1.0)
    background.inputs["Strength"].default_value = frame["ambient"]
    scene.world = world
    for k, obj in enumerate(frame["objects"]):
        mesh = bpy.data.meshes.new(f"mesh{k}")
        mesh.from_pydata(obj["positions"], [], obj["indices"])
        mesh.shade_smooth()
        material = bpy.data.materials.new(f"material{k}")
        material.use_nodes = True
        bsdf = material.node_tree.nodes["Principled BSDF"]
        bsdf.inputs["Base Color"].default_value = (*obj["base_color"], 1.0)
        bsdf.inputs["Metallic"].default_value = obj["metallic"]
        bsdf.inputs["Roughness"].default_value = obj["roughness"]
        mesh.materials.append(material)
        scene.collection.objects.link(bpy.data.objects.new(f"object{k}", mesh))
    for k, light in enumerate(frame["lights"]):
        kind = {"directional": "SUN", "point": "POINT", "spot": "SPOT"}[light["kind"]]
        data = bpy.data.lights.new(f"light{k}", type=kind)
        data.color = light["color"]
        data.energy = light["intensity"] if kind == "SUN" else 4 * math.pi * light["intensity"]
        if kind == "SPOT":
            data.spot_size = 2 * math.radians(light["spot_angle_deg"])
        lamp = bpy.data.objects.new(f"lamp{k}", data)
        lamp.matrix_world = Matrix(light["light_to_world"])  # lights shine along local -z, as in pyrender
        scene.collection.objects.link(lamp)
    camera_data = bpy.data.cameras.new("camera")
    K = np.array(frame["K"])
    w, h = frame["width"], frame["height"]
    camera_data.sensor_fit = "VERTICAL"
    camera_data.angle_y = 2 * math.atan(h / (2 * K[1, 1]))
    camera_data.shift_x = -(K[0, 2] + 0.5 - w / 2) / max(w, h)
    camera_data.shift_y = (K[1, 2] + 0.5 - h / 2) / max(w, h)
    camera = bpy.data.objects.new("camera", camera_data)
    world_to_camera = np.array(frame["world_to_camera"])
    camera_to_world = np.linalg.inv(world_to_camera) @ np.diag([1.0, -1.0, -1.0, 1.0])  # OpenCV -> Blender axes
    camera.matrix_world = Matrix(camera_to_world.tolist())
    scene.collection.objects.link(camera)
    scene.camera = camera


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("frames")
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--max-bounces", type=int, default=8)
    parser.add_argument("--denoise", action="store_true")
    args = parser.parse_args()
    with open(args.frames) as handle:
        frames = json.load(handle)
    times = []
    for frame in frames:
        start = time.perf_counter()
        build(frame, args.samples, args.denoise, args.max_bounces)
        bpy.ops.render.render(write_still=False)
        times.append(time.perf_counter() - start)
    measured = times[1:] if len(times) > 1 else times
    print(f"cycles {sum(measured) / len(measured):.3f} s/frame")


if __name__ == "__main__":
    main()
