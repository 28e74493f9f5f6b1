"""Sequences: frame t of sequence s is the scene drawn for s, moved to time t / fps.

With ``sequence.length`` L > 1, dataset frame i is frame t = i % L of sequence s = i // L. The sequence's
scene is drawn by ``sample_frame`` from the streams of key s (so each sequence has its own streams), its
motion from the ``motion`` stream of the same key; a frame's description depends on (seed, s, t) alone,
so frame t made alone equals frame t of a full run. Camera and kinematic motion are closed forms of t;
physical motion is a pybullet simulation from the sequence's start, sampled at the frame times (cached
per process: the frames of one sequence share one simulation).

Objects keep their place in the frame's object list, so instance ids are stable through a sequence.
Lights may orbit the target (``sequence.lights``); supports (table, tray) and the environment do not move.
"""

from __future__ import annotations

import dataclasses
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from renderer.caching import LruCache
from renderer.config.schema import SceneConfig
from renderer.scene.description import BodyDescription, FrameDescription, MeshSource, SequenceTime, as_matrix
from renderer.scene.geometry import look_at_world_to_camera, rigid_inverse
from renderer.seeding import randomizer_rng

if TYPE_CHECKING:
    from renderer.assets.catalog import AssetCatalog

Array = NDArray[np.float64]
SHAKE_HZ = (0.7, 1.9, 3.1)  # hand-held shake: a sum of sinusoids per axis at these frequencies


@dataclass(frozen=True)
class SequenceMotion:
    """The motion of one sequence: per moving object its poses at the frame times, and the camera's."""

    object_poses: dict[int, Array]  # position in the object list -> (L, 4, 4) object_to_world
    camera_poses: Array  # (L, 4, 4) world_to_camera
    camera_K: Array  # (L, 3, 3) intrinsics (a zoom changes them)
    light_poses: Array  # (L, lights, 4, 4) light_to_world
    bodies: dict[int, tuple[BodyDescription, ...]] = dataclasses.field(default_factory=dict)  # animated people


def sequence_position(config: SceneConfig, index: int) -> tuple[int, int]:
    """(sequence, time index) of dataset frame ``index``."""
    return divmod(index, config.sequence.length)


def describe_frame(config: SceneConfig, catalog: AssetCatalog, *, seed: int, index: int,
                   attempt: int = 0) -> FrameDescription:
    """The description of dataset frame ``index``: a still (sample_frame) or a frame of a sequence."""
    from renderer.sampling.frame import sample_frame

    if config.sequence.length == 1:
        return sample_frame(config, catalog, seed=seed, index=index, attempt=attempt)
    sequence, time_index = sequence_position(config, index)
    return frame_at(config, catalog, seed=seed, sequence=sequence, time_index=time_index)


def frame_at(config: SceneConfig, catalog: AssetCatalog, *, seed: int, sequence: int,
             time_index: int) -> FrameDescription:
    """Frame ``time_index`` of sequence ``sequence`` (dataset frame sequence * length + time_index)."""
    length = config.sequence.length
    if not 0 <= time_index < length:
        raise ValueError(f"time index {time_index} is outside the sequence of {length} frames")
    base, motion = _sequence(config, catalog, seed, sequence)
    objects = tuple(
        dataclasses.replace(obj, object_to_world=as_matrix(motion.object_poses[k][time_index]))
        if k in motion.object_poses else obj
        for k, obj in enumerate(base.objects))
    objects = tuple(dataclasses.replace(obj, mesh=MeshSource("body", body=motion.bodies[k][time_index]))
                    if k in motion.bodies else obj for k, obj in enumerate(objects))
    camera = dataclasses.replace(base.camera, world_to_camera=as_matrix(motion.camera_poses[time_index]),
                                 K=as_matrix(motion.camera_K[time_index]))
    lights = tuple(dataclasses.replace(light, light_to_world=as_matrix(motion.light_poses[time_index, k]))
                   for k, light in enumerate(base.lights))
    return dataclasses.replace(base, index=sequence * length + time_index, objects=objects, camera=camera,
                               lights=lights, sequence=SequenceTime(sequence, time_index, length, config.sequence.fps))


