"""Glasses: a rigid procedural frame sized to one person's head (face class glasses).

Built in the person's head frame (renderer.humans.head: x the person's left, y down, z to the back of the
head, origin between the eyeball centres) from three sizes measured on that head (the source's
``extents``): the eyes' half distance, the rims' depth in front of the eyes and the temples' half width.
Closed tubes, so they are solid from every side in both engines.
"""

from __future__ import annotations

import colorsys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import trimesh

from renderer.humans.wardrobe.base import Fitted, Wearer, WornKind
from renderer.scene.color import linear_from_srgb, rgb_tuple
from renderer.scene.description import BodyDescription, MaterialDescription, MeshSource

if TYPE_CHECKING:
    from renderer.humans.model import PosedBody

RIM_RADIUS, RIM_TUBE = 0.021, 0.0018  # the lens rims


@dataclass(frozen=True)
class Glasses(WornKind):
    """Glasses fitted to the eyes' distance, the nose's depth and the temples' width."""

    name: str = "glasses"
    face_class: str = "glasses"

    def fit(self, wearer: Wearer, rng: np.random.Generator) -> Fitted:
        x, y, z = wearer.head_vertices.T
        eye_bones = wearer.posed.eye_bones
        eye_half = float(np.linalg.norm(eye_bones[0][:3, 3] - eye_bones[1][:3, 3]) / 2)
        bridge = (np.abs(x) < 0.01) & (np.abs(y) < 0.012)
        depth = float(-z[bridge].min()) + 0.006 if bridge.any() else 0.03
        temple = (np.abs(y) < 0.015) & (z > 0.0) & (z < 0.05)
        extents = (eye_half, depth, float(np.abs(x[temple]).max()) + 0.003 if temple.any() else 0.075)
        colour, metallic, roughness = _frame_colour(rng)
        source = MeshSource("accessory", path=self.name, extents=tuple(round(e, 6) for e in extents))  # type: ignore[arg-type]
        return Fitted(source, np.asarray(wearer.object_to_world) @ wearer.head,
                      MaterialDescription(base_color=colour, metallic=metallic, roughness=roughness))

    def mesh(self, source: MeshSource, posed: Callable[[BodyDescription], PosedBody]) -> trimesh.Trimesh:
        return glasses_mesh(*source.extents)


def glasses_mesh(eye_half: float, depth: float, temple_half: float) -> trimesh.Trimesh:
    """Two torus rims, two temples and a bridge, in the head frame."""
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


def _frame_colour(rng: np.random.Generator) -> tuple[tuple[float, float, float, float], float, float]:
    """The frame: black, tortoiseshell brown, metal (silver or gold) or a colour; (RGBA, metallic, roughness)."""
    kind = int(rng.integers(4))
    if kind == 0:
        return (0.02, 0.02, 0.02, 1.0), 0.0, 0.3
    if kind == 1:
        return (0.12, 0.05, 0.02, 1.0), 0.0, 0.35
    if kind == 2:
        return ((0.8, 0.8, 0.82, 1.0) if rng.uniform() < 0.5 else (0.9, 0.7, 0.35, 1.0)), 1.0, 0.25
    rgb = rgb_tuple(linear_from_srgb(colorsys.hsv_to_rgb(float(rng.uniform()), 0.7, 0.6)))
    return (*rgb, 1.0), 0.0, 0.35


KINDS = (Glasses(),)
