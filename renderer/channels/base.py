"""The channel type and its registry; channel modules import this, never the package.

See renderer.channels for what a channel is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import NDArray

from renderer.registry import add

if TYPE_CHECKING:
    from renderer.scene.buffers import RenderBuffers
    from renderer.scene.description import FrameDescription
    from renderer.scene.fragments import FrameSurfaces
    from renderer.scene.records import ObjectLabels

Array = NDArray[Any]


class ChannelSource(Protocol):
    """What a derived channel is made from: a frame's other channels and its per-object labels (a
    dataset's Frame, or a frame just rendered: RenderedFrame)."""

    def array(self, name: str) -> Array: ...

    @property
    def objects(self) -> Sequence[ObjectLabels]: ...


class PanelSource(ChannelSource, Protocol):
    """What a preview panel is drawn from: a ChannelSource that also says which channels it has."""

    @property
    def channels(self) -> tuple[str, ...]: ...


def channels_first(array: Array) -> Array:
    """(H, W, C) -> (C, H, W); (H, W) unchanged: the layout of a torch batch."""
    return np.ascontiguousarray(array.transpose(2, 0, 1) if array.ndim == 3 else array)


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
    rank: the registry's order (dataset.json's ``outputs``, shard members, preview panels); fixed per
    channel so that datasets already written keep their order.
    motion: made from the frames before and after in a sequence (optical and scene flow): made only
    where the scene's outputs ask for it.
    surface: for a per-pixel attribute of the surface seen at each pixel centre (normals aside: object
    coordinates, texture coordinates, classes, materials), the pure function of the frame's fragments and
    meshes (renderer.scene.fragments.FrameSurfaces) that makes it; the label pass makes it where the
    scene's outputs ask for it (lens frames: per pinhole view, resampled at each pixel's nearest view
    sample), and ``extract`` reads it back (``attribute_of``). A new attribute channel is this one module.
    drawn: made from a part of the frame description that the randomizers draw only where the scene's
    outputs ask for the channel (a depth sensor's model), so a frame has it only then.
    sample_key, to_sample: the key of ``renderer.torch`` samples that carry this channel (None: not in
    samples) and the numpy array a sample holds (default: channels first).
    preview, title: the preview panel drawn from a whole frame (None where it has nothing to show,
    e.g. a flow panel of a frame whose flow is all invalid) and its caption; channels without one are
    not in previews.
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
    rank: int = 1000
    motion: bool = False
    surface: Callable[[FrameSurfaces], Array] | None = None
    drawn: bool = False
    sample_key: str | None = None
    to_sample: Callable[[Array], Array] = channels_first
    preview: Callable[[PanelSource], NDArray[np.uint8] | None] | None = None
    title: str = ""

    @property
    def stored(self) -> bool:
        return self.derive is None

    @property
    def on_request(self) -> bool:
        """Made only where the scene's outputs ask for it (not by every frame's render)."""
        return self.motion or self.drawn or self.surface is not None

    def read(self, data: bytes, suffix: str | None = None) -> Array:
        """The decoded array of a file with this suffix (default: the current one), checked; ValueError
        with a short reason otherwise."""
        decode = self.decode if suffix in (None, self.suffix) else self.legacy[suffix]
        array = decode(data)
        if array.dtype != self.dtype or array.ndim != self.ndim:
            raise ValueError(f"expected {self.dtype} of {self.ndim} dimensions, found {array.dtype} {array.shape}")
        return array


CHANNELS: dict[str, Channel] = {}


def attribute_of(name: str) -> Callable[[FrameDescription, RenderBuffers], Array]:
    """The ``extract`` of a surface-attribute channel: its array among the frame's attributes."""
    def extract(frame: FrameDescription, buffers: RenderBuffers) -> Array:
        if name not in buffers.attributes:
            raise ValueError(f"channel {name} was not made by the label pass (not among the scene's outputs)")
        return buffers.attributes[name]
    return extract


def register(channel: Channel) -> Channel:
    """Add a channel to CHANNELS, kept in rank order (renderer.registry)."""
    return add(CHANNELS, channel.name, channel, what="channel", rank=lambda c: c.rank)


def array_panel(name: str, draw: Callable[[Array], NDArray[np.uint8]]) -> Callable[[PanelSource], NDArray[np.uint8]]:
    """A preview of one channel's array alone."""
    return lambda frame: draw(frame.array(name))
