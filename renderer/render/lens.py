"""Rendering through a lens: pinhole views, then every buffer resampled along each pixel's own ray.

A rasteriser draws straight lines straight; a lens does not. So a frame whose camera has a lens
(renderer.scene.camera: Brown-Conrady, fisheye) is drawn as pinhole *views*: the faces of a cube about
the camera (front, right, left, down, up), only those its pixels look through, each with a K that holds
those pixels' rays and samples them ``supersampling`` times finer than the lens's finest pixel spacing
there (within the view canvas). Each output pixel belongs to the face its unit ray points most along,
and takes its labels from the view sample nearest that ray:

- ids (instance, classes, the motion pass's flags): the sample's, never interpolated or blended: a
  pixel's id is the id of a surface seen within 1 / (2 s) pixel of its own ray (s: the supersampling);
- depth: the pixel's exact ray intersected with the plane of the sample's surface (its point and face
  normal): exact on planar triangles, z along the camera's optical axis as everywhere;
- normals: the sample's face normal, turned into the camera frame and to face the pixel's ray;
- object coordinates, surface UV: the sample's;
- scene flow: the sample's, turned into the camera frame; optical flow: the point on the pixel's ray
  moved by that scene flow and projected through the *neighbouring frame's* lens;
- RGB: 2 x 2 sub-pixel rays per pixel, each bilinear in its view's linear colour, averaged;
- unoccluded pixels: each labelled object drawn alone in the views and resampled like the ids, then
  counted on the lens's own pixels.

Pixels the lens does not reach (outside a fisheye's image circle, at or beyond 90 degrees off the axis,
where the distortion folds back) see nothing: no surface, black.

This module is pure numpy: the plan of a camera's views and the resampling of view buffers. The GL
side (drawing the views) is renderer.render.lens_pass.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from renderer.scene.camera import CameraModel, camera_model
from renderer.scene.description import CameraDescription, as_matrix

Array = NDArray[np.float64]

# Camera frame -> view frame: rows are the view's x, y, z axes in camera coordinates (right-handed).
FACES: tuple[tuple[str, Array], ...] = (
    ("front", np.eye(3)),
    ("right", np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])),
    ("left", np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])),
    ("down", np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])),
    ("up", np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])),
)
SUBPIXELS = ((-0.25, -0.25), (0.25, -0.25), (-0.25, 0.25), (0.25, 0.25))  # the RGB's rays in a pixel
MIN_AXIS_COSINE = 1e-6  # rays this close to 90 degrees off the axis (or beyond) see nothing
PLANE_TOLERANCE = 0.05  # a re-intersection moving the point more than this (relative) keeps the sample's distance


@dataclass(frozen=True)
class LensView:
    """One pinhole view: ``rotation`` camera frame -> view frame, ``K`` of the view canvas."""

    face: str
    rotation: Array
    K: Array


@dataclass(frozen=True, eq=False)
class LensPlan:
    """Where each output pixel (and RGB sub-pixel) looks in which view.

    view: int (H, W) index into ``views``, -1 where the lens reaches no ray; rows, cols: int (H, W) the
    nearest view sample; directions: (H, W, 3) unit rays (NaN where none); sub_uv: (4, H, W, 2) continuous
    view coordinates of the SUBPIXELS rays (in the pixel's own view).
    """

    width: int
    height: int
    canvas: tuple[int, int]
    views: tuple[LensView, ...]
    view: NDArray[np.int8]
    rows: NDArray[np.int32]
    cols: NDArray[np.int32]
    directions: Array
    sub_uv: NDArray[np.float32]

    def view_camera(self, camera: CameraDescription, k: int) -> CameraDescription:
        """The pinhole camera of view k: the frame's pose turned to that face, the canvas size, no lens."""
        view = self.views[k]
        turn = np.eye(4)
        turn[:3, :3] = view.rotation
        return dataclasses.replace(camera, width=self.canvas[0], height=self.canvas[1], K=as_matrix(view.K),
                                   world_to_camera=as_matrix(turn @ np.asarray(camera.world_to_camera)), lens=None)


def canvas_size(width: int, height: int, supersampling: int) -> tuple[int, int]:
    """The size of every view of a scene's lens frames (one GL context serves them all)."""
    return width * supersampling, height * supersampling


def _faces_of(directions: Array) -> NDArray[np.int8]:
    """The face each unit ray points most along (-1 for NaN rays or rays at 90 degrees or beyond)."""
    along = np.stack([directions @ rotation[2] for _, rotation in FACES])  # (faces, N)
    face = np.argmax(np.nan_to_num(along, nan=-np.inf), axis=0).astype(np.int8)
    face[~(directions[:, 2] > MIN_AXIS_COSINE)] = -1
    return face


def _tangents(directions: Array, rotation: Array) -> Array:
    turned = directions @ rotation.T
    return turned[:, :2] / turned[:, 2:3]


_PLANS: dict[tuple[object, ...], LensPlan] = {}
PLANS_KEPT = 8  # a scene with one lens plans it once; drawn coefficients plan per frame


def plan_views(camera: CameraDescription, canvas: tuple[int, int]) -> LensPlan:
    """The views of a lens camera and where each of its pixels samples them (the last few kept: a plan
    depends on the lens, K and sizes, not on the pose)."""
    lens = camera.lens
    if lens is None:
        raise ValueError("plan_views: the camera has no lens")
    key = (camera.width, camera.height, tuple(np.asarray(camera.K, float).ravel()), lens, canvas)
    plan = _PLANS.get(key)
    if plan is None:
        plan = _build_plan(camera_model(camera), lens.supersampling, canvas)
        while len(_PLANS) >= PLANS_KEPT:
            _PLANS.pop(next(iter(_PLANS)))
        _PLANS[key] = plan
    return plan


def _build_plan(model: CameraModel, supersampling: int, canvas: tuple[int, int]) -> LensPlan:
    width, height = model.width, model.height
    v, u = np.mgrid[0:height, 0:width].astype(np.float64)
    centres = np.stack([u.ravel(), v.ravel()], axis=1)
    directions = model.directions(centres)
    face = _faces_of(directions)
    canvas_w, canvas_h = canvas
    views: list[LensView] = []
    view_of_face = np.full(len(FACES), -1, dtype=np.int8)
    for f, (name, rotation) in enumerate(FACES):
        here = face == f
        if not here.any():
            continue
        tangents = _tangents(directions[here], rotation)
        spacing = _finest_spacing(directions, here, rotation, width, height)
        low, high = tangents.min(axis=0) - spacing, tangents.max(axis=0) + spacing  # room for sub-pixel rays
        focal = min(supersampling / spacing, (canvas_w - 3) / max(high[0] - low[0], 1e-12),
                    (canvas_h - 3) / max(high[1] - low[1], 1e-12))
        centre = (low + high) / 2
        K = np.array([[focal, 0.0, (canvas_w - 1) / 2 - focal * centre[0]],
                      [0.0, focal, (canvas_h - 1) / 2 - focal * centre[1]], [0.0, 0.0, 1.0]])
        view_of_face[f] = len(views)
        views.append(LensView(name, rotation, K))
    if not views:  # the lens reaches no ray at all: one idle view, so every pass has a buffer to read
        views.append(LensView("front", np.eye(3), np.array([[1.0, 0.0, (canvas_w - 1) / 2],
                                                            [0.0, 1.0, (canvas_h - 1) / 2], [0.0, 0.0, 1.0]])))
    view = np.where(face >= 0, view_of_face[np.maximum(face, 0)], -1).astype(np.int8)
    uv = np.zeros((len(centres), 2))
    for k, lens_view in enumerate(views):
        which = view == k
        uv[which] = _tangents(directions[which], lens_view.rotation) @ lens_view.K[:2, :2].T + lens_view.K[:2, 2]
    cols = np.clip(np.floor(uv[:, 0] + 0.5), 0, canvas_w - 1).astype(np.int32)
    rows = np.clip(np.floor(uv[:, 1] + 0.5), 0, canvas_h - 1).astype(np.int32)
    directions[view < 0] = np.nan
    view_grid = view.reshape(height, width)
    sub_uv = _sub_pixels(uv.reshape(height, width, 2), view_grid)
    return LensPlan(width, height, canvas, tuple(views), view_grid, rows.reshape(height, width),
                    cols.reshape(height, width), directions.reshape(height, width, 3), sub_uv)


def _sub_pixels(uv: Array, view: NDArray[np.int8]) -> NDArray[np.float32]:
    """(4, H, W, 2) view coordinates of the SUBPIXELS rays of each pixel: its centre's, moved along the
    local derivative of the lens's mapping (centred differences between neighbours in the same view;
    one-sided at a view's edge, none where a pixel has no such neighbour). For the RGB image's
    antialiasing only: labels use the exact centre rays."""
    steps = []
    for axis in (1, 0):  # d(view uv)/d(column), then d/d(row)
        ahead = np.roll(uv, -1, axis=axis) - uv
        behind = uv - np.roll(uv, 1, axis=axis)
        same_ahead = np.roll(view, -1, axis=axis) == view
        same_behind = np.roll(view, 1, axis=axis) == view
        if axis == 1:
            same_ahead[:, -1] = False
            same_behind[:, 0] = False
        else:
            same_ahead[-1, :] = False
            same_behind[0, :] = False
        both = same_ahead & same_behind
        step = np.where(both[..., None], (ahead + behind) / 2,
                        np.where(same_ahead[..., None], ahead, np.where(same_behind[..., None], behind, 0.0)))
        steps.append(np.nan_to_num(step))
    along_u, along_v = steps
    return np.stack([uv + du * along_u + dv * along_v for du, dv in SUBPIXELS]).astype(np.float32)


def _finest_spacing(directions: Array, here: NDArray[np.bool_], rotation: Array, width: int, height: int) -> float:
    """The smallest spacing (in the face's tangent plane) between neighbouring pixels of the face
    (its 1st percentile: a few folded pixels at a lens's edge do not decide it)."""
    tangents = np.full((height * width, 2), np.nan)
    if here.any():
        tangents[here] = _tangents(directions[here], rotation)
    grid = tangents.reshape(height, width, 2)
    steps = [np.hypot(*np.moveaxis(np.diff(grid, axis=a), -1, 0)).ravel() for a in (0, 1)]
    finite = np.concatenate(steps)
    finite = finite[np.isfinite(finite) & (finite > 0)]
    if not len(finite):
        return 1.0 / max(width, height)
    return float(np.percentile(finite, 1))


# -- resampling ----------------------------------------------------------------------------------------


def nearest(plan: LensPlan, per_view: Sequence[NDArray[np.generic]]) -> NDArray[np.generic]:
    """(H, W, ...) each pixel's nearest view sample of ``per_view`` (one array per view); 0 where none."""
    first = per_view[0]
    out = np.zeros((plan.height, plan.width, *first.shape[2:]), dtype=first.dtype)
    for k, array in enumerate(per_view):
        where = plan.view == k
        out[where] = array[plan.rows[where], plan.cols[where]]
    return out


def _view_rays(plan: LensPlan, k: int, where: NDArray[np.bool_]) -> Array:
    """View-frame rays (z = 1) of the nearest samples of the pixels ``where`` in view k."""
    K = plan.views[k].K
    pixels = np.stack([plan.cols[where], plan.rows[where], np.ones(int(where.sum()))], axis=1).astype(np.float64)
    return np.asarray(pixels @ np.linalg.inv(K).T)


@dataclass(frozen=True)
class LensSurfaces:
    """The lens's own depth and normals, and the camera-frame point on each pixel's ray (0 where none)."""

    depth: NDArray[np.float32]
    normals: NDArray[np.float32]
    points: Array


def surfaces(plan: LensPlan, depths: Sequence[NDArray[np.float32]],
             normals: Sequence[NDArray[np.float32]]) -> LensSurfaces:
    """Depth and normals along each pixel's exact ray from the views' label passes (module docstring)."""
    h, w = plan.height, plan.width
    depth = np.zeros((h, w), np.float32)
    normal_out = np.zeros((h, w, 3), np.float32)
    points = np.zeros((h, w, 3))
    for k, view in enumerate(plan.views):
        where = plan.view == k
        z = depths[k][plan.rows[where], plan.cols[where]].astype(np.float64)
        seen = z > 0
        if not seen.any():
            continue
        where[where] = seen
        z = z[seen]
        sample = (_view_rays(plan, k, where) * z[:, None]) @ view.rotation  # camera frame
        n = normals[k][plan.rows[where], plan.cols[where]].astype(np.float64) @ view.rotation
        d = plan.directions[where]
        along = np.einsum("ij,ij->i", n, d)
        distance = np.linalg.norm(sample, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.einsum("ij,ij->i", n, sample) / along
        keep = (np.abs(along) > 1e-6) & (t > 0) & (np.abs(t - distance) <= PLANE_TOLERANCE * distance)
        t = np.where(keep, t, distance)
        point = d * t[:, None]
        n = np.where((np.einsum("ij,ij->i", n, d) > 0)[:, None], -n, n)
        depth[where] = point[:, 2]
        normal_out[where] = n
        points[where] = point
    return LensSurfaces(depth, normal_out, points)


def colour(plan: LensPlan, linear: Sequence[NDArray[np.float32]]) -> NDArray[np.float32]:
    """(H, W, C) the views' linear colour through the lens: the mean of bilinear samples at the 2 x 2
    sub-pixel rays of each pixel (black where a ray sees nothing)."""
    channels = linear[0].shape[2]
    total = np.zeros((plan.height, plan.width, channels), np.float32)
    for k, image in enumerate(linear):
        where = plan.view == k
        if where.any():
            for s in range(len(SUBPIXELS)):
                total[where] += _bilinear(image, plan.sub_uv[s][where])
    return total / np.float32(len(SUBPIXELS))


def _bilinear(image: NDArray[np.float32], uv: NDArray[np.float32]) -> NDArray[np.float32]:
    h, w = image.shape[:2]
    u = np.clip(uv[:, 0], 0, w - 1)
    v = np.clip(uv[:, 1], 0, h - 1)
    c0 = np.minimum(np.floor(u).astype(np.int64), w - 2)
    r0 = np.minimum(np.floor(v).astype(np.int64), h - 2)
    fu = (u - c0)[:, None].astype(np.float32)
    fv = (v - r0)[:, None].astype(np.float32)
    top = image[r0, c0] * (1 - fu) + image[r0, c0 + 1] * fu
    bottom = image[r0 + 1, c0] * (1 - fu) + image[r0 + 1, c0 + 1] * fu
    return np.asarray(top * (1 - fv) + bottom * fv, dtype=np.float32)


def turned(plan: LensPlan, per_view: Sequence[NDArray[np.float32]]) -> NDArray[np.float32]:
    """nearest() of per-view camera-frame vectors given in each view's frame (scene flow), turned back."""
    out = np.zeros((plan.height, plan.width, 3), np.float32)
    for k, (array, view) in enumerate(zip(per_view, plan.views, strict=True)):
        where = plan.view == k
        out[where] = array[plan.rows[where], plan.cols[where]] @ view.rotation.astype(np.float32)
    return out


def lens_flow(plan: LensPlan, points: Array, scene_flow: NDArray[np.float32], seen: NDArray[np.bool_],
              other: CameraModel) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
    """Optical flow (H, W, 2) of the surface points ``points`` moved by ``scene_flow`` (both camera frame)
    into the other frame's lens, and whether that end point lies in front of it and inside its image;
    0 / False where no surface is ``seen``."""
    flow = np.zeros((plan.height, plan.width, 2), np.float32)
    inside = np.zeros((plan.height, plan.width), bool)
    end = points[seen] + scene_flow[seen].astype(np.float64)
    ahead = end[:, 2] > 0
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        uv = other.project(end)
    rows, cols = np.nonzero(seen)
    displacement = uv - np.stack([cols, rows], axis=1)
    ok = ahead & np.isfinite(displacement).all(axis=1)
    flow[rows[ok], cols[ok]] = displacement[ok]
    in_image = ok & (uv[:, 0] >= -0.5) & (uv[:, 0] < other.width - 0.5) & (uv[:, 1] >= -0.5) \
        & (uv[:, 1] < other.height - 0.5)
    inside[rows, cols] = in_image
    return flow, inside
