"""Label channels: the per-pixel images a frame can have, each one registered unit.

A channel says what it is taken from (the frame's render buffers), how it is stored (a file suffix, an
encoder and a decoder, both lossless), how it is checked when read back (dtype and rank), how it is
shown (a preview panel, where it has one of its own), how torch batches it, and one line for
docs/format.md (renderer.channels.base.Channel). Writers, the dataset reader, ``renderer.torch``, the
preview and ``renderer channels`` all iterate over ``CHANNELS``: a new channel is one module here that
defines ``CHANNEL`` (or ``CHANNELS``), plus its test; it is found and registered on import, in rank order.

A *derived* channel (``derive``) is exactly a function of other channels and the frame's object records
(NOCS: object coordinates, instance ids and each object's asset box). It is made when read, not stored:
asking for it stores what it ``requires`` (renderer.config.schema adds them to the outputs).

Channel modules import cv2 and scipy inside the functions that use them: the config checks a scene's
outputs against this registry, and parsing a scene imports neither.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from renderer.channels.base import CHANNELS, Array, Channel, ChannelSource, register

if TYPE_CHECKING:
    from renderer.scene.buffers import RenderBuffers
    from renderer.scene.description import FrameDescription
    from renderer.scene.records import ObjectLabels

__all__ = ["CHANNELS", "CHANNEL_NAMES", "Array", "Channel", "ChannelSource", "RenderedFrame", "register",
           "resolve_outputs", "with_requirements"]


def _register_modules() -> None:
    """Register the CHANNEL / CHANNELS of every module of this package (helpers have neither)."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for channel in getattr(module, "CHANNELS", ()) or ([module.CHANNEL] if hasattr(module, "CHANNEL") else []):
            if isinstance(channel, Channel):
                register(channel)


_register_modules()

CHANNEL_NAMES = tuple(CHANNELS)


def with_requirements(names: Sequence[str]) -> tuple[str, ...]:
    """``names`` followed by the channels their derived ones require that are not among them."""
    out = list(names)
    for name in names:
        channel = CHANNELS.get(name)
        for needed in channel.requires if channel is not None else ():
            if needed not in out:
                out.append(needed)
    return tuple(out)


def resolve_outputs(names: Sequence[str]) -> tuple[str, ...]:
    """A scene's ``outputs`` checked against the registry (ValueError naming the first unknown or
    repeated one), followed by what its derived channels require (stored with them)."""
    unknown = [name for name in names if name not in CHANNELS]
    if unknown:
        raise ValueError(f"outputs: {unknown[0]!r} is not one of {', '.join(CHANNELS)}")
    if len(set(names)) != len(names):
        raise ValueError("outputs: a channel is listed twice")
    return with_requirements(names)


@dataclass(frozen=True)
class RenderedFrame:
    """A frame just rendered, as a ChannelSource: any channel's array from its description, render
    buffers and labels, derived ones included (what renderer.torch's on-the-fly datasets give)."""

    frame: FrameDescription
    buffers: RenderBuffers
    objects: Sequence[ObjectLabels]

    def array(self, name: str) -> Array:
        channel = CHANNELS[name]
        if channel.derive is not None:
            return channel.derive(self)
        return channel.extract(self.frame, self.buffers)
