"""The camera sections of a scene file: ``image:`` (size) and ``camera:`` (pose distributions,
intrinsics, ``lens:`` distortion). docs/scenes.md and docs/conditions.md say what each key means."""

from __future__ import annotations

from dataclasses import dataclass

from renderer.config.checks import (
    MAX_DEPTH_RATIO,
    MAX_FAR,
    MAX_LENGTH,
    MAX_PIXELS,
    MAX_TURN_DEG,
    MIN_ANGLE_DEG,
    MIN_FOCAL_PX,
    MIN_LENGTH,
    MIN_NEAR,
    FloatDist,
    within,
)
from renderer.config.distributions import constant, uniform
from renderer.scene.camera import LENS_COEFFICIENTS, LENS_MODELS


@dataclass(frozen=True)
class ImageConfig:
    width: int = 640
    height: int = 480

    def __post_init__(self) -> None:
        for name in ("width", "height"):
            value = getattr(self, name)
            if not 8 <= value <= 8192:
                raise ValueError(f"{name}: {value} is outside [8, 8192]")


@dataclass(frozen=True)
class IntrinsicsConfig:
    """Fixed pinhole intrinsics in pixels (pixel centres at integers); replaces fov_deg when given."""

    fx: float
    fy: float
    cx: float
    cy: float

    def __post_init__(self) -> None:
        if not (MIN_FOCAL_PX <= self.fx <= MAX_PIXELS and MIN_FOCAL_PX <= self.fy <= MAX_PIXELS):
            raise ValueError(f"fx and fy must lie in [{MIN_FOCAL_PX:g}, {MAX_PIXELS:g}]")
        if not (abs(self.cx) <= MAX_PIXELS and abs(self.cy) <= MAX_PIXELS):
            raise ValueError(f"cx and cy must lie in [-{MAX_PIXELS:g}, {MAX_PIXELS:g}]")


CAMERA_AIMS = ("target", "face")
MAX_DISTORTION = 100.0  # |coefficient| of any distortion term
MAX_SUPERSAMPLING = 4


@dataclass(frozen=True)
class LensConfig:
    """Lens distortion (``camera.lens:``, docs/conditions.md): ``model`` brown_conrady (OpenCV's k1..k6,
    p1, p2, applied as cv2.projectPoints does) or fisheye (OpenCV's fisheye k1..k4, the equidistant
    projection: the camera's fov_deg is then the angle across the image's height at k = 0), each
    coefficient a distribution. ``field_of_view_deg``: pixels looking further than half of it off the
    axis see nothing (a fisheye's image circle; 0: no limit; up to 360). ``supersampling``: the pinhole
    views the frame is rendered through sample at this many times the lens's finest pixel spacing."""

    model: str = "brown_conrady"
    k1: FloatDist = constant(0.0)
    k2: FloatDist = constant(0.0)
    k3: FloatDist = constant(0.0)
    k4: FloatDist = constant(0.0)
    k5: FloatDist = constant(0.0)
    k6: FloatDist = constant(0.0)
    p1: FloatDist = constant(0.0)
    p2: FloatDist = constant(0.0)
    field_of_view_deg: float = 0.0
    supersampling: int = 2

    def __post_init__(self) -> None:
        if self.model not in LENS_MODELS:
            raise ValueError(f"model: {self.model!r} is not one of {', '.join(LENS_MODELS)}")
        for name in LENS_COEFFICIENTS:
            within(name, getattr(self, name), -MAX_DISTORTION, MAX_DISTORTION)
        takes = LENS_MODELS[self.model].coefficients
        for name in LENS_COEFFICIENTS:
            dist = getattr(self, name)
            if name not in takes and (dist.min != 0 or dist.max != 0):
                raise ValueError(f"{name}: the {self.model} model has only {', '.join(takes)}")
        if not 0.0 <= self.field_of_view_deg <= 360.0:
            raise ValueError(f"field_of_view_deg: {self.field_of_view_deg:g} is outside [0, 360]")
        if not 1 <= self.supersampling <= MAX_SUPERSAMPLING:
            raise ValueError(f"supersampling: {self.supersampling} is outside [1, {MAX_SUPERSAMPLING}]")


@dataclass(frozen=True)
class CameraConfig:
    """Camera on a sphere around a look-at target, rolled about its optical axis; a pinhole unless
    ``lens`` gives it distortion.

    aim: target (the point ``target``) or face: a person's head (one of the frame's people, drawn
    uniformly), the point between their eyes; then distance is from that point and azimuth_deg counts
    from the person's front (0: facing them), elevation_deg from their eye level (docs/faces.md).
    """

    fov_deg: FloatDist = uniform(45.0, 60.0)
    intrinsics: IntrinsicsConfig | None = None
    distance: FloatDist = uniform(0.8, 1.4)
    elevation_deg: FloatDist = uniform(30.0, 70.0)
    azimuth_deg: FloatDist = uniform(0.0, 360.0)
    roll_deg: FloatDist = constant(0.0)
    target: tuple[float, float, float] = (0.0, 0.0, 0.0)
    target_jitter: float = 0.05
    near: float = 0.05
    far: float = 20.0
    aim: str = "target"
    lens: LensConfig | None = None

    def __post_init__(self) -> None:
        if self.aim not in CAMERA_AIMS:
            raise ValueError(f"aim: {self.aim!r} is not one of {', '.join(CAMERA_AIMS)}")
        within("fov_deg", self.fov_deg, MIN_ANGLE_DEG, 180.0, open_high=True)
        within("distance", self.distance, MIN_LENGTH, MAX_LENGTH)
        within("azimuth_deg", self.azimuth_deg, -MAX_TURN_DEG, MAX_TURN_DEG)
        within("roll_deg", self.roll_deg, -MAX_TURN_DEG, MAX_TURN_DEG)
        within("elevation_deg", self.elevation_deg, -90.0, 90.0)
        if not 0 <= self.target_jitter <= MAX_LENGTH:
            raise ValueError(f"target_jitter: {self.target_jitter:g} is outside [0, {MAX_LENGTH:g}]")
        if any(abs(t) > MAX_LENGTH for t in self.target):
            raise ValueError(f"target: each coordinate must lie in [-{MAX_LENGTH:g}, {MAX_LENGTH:g}]")
        if not MIN_NEAR <= self.near < self.far <= MAX_FAR:
            raise ValueError(f"near {self.near:g} and far {self.far:g} must satisfy {MIN_NEAR:g} <= near < far "
                             f"<= {MAX_FAR:g}")
        if self.far / self.near > MAX_DEPTH_RATIO:
            raise ValueError(f"far / near is {self.far / self.near:.3g}, above {MAX_DEPTH_RATIO:g}: the depth "
                             "buffer cannot resolve surfaces over such a range")

