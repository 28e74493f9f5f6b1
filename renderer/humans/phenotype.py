"""Phenotypes: who a person is, drawn with our numpy Generator.

Age in years maps to anny's age parameter through anny's own WHO-calibrated "morphological age" anchors
(data/shape_calibration, shipped with anny); height, weight, muscle and proportions, when the scene leaves
them unset, are drawn from anny's Beta distributions conditioned on that age and on gender (its boys /
girls calibration). The african / asian / caucasian shape blend is a Dirichlet draw.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

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
    from renderer.humans.model import load_anny

    anny = load_anny()  # first: one clear line where the people extra is missing
    import torch

    root = anny.paths.get_anny_root_dir() / "data" / "shape_calibration"
    shape: dict[str, dict[str, _Beta]] = {}
    mapping = None
    for gender, name in (("male", "boys"), ("female", "girls")):
        data = torch.load(root / f"{name}.pth", weights_only=True, map_location="cpu")
        mapping = data["morphological_age_mapping"]
        shape[gender] = {
            phenotype: _Beta(*(np.asarray(data[f"conditional_{phenotype}_distribution"][key], dtype=float)
                               for key in ("age_anchors", "alpha_anchors", "beta_anchors")))
            for phenotype in ("height", "weight", "muscle", "proportions")}
    assert mapping is not None
    return Calibration(np.asarray(mapping["anny_age_anchors"], dtype=float),
                       np.asarray(mapping["morphological_age_anchors"], dtype=float), shape)




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
