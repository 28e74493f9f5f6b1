"""The ``people:`` section of a scene file: how many people, who they are (distributions over every
phenotype, or a named preset), how they stand and what they wear. docs/people.md says what each key means.

The word lists here are the one list of each kind (poses, hair styles, garments, presets); renderer.humans
implements each name and a test checks that it does.
"""

from __future__ import annotations

from dataclasses import dataclass

from renderer.config.checks import MIN_LENGTH, FloatDist, IntDist, WordDist, within, words
from renderer.config.distributions import Distribution, constant, int_uniform, uniform
from renderer.config.distributions import words as choice_of

MAX_PEOPLE = 100  # per frame
POSE_NAMES = ("standing", "walking", "sitting", "arms_raised", "crouching", "lying", "waving", "t_pose")
HAIR_STYLES = ("bald", "buzz", "short", "curly", "tied", "bob", "long")
FACIAL_HAIR = ("none", "stubble", "moustache", "goatee", "beard")
TOPS = ("none", "tshirt", "longsleeve", "tanktop")
BOTTOMS = ("none", "shorts", "trousers", "skirt")
SHOES = ("none", "shoes", "boots")
PATTERNS = ("solid", "stripes", "checker", "dots")
GENDERS = ("female", "male")
# Named phenotype presets: the age range each draws from (years); everything else stays as configured.
PRESETS = {"adults": (18.0, 65.0), "children": (3.0, 12.0), "elderly": (65.0, 90.0), "uniform": (1.0, 90.0)}
AGE_RANGE = (1.0, 90.0)
# Age groups (years, [from, to)): the age_group label of every person, and a balance attribute.
AGE_GROUPS = {"child": (1.0, 13.0), "teen": (13.0, 18.0), "adult": (18.0, 65.0), "elderly": (65.0, 90.0)}
# What ``balance`` can make uniform: each person draws a cell of the product of these attributes' values
# (those the configured distributions can give) uniformly, then the rest of the person given the cell.
BALANCE_ATTRIBUTES = ("monk_tone", "age_group", "gender")
# Named expressions (renderer.humans.expressions gives each its facial-action recipe; random: a few
# actions at random weights).
EXPRESSION_NAMES = ("neutral", "smile", "laugh", "surprise", "anger", "sadness", "disgust", "fear", "eyes_closed",
                    "wink", "mouth_open", "pucker", "random")
MAX_IDENTITIES = 1_000_000


@dataclass(frozen=True)
class FaceConfig:
    """Faces (``people.face:``): head pose, gaze and expression of every person, and the face labels.

    head_yaw_deg, head_pitch_deg, head_roll_deg: the head's turn (renderer.humans.head's convention:
    yaw > 0 to the person's right, pitch > 0 down, roll > 0 the top to image right) made by the neck and
    head bones on top of the drawn body pose, in degrees; gaze_yaw_deg, gaze_pitch_deg: the eyes' turn
    in the head. expressions: the named expressions drawn; expression_intensity scales the named recipe;
    expression_jitter: the standard deviation of noise added to each of its weights. labels: write each
    person's face labels (68 landmarks, head pose, gaze, expression; docs/faces.md).
    glasses_probability, hat_probability, face_mask_probability: how often a person wears each, a mesh
    fitted to their head (labelled objects of categories glasses, hat, face_mask). facial_hair: drawn
    for adult men (18+), none for everyone else.
    """

    head_yaw_deg: FloatDist = constant(0.0)
    head_pitch_deg: FloatDist = constant(0.0)
    head_roll_deg: FloatDist = constant(0.0)
    gaze_yaw_deg: FloatDist = constant(0.0)
    gaze_pitch_deg: FloatDist = constant(0.0)
    expressions: WordDist = choice_of("neutral")
    expression_intensity: FloatDist = uniform(0.6, 1.0)
    expression_jitter: float = 0.0
    labels: bool = False
    facial_hair: WordDist = constant("none")
    glasses_probability: float = 0.0
    hat_probability: float = 0.0
    face_mask_probability: float = 0.0

    def __post_init__(self) -> None:
        within("head_yaw_deg", self.head_yaw_deg, -90.0, 90.0)
        within("head_pitch_deg", self.head_pitch_deg, -60.0, 60.0)
        within("head_roll_deg", self.head_roll_deg, -45.0, 45.0)
        within("gaze_yaw_deg", self.gaze_yaw_deg, -45.0, 45.0)
        within("gaze_pitch_deg", self.gaze_pitch_deg, -35.0, 35.0)
        words("expressions", self.expressions, EXPRESSION_NAMES)
        words("facial_hair", self.facial_hair, FACIAL_HAIR)
        within("expression_intensity", self.expression_intensity, 0.0, 1.0)
        if not 0.0 <= self.expression_jitter <= 1.0:
            raise ValueError(f"expression_jitter: {self.expression_jitter:g} is outside [0, 1]")
        for name, p in self.accessories.items():
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name}_probability: {p:g} is outside [0, 1]")

    @property
    def accessories(self) -> dict[str, float]:
        """{accessory (its object category): the probability a person wears it}."""
        return {"glasses": self.glasses_probability, "hat": self.hat_probability,
                "face_mask": self.face_mask_probability}

    @property
    def moves_face(self) -> bool:
        """Whether any face draw is made (else bodies are as people: drew them, stream untouched)."""
        dists = (self.head_yaw_deg, self.head_pitch_deg, self.head_roll_deg, self.gaze_yaw_deg, self.gaze_pitch_deg)
        return any(not (d.kind == "constant" and float(d.params[0]) == 0.0) for d in dists) \
            or tuple(self.expressions.params) != ("neutral",) or tuple(self.facial_hair.params) != ("none",)


