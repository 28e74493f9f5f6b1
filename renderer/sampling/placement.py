"""Where drawn objects go: the placers of ``objects.placement`` that need no physics (surface, air) and
the pieces physics shares with them (the Draft of an object chosen but not placed, its resting rotation,
the tray's wall)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from renderer.assets.catalog import Asset, AssetCatalog
from renderer.config.schema import SceneConfig
from renderer.scene.description import MaterialDescription, MeshSource
from renderer.scene.geometry import rotation_z

PLACEMENT_TRIES = 200

TRAY_WALL = 0.01  # metres



@dataclass(frozen=True)
class Draft:
    """An object chosen but not yet placed."""

    asset: Asset
    scale: float
    material: MaterialDescription
    distractor: bool

def resting_rotation(config: SceneConfig, catalog: AssetCatalog, rng: np.random.Generator,
                     source: MeshSource) -> NDArray[np.float64]:
    """The rotation an object rests in before its yaw: upright (as modelled) or a stable pose."""
    if config.objects.pose == "upright":
        return np.eye(3)
    poses = catalog.resting_poses(source)
    return poses.rotations[int(rng.choice(len(poses.probabilities), p=poses.probabilities))]

def first_free(candidates: NDArray[np.float64], radius: float, centers: list[NDArray[np.float64]],
               radii: list[float], gap: float) -> NDArray[np.float64] | None:
    """The first candidate centre whose disc or ball of ``radius`` keeps ``gap`` from every placed one."""
    if not centers:
        return candidates[0]
    reach = np.array(radii) + radius + gap
    distances = np.linalg.norm(candidates[:, None, :] - np.array(centers)[None, :, :], axis=2)
    free = np.flatnonzero(np.all(distances >= reach[None, :], axis=1))
    return candidates[free[0]] if len(free) else None

def place_on_surface(config: SceneConfig, catalog: AssetCatalog, rng: np.random.Generator,
                      drafts: list[Draft]) -> list[tuple[Draft, NDArray[np.float64]]]:
    """Resting on z = 0 with a random yaw, the disks covering their footprints apart by min_gap."""
    half = np.array(config.table.size) / 2.0
    centers: list[NDArray[np.float64]] = []
    radii: list[float] = []
    placed = []
    for draft in drafts:
        rest = resting_rotation(config, catalog, rng, draft.asset.source)
        yaw = float(rng.uniform(0.0, 2.0 * np.pi))
        candidates = rng.uniform(-1.0, 1.0, size=(PLACEMENT_TRIES, 2))
        footprint = catalog.footprint(draft.asset.source, rest)
        xy_center, radius = footprint.center_xy * draft.scale, footprint.radius * draft.scale
        room = half - radius
        if np.any(room <= 0):
            continue
        spot = first_free(candidates * room, radius, centers, radii, config.objects.min_gap)
        if spot is None:
            continue  # the table is full: fewer objects rather than overlapping ones
        centers.append(spot)
        radii.append(radius)
        turn = rotation_z(yaw)
        pose = np.eye(4)
        pose[:3, :3] = turn @ rest
        # Turn about the footprint centre, put that centre on the spot and the lowest point on z = 0.
        pose[:2, 3] = spot - (turn[:2, :2] @ xy_center)
        pose[2, 3] = -footprint.min_z * draft.scale
        placed.append((draft, pose))
    return placed

def place_in_air(config: SceneConfig, catalog: AssetCatalog, rng: np.random.Generator,
                  drafts: list[Draft]) -> list[tuple[Draft, NDArray[np.float64]]]:
    """Anywhere in the air box, turned freely (or upright / resting pose plus yaw), bounding spheres apart."""
    air = config.objects.air
    low, high = np.array(air.low), np.array(air.high)
    centers: list[NDArray[np.float64]] = []
    radii: list[float] = []
    placed = []
    for draft in drafts:
        if config.objects.pose == "free":
            rotation = Rotation.random(random_state=rng).as_matrix()
        else:
            rotation = rotation_z(float(rng.uniform(0, 2 * np.pi))) @ resting_rotation(
                config, catalog, rng, draft.asset.source)
        candidates = low + rng.random((PLACEMENT_TRIES, 3)) * (high - low)
        sphere_center, sphere_radius = catalog.bounding_sphere(draft.asset.source)
        radius = sphere_radius * draft.scale
        spot = first_free(candidates, radius, centers, radii, config.objects.min_gap)
        if spot is None:
            continue
        centers.append(spot)
        radii.append(radius)
        pose = np.eye(4)
        pose[:3, :3] = rotation
        pose[:3, 3] = spot - rotation @ (sphere_center * draft.scale)  # the sphere's centre on the spot
        placed.append((draft, pose))
    return placed
