"""Write the shipped procedural assets: assets/meshes/<name>.obj and <name>.landmarks.json.

Meshes are in metres, z up, standing on z = 0. Run again to regenerate (deterministic).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import trimesh

OUT = Path(__file__).resolve().parent.parent / "assets" / "meshes"
SECTIONS = 48


def revolve(profile: list[tuple[float, float]]) -> trimesh.Trimesh:
    """Surface of revolution about z of an (r, z) profile that starts and ends on the axis."""
    return trimesh.creation.revolve(np.array(profile, dtype=float), sections=SECTIONS)


def mug() -> tuple[trimesh.Trimesh, dict[str, list[float]]]:
    r, h, t = 0.04, 0.095, 0.005
    body = revolve([(0, 0), (r, 0), (r, h), (r - t, h), (r - t, t), (0, t)])
    handle = trimesh.creation.torus(major_radius=0.026, minor_radius=0.006, major_sections=32,
                                    minor_sections=12)
    handle.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [1, 0, 0]))
    handle.apply_translation([r + 0.008, 0, h / 2])
    keep = handle.vertices[handle.faces].mean(axis=1)[:, 0] > r - 0.002  # only the outer half ring
    handle.update_faces(keep)
    handle.remove_unreferenced_vertices()
    mesh = trimesh.util.concatenate([body, handle])
    lm = {"base_center": [0, 0, 0], "rim_front": [r, 0, h], "rim_back": [-r, 0, h],
          "rim_left": [0, r, h], "rim_right": [0, -r, h], "handle_top": [r + 0.008, 0, h / 2 + 0.032],
          "handle_bottom": [r + 0.008, 0, h / 2 - 0.032], "handle_outer": [r + 0.040, 0, h / 2]}
    return mesh, lm


def bottle() -> tuple[trimesh.Trimesh, dict[str, list[float]]]:
    profile = [(0, 0), (0.032, 0), (0.035, 0.01), (0.035, 0.15), (0.03, 0.18), (0.014, 0.21),
               (0.013, 0.24), (0.015, 0.242), (0.015, 0.255), (0, 0.255)]
    lm = {"base_center": [0, 0, 0], "shoulder_front": [0.035, 0, 0.15], "shoulder_back": [-0.035, 0, 0.15],
          "neck": [0.014, 0, 0.21], "cap_top": [0, 0, 0.255]}
    return revolve(profile), lm


def bowl() -> tuple[trimesh.Trimesh, dict[str, list[float]]]:
    angles = np.linspace(0, np.pi / 2, 12)
    outer = [(0.03 + 0.05 * np.sin(a), 0.06 * (1 - np.cos(a))) for a in angles]
    inner = [(0.025 + 0.046 * np.sin(a), 0.006 + 0.054 * (1 - np.cos(a))) for a in angles[::-1]]
    profile = [(0, 0), *[(float(x), float(y)) for x, y in outer], (0.078, 0.06),
               *[(float(x), float(y)) for x, y in inner], (0, 0.006)]
    lm = {"base_center": [0, 0, 0], "rim_front": [0.08, 0, 0.06], "rim_back": [-0.08, 0, 0.06],
          "rim_left": [0, 0.08, 0.06], "rim_right": [0, -0.08, 0.06], "inside_bottom": [0, 0, 0.006]}
    return revolve(profile), lm


def can() -> tuple[trimesh.Trimesh, dict[str, list[float]]]:
    profile = [(0, 0), (0.028, 0), (0.033, 0.008), (0.033, 0.112), (0.029, 0.12), (0, 0.118)]
    lm = {"base_center": [0, 0, 0], "top_center": [0, 0, 0.118], "top_front": [0.029, 0, 0.12],
          "top_back": [-0.029, 0, 0.12]}
    return revolve(profile), lm


def cereal_box() -> tuple[trimesh.Trimesh, dict[str, list[float]]]:
    ext = np.array([0.14, 0.05, 0.2])
    mesh = trimesh.creation.box(extents=ext)
    mesh.apply_translation([0, 0, ext[2] / 2])
    lm = {}
    for ix, sx in enumerate((-1, 1)):
        for iy, sy in enumerate((-1, 1)):
            for iz, z in enumerate((0.0, ext[2])):
                lm[f"corner_{ix}{iy}{iz}"] = [sx * ext[0] / 2, sy * ext[1] / 2, z]
    return mesh, lm


def ball() -> tuple[trimesh.Trimesh, dict[str, list[float]]]:
    mesh = trimesh.creation.icosphere(subdivisions=3, radius=0.035)
    mesh.apply_translation([0, 0, 0.035])
    return mesh, {"top": [0, 0, 0.07], "bottom": [0, 0, 0], "center": [0, 0, 0.035]}


def cone() -> tuple[trimesh.Trimesh, dict[str, list[float]]]:
    mesh = trimesh.creation.cone(radius=0.04, height=0.09, sections=SECTIONS)
    return mesh, {"apex": [0, 0, 0.09], "base_center": [0, 0, 0], "base_front": [0.04, 0, 0]}


def donut() -> tuple[trimesh.Trimesh, dict[str, list[float]]]:
    mesh = trimesh.creation.torus(major_radius=0.04, minor_radius=0.015, major_sections=40,
                                  minor_sections=16)
    mesh.apply_translation([0, 0, 0.015])
    return mesh, {"hole_center": [0, 0, 0.015], "outer_front": [0.055, 0, 0.015], "top_front": [0.04, 0, 0.03]}


ASSETS = {"mug": mug, "bottle": bottle, "bowl": bowl, "can": can, "cereal_box": cereal_box,
          "ball": ball, "cone": cone, "donut": donut}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, make in ASSETS.items():
        mesh, landmarks = make()
        mesh.export(OUT / f"{name}.obj", digits=6, include_normals=False, include_texture=False)
        payload = {"units": "m", "frame": "asset frame, z up, resting on z = 0",
                   "landmarks": {k: [round(float(c), 6) for c in v] for k, v in landmarks.items()}}
        (OUT / f"{name}.landmarks.json").write_text(json.dumps(payload, indent=1) + "\n")
        print(f"{name}: {len(mesh.vertices)} vertices, {len(mesh.faces)} faces")


if __name__ == "__main__":
    main()
