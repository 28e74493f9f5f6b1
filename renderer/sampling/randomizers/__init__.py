"""Randomizers: each aspect of a frame (supports, objects, lights, camera, background, sensor,
environment) drawn by one module of this package from streams of its own.

A module defines ``RANDOMIZER`` (renderer.sampling.randomizers.base.Randomizer); it is found and
registered on import, in rank order, and ``sample_frame`` runs them all on a FrameDraft. A new
randomizer is one module here plus its test; its streams are keyed by their names
(renderer.seeding.stream_key), so it moves no other randomizer's draws.
"""

from __future__ import annotations

from renderer.registry import module_entries
from renderer.sampling.randomizers.base import RANDOMIZERS, FrameDraft, Randomizer, register

__all__ = ["RANDOMIZERS", "FrameDraft", "Randomizer", "register"]


def _register_modules() -> None:
    for randomizer in module_entries(__name__, __path__, "RANDOMIZER", Randomizer):
        register(randomizer)


_register_modules()
