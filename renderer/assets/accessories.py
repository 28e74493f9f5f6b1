"""Glasses as a procedural mesh, sized to one person's head (the hat and the face mask follow the skin
itself: renderer.humans.worn).

Built in the person's head frame (renderer.humans.head: x the person's left, y down, z to the back of the
head, origin between the eyeball centres) from three sizes measured on that head (``extents``): the eyes'
half distance, the rims' depth in front of the eyes and the temples' half width. Closed tubes, so they are
solid from every side in both engines.
"""

from __future__ import annotations

import numpy as np
import trimesh

ACCESSORIES = ("glasses",)
RIM_RADIUS, RIM_TUBE = 0.021, 0.0018  # glasses' lens rims


def accessory_mesh(name: str, extents: tuple[float, float, float]) -> trimesh.Trimesh:
    """The mesh of an accessory (ACCESSORIES) of these sizes."""
    if name == "glasses":
        return _glasses(*extents)
    raise ValueError(f"no accessory {name!r}")


def _glasses(eye_half: float, depth: float, temple_half: float) -> trimesh.Trimesh:
    parts = []
    for side in (-1.0, 1.0):
        rim = trimesh.creation.torus(major_radius=RIM_RADIUS, minor_radius=RIM_TUBE, major_sections=32,
                                     minor_sections=8)  # in the x-y plane: facing z, as lenses do
        rim.apply_translation([side * eye_half, 0.002, -depth])
        parts.append(rim)
        hinge = np.array([side * (eye_half + RIM_RADIUS), -0.004, -depth])
        ear = np.array([side * temple_half, -0.002, 0.085])
        parts.append(trimesh.creation.cylinder(radius=0.0015, segment=np.stack([hinge, ear]), sections=8))
    gap = eye_half - RIM_RADIUS
    parts.append(trimesh.creation.cylinder(radius=0.0015, sections=8, segment=np.array(
        [[-gap, -0.006, -depth - 0.002], [gap, -0.006, -depth - 0.002]])))
    mesh = trimesh.util.concatenate(parts)
    return trimesh.Trimesh(mesh.vertices, mesh.faces, process=False)  # type: ignore[attr-defined]