def neighbours(config: SceneConfig, catalog: AssetCatalog, frame: FrameDescription, *,
               seed: int) -> tuple[FrameDescription | None, FrameDescription | None]:
    """The frames before and after ``frame`` in its sequence (None at either end, and for stills)."""
    if frame.sequence is None:
        return None, None
    s, t = frame.sequence.index, frame.sequence.time_index
    before = frame_at(config, catalog, seed=seed, sequence=s, time_index=t - 1) if t > 0 else None
    after = frame_at(config, catalog, seed=seed, sequence=s, time_index=t + 1) if t + 1 < frame.sequence.length \
        else None
    return before, after


def shutter_instants(shutter: float, rolling: float, samples: int) -> NDArray[np.float64]:
    """The instants (fractions of the frame interval, 0 = the frame) a frame is rendered at: spread evenly
    over the open shutter, widened by a rolling shutter's readout."""
    return np.asarray((shutter + rolling) * ((np.arange(samples) + 0.5) / samples - 0.5), dtype=np.float64)


def shutter_frames(frame: FrameDescription, before: FrameDescription | None, after: FrameDescription | None,
                   shutter: float, samples: int, rolling: float = 0.0) -> list[FrameDescription]:
    """The frame at the ``samples`` instants of shutter_instants (``shutter`` and ``rolling`` fractions of
    the frame interval): each object's pose and the camera's moved along the screw motion to the next
    frame (forward in time) or from the previous one (backward), extrapolated from the other neighbour at
    a sequence's ends. People keep the mid-time body, moved with their pose."""
    offsets = shutter_instants(shutter, rolling, samples)
    out = []
    for tau in offsets:
        other, sign = (after, 1.0) if (tau >= 0 and after is not None) or before is None else (before, -1.0)
        if other is None:
            out.append(frame)
            continue
        fraction = float(tau) * sign  # the fraction of the way to ``other`` (negative: away from it)
        objects = tuple(dataclasses.replace(obj, object_to_world=as_matrix(_screw(
            np.asarray(obj.object_to_world), np.asarray(o.object_to_world), fraction)))
            for obj, o in zip(frame.objects, other.objects, strict=True))
        camera_to_world = _screw(rigid_inverse(np.asarray(frame.camera.world_to_camera)),
                                 rigid_inverse(np.asarray(other.camera.world_to_camera)), fraction)
        camera = dataclasses.replace(frame.camera, world_to_camera=as_matrix(rigid_inverse(camera_to_world)))
        out.append(dataclasses.replace(frame, objects=objects, camera=camera))
    return out


def _screw(start: Array, end: Array, fraction: float) -> Array:
    """The rigid pose ``fraction`` of the way from start to end (rotation by slerp, translation linear)."""
    delta = end[:3, :3] @ start[:3, :3].T
    turn = Rotation.from_rotvec(Rotation.from_matrix(delta).as_rotvec() * fraction).as_matrix()
    pose = np.eye(4)
    pose[:3, :3] = turn @ start[:3, :3]
    pose[:3, 3] = start[:3, 3] + fraction * (end[:3, 3] - start[:3, 3])
    return pose


# The last few sequences' base frames and motion, per catalog (the catalog's meshes and people shape them):
# a sequence's frames are drawn one after another, and workers interleave a few sequences at most. Held
# weakly by catalog, so a catalog's sequences go with it (and never answer for a later catalog).
KEPT_SEQUENCES = 4
_SEQUENCES: weakref.WeakKeyDictionary[AssetCatalog, LruCache[tuple[SceneConfig, int, int],
                                                             tuple[FrameDescription, SequenceMotion]]] = \
    weakref.WeakKeyDictionary()


def _sequence(config: SceneConfig, catalog: AssetCatalog, seed: int,
              sequence: int) -> tuple[FrameDescription, SequenceMotion]:
    cache = _SEQUENCES.get(catalog)
    if cache is None:
        cache = _SEQUENCES[catalog] = LruCache(KEPT_SEQUENCES)
    return cache.get_or_make((config, seed, sequence), lambda: _draw_sequence(config, catalog, seed, sequence))