def age_group(years: float) -> str:
    """The AGE_GROUPS name of an age in years (90 itself is elderly)."""
    for name, (low, high) in AGE_GROUPS.items():
        if low <= years < high:
            return name
    return "elderly" if years >= AGE_GROUPS["elderly"][0] else "child"


@dataclass(frozen=True)
class PeopleConfig:
    """People standing on the support plane (the table top, z = 0: make it a floor) around the origin.

    preset: the age range (PRESETS) when ``age_years`` is not given. height, weight, muscle, proportions:
    anny's phenotype values in [0, 1]; null draws them from anny's WHO-calibrated distributions given the
    age and gender. ancestry_concentration: the Dirichlet concentration of the african / asian / caucasian
    shape blend (1: uniform over blends; large: even mixes; small: near one of the three). monk_tones: the
    Monk Skin Tone drawn (1-10), independent of the shape blend. area: the (x, y) extent people stand in,
    metres, centred at the origin; min_gap: the clearance between people (and the objects already there).
    garment_images: a folder of fabric images (relative to the scene file), each garment tiled with one
    of them with garment_image_probability instead of its colour and pattern. identities: 0 draws every
    person afresh; N > 0 draws each person's identity (shape phenotype, age, gender, Monk tone, skin
    albedo) from a pool of N, the same bytes wherever it appears, while hair, clothes, pose, face and
    everything else are drawn per frame (renderer.humans.identity). face: head pose, gaze, expression
    and face labels (FaceConfig).
    """

    count: IntDist = constant(0, integer=True)
    preset: str = "adults"
    age_years: FloatDist | None = None
    gender: WordDist = choice_of(*GENDERS)
    height: FloatDist | None = None
    weight: FloatDist | None = None
    muscle: FloatDist | None = None
    proportions: FloatDist | None = None
    ancestry_concentration: float = 1.0
    monk_tones: IntDist = int_uniform(1, 10)
    poses: WordDist = choice_of("standing", "walking", "arms_raised", "waving", "crouching")
    pose_blend: FloatDist = uniform(0.0, 0.3)
    pose_jitter_deg: float = 6.0
    yaw_deg: FloatDist = uniform(0.0, 360.0)
    area: tuple[float, float] = (3.0, 3.0)
    min_gap: float = 0.1
    hair_styles: WordDist = choice_of(*HAIR_STYLES)
    tops: WordDist = choice_of("tshirt", "longsleeve", "tanktop")
    bottoms: WordDist = choice_of("shorts", "trousers", "skirt")
    shoes: WordDist = choice_of("shoes", "boots")
    patterns: WordDist = choice_of(*PATTERNS)
    garment_images: str = ""
    garment_image_probability: float = 0.0
    balance: tuple[str, ...] = ()
    identities: int = 0
    face: FaceConfig = FaceConfig()

    def __post_init__(self) -> None:
        within("count", self.count, 0, MAX_PEOPLE)
        if not 0 <= self.identities <= MAX_IDENTITIES:
            raise ValueError(f"identities: {self.identities} is outside [0, {MAX_IDENTITIES}]")
        if self.preset not in PRESETS:
            raise ValueError(f"preset: {self.preset!r} is not one of {', '.join(PRESETS)}")
        if self.age_years is not None:
            within("age_years", self.age_years, *AGE_RANGE)
        words("gender", self.gender, GENDERS)
        for name in ("height", "weight", "muscle", "proportions"):
            dist = getattr(self, name)
            if dist is not None:
                within(name, dist, 0.0, 1.0)
        if not 1e-3 <= self.ancestry_concentration <= 1e3:
            raise ValueError(f"ancestry_concentration: {self.ancestry_concentration:g} is outside [0.001, 1000]")
        within("monk_tones", self.monk_tones, 1, 10)
        words("poses", self.poses, POSE_NAMES)
        within("pose_blend", self.pose_blend, 0.0, 1.0)
        if not 0 <= self.pose_jitter_deg <= 90:
            raise ValueError(f"pose_jitter_deg: {self.pose_jitter_deg:g} is outside [0, 90]")
        within("yaw_deg", self.yaw_deg, -3600.0, 3600.0)
        if not all(MIN_LENGTH <= a <= 1000.0 for a in self.area):
            raise ValueError(f"area: both sides must lie in [{MIN_LENGTH:g}, 1000] metres")
        if not 0 <= self.min_gap <= 10:
            raise ValueError(f"min_gap: {self.min_gap:g} is outside [0, 10] metres")
        words("hair_styles", self.hair_styles, HAIR_STYLES)
        words("tops", self.tops, TOPS)
        words("bottoms", self.bottoms, BOTTOMS)
        words("shoes", self.shoes, SHOES)
        words("patterns", self.patterns, PATTERNS)
        if not 0.0 <= self.garment_image_probability <= 1.0:
            raise ValueError(f"garment_image_probability: {self.garment_image_probability:g} is outside [0, 1]")
        if self.garment_image_probability > 0 and not self.garment_images:
            raise ValueError("garment_image_probability: needs garment_images, a folder of fabric images")
        for name in self.balance:
            if name not in BALANCE_ATTRIBUTES:
                raise ValueError(f"balance: {name!r} is not one of {', '.join(BALANCE_ATTRIBUTES)}")
        if len(set(self.balance)) != len(self.balance):
            raise ValueError("balance: an attribute is named twice")

    def balance_values(self, attribute: str) -> tuple[str | int, ...]:
        """The values of a balance attribute that the configured distributions can give."""
        if attribute == "monk_tone":
            dist = self.monk_tones
            values = dist.params if dist.kind == "choice" else range(int(dist.min), int(dist.max) + 1)
            return tuple(sorted({int(v) for v in values}))
        if attribute == "gender":
            return tuple(sorted({str(v) for v in self.gender.params}))
        low, high = float(self.ages.min), float(self.ages.max)
        return tuple(name for name, (a, b) in AGE_GROUPS.items()
                     if (a <= low < b) or (a < high and low < b) or (name == "elderly" and low == high == b))

    def age_range(self, group: str) -> tuple[float, float]:
        """The ages (years) a balanced person of ``group`` is drawn from: the group within the ages."""
        a, b = AGE_GROUPS[group]
        return max(a, float(self.ages.min)), min(b, float(self.ages.max))

    @property
    def ages(self) -> Distribution:
        """The age distribution in years: age_years, else the preset's range."""
        return self.age_years if self.age_years is not None else uniform(*PRESETS[self.preset])
