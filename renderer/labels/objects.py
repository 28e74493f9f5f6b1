"""Labels: pure functions of (frame description, render buffers, asset geometry). No OpenGL.

Conventions (docs/format.md): OpenCV camera frame, metres, pixel centre of (row r, column c) at
(u, v) = (c, r); boxes are [x, y, w, h] in whole pixels, covering columns x .. x+w-1 and rows y .. y+h-1.
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage
from numpy.typing import NDArray

from renderer.assets.catalog import AssetCatalog, FaceGeometry
from renderer.scene.buffers import LabelBuffers, RenderBuffers
from renderer.scene.camera import CameraModel, camera_model
from renderer.scene.description import FrameDescription, ObjectDescription
from renderer.scene.geometry import transform_points
from renderer.scene.records import OCCLUSION_TOLERANCE, FaceLabels, LandmarkLabels, ObjectLabels


def visible_boxes(instance: NDArray[np.integer], count: int) -> list[tuple[int, int, int, int]]:
    """[x, y, w, h] of each id 1..count in an instance map; [0, 0, 0, 0] where an id is absent."""
    slices = scipy.ndimage.find_objects(instance, max_label=count)
    boxes = []
    for found in slices:
        if found is None:
            boxes.append((0, 0, 0, 0))
        else:
            rows, cols = found
            boxes.append((cols.start, rows.start, cols.stop - cols.start, rows.stop - rows.start))
    return boxes


def landmark_labels(names: tuple[str, ...], points_object: NDArray[np.float64], scale: float,
                    object_to_world: NDArray[np.float64], world_to_camera: NDArray[np.float64],
                    camera: CameraModel, depth: NDArray[np.float32],
                    normals: NDArray[np.float32], radii: NDArray[np.float64] | None = None) -> LandmarkLabels:
    """Project landmarks (asset frame, unscaled) and test them against the depth and normal buffers.

    A surface landmark is visible where the surface seen through its pixel is not in front of it. An
    interior landmark (``radii``: a body's joint, that far under its skin) is visible where that surface
    is no more than its radius (scaled, in camera z) in front of it: an elbow behind the torso, or
    behind another object, is occluded; one under its own skin is not."""
    height, width = depth.shape
    xyz_world = transform_points(object_to_world, np.asarray(points_object) * scale)
    xyz_camera = transform_points(world_to_camera, xyz_world)
    uv = camera.project(xyz_camera)
    z = xyz_camera[:, 2]
    with np.errstate(invalid="ignore"):
        in_frame = (z > 0) & (uv[:, 0] >= -0.5) & (uv[:, 0] < width - 0.5) \
            & (uv[:, 1] >= -0.5) & (uv[:, 1] < height - 0.5)
    visible = np.zeros(len(names), dtype=bool)
    if in_frame.any():
        cols = np.floor(uv[in_frame, 0] + 0.5).astype(int)
        rows = np.floor(uv[in_frame, 1] + 0.5).astype(int)
        landmark_z = z[in_frame]
        seen = _surface_depth_on_rays(depth, normals, camera, rows, cols, xyz_camera[in_frame] / landmark_z[:, None])
        if radii is None:
            visible[in_frame] = (seen == 0) | (seen >= landmark_z * (1.0 - OCCLUSION_TOLERANCE))
        else:
            margin = np.asarray(radii, dtype=np.float64)[in_frame] * scale
            visible[in_frame] = (seen == 0) | (seen >= landmark_z - margin)  # the margin is the tolerance
    return LandmarkLabels(names, xyz_world, xyz_camera, uv, in_frame, visible)


def _surface_depth_on_rays(depth: NDArray[np.float32], normals: NDArray[np.float32], camera: CameraModel,
                           rows: NDArray[np.intp], cols: NDArray[np.intp],
                           rays: NDArray[np.float64]) -> NDArray[np.float64]:
    """Depth (z) where each ray (z = 1) meets the plane of the surface seen at pixel (row, col).

    Falls back to the pixel's own depth where the ray grazes that plane; 0 where no surface is seen.
    """
    seen = depth[rows, cols].astype(np.float64)
    n = normals[rows, cols].astype(np.float64)
    points = camera.unproject(np.stack([cols, rows], axis=1).astype(np.float64), seen)
    along = np.einsum("ij,ij->i", n, rays)
    grazing = np.abs(along) < 1e-3 * np.linalg.norm(rays, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        on_plane = np.einsum("ij,ij->i", n, points) / along
    return np.where((seen > 0) & ~grazing, on_plane, seen)


def box3d_corners(bounds: NDArray[np.float64]) -> NDArray[np.float64]:
    """(8, 3) corners of an axis-aligned box [[min], [max]], x slowest, z fastest (box_000..box_111)."""
    lo, hi = np.asarray(bounds, float)
    return np.array([[(lo, hi)[i][0], (lo, hi)[j][1], (lo, hi)[k][2]]
                     for i in (0, 1) for j in (0, 1) for k in (0, 1)])


def frame_labels(frame: FrameDescription, buffers: RenderBuffers | LabelBuffers, catalog: AssetCatalog,
                 min_visible_fraction: float = 0.0) -> list[ObjectLabels]:
    """Per-object labels of a rendered frame for its labelled objects (instance ids 1, 2, ...), in order.

    Unlabelled distractors (instance id 0) get none: their pixels are background in the masks. Objects
    seen less than min_visible_fraction are marked ``ignore`` (exports: crowd / ignore regions).
    """
    world_to_camera = np.asarray(frame.camera.world_to_camera)
    camera = camera_model(frame.camera)
    labelled = len(frame.labelled_objects)
    counts = np.bincount(buffers.instance.ravel(), minlength=labelled + 1)
    boxes = visible_boxes(buffers.instance, labelled)
    labels = []
    for k, obj in enumerate(frame.objects):
        if not obj.labelled:
            continue
        labels.append(_object_labels(obj, catalog, world_to_camera, camera, buffers, boxes[obj.instance_id - 1],
                                     int(counts[obj.instance_id]), int(buffers.unoccluded_pixels[k]),
                                     min_visible_fraction))
    return labels


def _object_labels(obj: ObjectDescription, catalog: AssetCatalog, world_to_camera: NDArray[np.float64],
                   camera: CameraModel, buffers: RenderBuffers | LabelBuffers, bbox: tuple[int, int, int, int],
                   visible: int, unoccluded: int, min_visible_fraction: float) -> ObjectLabels:
    object_to_world = np.asarray(obj.object_to_world)
    object_to_camera = world_to_camera @ object_to_world
    mesh = catalog.mesh(obj.mesh)
    landmarks = catalog.landmarks(obj.mesh)
    return ObjectLabels(
        instance_id=obj.instance_id, category=obj.category, category_id=obj.category_id,
        object_to_world=object_to_world, object_to_camera=object_to_camera, bbox=bbox,
        visible_pixels=visible, unoccluded_pixels=unoccluded,
        visible_fraction=visible / unoccluded if unoccluded else 0.0,
        ignore=(visible / unoccluded if unoccluded else 0.0) < min_visible_fraction,
        box3d_camera=transform_points(object_to_camera, box3d_corners(mesh.bounds) * obj.scale),
        landmarks=landmark_labels(landmarks.names, landmarks.points, obj.scale, object_to_world,
                                  world_to_camera, camera, buffers.depth, buffers.normals, landmarks.radii),
        asset_bounds=np.array(mesh.bounds, dtype=np.float64),
        person=obj.mesh.body.attributes if obj.mesh.body is not None else None,
        face=_face_labels(face, obj, object_to_world, world_to_camera, camera, buffers)
        if (face := catalog.face(obj.mesh)) is not None else None,
    )


def _face_labels(face: FaceGeometry, obj: ObjectDescription, object_to_world: NDArray[np.float64],
                 world_to_camera: NDArray[np.float64], camera: CameraModel,
                 buffers: RenderBuffers | LabelBuffers) -> FaceLabels:
    """Face labels of a person: the 68 landmarks tested like every landmark, and the head frame and gaze
    carried into the camera frame."""
    from renderer.humans.head import euler_from_rotation, gaze_angles

    lm = face.landmarks
    landmarks = landmark_labels(lm.names, lm.points, obj.scale, object_to_world, world_to_camera, camera,
                                buffers.depth, buffers.normals, lm.radii)
    object_to_camera = world_to_camera @ object_to_world
    head = object_to_camera @ face.head_frame
    rotation = head[:3, :3]
    gaze = face.gaze @ object_to_camera[:3, :3].T
    mean_gaze = rotation.T @ (gaze[0] + gaze[1])
    height, width = buffers.depth.shape
    return FaceLabels(landmarks=landmarks, box=landmark_box(landmarks.uv, landmarks.in_frame, width, height),
                      head_rotation=rotation, head_euler_deg=euler_from_rotation(rotation),
                      head_position=head[:3, 3].copy(), gaze_camera=gaze, gaze_deg=gaze_angles(mean_gaze),
                      expression=face.expression, expression_weights=face.expression_weights)


def landmark_box(uv: NDArray[np.float64], in_frame: NDArray[np.bool_], width: int,
                 height: int) -> tuple[int, int, int, int]:
    """[x, y, w, h] whole pixels covering the pixels of the in-frame points (their nearest pixel centres)."""
    if not np.any(in_frame):
        return (0, 0, 0, 0)
    cols = np.clip(np.floor(uv[in_frame, 0] + 0.5).astype(int), 0, width - 1)
    rows = np.clip(np.floor(uv[in_frame, 1] + 0.5).astype(int), 0, height - 1)
    return (int(cols.min()), int(rows.min()), int(cols.max() - cols.min() + 1), int(rows.max() - rows.min() + 1))