def _draw_sequence(config: SceneConfig, catalog: AssetCatalog, seed: int,
                   sequence: int) -> tuple[FrameDescription, SequenceMotion]:
    from renderer.sampling.frame import sample_frame

    base = sample_frame(config, catalog, seed=seed, index=sequence)
    rng = randomizer_rng(seed, sequence, "motion")
    # (spawning more streams leaves the first ones as they were: camera, objects, lights, people)
    camera_rng, object_rng, light_rng, people_rng = rng.spawn(4)
    times = np.arange(config.sequence.length) / config.sequence.fps
    poses = _camera_poses(config, base, camera_rng, times)
    object_poses = _object_poses(config, catalog, base, object_rng, times)
    bodies, walked = _people_motion(config, base, people_rng, times)
    return base, SequenceMotion(object_poses={**object_poses, **walked}, camera_poses=poses,
                                camera_K=_zoomed(config, base, camera_rng, times),
                                light_poses=_light_poses(config, base, light_rng, times), bodies=bodies)


# -- camera and lights ----------------------------------------------------------------------------------

def _about_target(config: SceneConfig, angle: float) -> Array:
    """The rigid turn by ``angle`` (rad) about the vertical axis through the camera target."""
    target = np.array(config.camera.target, dtype=float)
    turn = np.eye(4)
    turn[:3, :3] = Rotation.from_rotvec([0.0, 0.0, angle]).as_matrix()
    turn[:3, 3] = target - turn[:3, :3] @ target
    return turn


def _light_poses(config: SceneConfig, base: FrameDescription, rng: np.random.Generator, times: Array) -> Array:
    motion = config.sequence.lights
    kind = motion.kind.sample(rng)
    start = np.array([np.asarray(light.light_to_world, dtype=float) for light in base.lights]).reshape(-1, 4, 4)
    poses = np.repeat(start[None], len(times), axis=0)
    if kind == "orbit":
        for j in range(len(base.lights)):
            speed = np.deg2rad(float(motion.orbit_speed_deg.sample(rng)))
            for k, t in enumerate(times):
                poses[k, j] = _about_target(config, speed * t) @ start[j]
    return poses


def _camera_poses(config: SceneConfig, base: FrameDescription, rng: np.random.Generator, times: Array) -> Array:
    motion = config.sequence.camera
    kind = motion.kind.sample(rng)
    start = np.asarray(base.camera.world_to_camera, dtype=float)
    camera_to_world = rigid_inverse(start)
    target = np.array(config.camera.target, dtype=float)
    poses = np.empty((len(times), 4, 4))
    if kind == "orbit":
        speed = np.deg2rad(float(motion.orbit_speed_deg.sample(rng)))
        for k, t in enumerate(times):
            poses[k] = rigid_inverse(_about_target(config, speed * t) @ camera_to_world)
    elif kind == "dolly":
        speed = float(motion.dolly_speed.sample(rng))
        forward = camera_to_world[:3, 2]
        for k, t in enumerate(times):
            moved = camera_to_world.copy()
            moved[:3, 3] += forward * speed * t
            poses[k] = rigid_inverse(moved)
    elif kind == "spline":
        from renderer.sampling.randomizers.camera import camera_description

        eye0 = camera_to_world[:3, 3]
        keys = [eye0] + [rigid_inverse(np.asarray(camera_description(config, rng).world_to_camera))[:3, 3]
                         for _ in range(motion.keyframes - 1)]
        duration = max(float(times[-1]), 1e-9)
        for k, t in enumerate(times):
            poses[k] = look_at_world_to_camera(_catmull_rom(np.array(keys), t / duration), target)
    elif kind == "stereo":  # a rectified rig: the same orientation, shifted along the camera's own x
        baseline = float(motion.baseline.sample(rng))
        for k in range(len(times)):
            moved = camera_to_world.copy()
            moved[:3, 3] += camera_to_world[:3, 0] * baseline * k
            poses[k] = rigid_inverse(moved)
    else:  # static
        poses[:] = start
    roll_speed = np.deg2rad(float(motion.roll_speed_deg.sample(rng)))
    shake = np.deg2rad(float(motion.shake_deg.sample(rng)))
    phases = rng.uniform(0.0, 2 * np.pi, size=(3, len(SHAKE_HZ)))
    for k, t in enumerate(times):
        turn = Rotation.from_rotvec([0.0, 0.0, -roll_speed * t])  # about the optical axis
        if shake > 0:
            angles = shake * np.sin(2 * np.pi * np.asarray(SHAKE_HZ) * t + phases).sum(axis=1) / len(SHAKE_HZ)
            turn = Rotation.from_rotvec(angles) * turn
        rotate = np.eye(4)
        rotate[:3, :3] = turn.as_matrix()
        poses[k] = rotate @ poses[k]
    return poses


