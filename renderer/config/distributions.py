"""Distributions a scene file can give for any randomized value (docs/scenes.md, "Distributions").

Written in YAML as

- a constant: ``0.5`` (or ``directional`` for a choice of words);
- ``[low, high]``: uniform, both ends included for integers;
- ``{uniform: [low, high]}``, ``{loguniform: [low, high]}`` (low > 0);
- ``{normal: [mean, std]}``, optionally ``clip: [low, high]`` beside it (values outside are redrawn,
  so the result is the normal truncated to the interval);
- ``{choice: [a, b, c]}``, optionally ``weights: [wa, wb, wc]``;
- integers only: ``{randint: [low, high]}`` (same as ``[low, high]``).

Each distribution knows its support (``min``, ``max``), so a config can check that every value it may
draw is allowed (a field of view in (0, 180) needs a clipped normal) before anything is rendered.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from renderer.errors import RendererError

Kind = Literal["constant", "uniform", "normal", "loguniform", "choice", "randint"]
KINDS: tuple[str, ...] = ("uniform", "normal", "loguniform", "choice", "randint")
_MAX_REDRAWS = 10_000


class DistributionError(RendererError, ValueError):
    """A distribution written wrongly; the message is the part after the key path."""


@dataclass(frozen=True)
class Distribution:
    """A frozen description of a distribution over numbers or words; ``sample(rng)`` draws one value.

    params: constant (value,); uniform, loguniform, randint (low, high); normal (mean, std); choice: the
    values. clip: (low, high) for a normal, else None. weights: for a choice, normalised, else None.
    integer: values are Python ints (counts). A constant draws nothing from the generator.
    """

    kind: Kind
    params: tuple[Any, ...]
    clip: tuple[float, float] | None = None
    weights: tuple[float, ...] | None = None
    integer: bool = False

    # -- support ------------------------------------------------------------------------------------
    @property
    def min(self) -> Any:
        return self._support()[0]

    @property
    def max(self) -> Any:
        return self._support()[1]

    def _support(self) -> tuple[Any, Any]:
        if self.kind == "constant":
            return self.params[0], self.params[0]
        if self.kind in ("uniform", "loguniform", "randint"):
            return self.params[0], self.params[1]
        if self.kind == "normal":
            return self.clip if self.clip is not None else (-math.inf, math.inf)
        numeric = [v for v in self.params if not isinstance(v, str)]
        if len(numeric) != len(self.params):
            return None, None  # words have no order
        return min(numeric), max(numeric)

    @property
    def is_constant(self) -> bool:
        return self.kind == "constant"

    # -- drawing ------------------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> Any:
        kind, p = self.kind, self.params
        if kind == "constant":
            return p[0]
        tails = _TAILS.get()
        if tails is not None:
            value = self._tail_sample(rng, tails.tail)
            if value is not _NO_TAIL:
                tails.record(self, value)
                return value
        if kind == "uniform":
            if self.integer:
                return int(rng.integers(p[0], p[1] + 1))
            return float(rng.uniform(p[0], p[1])) if p[1] > p[0] else float(p[0])
        if kind == "randint":
            return int(rng.integers(p[0], p[1] + 1))
        if kind == "loguniform":
            return float(np.exp(rng.uniform(np.log(p[0]), np.log(p[1]))))
        if kind == "normal":
            for _ in range(_MAX_REDRAWS):
                value = float(rng.normal(p[0], p[1]))
                if self.clip is None or self.clip[0] <= value <= self.clip[1]:
                    return value
            return float(np.clip(p[0], *self.clip))  # type: ignore[misc]  # unreachable in practice
        # choice
        index = int(rng.choice(len(p), p=self.weights)) if self.weights is not None else int(rng.integers(len(p)))
        return p[index]

    def _tail_sample(self, rng: np.random.Generator, tail: float) -> Any:
        """A draw from the outer ``tail`` of the distribution (half at each end; renderer.config.
        distributions.extreme_draws), or _NO_TAIL where it has no ends (words, unweighted choices)."""
        kind, p = self.kind, self.params
        low_end = bool(rng.integers(2) == 0)
        if kind in ("randint",) or (kind == "uniform" and self.integer):
            return int(p[0] if low_end else p[1])
        if kind in ("uniform", "loguniform"):
            a, b = (np.log(p[0]), np.log(p[1])) if kind == "loguniform" else (p[0], p[1])
            offset = float(rng.uniform(0.0, tail / 2)) * (b - a)
            x = a + offset if low_end else b - offset
            return float(np.exp(x)) if kind == "loguniform" else float(x)
        if kind == "normal":
            import scipy.special

            z = float(scipy.special.ndtri(rng.uniform(1e-12, tail / 2)))  # below the lower tail quantile
            value = p[0] + (z if low_end else -z) * p[1]
            return float(np.clip(value, *self.clip)) if self.clip is not None else value
        if kind == "choice" and self.weights is not None and len(set(self.weights)) > 1:
            rare = [v for v, w in zip(p, self.weights, strict=True) if w == min(self.weights)]
            return rare[int(rng.integers(len(rare)))]
        return _NO_TAIL

    # -- plain data ---------------------------------------------------------------------------------
    def to_plain(self) -> Any:
        """The YAML form (parse_distribution of it gives this distribution back)."""
        if self.kind == "constant":
            return self.params[0]
        if self.kind == "uniform":
            return [self.params[0], self.params[1]]
        plain: dict[str, Any] = {self.kind: list(self.params)}
        if self.clip is not None:
            plain["clip"] = list(self.clip)
        if self.weights is not None:
            plain["weights"] = list(self.weights)
        return plain


_NO_TAIL = object()


@dataclass
class _Tails:
    tail: float
    where: str = ""
    draws: list[tuple[str, Any, Any]] = dataclasses.field(default_factory=list)

    def record(self, distribution: Distribution, value: Any) -> None:
        self.draws.append((self.where, distribution.to_plain(), value))


_TAILS: contextvars.ContextVar[_Tails | None] = contextvars.ContextVar("renderer_tails", default=None)


@contextlib.contextmanager
def extreme_draws(tail: float) -> Iterator[_Tails]:
    """Within it, every draw of a Distribution with ends comes from its outer ``tail`` (half at each end:
    uniform and loguniform ranges, randint and integer ranges at their bounds, a normal beyond its
    two-sided quantile, a weighted choice among its rarest values); words and even choices are drawn as
    ever. Each such draw is recorded (set ``where`` to say which randomizer drew it): the edge-case mode
    of renderer.sampling.frame."""
    tails = _Tails(tail)
    token = _TAILS.set(tails)
    try:
        yield tails
    finally:
        _TAILS.reset(token)


def constant(value: Any, integer: bool = False) -> Distribution:
    return Distribution("constant", (value,), integer=integer)


def uniform(low: float, high: float) -> Distribution:
    return Distribution("uniform", (float(low), float(high)))


def int_uniform(low: int, high: int) -> Distribution:
    return Distribution("uniform", (int(low), int(high)), integer=True)


def words(*values: str) -> Distribution:
    return Distribution("constant", (values[0],)) if len(values) == 1 else Distribution("choice", tuple(values))


def _number(value: Any, integer: bool) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DistributionError(f"expected {'an integer' if integer else 'a number'}, got {_type_name(value)}")
    if integer:
        if not isinstance(value, int):
            raise DistributionError(f"expected an integer, got {value!r}")
        return value
    if not math.isfinite(value):
        raise DistributionError("expected a finite number")
    return float(value)


def _pair(value: Any, integer: bool, what: str) -> tuple[Any, Any]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise DistributionError(f"{what} expects [low, high], got {_type_name(value)}")
    low, high = _number(value[0], integer), _number(value[1], integer)
    if low > high:
        raise DistributionError(f"min {low:g} > max {high:g}")
    return low, high


def _type_name(value: Any) -> str:
    if isinstance(value, list | tuple):
        return f"a list of {len(value)}"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", dict: "a mapping",
            type(None): "null"}.get(type(value), type(value).__name__)


def parse_distribution(value: Any, *, integer: bool = False, allow_words: bool = False) -> Distribution:
    """A distribution from its YAML form (see module docstring); DistributionError says what is wrong."""
    if isinstance(value, str):
        if not allow_words:
            raise DistributionError(f"expected a number or a distribution, got the string {value!r}")
        return Distribution("constant", (value,))
    if isinstance(value, list | tuple):
        if allow_words and len(value) != 2:
            raise DistributionError(f"expected a word or {{choice: [...]}}, got {_type_name(value)}")
        low, high = _pair(value, integer, "a range")
        return Distribution("uniform", (low, high), integer=integer)
    if isinstance(value, dict):
        return _parse_mapping(value, integer, allow_words)
    if allow_words and not isinstance(value, int | float):
        raise DistributionError(f"expected a word or {{choice: [...]}}, got {_type_name(value)}")
    return Distribution("constant", (_number(value, integer),), integer=integer)


def _parse_mapping(value: dict[str, Any], integer: bool, allow_words: bool) -> Distribution:
    kinds = [k for k in value if k in KINDS]
    extras = [k for k in value if k not in KINDS]
    if len(kinds) != 1:
        unknown = [k for k in value if k not in ("clip", "weights")]
        if unknown and not kinds:
            raise DistributionError(f"unknown distribution {unknown[0]!r} (known: {', '.join(KINDS)})")
        raise DistributionError(f"expected one distribution name among {', '.join(KINDS)}")
    kind = kinds[0]
    allowed_extras = {"normal": {"clip"}, "choice": {"weights"}}.get(kind, set())
    for key in extras:
        if key not in allowed_extras:
            raise DistributionError(f"{key!r} is not an option of {kind}")
    args = value[kind]
    if allow_words and kind != "choice":
        raise DistributionError(f"{kind} draws numbers; use a word or {{choice: [...]}}")
    if kind == "choice":
        if not isinstance(args, list | tuple) or not args:
            raise DistributionError("choice expects a non-empty list of values")
        if allow_words:
            if not all(isinstance(v, str) for v in args):
                raise DistributionError("choice expects a list of words here")
            values: tuple[Any, ...] = tuple(args)
        else:
            values = tuple(_number(v, integer) for v in args)
        weights = None
        if "weights" in value:
            raw = value["weights"]
            if not isinstance(raw, list | tuple) or len(raw) != len(values):
                raise DistributionError(f"weights: expected a list of {len(values)} numbers")
            w = np.array([_number(x, False) for x in raw])
            if np.any(w < 0) or w.sum() <= 0:
                raise DistributionError("weights: must be >= 0 with a positive sum")
            # Normalised, unless they already are: to_plain's output then parses back bit for bit.
            weights = tuple(float(x) for x in (w if abs(w.sum() - 1.0) < 1e-12 else w / w.sum()))
        return Distribution("choice", values, weights=weights, integer=integer)
    if kind == "randint":
        if not integer:
            raise DistributionError("randint draws integers; use uniform here")
        return Distribution("randint", _pair(args, True, "randint"), integer=True)
    if integer:
        raise DistributionError(f"{kind} draws real numbers; this value is an integer (use [low, high] or choice)")
    if kind == "uniform":
        return Distribution("uniform", _pair(args, False, "uniform"))
    if kind == "loguniform":
        low, high = _pair(args, False, "loguniform")
        if low <= 0:
            raise DistributionError(f"loguniform: low {low:g} must be > 0")
        return Distribution("loguniform", (low, high))
    # normal
    if not isinstance(args, list | tuple) or len(args) != 2:
        raise DistributionError("normal expects [mean, std]")
    mean, std = _number(args[0], False), _number(args[1], False)
    if std < 0:
        raise DistributionError(f"normal: std {std:g} must be >= 0")
    clip = _pair(value["clip"], False, "clip") if "clip" in value else None
    if clip is not None and std == 0 and not clip[0] <= mean <= clip[1]:
        raise DistributionError("normal: std 0 and the mean outside clip")
    if clip is not None and std > 0 and _mass(mean, std, clip) < 1e-3:
        raise DistributionError(f"normal: clip [{clip[0]:g}, {clip[1]:g}] holds almost none of the distribution")
    return Distribution("normal", (mean, std), clip=clip)


def _mass(mean: float, std: float, clip: tuple[float, float]) -> float:
    def cdf(x: float) -> float:
        return 0.5 * (1.0 + math.erf((x - mean) / (std * math.sqrt(2.0))))

    return cdf(clip[1]) - cdf(clip[0])
