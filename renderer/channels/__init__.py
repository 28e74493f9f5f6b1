"""Label channels: the per-pixel images a frame can have, each one registered unit.

A channel says what it is taken from (the frame's render buffers), how it is stored (a file suffix, an
encoder and a decoder, both lossless), how it is checked when read back (dtype and rank), how it is
shown (a preview panel, where it has one of its own) and one line for docs/format.md. Writers, the
dataset reader, ``renderer.torch`` and the preview all iterate over ``CHANNELS``: a new channel is one
module here, registered below, plus its test.

A *derived* channel (``derive``) is exactly a function of other channels and the frame's object records
(NOCS: object coordinates, instance ids and each object's asset box). It is made when read, not stored:
asking for it stores what it ``requires`` (renderer.config.schema adds them to the outputs).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from renderer.labels.objects import ObjectLabels
    from renderer.scene.buffers import RenderBuffers
    from renderer.scene.description import FrameDescription

Array = NDArray[Any]


class ChannelSource(Protocol):
    """What a derived channel is made from: a frame's other channels and its per-object labels (a
    dataset's Frame, or a frame just rendered: RenderedFrame)."""

    def array(self, name: str) -> Array: ...

    @property
    def objects(self) -> Sequence[ObjectLabels]: ...


@dataclass(frozen=True)
class Channel:
    """One per-pixel image of a frame.

    name: the key in scene files' ``outputs``, the folder in the files layout, the field of a Frame.
    suffix: what follows the frame name in its file name (``000123.npz``; ``000123.depth.npz`` in a shard).
    dtype, ndim: what the decoder must give back (a damaged or foreign file is refused).
    extract: the array from a frame's description and render buffers (H, W[, C], image row order).
    encode, decode: bytes of the file and back; decode raises ValueError on damaged data.
    panel: a uint8 RGB picture of the array for previews, where the channel has one of its own.
    doc: units, frame and encoding, one line (docs/format.md).
    legacy: {suffix: decoder} of the files older format versions wrote, still read.
    derive: for a derived channel, the array made from a ChannelSource (None: stored as a file); its
    suffix and codec then serve the files of older datasets that stored it. requires: the channels
    ``derive`` reads, stored whenever this one is asked for.
    """

    name: str
    suffix: str
    dtype: np.dtype[Any]
    ndim: int
    extract: Callable[[FrameDescription, RenderBuffers], Array]
    encode: Callable[[Array], bytes]
    decode: Callable[[bytes], Array]
    doc: str
    panel: Callable[[Array], NDArray[np.uint8]] | None = None
    legacy: dict[str, Callable[[bytes], Array]] = field(default_factory=dict)
    derive: Callable[[ChannelSource], Array] | None = None
    requires: tuple[str, ...] = ()

    @property
    def stored(self) -> bool:
        return self.derive is None

    def read(self, data: bytes, suffix: str | None = None) -> Array:
        """The decoded array of a file with this suffix (default: the current one), checked; ValueError
        with a short reason otherwise."""
        decode = self.decode if suffix in (None, self.suffix) else self.legacy[suffix]
        array = decode(data)
        if array.dtype != self.dtype or array.ndim != self.ndim:
            raise ValueError(f"expected {self.dtype} of {self.ndim} dimensions, found {array.dtype} {array.shape}")
        return array


CHANNELS: dict[str, Channel] = {}


def register(channel: Channel) -> Channel:
    if channel.name in CHANNELS:
        raise ValueError(f"channel {channel.name!r} registered twice")
    CHANNELS[channel.name] = channel
    return channel


from renderer.channels import (  # noqa: E402
    depth,
    instance,
    nocs,
    normals,
    object_coords,
    optical_flow,
    rgb,
    scene_flow,
    semantic,
)

for _module in (rgb, depth, normals, instance, semantic, object_coords, nocs, optical_flow, scene_flow):
    for _channel in getattr(_module, "CHANNELS", None) or (_module.CHANNEL,):
        register(_channel)

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