def _zoomed(config: SceneConfig, base: FrameDescription, rng: np.random.Generator, times: Array) -> Array:
    """Intrinsics per frame: focal lengths scaled so the vertical field of view changes at the zoom speed
    (principal point kept)."""
    K = np.asarray(base.camera.K, dtype=float)
    rate = np.deg2rad(float(config.sequence.camera.zoom_speed_deg.sample(rng)))
    half_height = base.camera.height / 2
    fov0 = 2 * np.arctan(half_height / K[1, 1])
    out = np.repeat(K[None], len(times), axis=0)
    if rate:
        fov = np.clip(fov0 + rate * times, np.deg2rad(1.0), np.deg2rad(170.0))
        factor = np.tan(fov0 / 2) / np.tan(fov / 2)
        out[:, 0, :2] *= factor[:, None]
        out[:, 1, 1] *= factor
    return out


def _catmull_rom(points: Array, u: float) -> Array:
    """A point of the uniform Catmull-Rom curve through ``points`` at u in [0, 1]."""
    n = len(points)
    padded = np.concatenate([points[:1] * 2 - points[1:2], points, points[-1:] * 2 - points[-2:-1]])
    x = min(max(u, 0.0), 1.0) * (n - 1)
    i = min(int(x), n - 2)
    f = x - i
    p0, p1, p2, p3 = padded[i], padded[i + 1], padded[i + 2], padded[i + 3]
    return np.asarray(0.5 * ((2 * p1) + (-p0 + p2) * f + (2 * p0 - 5 * p1 + 4 * p2 - p3) * f**2
                             + (-p0 + 3 * p1 - 3 * p2 + p3) * f**3), dtype=float)


# -- objects ------------------------------------------------------------------------------------------

def _moving(config: SceneConfig, base: FrameDescription) -> list[int]:
    from renderer.sampling.randomizers.supports import support_sources

    supports = set(support_sources(config))
    return [k for k, obj in enumerate(base.objects) if obj.asset_id not in supports and obj.mesh.kind != "body"]


def _object_poses(config: SceneConfig, catalog: AssetCatalog, base: FrameDescription, rng: np.random.Generator,
                  times: Array) -> dict[int, Array]:
    motion = config.sequence.objects
    kind = motion.kind.sample(rng)
    moving = _moving(config, base)
    if kind == "static" or not moving:
        return {}
    upright = config.objects.pose != "free"
    in_air = config.objects.placement == "air"
    spins = []
    for _ in moving:
        axis = np.array([0.0, 0.0, 1.0]) if upright else _unit(rng)
        spins.append(axis * np.deg2rad(float(motion.spin_deg.sample(rng))))
    if kind == "physics":
        from renderer.sampling.physics import simulate_throws

        throws = []
        for k, spin in zip(moving, spins, strict=True):
            heading = rng.uniform(0.0, 2 * np.pi)
            velocity = float(motion.throw_speed.sample(rng)) * np.array([np.cos(heading), np.sin(heading), 0.0])
            start = np.array(base.objects[k].object_to_world, dtype=float)
            start[2, 3] += float(motion.drop_height.sample(rng))
            throws.append((base.objects[k], start, velocity, spin))
        people = tuple(obj for obj in base.objects if obj.mesh.kind == "body")
        return dict(zip(moving, simulate_throws(config, catalog, throws, times, obstacles=people), strict=True))
    poses = {}
    for k, spin in zip(moving, spins, strict=True):
        direction = _unit(rng) if in_air else _horizontal(rng)
        velocity = direction * float(motion.speed.sample(rng))
        poses[k] = kinematic_poses(np.array(base.objects[k].object_to_world, dtype=float), velocity, spin, times)
    return poses


