"""Body poses: per-bone joint limits, a library of named poses, and a sampler that blends two of them,
adds per-joint jitter and never leaves the limits. Pure numpy (no body model needed).

A pose is {bone: (x, y, z) degrees}: the bone's rotation in anny's ``local-ref`` frame (axes of the rest
pose: x towards the body's left, y towards its back, z up), composed R = Rz @ Ry @ Rx. Limits are written
for the left side in that frame; a right-side bone mirrors them through the body's mid-plane (x kept, y and
z negated), so both sides bend the same way. Signs, left side: shoulder x < 0 raises the arm forwards,
y < 0 raises it sideways; elbow x < 0 flexes; hip x < 0 flexes (thigh forwards), y < 0 abducts; knee x > 0
flexes; spine and neck x > 0 bend forwards. Adduction (arm towards the torso) is limited so that a sampled
arm stays outside the torso (tests/test_people.py checks it over sampled poses).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from renderer.config.people import POSE_NAMES

Angles = tuple[float, float, float]
Pose = dict[str, Angles]

# Left-side (and midline) limits, degrees: ((x lo, x hi), (y lo, y hi), (z lo, z hi)).
LEFT_LIMITS: dict[str, tuple[tuple[float, float], tuple[float, float], tuple[float, float]]] = {
    "root": ((-90.0, 90.0), (-90.0, 90.0), (-180.0, 180.0)),
    "spine05": ((-10.0, 30.0), (-10.0, 10.0), (-15.0, 15.0)),
    "spine03": ((-10.0, 25.0), (-10.0, 10.0), (-15.0, 15.0)),
    "spine01": ((-10.0, 20.0), (-8.0, 8.0), (-10.0, 10.0)),
    "neck01": ((-30.0, 40.0), (-25.0, 25.0), (-45.0, 45.0)),
    "head": ((-20.0, 25.0), (-15.0, 15.0), (-30.0, 30.0)),
    "upperarm01.L": ((-165.0, 50.0), (-135.0, 32.0), (-45.0, 35.0)),
    "lowerarm01.L": ((-125.0, 35.0), (-10.0, 10.0), (-10.0, 10.0)),
    "wrist.L": ((-60.0, 60.0), (-20.0, 30.0), (-20.0, 20.0)),
    "upperleg01.L": ((-120.0, 25.0), (-45.0, 12.0), (-40.0, 40.0)),
    "lowerleg01.L": ((0.0, 150.0), (-5.0, 5.0), (-5.0, 5.0)),
    "foot.L": ((-30.0, 45.0), (-15.0, 15.0), (-15.0, 15.0)),
}


def _mirror(angles: Angles) -> Angles:
    return (angles[0], -angles[1], -angles[2])


def _limits() -> dict[str, NDArray[np.float64]]:
    out = {}
    for bone, ((xl, xh), (yl, yh), (zl, zh)) in LEFT_LIMITS.items():
        out[bone] = np.array([[xl, xh], [yl, yh], [zl, zh]], dtype=float)
        if bone.endswith(".L"):  # mirrored: y and z negated, so their intervals flip
            out[bone[:-2] + ".R"] = np.array([[xl, xh], [-yh, -yl], [-zh, -zl]], dtype=float)
    return out


JOINT_LIMITS = _limits()  # bone -> (3, 2) [lo, hi] degrees, both sides
JOINTS = tuple(JOINT_LIMITS)  # the bones a pose sets, in a fixed order


def _both(left: Mapping[str, Angles], right: Mapping[str, Angles] | None = None, **midline: Angles) -> Pose:
    """A pose from its left-side angles (mirrored onto the right unless ``right`` says otherwise)."""
    pose: Pose = {}
    for bone, angles in left.items():
        pose[bone + ".L"] = angles
        pose[bone + ".R"] = _mirror(angles)
    for bone, angles in (right or {}).items():
        pose[bone + ".R"] = _mirror(angles)  # written as its left-side mirror image
    pose.update({bone: angles for bone, angles in midline.items()})
    return pose


ARMS_DOWN = {"upperarm01": (0.0, 28.0, 0.0), "lowerarm01": (10.0, 0.0, 0.0)}
NAMED_POSES: dict[str, Pose] = {
    "t_pose": _both({"upperarm01": (0.0, -45.0, 0.0), "lowerarm01": (35.0, 0.0, 0.0)}),
    "standing": _both(ARMS_DOWN),
    "walking": _both({"upperarm01": (22.0, 26.0, 0.0), "lowerarm01": (-15.0, 0.0, 0.0),
                      "upperleg01": (-22.0, 0.0, 0.0), "lowerleg01": (12.0, 0.0, 0.0), "foot": (5.0, 0.0, 0.0)},
                     right={"upperarm01": (-22.0, 26.0, 0.0), "lowerarm01": (-30.0, 0.0, 0.0),
                            "upperleg01": (15.0, 0.0, 0.0), "lowerleg01": (35.0, 0.0, 0.0),
                            "foot": (-10.0, 0.0, 0.0)}),
    "sitting": _both({"upperarm01": (-20.0, 26.0, 0.0), "lowerarm01": (-30.0, 0.0, 0.0),
                      "upperleg01": (-88.0, -8.0, 0.0), "lowerleg01": (8.0, 0.0, 0.0)},
                     spine05=(8.0, 0.0, 0.0)),
    "arms_raised": _both({"upperarm01": (-150.0, 12.0, 0.0), "lowerarm01": (25.0, 0.0, 0.0)}),
    "crouching": _both({"upperarm01": (-55.0, 20.0, 0.0), "lowerarm01": (-40.0, 0.0, 0.0),
                        "upperleg01": (-105.0, -10.0, 0.0), "lowerleg01": (125.0, 0.0, 0.0),
                        "foot": (-25.0, 0.0, 0.0)},
                       spine05=(20.0, 0.0, 0.0), spine03=(10.0, 0.0, 0.0)),
    "lying": _both(ARMS_DOWN, root=(-90.0, 0.0, 0.0)),
    "waving": _both({"upperarm01": (-10.0, -75.0, 0.0), "lowerarm01": (-95.0, 0.0, 0.0)},
                    right=ARMS_DOWN),
}
assert set(NAMED_POSES) == set(POSE_NAMES), "every pose name of the config has a pose here"


def clip_to_limits(pose: Mapping[str, Angles]) -> Pose:
    """The pose with every bone's angles clipped to JOINT_LIMITS (bones outside the table refused)."""
    out: Pose = {}
    for bone, angles in pose.items():
        limits = JOINT_LIMITS.get(bone)
        if limits is None:
            raise ValueError(f"pose: bone {bone!r} has no joint limits")
        clipped = np.clip(np.asarray(angles, dtype=float), limits[:, 0], limits[:, 1])
        out[bone] = (float(clipped[0]), float(clipped[1]), float(clipped[2]))
    return out


