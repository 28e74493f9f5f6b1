"""Optical flow and its validity, made from the label pass's fragments (renderer.scene.fragments).

Per pixel, the surface point seen at the pixel centre (its triangle and barycentric coordinates, from
the fragments) is carried to another frame: the same triangle and barycentric coordinates of the same
object's mesh there (its object and the camera moved, a person's mesh deformed; exact, since the point
is linear over each triangle), and projected with that frame's K into (u', v'); flow is
(u' - c, v' - r) for the pixel in row r, column c. The point is visible there (valid) when it lies in front of
the camera, inside the image (-1/2 <= u' < W - 1/2, the same for v'), and the surface the other frame
shows at that pixel, extended as a plane (its depth and normal) to the point's own ray, lies within
``tolerance`` (relative, renderer.scene.records.OCCLUSION_TOLERANCE as for landmarks) of the point's depth:
hidden behind another surface or turned away behind its own object, it is not. Scene flow is that
other-frame position minus the point's position in this frame's camera frame.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from renderer.assets.meshes import MeshLookup
from renderer.render.gl.decoders import NEIGHBOUR_TARGETS, TARGET_OF
from renderer.render.gl.decoders import motion_buffers as motion_buffers_of
from renderer.scene.buffers import LabelBuffers, MotionBuffers
from renderer.scene.description import FrameDescription
from renderer.scene.records import OCCLUSION_TOLERANCE

MOTION_CHANNELS = tuple(TARGET_OF)  # what the motion labels can make (the registry's motion channels)


def surface_attributes(label_pass: Any, frame: FrameDescription, catalog: MeshLookup,
                       channels: Collection[str]) -> Mapping[str, NDArray[Any]]:
    """The per-pixel surface attributes of ``frame`` that ``channels`` (surface channels of
    renderer.channels) ask for, each made by its channel from the frame's fragments and meshes."""
    from renderer.channels import CHANNELS

    make = {name: CHANNELS[name].surface for name in channels if CHANNELS[name].surface is not None}
    if not make:
        return {}
    made: dict[str, np.ndarray] = label_pass.attributes(frame, catalog, make)
    return made


def motion_buffers(label_pass: Any, frame: FrameDescription, before: FrameDescription | None,
                   after: FrameDescription | None, buffers: LabelBuffers, catalog: MeshLookup,
                   channels: Collection[str] = MOTION_CHANNELS) -> MotionBuffers:
    """The motion labels of ``frame`` (renderer.render.gl.label_pass.LabelPass ``label_pass``), given its
    neighbours in the sequence; only ``channels`` are made (the others are empty, 0 x 0), and the
    neighbours' label passes only if a flow or scene-flow channel is among them."""
    return start_motion_buffers(label_pass, frame, before, after, buffers, catalog, channels)()


def start_motion_buffers(label_pass: Any, frame: FrameDescription, before: FrameDescription | None,
                         after: FrameDescription | None, buffers: LabelBuffers, catalog: MeshLookup,
                         channels: Collection[str] = MOTION_CHANNELS) -> Callable[[], MotionBuffers]:
    """motion_buffers with its motion pass left drawing: call the result for the buffers (after other
    work, such as the RGB image, has run beside the rasteriser)."""
    flow = any(TARGET_OF[c] in NEIGHBOUR_TARGETS for c in channels)  # needs the neighbours' passes
    neighbours = [(other, label_pass.neighbour_buffers(other, catalog)) if other is not None and flow else None
                  for other in (before, after)]  # full passes: frame t + 1 reuses its own (LabelPass.recent)
    pending = label_pass.draw_motion(frame, catalog, neighbours[0], neighbours[1], OCCLUSION_TOLERANCE,
                                     targets=frozenset(TARGET_OF[c] for c in channels))

    def finish() -> MotionBuffers:
        return motion_buffers_of(pending.read())

    return finish
