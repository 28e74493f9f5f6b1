"""Named results of the render stages: the label pass's buffers, an engine's image, and the frame's whole set."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from renderer.scene.fragments import FrameSurfaces


@dataclass(frozen=True)
class MotionBuffers:
    """The per-pixel motion labels (renderer.labels.flow), H x W, image rows.

    flow_forward, flow_backward: float32 (H, W, 2), (du, dv) in pixels from the pixel centre to where
        the same surface point projects in the next / previous frame, wherever it lies in front of that
        camera (occluded or outside the image included); 0 where there is no surface or no such frame.
    flow_forward_valid, flow_backward_valid: bool (H, W): a surface, the other frame exists, and the
        point is inside it and not hidden there (by another surface or its own object).
    scene_flow_forward, scene_flow_backward: float32 (H, W, 3), metres: the surface point's position in
        the next / previous frame's camera frame minus its position in this frame's (the 3D motion
        relative to the camera that optical flow is the image of); 0 where there is no surface or no
        such frame.
    A field the scene's outputs do not ask for is empty (0 x 0).
    """

    flow_forward: NDArray[np.float32]
    flow_forward_valid: NDArray[np.bool_]
    flow_backward: NDArray[np.float32]
    flow_backward_valid: NDArray[np.bool_]
    scene_flow_forward: NDArray[np.float32]
    scene_flow_backward: NDArray[np.float32]


@dataclass(frozen=True)
class LabelBuffers:
    """What the label pass gives for one frame, rows top to bottom (image order), H x W.

    depth: float32 (H, W), metres along the optical axis (camera z) at the pixel centre; 0 = no surface.
    normals: float32 (H, W, 3), unit geometric (face) normals in the OpenCV camera frame, turned to face
        the camera; 0 = no surface.
    instance: uint16 (H, W), instance id of the surface at the pixel centre; 0 = background.
    unoccluded_pixels: int64 (N,), for the frame's N objects in order, the pixel centres each object
        covers when rendered alone (nothing in front of it); empty when not asked for.
    All come from one non-multisampled rasterisation (its fragments), so id, depth and normal at a pixel
    describe the same surface point: the one the ray through the pixel centre hits first.
    motion: the motion labels, when asked for (renderer.labels.flow).
    attributes: the per-pixel surface attributes the scene's outputs ask for, by channel name (each a
        channel's ``surface`` function of the fragments: renderer.channels.base.Channel).
    surfaces: the fragments and meshes they were made from (pinhole frames; None for an id-only pass
        and lens frames).
    """

    depth: NDArray[np.float32]
    normals: NDArray[np.float32]
    instance: NDArray[np.uint16]
    unoccluded_pixels: NDArray[np.int64]
    motion: MotionBuffers | None = None  # when the scene's outputs ask for motion
    attributes: Mapping[str, NDArray[Any]] = field(default_factory=dict)
    surfaces: FrameSurfaces | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class EngineImage:
    """What an engine gives for one frame: its colour image over transparent black, before the
    background and sensor stages.

    rgba: float32 (H, W, 4) in [0, 1]: display-encoded colour (linear radiance ** (1 / 2.2), clamped:
        the transfer both engines share) premultiplied by alpha, the fraction of the pixel covered by
        a surface (antialiased edges); where alpha < 1 the background shows through.
    linear: float32 (H, W, 3) linear radiance premultiplied by alpha, before clamping, where the engine
        has it (the path engine); None otherwise. For measurements (docs/engines.md), never written.
    """

    rgba: NDArray[np.float32]
    linear: NDArray[np.float32] | None = None


@dataclass(frozen=True)
class RenderBuffers:
    """Buffers of one frame, rows top to bottom (image order), H x W.

    rgb: uint8 (H, W, 3), the engine's colour image over the background, sensor effects applied.
    depth, normals, instance, unoccluded_pixels, motion, attributes: the label pass's (LabelBuffers), whichever engine
    made the RGB image.
    """

    rgb: NDArray[np.uint8]
    depth: NDArray[np.float32]
    normals: NDArray[np.float32]
    instance: NDArray[np.uint16]
    unoccluded_pixels: NDArray[np.int64]
    motion: MotionBuffers | None = None
    attributes: Mapping[str, NDArray[Any]] = field(default_factory=dict)

    @staticmethod
    def of(rgb: NDArray[np.uint8], labels: LabelBuffers) -> RenderBuffers:
        return RenderBuffers(rgb=rgb, depth=labels.depth, normals=labels.normals, instance=labels.instance,
                             unoccluded_pixels=labels.unoccluded_pixels, motion=labels.motion,
                             attributes=labels.attributes)
