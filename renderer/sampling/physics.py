"""Drop-and-settle placement with pybullet (the ``renderer[physics]`` extra): piles and bins.

Objects fall from above the container (a tray, or the table top) with random orientations and come to
rest under gravity. Collision shapes are the convex hulls of the scaled meshes (a hull holds its mesh,
so meshes cannot interpenetrate more than the hulls do). The simulation is deterministic: pybullet in
DIRECT mode, a fixed time step, everything it gets drawn from the frame's generator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from renderer.config.schema import SceneConfig
from renderer.errors import quiet_stderr, require_extra
from renderer.sampling.placement import TRAY_WALL, Draft, resting_rotation

if TYPE_CHECKING:
    from renderer.assets.catalog import AssetCatalog

TIME_STEP = 1.0 / 240.0
DENSITY = 500.0  # kg/m^3; only ratios matter for a pile
LOST_BELOW = -0.05  # metres: objects that fell off the support are left out


def require_pybullet() -> Any:
    """The pybullet module, or a MissingExtraError saying which extra to install."""
    with quiet_stderr():  # pybullet's C code prints a build banner to stderr on import
        return require_extra("pybullet", "physics", "objects.placement: physics")



def _static_box(p: Any, client: int, half_extents: tuple[float, float, float],
                center: tuple[float, float, float]) -> None:
    shape = p.createCollisionShape(p.GEOM_BOX, halfExtents=half_extents, physicsClientId=client)
    p.createMultiBody(0.0, shape, basePosition=center, physicsClientId=client)


def _container(p: Any, client: int, config: SceneConfig) -> tuple[NDArray[np.float64], float]:
    """Static support bodies; returns the half extents (x, y) of the area to drop over and its floor z."""
    physics = config.objects.physics
    if config.table.enabled:
        tx, ty = config.table.size
        _static_box(p, client, (tx / 2, ty / 2, config.table.thickness / 2), (0, 0, -config.table.thickness / 2))
    if physics.container == "table":
        return np.array(config.table.size) / 2.0, 0.0
    x, y = physics.tray_size
    h, w = physics.wall_height, TRAY_WALL
    _static_box(p, client, (x / 2, y / 2, w / 2), (0, 0, w / 2))
    for sign in (-1, 1):
        _static_box(p, client, (x / 2, w / 2, (h - w) / 2), (0, sign * (y - w) / 2, w + (h - w) / 2))
        _static_box(p, client, (w / 2, y / 2 - w, (h - w) / 2), (sign * (x - w) / 2, 0, w + (h - w) / 2))
    return np.array([x / 2 - w, y / 2 - w]), w


def drop_and_settle(config: SceneConfig, catalog: AssetCatalog, rng: np.random.Generator,
                    drafts: list[Draft]) -> list[tuple[Draft, NDArray[np.float64]]]:
    """Object poses (4x4, object_to_world of the scaled mesh) after the drafts fell and settled."""
    p = require_pybullet()
    physics = config.objects.physics
    client = p.connect(p.DIRECT)
    try:
        p.setGravity(0, 0, -9.81, physicsClientId=client)
        p.setTimeStep(TIME_STEP, physicsClientId=client)
        half, floor = _container(p, client, config)
        bodies = []
        height = floor + config.objects.physics.wall_height if physics.container == "tray" else floor
        for draft in drafts:
            hull = catalog.mesh(draft.asset.source).convex_hull
            vertices = hull.vertices * draft.scale
            if config.objects.pose == "free":
                rotation = Rotation.random(random_state=rng)
            else:
                yaw = Rotation.from_euler("z", rng.uniform(0, 2 * np.pi))
                rotation = yaw * Rotation.from_matrix(resting_rotation(config, catalog, rng, draft.asset.source))
            radius = float(np.linalg.norm(vertices, axis=1).max())
            room = np.maximum(half - radius, 0.0)
            xy = rng.uniform(-1, 1, 2) * room
            # Start each object above the previous ones so that none overlap when the simulation starts.
            height += 2 * radius + 0.01
            start = (float(xy[0]), float(xy[1]), height + float(physics.drop_height.sample(rng)))
            shape = p.createCollisionShape(p.GEOM_MESH, vertices=vertices.tolist(), physicsClientId=client)
            mass = max(float(hull.volume) * draft.scale**3 * DENSITY, 1e-3)
            body = p.createMultiBody(mass, shape, basePosition=start, baseOrientation=rotation.as_quat().tolist(),
                                     physicsClientId=client)
            p.changeDynamics(body, -1, lateralFriction=0.7, rollingFriction=0.001, spinningFriction=0.001,
                             physicsClientId=client)
            bodies.append((draft, body))
        for _ in range(int(round(physics.settle_seconds / TIME_STEP))):
            p.stepSimulation(physicsClientId=client)
        placed = []
        for draft, body in bodies:
            position, quaternion = p.getBasePositionAndOrientation(body, physicsClientId=client)
            if position[2] < LOST_BELOW:
                continue
            pose = np.eye(4)
            pose[:3, :3] = Rotation.from_quat(quaternion).as_matrix()
            pose[:3, 3] = position
            placed.append((draft, pose))
        return placed
    finally:
        p.disconnect(physicsClientId=client)


def simulate_throws(config: SceneConfig, catalog: AssetCatalog,
                    throws: list[tuple[Any, NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]],
                    times: NDArray[np.float64], obstacles: tuple[Any, ...] = ()) -> list[NDArray[np.float64]]:
    """Bodies thrown from given poses with given linear and angular velocities (world, m/s and rad/s),
    simulated with the supports of the scene; per body its (len(times), 4, 4) object_to_world at the
    given times (seconds from the start, increasing). ``throws``: (ObjectDescription, start pose,
    velocity, spin). ``obstacles``: objects that stay where they are and are hit as their exact
    (concave) surface, such as people (in the pose they have at the start)."""
    p = require_pybullet()
    client = p.connect(p.DIRECT)
    try:
        p.setGravity(0, 0, -9.81, physicsClientId=client)
        p.setTimeStep(TIME_STEP, physicsClientId=client)
        _container(p, client, config)
        for obj in obstacles:
            mesh = catalog.mesh(obj.mesh)
            shape = p.createCollisionShape(p.GEOM_MESH, vertices=(np.asarray(mesh.vertices) * obj.scale).tolist(),
                                           indices=np.asarray(mesh.faces).ravel().tolist(),
                                           flags=p.GEOM_FORCE_CONCAVE_TRIMESH, physicsClientId=client)
            place = np.asarray(obj.object_to_world, dtype=float)
            body = p.createMultiBody(0.0, shape, basePosition=place[:3, 3].tolist(),
                                     baseOrientation=Rotation.from_matrix(place[:3, :3]).as_quat().tolist(),
                                     physicsClientId=client)
            p.changeDynamics(body, -1, lateralFriction=0.7, restitution=0.3, physicsClientId=client)
        bodies = []
        for obj, start, velocity, spin in throws:
            hull = catalog.mesh(obj.mesh).convex_hull
            vertices = hull.vertices * obj.scale
            shape = p.createCollisionShape(p.GEOM_MESH, vertices=vertices.tolist(), physicsClientId=client)
            mass = max(float(hull.volume) * obj.scale**3 * DENSITY, 1e-3)
            quaternion = Rotation.from_matrix(start[:3, :3]).as_quat().tolist()
            body = p.createMultiBody(mass, shape, basePosition=start[:3, 3].tolist(), baseOrientation=quaternion,
                                     physicsClientId=client)
            p.changeDynamics(body, -1, lateralFriction=0.7, rollingFriction=0.001, spinningFriction=0.001,
                             restitution=0.3, physicsClientId=client)
            p.resetBaseVelocity(body, linearVelocity=velocity.tolist(), angularVelocity=spin.tolist(),
                                physicsClientId=client)
            bodies.append(body)
        poses = [np.empty((len(times), 4, 4)) for _ in bodies]
        step = 0
        for k, t in enumerate(times):
            while step < int(round(float(t) / TIME_STEP)):
                p.stepSimulation(physicsClientId=client)
                step += 1
            for body, track in zip(bodies, poses, strict=True):
                position, quaternion = p.getBasePositionAndOrientation(body, physicsClientId=client)
                track[k] = np.eye(4)
                track[k, :3, :3] = Rotation.from_quat(quaternion).as_matrix()
                track[k, :3, 3] = position
        return poses
    finally:
        p.disconnect(physicsClientId=client)
