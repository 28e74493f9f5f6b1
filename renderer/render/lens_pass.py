"""The label pass of frames whose cameras have lenses: the plan's pinhole views (renderer.render.lens)
drawn by one LabelPass of the view canvas's size, then resampled along each pixel's own ray.

It answers what LabelPass answers (render, attributes, draw_motion, amodal_masks), so the pipeline, the labels and
the writers take lens frames unchanged. A pinhole frame of the canvas size passes straight through.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from renderer.assets.meshes import MeshLookup
from renderer.render import lens
from renderer.render.gl.decoders import BACKWARD_VALID, FORWARD_VALID, NEIGHBOUR_TARGETS
from renderer.render.gl.label_pass import LabelPass, model_matrix
from renderer.scene.buffers import LabelBuffers
from renderer.scene.camera import camera_model
from renderer.scene.description import FrameDescription
from renderer.scene.fragments import FrameSurfaces

KEPT_FRAMES = 3  # a frame and its two neighbours (the motion pass asks for all three)


def view_frame(frame: FrameDescription, plan: lens.LensPlan, k: int) -> FrameDescription:
    """The frame as pinhole view k of its lens plan sees it."""
    return dataclasses.replace(frame, camera=plan.view_camera(frame.camera, k))


@dataclass(frozen=True)
class _LensPass:
    buffers: LabelBuffers
    surfaces: lens.LensSurfaces


@dataclass(frozen=True)
class ReadyMotion:
    """A lens frame's motion targets, already resampled (the PendingMotion of LensLabelPass)."""

    targets: dict[str, NDArray[Any]]

    def read(self) -> dict[str, NDArray[Any]]:
        return self.targets


