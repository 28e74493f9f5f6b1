"""Phenotypes: who a person is, drawn with our numpy Generator.

Age in years maps to anny's age parameter through anny's own WHO-calibrated "morphological age" anchors
(data/shape_calibration, shipped with anny); height, weight, muscle and proportions, when the scene leaves
them unset, are drawn from anny's Beta distributions conditioned on that age and on gender (its boys /
girls calibration). The african / asian / caucasian shape blend is a Dirichlet draw.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from renderer.config.people import PeopleConfig


@dataclass(frozen=True)
class _Beta:
    anchors: NDArray[np.float64]
    alpha: NDArray[np.float64]
    beta: NDArray[np.float64]

    def sample(self, rng: np.random.Generator, age: float) -> float:
        a = float(np.interp(age, self.anchors, self.alpha))
        b = float(np.interp(age, self.anchors, self.beta))
        return float(rng.beta(max(a, 1e-3), max(b, 1e-3)))


@dataclass(frozen=True)
class Calibration:
    """anny's age mapping and conditional shape distributions (per gender)."""

    age_anchors: NDArray[np.float64]  # anny age values
    years_anchors: NDArray[np.float64]  # the same points in years
    shape: dict[str, dict[str, _Beta]]  # gender -> phenotype -> Beta given anny age

    def anny_age(self, years: float) -> float:
        return float(np.interp(years, self.years_anchors, self.age_anchors))


@functools.cache
def calibration() -> Calibration:
    """anny's age mapping and conditional shape distributions, read from its public shape distribution
    (anny.shape_distribution.SimpleShapeDistribution: the WHO-calibrated morphological-age anchors and,
    per gender, the Beta anchors of height, weight, muscle and proportions given anny's age)."""
    from renderer.humans.model import body_model, load_anny

    load_anny()
    from anny.shape_distribution import SimpleShapeDistribution

    distribution = SimpleShapeDistribution(body_model().model)

    def values(tensor: Any) -> NDArray[np.float64]:
        return np.asarray(tensor.detach().cpu().numpy(), dtype=float)

    def beta(name: str, phenotype: str) -> _Beta:
        conditional = getattr(distribution, f"{name}_conditional_{phenotype}_distribution")
        return _Beta(*(values(getattr(conditional, key)) for key in ("age_anchors", "alpha_anchors", "beta_anchors")))

    shape = {gender: {phenotype: beta(name, phenotype) for phenotype in ("height", "weight", "muscle", "proportions")}
             for gender, name in (("male", "boys"), ("female", "girls"))}
    mapping = distribution.morphological_age_mapping
    return Calibration(values(mapping.anny_age_anchors), values(mapping.morphological_age_anchors), shape)


Phenotype = tuple[tuple[str, float], ...]


def sample_phenotype(config: PeopleConfig, rng: np.random.Generator, years: float | None = None,
                     gender: str | None = None) -> tuple[Phenotype, float, str]:
    """(anny phenotype pairs, age in years, gender) of one person, drawn from ``rng`` (age and gender
    given where a balanced cell fixes them)."""
    cal = calibration()
    years = float(config.ages.sample(rng)) if years is None else years
    gender = str(config.gender.sample(rng)) if gender is None else gender
    age = cal.anny_age(years)
    values: dict[str, float] = {"age": age, "gender": 1.0 if gender == "female" else 0.0}
    for name in ("height", "weight", "muscle", "proportions"):
        calibrated = cal.shape[gender][name].sample(rng, age)
        configured = getattr(config, name)
        values[name] = float(configured.sample(rng)) if configured is not None else calibrated
    blend = rng.dirichlet(np.full(3, config.ancestry_concentration))
    values.update(african=float(blend[0]), asian=float(blend[1]), caucasian=float(blend[2]))
    values.update(cupsize=0.5, firmness=0.5)
    return tuple(sorted(values.items())), years, gender
