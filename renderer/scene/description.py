"""The frame description: everything one frame is made of, as concrete, frozen, JSON-serialisable data.

No OpenGL here. Matrices are 4x4 nested tuples (row-major) so the dataclasses stay hashable and
comparable; ``numpy.asarray`` turns them into arrays. Conventions (docs/format.md): metres, OpenCV
camera frame, world z up with the table top at z = 0.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from renderer.scene.plain import from_plain, to_plain

Matrix = tuple[tuple[float, ...], ...]


def as_matrix(array: Any) -> Matrix:
    """Nested tuple of Python floats (exact round trip through JSON) from any array-like."""
    return tuple(tuple(float(x) for x in row) for row in np.asarray(array, dtype=float))


@dataclass(frozen=True)
class TextureDescription:
    """A procedural greyscale texture made with numpy (renderer.scene.textures), or an image file (``path``).

    The material's base_color tints it (the renderer multiplies the two), so a few textures serve any
    number of colours. The same fields always give the same pixels.
    """

    kind: Literal["wood", "checker", "noise", "stripes", "image"]
    seed: int
    size: int = 256
    path: str = ""


@dataclass(frozen=True)
class MaterialDescription:
    """A surface's material. base_color is linear RGBA in [0, 1].

    kind pbr: metallic-roughness (glTF's model). glass: a dielectric of index of refraction ``ior``
    whose transmission is tinted by base_color (rough when roughness > 0.05); diffuse: Lambertian
    (albedo base_color, no specular lobe) for analytic checks. How each engine draws each kind:
    docs/engines.md.
    """

    base_color: tuple[float, float, float, float]
    metallic: float
    roughness: float
    texture: TextureDescription | None = None
    use_asset_material: bool = False  # keep the mesh file's own textures/colours
    kind: Literal["pbr", "glass", "diffuse"] = "pbr"
    ior: float = 1.5


@dataclass(frozen=True)
class PersonAttributes:
    """What a person is, as labels (meta ``person``; balance and report keys): age in years, gender
    (female / male), Monk Skin Tone (1-10), standing height in metres (unposed), the named pose it was
    drawn from and its person id (stable over a sequence); weight: anny's weight phenotype in [0, 1];
    mass_kg: an estimate, the unposed body's volume times 1010 kg/m^3 (whole-body density)."""

    age_years: float
    gender: Literal["female", "male"]
    monk_tone: int
    height_m: float
    pose: str
    person_id: int
    age_group: str = ""  # child (< 13), teen (13-17), adult (18-64), elderly (65+)
    weight: float = 0.0
    mass_kg: float = 0.0
    identity: str = ""  # hex digest of the identity's shape and skin parameters (renderer.humans.identity)
    identity_index: int = -1  # which of people.identities (-1: drawn afresh, no pool)
    expression: str = "neutral"  # the named expression drawn (renderer.humans.expressions)


@dataclass(frozen=True)
class ClothingDescription:
    """One garment painted on the body's texture: which body regions it covers and how it looks.

    kind: a garment of renderer.humans.wardrobe.GARMENTS (none: bare). color: linear RGB. pattern:
    solid, stripes, checker or dots, in ``pattern_color`` with ``pattern_scale`` (texture pixels); or
    image: the fabric image file ``image`` tiled over the garment, one tile per 8 x pattern_scale texels.
    """

    kind: str
    color: tuple[float, float, float]
    pattern: str = "solid"
    pattern_color: tuple[float, float, float] = (0.0, 0.0, 0.0)
    pattern_scale: float = 16.0
    image: str = ""


@dataclass(frozen=True)
class BodyDescription:
    """Everything a person's mesh is built from (renderer.humans), so a frame replays from its description.

    phenotype: (anny phenotype label, value in [0, 1]) pairs. joints: (bone, (x, y, z) degrees) pairs,
    the bone's rotation in anny's ``local-ref`` frame (axes of the rest pose: x the body's left, y its
    back, z up), composed as R = Rz @ Ry @ Rx; bones not listed stay at rest. skin: linear RGB albedo of
    the skin (renderer.humans.skin); hair: style and linear RGB colour; expression: the face's blend of
anny's 52 ARKit-named facial actions (renderer.humans.expressions). The mesh's own frame has z up,
    the body's front along -y and the lowest vertex of the posed body at z = 0 (it stands on the plane).
    """

    phenotype: tuple[tuple[str, float], ...]
    joints: tuple[tuple[str, tuple[float, float, float]], ...]
    skin: tuple[float, float, float]
    hair_style: str
    hair_color: tuple[float, float, float]
    top: ClothingDescription
    bottom: ClothingDescription
    shoes: ClothingDescription
    attributes: PersonAttributes
    expression: tuple[tuple[str, float], ...] = ()  # (anny facial action, weight in [0, 1]) pairs
    facial_hair: str = "none"  # renderer.humans.appearance.FACIAL_HAIR
    eye_color: tuple[float, float, float] = (0.05, 0.03, 0.02)  # the irises' linear RGB


@dataclass(frozen=True)
class MeshSource:
    """Where an asset's geometry comes from: a mesh file, a procedural box with extents (metres), a
    body built from its parameters (kind body: renderer.humans), or a worn accessory (kind accessory:
    ``path`` names its kind in renderer.humans.wardrobe.WORN, ``extents`` are its sizes (glasses) and
    ``body`` the body it is worn over (a shell))."""

    kind: Literal["file", "box", "tray", "body", "accessory"]
    path: str = ""
    extents: tuple[float, float, float] = (0.0, 0.0, 0.0)
    wall: float = 0.0  # tray: wall and floor thickness (extents: outer x, y and height)
    body: BodyDescription | None = dataclasses.field(default=None, metadata={"omit_if_none": True})


# The one definition of instance ids, quoted by dataset.json's conventions and docs/format.md;
# FrameDescription refuses a frame that breaks it.
INSTANCE_IDS = ("1, 2, ... for the frame's labelled objects in list order (supports first: table, tray), "
                "0 = background; unlabelled distractors are 0 too: rendered (they occlude, depth and normals "
                "show them) but background in the masks and without labels")


@dataclass(frozen=True)
class ObjectDescription:
    """One rendered surface.

    instance_id: INSTANCE_IDS: 1 + its index among the frame's labelled objects; 0 for an unlabelled
    distractor (rendered, occluding, in depth and normals, but background in the masks, no labels).
    object_to_world: rigid 4x4 (rotation + translation, metres). The mesh is scaled by ``scale`` in its
    own frame first, so a vertex p of the asset file lands at object_to_world @ (scale * p).
    """

    instance_id: int
    asset_id: str
    category: str
    category_id: int
    mesh: MeshSource
    scale: float
    object_to_world: Matrix
    material: MaterialDescription

    @property
    def labelled(self) -> bool:
        return self.instance_id > 0


@dataclass(frozen=True)
class LightDescription:
    """A light; light_to_world is 4x4 with the light shining along its local -z (pyrender's rule).

    intensity: pyrender's units (directional: lux-like; point and spot: candela-like, already scaled by
    the squared distance to the target). spot_angle_deg: outer cone half-angle of a spot light.
    """

    kind: Literal["directional", "point", "spot"]
    color: tuple[float, float, float]
    intensity: float
    light_to_world: Matrix
    spot_angle_deg: float = 0.0


@dataclass(frozen=True)
class BackgroundDescription:
    """What shows where no surface is. colors: one RGB (solid, texture tint) or two (gradient top and
    bottom), linear in [0, 1]; texture: procedural, tinted by colors[0]; path: an image file, scaled to
    cover the frame and centre-cropped."""

    kind: Literal["solid", "gradient", "texture", "image"]
    colors: tuple[tuple[float, float, float], ...]
    texture: TextureDescription | None = None
    path: str = ""


@dataclass(frozen=True)
class EnvironmentDescription:
    """Light arriving from every direction at infinity (renderer.scene.environment), in world coordinates.

    kind none: no environment. uniform: radiance ``intensity`` from every direction. sky: a Preetham
    clear sky of ``turbidity`` with the sun towards ``sun_direction`` (the sun itself is one of the
    frame's directional lights), scaled by ``intensity``. hdri: the equirectangular map in ``path``
    (linear radiance) times ``intensity``, turned by ``rotation_deg`` about world z. visible: it shows
    behind the scene in place of the background.
    """

    kind: Literal["none", "uniform", "sky", "hdri"] = "none"
    intensity: float = 1.0
    rotation_deg: float = 0.0
    sun_direction: tuple[float, float, float] = (0.0, 0.0, 1.0)
    turbidity: float = 3.0
    path: str = ""
    visible: bool = True


@dataclass(frozen=True)
class SensorDescription:
    """Camera effects applied to the RGB image only, in this order (renderer.render.sensor): photon noise
    (iso > 0: shot noise of the electrons a full-scale pixel collects, full_well_e x 100 / iso, and
    Gaussian read noise of read_noise_e electrons, in linear radiance, from photon_seed), exposure
    (stops), brightness (+x of full scale), contrast and saturation (factor 1 + x), Gaussian blur (sigma,
    px), Gaussian noise (std in 8-bit levels, from noise_seed), JPEG round trip (quality 1-100, 0 = off)."""

    exposure_ev: float = 0.0
    brightness: float = 0.0
    contrast: float = 0.0
    saturation: float = 0.0
    blur_sigma: float = 0.0
    noise_std: float = 0.0
    noise_seed: int = 0
    jpeg_quality: int = 0
    iso: float = 0.0
    full_well_e: float = 15000.0
    read_noise_e: float = 2.5
    photon_seed: int = 0

    @property
    def is_identity(self) -> bool:
        return (self.exposure_ev == self.brightness == self.contrast == self.saturation == self.blur_sigma
                == self.noise_std == 0.0 and self.jpeg_quality == 0 and self.iso == 0)

    @property
    def full_scale_electrons(self) -> float:
        """Electrons a pixel at full scale (linear 1) collects at this ISO (ISO 100: the full well)."""
        return self.full_well_e * 100.0 / self.iso


@dataclass(frozen=True)
class FogDescription:
    """Homogeneous fog or haze over the image (renderer.render.conditions): Koschmieder's law, a pixel's
    radiance L becomes L t + airlight (1 - t) with transmittance t = exp(-beta d), d the distance along
    the pixel centre's ray to the surface (infinite where none: airlight alone). beta per metre
    (= 3.912 / visibility_m, the distance at which contrast falls to 2 %); airlight: linear RGB."""

    beta: float
    airlight: tuple[float, float, float]
    visibility_m: float


@dataclass(frozen=True)
class GlareDescription:
    """Sun glare (renderer.render.conditions.apply_glare): a veiling halo around the sun's image,
    strength x (1 + (r / halo_px)^2)^-1.5 in linear radiance at r pixels from it, and lens ghosts (discs
    on the line from the sun's image through the image centre, at t times that vector from the centre,
    of radius radius_px, tint rgb and intensity); only when the sun (the sky's sun_direction) is in front
    of the camera and, if its image is in the frame, not hidden there by a surface (exact depth)."""

    strength: float
    halo_px: float
    ghosts: tuple[tuple[float, float, float, float, float, float], ...]  # (t, radius_px, r, g, b, intensity)


@dataclass(frozen=True)
class ExtremeDraw:
    """One draw an edge-case frame took from a distribution's tail: which randomizer drew it, the
    distribution (its scene-file form, JSON text) and the value."""

    randomizer: str
    distribution: str
    value: Any


@dataclass(frozen=True)
class PrecipitationDescription:
    """Rain or snow falling between the camera and the scene (renderer.render.conditions): ``count``
    particles placed uniformly in the camera's view volume from near_m to far_m (from ``seed``), each a
    streak (rain: the fall during the exposure, fall_speed x exposure_s, tilted by wind_deg) or a flake
    (snow: radius_m), drawn over the image only where it is nearer than the surface its pixel sees, with
    ``opacity``, in linear grey ``brightness``."""

    kind: str
    count: int
    near_m: float
    far_m: float
    radius_m: float
    fall_speed: float
    exposure_s: float
    wind_deg: float
    opacity: float
    brightness: float
    seed: int


@dataclass(frozen=True)
class DepthSensorDescription:
    """A depth camera's model (renderer.channels.depth_sensor), written as the depth_sensor channel beside
    exact depth. kind: structured_light (disparity quantised: baseline_m, disparity_step_px) or tof
    (depth quantised to depth_step_m; flying pixels at depth edges). Axial noise sigma(z) = sigma_0 +
    sigma_2 z^2 (metres); edge_jitter_px: lateral noise at depth edges; returns go missing on dark
    (linear luminance below dark_threshold, with dark_dropout), shiny (metallic > 0.5, shiny_dropout)
    and grazing (incidence above max_incidence_deg) surfaces and outside [min_range_m, max_range_m]."""

    kind: str
    sigma_0: float
    sigma_2: float
    baseline_m: float
    disparity_step_px: float
    depth_step_m: float
    edge_jitter_px: float
    flying_probability: float
    dark_threshold: float
    dark_dropout: float
    shiny_dropout: float
    max_incidence_deg: float
    min_range_m: float
    max_range_m: float
    noise_seed: int


@dataclass(frozen=True)
class LensDescription:
    """A lens with distortion (renderer.scene.camera, its LENS_MODELS), in OpenCV's form: model brown_conrady with
    distortion (k1, k2, p1, p2, k3, k4, k5, k6) as cv2.projectPoints takes it, or fisheye with (k1, k2,
    k3, k4) as cv2.fisheye.projectPoints does. field_of_view_deg: where above 0, pixels whose rays look
    more than half of it off the optical axis see nothing (a fisheye's image circle). supersampling:
    how finely the pinhole views it is rendered through are sampled (renderer.render.lens)."""

    model: str
    distortion: tuple[float, ...]
    field_of_view_deg: float = 0.0
    supersampling: int = 2


@dataclass(frozen=True)
class CameraDescription:
    """Camera. K: 3x3 intrinsics (pixel centres at integer (u, v)); world_to_camera: 4x4 into the OpenCV
    camera frame; near/far: clipping planes in metres along z; lens: its distortion (None: a pinhole)."""

    width: int
    height: int
    K: Matrix
    world_to_camera: Matrix
    near: float
    far: float
    lens: LensDescription | None = dataclasses.field(default=None, metadata={"omit_if_none": True})


@dataclass(frozen=True)
class SequenceTime:
    """Where a frame sits in its sequence (renderer.sampling.motion): frame ``time_index`` (0 .. length - 1) of
    sequence ``index``, at ``time_index / fps`` seconds from the sequence's start."""

    index: int
    time_index: int
    length: int
    fps: float

    @property
    def seconds(self) -> float:
        return self.time_index / self.fps


@dataclass(frozen=True)
class FrameDescription:
    """All that is needed to render one frame, drawn from the streams of (seed, index) (renderer.seeding)."""

    index: int
    seed: int
    camera: CameraDescription
    objects: tuple[ObjectDescription, ...]
    lights: tuple[LightDescription, ...]
    ambient: float
    background: BackgroundDescription
    sensor: SensorDescription = SensorDescription()
    environment: EnvironmentDescription = EnvironmentDescription()
    attempt: int = 0  # which draw of this frame met the scene's constraints (0: the first)
    sequence: SequenceTime | None = None  # None: a still
    fog: FogDescription | None = dataclasses.field(default=None, metadata={"omit_if_none": True})
    depth_sensor: DepthSensorDescription | None = dataclasses.field(default=None, metadata={"omit_if_none": True})
    precipitation: PrecipitationDescription | None = dataclasses.field(default=None,
                                                                       metadata={"omit_if_none": True})
    glare: GlareDescription | None = dataclasses.field(default=None, metadata={"omit_if_none": True})
    # An edge-case frame's draws from the tails (config edge_cases); empty (and not written) otherwise.
    extreme_draws: tuple[ExtremeDraw, ...] = dataclasses.field(default=(), metadata={"omit_if_none": True})

    def check_instance_ids(self) -> FrameDescription:
        """The frame itself; ValueError where its ids break INSTANCE_IDS (a whole frame drawn or read
        from a file; the label pass's one-object views of a frame keep their ids and are not checked)."""
        ids = [o.instance_id for o in self.objects if o.instance_id != 0]
        if ids != list(range(1, len(ids) + 1)):
            raise ValueError(f"frame {self.index}: instance ids {ids} break the rule ({INSTANCE_IDS})")
        return self

    @property
    def labelled_objects(self) -> tuple[ObjectDescription, ...]:
        return tuple(o for o in self.objects if o.labelled)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data (renderer.scene.plain); every float kept exactly."""
        plain: dict[str, Any] = to_plain(self)
        return plain

    @staticmethod
    def from_dict(data: dict[str, Any]) -> FrameDescription:
        """The description back from to_dict's form; ValueError for unknown or missing keys, or for
        instance ids that break INSTANCE_IDS."""
        return from_plain(FrameDescription, data).check_instance_ids()
