"""Sequences (``sequence:``): length, frame rate, shutter, and how the camera, objects, lights and people
move (renderer.sampling.motion draws it). docs/scenes.md says what each key means."""

from __future__ import annotations

from dataclasses import dataclass

from renderer.config.checks import MAX_LENGTH, MAX_SETTLE_SECONDS, MIN_LENGTH, FloatDist, WordDist, within, words
from renderer.config.distributions import constant, uniform

CAMERA_MOTIONS = ("static", "orbit", "dolly", "spline", "stereo")
OBJECT_MOTIONS = ("static", "kinematic", "physics")
LIGHT_MOTIONS = ("static", "orbit")
PEOPLE_MOTIONS = ("static", "animate")
MAX_WALK_SPEED = 5.0  # m/s
MAX_SEQUENCE_LENGTH = 10_000
MAX_SPEED = 100.0  # m/s
MAX_SPIN_DEG = 36_000.0  # deg/s


@dataclass(frozen=True)
class CameraMotionConfig:
    """How the camera moves through a sequence (renderer.sampling.motion). static; orbit: about the vertical
    axis through the target at ``orbit_speed_deg`` deg/s; dolly: along its line of sight at
    ``dolly_speed`` m/s (positive = towards the target); spline: a smooth path through ``keyframes``
    poses drawn as a still camera is, evenly spread over the sequence. Any kind adds hand-held
    ``shake_deg`` (amplitude of a smooth random rotation), a roll of ``roll_speed_deg`` deg/s and a zoom:
    the vertical field of view changing by ``zoom_speed_deg`` deg/s (kept within [1, 170] degrees).
    stereo: a rectified rig, frame k of the sequence the first camera moved ``baseline`` metres k times
    along its own x axis (right); with length 2, a left/right pair (docs/conditions.md)."""

    kind: WordDist = constant("static")
    orbit_speed_deg: FloatDist = uniform(-30.0, 30.0)
    dolly_speed: FloatDist = uniform(-0.1, 0.1)
    keyframes: int = 4
    shake_deg: FloatDist = constant(0.0)
    roll_speed_deg: FloatDist = constant(0.0)
    zoom_speed_deg: FloatDist = constant(0.0)
    baseline: FloatDist = constant(0.12)

    def __post_init__(self) -> None:
        words("kind", self.kind, CAMERA_MOTIONS)
        within("baseline", self.baseline, MIN_LENGTH, MAX_LENGTH)
        within("zoom_speed_deg", self.zoom_speed_deg, -MAX_SPIN_DEG, MAX_SPIN_DEG)
        within("orbit_speed_deg", self.orbit_speed_deg, -MAX_SPIN_DEG, MAX_SPIN_DEG)
        within("dolly_speed", self.dolly_speed, -MAX_SPEED, MAX_SPEED)
        within("shake_deg", self.shake_deg, 0.0, 45.0)
        within("roll_speed_deg", self.roll_speed_deg, -MAX_SPIN_DEG, MAX_SPIN_DEG)
        if not 2 <= self.keyframes <= 100:
            raise ValueError(f"keyframes: {self.keyframes} is outside [2, 100]")


@dataclass(frozen=True)
class ObjectMotionConfig:
    """How objects move through a sequence (renderer.sampling.motion). static; kinematic: constant linear
    velocity of ``speed`` m/s (horizontal for objects resting on a support, any direction in the air)
    and spin of ``spin_deg`` deg/s (about the vertical for upright poses, any axis for free ones);
    physics: dropped from ``drop_height`` above where they were drawn, thrown sideways at
    ``throw_speed`` m/s with that spin, and simulated with pybullet (the MOVi set-up), the simulation
    sampled at the frame times. Supports (table, tray) never move."""

    kind: WordDist = constant("static")
    speed: FloatDist = uniform(0.0, 0.2)
    spin_deg: FloatDist = uniform(0.0, 90.0)
    throw_speed: FloatDist = uniform(0.0, 1.0)
    drop_height: FloatDist = uniform(0.05, 0.3)

    def __post_init__(self) -> None:
        words("kind", self.kind, OBJECT_MOTIONS)
        within("speed", self.speed, 0.0, MAX_SPEED)
        within("spin_deg", self.spin_deg, 0.0, MAX_SPIN_DEG)
        within("throw_speed", self.throw_speed, 0.0, MAX_SPEED)
        within("drop_height", self.drop_height, 0.0, MAX_LENGTH)