def as_vector(pose: Mapping[str, Angles]) -> NDArray[np.float64]:
    """(len(JOINTS), 3) degrees; bones not in the pose at rest (0)."""
    out = np.zeros((len(JOINTS), 3))
    for bone, angles in pose.items():
        out[JOINTS.index(bone)] = angles
    return out


def sample_pose(rng: np.random.Generator, first: str, second: str, blend: float, jitter_deg: float) -> Pose:
    """``first`` blended towards ``second`` by ``blend`` (linear in the angles), plus N(0, jitter_deg) on
    every non-root joint angle, clipped to the limits. Every bone of JOINTS is set, in that order."""
    a, b = as_vector(NAMED_POSES[first]), as_vector(NAMED_POSES[second])
    angles = (1.0 - blend) * a + blend * b
    noise = rng.normal(0.0, jitter_deg, size=angles.shape) if jitter_deg > 0 else np.zeros_like(angles)
    noise[JOINTS.index("root")] = 0.0
    return clip_to_limits({bone: tuple(angles[k] + noise[k]) for k, bone in enumerate(JOINTS)})  # type: ignore[misc]


def rotation_xyz(angles_deg: Angles | NDArray[np.float64]) -> NDArray[np.float64]:
    """R = Rz @ Ry @ Rx of (x, y, z) degrees."""
    x, y, z = np.deg2rad(np.asarray(angles_deg, dtype=float))
    cx, sx, cy, sy, cz, sz = np.cos(x), np.sin(x), np.cos(y), np.sin(y), np.cos(z), np.sin(z)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


def angles_xyz(rotation: NDArray[np.float64]) -> NDArray[np.float64]:
    """(x, y, z) degrees of R = Rz @ Ry @ Rx (y in [-90, 90]): rotation_xyz's inverse."""
    r = np.asarray(rotation, dtype=float)
    y = np.arcsin(np.clip(-r[2, 0], -1.0, 1.0))
    x = np.arctan2(r[2, 1], r[2, 2])
    z = np.arctan2(r[1, 0], r[0, 0])
    return np.rad2deg(np.array([x, y, z]))
