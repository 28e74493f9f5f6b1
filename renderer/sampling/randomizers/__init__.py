"""Randomizers: each aspect of a frame (supports, objects, lights, camera, background, sensor,
environment) drawn by one module of this package from streams of its own.

A module defines ``RANDOMIZER`` (renderer.sampling.randomizers.base.Randomizer); it is found and
registered on import, in rank order, and ``sample_frame`` runs them all on a FrameDraft. A new
randomizer is one module here plus its test; its streams are keyed by their names
(renderer.seeding.stream_key), so it moves no other randomizer's draws.
"""

from __future__ import annotations

import importlib
import pkgutil

from renderer.sampling.randomizers.base import RANDOMIZERS, FrameDraft, Randomizer, register

__all__ = ["RANDOMIZERS", "FrameDraft", "Randomizer", "register"]


def _register_modules() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        randomizer = getattr(module, "RANDOMIZER", None)
        if isinstance(randomizer, Randomizer):
            register(randomizer)


_register_modules()