@dataclass(frozen=True)
class LightMotionConfig:
    """How lights move through a sequence (renderer.sampling.motion). static; orbit: each light about the
    vertical axis through camera.target at its own ``orbit_speed_deg`` deg/s (drawn per light), so the
    shading and shadows move over still geometry. Labels do not depend on lights."""

    kind: WordDist = constant("static")
    orbit_speed_deg: FloatDist = uniform(-60.0, 60.0)

    def __post_init__(self) -> None:
        words("kind", self.kind, LIGHT_MOTIONS)
        within("orbit_speed_deg", self.orbit_speed_deg, -MAX_SPIN_DEG, MAX_SPIN_DEG)


@dataclass(frozen=True)
class PeopleMotionConfig:
    """How people move through a sequence (renderer.sampling.motion). static: as drawn; animate: each
    person goes from its drawn pose through further key poses (drawn as people.poses says), one every
    ``pose_period`` seconds (drawn per person), eased in and out, within the joint limits all the way
    (the angles are interpolated linearly between in-limit keys); ``walk_speed`` m/s carries them along
    the way they face. People are never moved by sequence.objects."""

    kind: WordDist = constant("static")
    pose_period: FloatDist = uniform(1.0, 2.0)
    walk_speed: FloatDist = constant(0.0)

    def __post_init__(self) -> None:
        words("kind", self.kind, PEOPLE_MOTIONS)
        within("pose_period", self.pose_period, 0.05, 600.0)
        within("walk_speed", self.walk_speed, 0.0, MAX_WALK_SPEED)


@dataclass(frozen=True)
class SequenceConfig:
    """Frames as sequences of ``length`` at ``fps`` (length 1: independent stills, the default).
    ``--frames`` still counts frames: frame i is frame i % length of sequence i // length. shutter: the
    fraction of the frame interval the shutter is open (0: sharp); the RGB image averages
    ``blur_samples`` renders over it (motion blur), the labels are the shutter's mid-time.
    rolling_shutter: the rows' readout time top to bottom, a fraction of the frame interval (0: global
    shutter): row r is exposed around (r / (H - 1) - 0.5) x rolling_shutter."""

    length: int = 1
    fps: float = 12.0
    shutter: float = 0.0
    blur_samples: int = 8
    rolling_shutter: float = 0.0
    camera: CameraMotionConfig = CameraMotionConfig()
    objects: ObjectMotionConfig = ObjectMotionConfig()
    lights: LightMotionConfig = LightMotionConfig()
    people: PeopleMotionConfig = PeopleMotionConfig()

    def __post_init__(self) -> None:
        if not 0.0 <= self.shutter <= 1.0:
            raise ValueError(f"shutter: {self.shutter:g} is outside [0, 1] (a fraction of the frame interval)")
        if not 0.0 <= self.rolling_shutter <= 1.0:
            raise ValueError(f"rolling_shutter: {self.rolling_shutter:g} is outside [0, 1] (a fraction of the "
                             "frame interval)")
        if not 2 <= self.blur_samples <= 256:
            raise ValueError(f"blur_samples: {self.blur_samples} is outside [2, 256]")
        if not 1 <= self.length <= MAX_SEQUENCE_LENGTH:
            raise ValueError(f"length: {self.length} is outside [1, {MAX_SEQUENCE_LENGTH}]")
        if not 0.01 <= self.fps <= 10_000:
            raise ValueError(f"fps: {self.fps:g} is outside [0.01, 10000]")
        seconds = (self.length - 1) / self.fps
        if "physics" in self.objects.kind.params and seconds > MAX_SETTLE_SECONDS:
            raise ValueError(f"length: a physics sequence of {seconds:g} s (length - 1 frames at fps) is over "
                             f"{MAX_SETTLE_SECONDS:g} s of simulation; shorten it or raise fps")