class LensLabelPass:
    """LabelPass for lens frames (module docstring); ``inner`` is the canvas-sized pass it draws views in."""

    def __init__(self, inner: LabelPass) -> None:
        self.inner = inner
        self.canvas = (inner.width, inner.height)
        self._kept: list[tuple[int, FrameDescription, _LensPass]] = []

    def _plan(self, frame: FrameDescription) -> lens.LensPlan:
        return lens.plan_views(frame.camera, self.canvas)

    def _lens_pass(self, frame: FrameDescription, catalog: MeshLookup) -> _LensPass:
        for owner, kept_frame, kept in self._kept:
            if owner == id(catalog) and (kept_frame is frame or kept_frame == frame):
                return kept
        plan = self._plan(frame)
        views = [self.inner.render(view_frame(frame, plan, k), catalog, count_alone=False)
                 for k in range(len(plan.views))]
        instance = lens.nearest(plan, [v.instance for v in views])
        surfaces = lens.surfaces(plan, [v.depth for v in views], [v.normals for v in views])
        result = _LensPass(LabelBuffers(depth=surfaces.depth, normals=surfaces.normals,
                                        instance=np.asarray(instance, dtype=np.uint16),
                                        unoccluded_pixels=np.zeros(0, np.int64)), surfaces)
        self._kept = [*self._kept[-(KEPT_FRAMES - 1):], (id(catalog), frame, result)]
        return result

    def render(self, frame: FrameDescription, catalog: MeshLookup, count_alone: bool = True,
               surfaces: bool = True) -> LabelBuffers:
        """LabelPass.render through the frame's lens; unoccluded_pixels counts each labelled object's
        pixels drawn alone on the lens's own pixels (0 for unlabelled distractors)."""
        if frame.camera.lens is None:
            return self.inner.render(frame, catalog, count_alone, surfaces)
        buffers = self._lens_pass(frame, catalog).buffers
        if not count_alone:
            return buffers
        unoccluded = np.zeros(len(frame.objects), np.int64)
        masks = self.amodal_masks(frame, catalog)
        labelled = [k for k, obj in enumerate(frame.objects) if obj.labelled]
        unoccluded[labelled] = masks.reshape(len(labelled), -1).sum(axis=1)
        return dataclasses.replace(buffers, unoccluded_pixels=unoccluded)

    def amodal_masks(self, frame: FrameDescription, meshes: MeshLookup) -> NDArray[np.bool_]:
        """(N, H, W) bool: each labelled object's pixels drawn alone, through the lens."""
        if frame.camera.lens is None:
            return self.inner.amodal_masks(frame, meshes)
        plan = self._plan(frame)
        per_view = [np.moveaxis(self.inner.amodal_masks(view_frame(frame, plan, k), meshes), 0, -1)
                    for k in range(len(plan.views))]
        if not per_view or per_view[0].shape[-1] == 0:
            return np.zeros((len(frame.labelled_objects), plan.height, plan.width), bool)
        return np.ascontiguousarray(np.moveaxis(lens.nearest(plan, per_view), -1, 0))

    def attributes(self, frame: FrameDescription, catalog: MeshLookup,
                   make: dict[str, Callable[[FrameSurfaces], NDArray[Any]]]) -> dict[str, NDArray[Any]]:
        """LabelPass.attributes through the lens: each view's, at each pixel's nearest view sample."""
        if frame.camera.lens is None:
            return self.inner.attributes(frame, catalog, make)
        plan = self._plan(frame)
        per_view = [self.inner.attributes(view_frame(frame, plan, k), catalog, make) for k in range(len(plan.views))]
        return {name: np.asarray(lens.nearest(plan, [v[name] for v in per_view])) for name in make}

    def neighbour_buffers(self, frame: FrameDescription, catalog: MeshLookup) -> LabelBuffers | None:
        """What draw_motion needs of a neighbouring frame given to it: nothing for a lens frame (it
        draws the neighbour's views itself)."""
        if frame.camera.lens is None:
            return self.inner.render(frame, catalog)
        return None

    def draw_motion(self, frame: FrameDescription, catalog: MeshLookup,
                    before: tuple[FrameDescription, LabelBuffers | None] | None,
                    after: tuple[FrameDescription, LabelBuffers | None] | None,
                    tolerance: float, targets: frozenset[str] = NEIGHBOUR_TARGETS) -> Any:
        """LabelPass.draw_motion through the lens (module docstring of renderer.render.lens): each view's
        motion pass against the neighbours seen through the same face, resampled; optical flow from the
        surface point on the pixel's ray moved by its scene flow, projected through the neighbour's lens."""
        if frame.camera.lens is None:  # its neighbours' buffers came from neighbour_buffers: full passes
            return self.inner.draw_motion(frame, catalog, before, after, tolerance, targets)  # type: ignore[arg-type]
        plan = self._plan(frame)
        flows = {"flow_forward", "flow_backward", "flags"} & targets
        asked = set(targets)
        if flows:
            asked |= {"scene_flow_forward", "scene_flow_backward", "flags"}
        per_view: list[dict[str, NDArray[Any]]] = []
        for k in range(len(plan.views)):
            def seen_by_view(other: tuple[FrameDescription, Any] | None, k: int = k) -> Any:
                if other is None:
                    return None
                moved = dataclasses.replace(other[0], camera=plan.view_camera(other[0].camera, k))
                return moved, self.inner.render(moved, catalog)
            per_view.append(self.inner.draw_motion(view_frame(frame, plan, k), catalog, seen_by_view(before),
                                                   seen_by_view(after), tolerance, frozenset(asked)).read())
        return ReadyMotion(self._resample_motion(frame, catalog, plan, per_view, targets, before, after))

    def _resample_motion(self, frame: FrameDescription, catalog: MeshLookup, plan: lens.LensPlan,
                         per_view: Sequence[dict[str, NDArray[Any]]], targets: frozenset[str],
                         before: tuple[FrameDescription, Any] | None,
                         after: tuple[FrameDescription, Any] | None) -> dict[str, NDArray[Any]]:
        out: dict[str, NDArray[Any]] = {}
        names = set(per_view[0]) if per_view else set()
        for name in names:
            views = [v[name] for v in per_view]
            out[name] = lens.turned(plan, views) if name.startswith("scene_flow") else lens.nearest(plan, views)
        if {"flow_forward", "flow_backward", "flags"} & targets:
            surfaces = self._lens_pass(frame, catalog).surfaces
            seen = surfaces.depth > 0
            flags = out["flags"]
            for name, bit, other in (("forward", FORWARD_VALID, after), ("backward", BACKWARD_VALID, before)):
                if other is None:
                    out[f"flow_{name}"] = np.zeros((plan.height, plan.width, 2), np.float32)
                    flags &= np.uint8(~bit & 0xFF)
                    continue
                scene_flow = _rigid_scene_flow(frame, other[0], self._lens_pass(frame, catalog).buffers.instance,
                                               surfaces.points, out[f"scene_flow_{name}"])
                if f"scene_flow_{name}" in targets:
                    out[f"scene_flow_{name}"] = scene_flow
                flow, inside = lens.lens_flow(plan, surfaces.points, scene_flow, seen, camera_model(other[0].camera))
                out[f"flow_{name}"] = flow
                flags &= np.where(inside, np.uint8(0xFF), np.uint8(~bit & 0xFF)).astype(np.uint8)
            out["flags"] = flags
        return {name: out[name] for name in targets if name in out}


def _rigid_scene_flow(frame: FrameDescription, other: FrameDescription, instance: NDArray[np.uint16],
                      points: NDArray[np.float64], sampled: NDArray[np.float32]) -> NDArray[np.float32]:
    """Scene flow at the exact point on each pixel's ray: for a labelled rigid object, its own motion
    (other frame's model-view times the inverse of this one's) applied to that point; elsewhere (people,
    whose meshes deform, and unlabelled distractors) the nearest view sample's."""
    out = sampled.copy()
    for k, obj in enumerate(frame.objects):
        if not obj.labelled or obj.mesh.kind == "body" or k >= len(other.objects):
            continue
        where = instance == obj.instance_id
        if not where.any():
            continue
        here = np.asarray(frame.camera.world_to_camera) @ model_matrix(obj)
        there = np.asarray(other.camera.world_to_camera) @ model_matrix(other.objects[k])
        motion = there @ np.linalg.inv(here)
        p = points[where]
        out[where] = (p @ motion[:3, :3].T + motion[:3, 3] - p).astype(np.float32)
    return out
