"""The exporter type: a format name, its export function and the options it takes (which the CLI
offers as flags, so the CLI has no per-format code)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from renderer.config.checks import fraction as check_fraction
from renderer.errors import RendererError


class ExportError(RendererError, ValueError):
    """An export cannot run as asked (an option value the dataset or the format does not allow); the
    message is one line naming the option, and the CLI prints it and exits 2."""


@dataclass(frozen=True)
class ExportOption:
    """One keyword of an export function, offered by ``renderer export`` as ``--<keyword with dashes>``."""

    keyword: str
    help: str
    default: Any
    choices: tuple[str, ...] | None = None
    parse: Callable[[str], Any] | None = None  # argparse type (raise argparse.ArgumentTypeError on bad text)

    @property
    def flag(self) -> str:
        return "--" + self.keyword.replace("_", "-")


@dataclass(frozen=True)
class Exporter:
    """``exporter(root, out, **options)`` writes the format for the dataset at root and returns the
    folder (or main file) written; ``doc``: one line for ``renderer export --help`` and docs/export.md;
    ``describe(path)``: lines the CLI prints after the path (other files written and what they are for)."""

    name: str
    export: Callable[..., Path]
    doc: str
    options: tuple[ExportOption, ...] = ()
    describe: Callable[[Path], list[str]] | None = None

    def __call__(self, root: str | Path, out: str | Path | None = None, **options: Any) -> Path:
        unknown = sorted(set(options) - {o.keyword for o in self.options})
        if unknown:
            raise TypeError(f"{self.name} export: unknown option {unknown[0]!r}")
        return self.export(root, out, **options)


def fraction(text: str) -> float:
    """A number in [0, 1] (argparse type; the rule of renderer.config.checks.fraction)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    try:
        check_fraction("value", value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {value}") from None
    return value


def whole_number(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number in [low, high]."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be in [{low}, {high}], got {value}")
        return value

    return parse