# -- people -------------------------------------------------------------------------------------------

def _people_motion(config: SceneConfig, base: FrameDescription, rng: np.random.Generator,
                   times: Array) -> tuple[dict[int, tuple[BodyDescription, ...]], dict[int, Array]]:
    """Per animated person (position in the object list): its body at each frame time, and where it
    walks to (poses), both empty when people are static."""
    from renderer.humans.poses import JOINTS, sample_pose

    motion = config.sequence.people
    people = [k for k, obj in enumerate(base.objects) if obj.mesh.kind == "body" and obj.mesh.body is not None]
    if not people or motion.kind.sample(rng) == "static":
        return {}, {}
    duration = float(times[-1]) if len(times) else 0.0
    bodies: dict[int, tuple[BodyDescription, ...]] = {}
    walked: dict[int, Array] = {}
    for k in people:
        obj = base.objects[k]
        body = obj.mesh.body
        assert body is not None
        period = float(motion.pose_period.sample(rng))
        keys = [np.array([dict(body.joints)[bone] for bone in JOINTS], dtype=float)]
        names = [body.attributes.pose]
        for _ in range(int(np.ceil(duration / period)) + 1):
            first, second = str(config.people.poses.sample(rng)), str(config.people.poses.sample(rng))
            blend = float(config.people.pose_blend.sample(rng))
            pose = sample_pose(rng, first, second, blend, config.people.pose_jitter_deg)
            keys.append(np.array([pose[bone] for bone in JOINTS], dtype=float))
            names.append(first if blend < 0.5 else second)
        frames = []
        for t in times:
            j, f = divmod(float(t) / period, 1.0)
            eased = f * f * (3.0 - 2.0 * f)  # smoothstep: still at every key pose
            angles = (1.0 - eased) * keys[int(j)] + eased * keys[int(j) + 1]
            name = names[int(j) + (eased >= 0.5)]
            joints = tuple((bone, (float(a[0]), float(a[1]), float(a[2])))
                           for bone, a in zip(JOINTS, angles, strict=True))
            frames.append(dataclasses.replace(body, joints=joints,
                                              attributes=dataclasses.replace(body.attributes, pose=name)))
        bodies[k] = tuple(frames)
        speed = float(motion.walk_speed.sample(rng))
        if speed > 0:
            start = np.array(obj.object_to_world, dtype=float)
            facing = start[:3, :3] @ np.array([0.0, -1.0, 0.0])  # the body's front is its -y
            facing[2] = 0.0
            walked[k] = kinematic_poses(start, speed * facing / max(float(np.linalg.norm(facing)), 1e-12),
                                        np.zeros(3), times)
    return bodies, walked


def kinematic_poses(start: Array, velocity: Array, spin: Array, times: Array) -> Array:
    """(L, 4, 4) poses of a body moving at constant ``velocity`` (m/s, world) and angular velocity ``spin``
    (rad/s, world axis times rate, about the object's origin) from ``start`` at the given times."""
    poses = np.repeat(start[None], len(times), axis=0)
    for k, t in enumerate(times):
        poses[k, :3, :3] = Rotation.from_rotvec(spin * t).as_matrix() @ start[:3, :3]
        poses[k, :3, 3] = start[:3, 3] + velocity * t
    return poses


def _unit(rng: np.random.Generator) -> Array:
    v = rng.normal(size=3)
    return np.asarray(v / max(float(np.linalg.norm(v)), 1e-12), dtype=np.float64)


def _horizontal(rng: np.random.Generator) -> Array:
    heading = rng.uniform(0.0, 2 * np.pi)
    return np.array([np.cos(heading), np.sin(heading), 0.0])
