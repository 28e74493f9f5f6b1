"""The ``people:`` section of a scene file: how many people, who they are (distributions over every
phenotype, or a named preset), how they stand and what they wear. docs/people.md says what each key means.

The word lists here are the one list of each kind (poses, hair styles, garments, presets); renderer.humans
implements each name and a test checks that it does.
"""

from __future__ import annotations

from dataclasses import dataclass

from renderer.config.checks import FloatDist, IntDist, WordDist, within, words
from renderer.config.distributions import Distribution, constant, int_uniform, uniform
from renderer.config.distributions import words as choice_of

MAX_PEOPLE = 100  # per frame
POSE_NAMES = ("standing", "walking", "sitting", "arms_raised", "crouching", "lying", "waving", "t_pose")
HAIR_STYLES = ("bald", "buzz", "short", "bob", "long")
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
    of them with garment_image_probability instead of its colour and pattern.
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

    def __post_init__(self) -> None:
        within("count", self.count, 0, MAX_PEOPLE)
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
        if not all(0 < a <= 1000.0 for a in self.area):
            raise ValueError("area: both sides must lie in (0, 1000] metres")
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
