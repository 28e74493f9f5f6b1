"""Named results of the render stages: the label pass's buffers, an engine's image, and the frame's whole set."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class MotionBuffers:
    """The label pass's per-pixel motion and object-coordinate labels (renderer.labels.flow), H x W, image rows.

    object_coords: float32 (H, W, 3), the surface point at the pixel centre in its object's own
        (unscaled asset) frame, metres; 0 = no surface.
    (NOCS is not here: it is derived from object_coords when read, renderer.channels.nocs.)
    flow_forward, flow_backward: float32 (H, W, 2), (du, dv) in pixels from the pixel centre to where
        the same surface point projects in the next / previous frame, wherever it lies in front of that
        camera (occluded or outside the image included); 0 where there is no surface or no such frame.
    flow_forward_valid, flow_backward_valid: bool (H, W): a surface, the other frame exists, and the
        point is inside it and not hidden there (by another surface or its own object).
    scene_flow_forward, scene_flow_backward: float32 (H, W, 3), metres: the surface point's position in
        the next / previous frame's camera frame minus its position in this frame's (the 3D motion
        relative to the camera that optical flow is the image of); 0 where there is no surface or no
        such frame.
    surface_uv: float32 (H, W, 2), the mesh's own texture coordinates (u, v) at the pixel centre,
        interpolated perspective-correctly (exact for the surface point); 0 where there is no surface or
        the mesh has no per-vertex UV. People share anny's UV layout, so (u, v) is a point of the same
        body surface for every person and pose (DensePose-style correspondences).
    face_class: uint32 (H, W), the class of the triangle seen at the pixel centre as its mesh's lookup
        gives it (renderer.scene.body: a person's part and covering), 0 = none.
    A field the scene's outputs do not ask for is empty (0 x 0): the motion pass skips it.
    """

    object_coords: NDArray[np.float32]
    flow_forward: NDArray[np.float32]
    flow_forward_valid: NDArray[np.bool_]
    flow_backward: NDArray[np.float32]
    flow_backward_valid: NDArray[np.bool_]
    scene_flow_forward: NDArray[np.float32]
    scene_flow_backward: NDArray[np.float32]
    surface_uv: NDArray[np.float32]
    face_class: NDArray[np.uint32]


@dataclass(frozen=True)
class LabelBuffers:
    """What the label pass gives for one frame, rows top to bottom (image order), H x W.

    depth: float32 (H, W), metres along the optical axis (camera z) at the pixel centre; 0 = no surface.
    normals: float32 (H, W, 3), unit geometric (face) normals in the OpenCV camera frame, turned to face
        the camera; 0 = no surface.
    instance: uint16 (H, W), instance id of the surface at the pixel centre; 0 = background.
    unoccluded_pixels: int64 (N,), for the frame's N objects in order, the pixel centres each object
        covers when rendered alone (nothing in front of it); empty when not asked for.
    All come from one non-multisampled pass, so id, depth and normal at a pixel describe the same
    surface point: the one the ray through the pixel centre hits first.
    """

    depth: NDArray[np.float32]
    normals: NDArray[np.float32]
    instance: NDArray[np.uint16]
    unoccluded_pixels: NDArray[np.int64]
    motion: MotionBuffers | None = None  # when the scene's outputs ask for motion or object coordinates


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
    depth, normals, instance, unoccluded_pixels, motion: the label pass's (LabelBuffers), whichever engine
    made the RGB image.
    """

    rgb: NDArray[np.uint8]
    depth: NDArray[np.float32]
    normals: NDArray[np.float32]
    instance: NDArray[np.uint16]
    unoccluded_pixels: NDArray[np.int64]
    motion: MotionBuffers | None = None

    @staticmethod
    def of(rgb: NDArray[np.uint8], labels: LabelBuffers) -> RenderBuffers:
        return RenderBuffers(rgb=rgb, depth=labels.depth, normals=labels.normals, instance=labels.instance,
                             unoccluded_pixels=labels.unoccluded_pixels, motion=labels.motion)
