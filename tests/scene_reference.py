"""The scene of a written frame rebuilt from its meta JSON alone, with no renderer code.

Each object's geometry comes from what the frame description names: its mesh file read with trimesh
(the asset the user gave, not the dataset's own copy), or a box / tray built here from its extents; it
is scaled by ``scale`` in its own frame and placed with ``object_to_world`` (docs/format.md). Camera
intrinsics and pose come from the meta file's ``camera`` record. Landmarks come from the asset's sidecar
file, or are the corners of the mesh's box and its centroid. With tests/raycast.py this is the
independent reference the labels are checked against.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import trimesh
from raycast import RaycastImage, first_hits, raycast, silhouette_band

_ASSET_CACHE: dict[tuple, trimesh.Trimesh] = {}


def _box(extents, centre=(0.0, 0.0, 0.0)) -> trimesh.Trimesh:
    return trimesh.creation.box(extents=extents, transform=trimesh.transformations.translation_matrix(centre))


def asset_mesh(mesh: dict[str, Any]) -> trimesh.Trimesh:
    """The unscaled asset geometry a description's ``mesh`` record names (not to be modified)."""
    key = (mesh["kind"], mesh.get("path", ""), tuple(mesh.get("extents", ())), mesh.get("wall", 0.0),
           json.dumps(mesh.get("body"), sort_keys=True))
    if key not in _ASSET_CACHE:
        kind = mesh["kind"]
        if kind == "file":
            loaded = trimesh.load(mesh["path"], force="mesh")
        elif kind == "box":
            loaded = _box(mesh["extents"])
        elif kind == "body":
            loaded = body_reference(mesh["body"])[0]
        elif kind == "accessory":  # a worn thing: its geometry is its kind's (renderer.humans.wardrobe), a shell
            from renderer.humans.model import body_model  # over the posed skin or rigid glasses; the check
            from renderer.humans.wardrobe import WORN  # here is on how it is rendered
            from renderer.scene.description import MeshSource
            from renderer.scene.plain import from_plain

            source = from_plain(MeshSource, mesh)
            loaded = WORN[source.path].mesh(
                source, lambda body: body_model().pose(body.phenotype, body.joints, body.expression))
        elif kind == "tray":  # an open box: floor of thickness `wall`, walls up to the height (outer x, y)
            x, y, height = mesh["extents"]
            wall = mesh["wall"]
            parts = [_box((x, y, wall), (0, 0, wall / 2))]
            for sign in (-1, 1):
                parts.append(_box((x, wall, height), (0, sign * (y - wall) / 2, height / 2)))
                parts.append(_box((wall, y, height), (sign * (x - wall) / 2, 0, height / 2)))
            loaded = trimesh.util.concatenate(parts)
        else:
            raise ValueError(f"unknown mesh kind {kind!r}")
        _ASSET_CACHE[key] = loaded
    return _ASSET_CACHE[key]


_ANNY: list[Any] = []


def body_reference(body: dict[str, Any]) -> tuple[trimesh.Trimesh, np.ndarray]:
    """(posed mesh, COCO+foot keypoints) of a description's body record, straight from anny: joint
    angles composed with scipy (extrinsic xyz = Rz Ry Rx), its expression's facial actions, the lowest
    vertex moved to z = 0."""
    import scipy.spatial.transform
    import torch

    from renderer.humans.model import load_anny  # only anny's import, made safe next to GL

    anny = load_anny()
    if not _ANNY:
        model = anny.Anny(phenotypes="all", facial_actions="all")
        names = ["nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
                 "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
                 "right_knee", "left_ankle", "right_ankle", "left_big_toe", "left_small_toe", "left_heel",
                 "right_big_toe", "right_small_toe", "right_heel"]
        _ANNY.extend([model, anny.KeypointsRegressor.coco(model, labels=names)])
    model, regressor = _ANNY
    pose = {}
    for bone, angles in body["joints"]:
        matrix = np.eye(4)
        matrix[:3, :3] = scipy.spatial.transform.Rotation.from_euler("xyz", angles, degrees=True).as_matrix()
        pose[bone] = torch.as_tensor(matrix, dtype=model.dtype)[None]
    with torch.no_grad():
        out = model(pose_parameters=pose, phenotype_kwargs=dict(body["phenotype"]),
                    facial_actions=dict(body.get("expression", [])) or None)
        keypoints = regressor(out)[0].numpy().astype(float)
    vertices = out["vertices"][0].numpy().astype(float)
    shift = np.array([0.0, 0.0, -vertices[:, 2].min()])
    mesh = trimesh.Trimesh(vertices + shift, model.faces.numpy(), process=False)
    return mesh, keypoints + shift


def placement(obj: dict[str, Any]) -> np.ndarray:
    """object_to_world @ scale: where a vertex of the asset file lands in the world."""
    return np.asarray(obj["object_to_world"], dtype=float) @ np.diag([obj["scale"]] * 3 + [1.0])


def reference_meshes(meta: dict[str, Any]) -> dict[int, trimesh.Trimesh]:
    """{instance id: world-space mesh} of a frame's meta JSON; unlabelled distractors (id 0) together
    under 0 (they occlude but are background in the masks)."""
    meshes: dict[int, list[trimesh.Trimesh]] = {}
    for obj in meta["description"]["objects"]:
        mesh = asset_mesh(obj["mesh"]).copy()
        mesh.apply_transform(placement(obj))
        meshes.setdefault(int(obj["instance_id"]), []).append(mesh)
    return {i: parts[0] if len(parts) == 1 else trimesh.util.concatenate(parts) for i, parts in meshes.items()}


def camera(meta: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, int, int]:
    """(K, world_to_camera, width, height) of the meta file's camera record."""
    cam = meta["camera"]
    return (np.array(cam["K"], dtype=float), np.array(cam["world_to_camera"], dtype=float),
            int(cam["width"]), int(cam["height"]))


def described_object(meta: dict[str, Any], instance_id: int) -> dict[str, Any]:
    return next(o for o in meta["description"]["objects"] if o["instance_id"] == instance_id)


def read_meta(root: Path, index: int) -> dict[str, Any]:
    """A frame's meta JSON read straight from the files layout."""
    return json.loads((Path(root) / "meta" / f"{index:06d}.json").read_text())


_IMAGE_CACHE: dict[tuple[str, int], RaycastImage] = {}


def reference_image(meta: dict[str, Any], key: tuple[str, int] | None = None) -> RaycastImage:
    """The frame ray-cast through its pixel centres (cached under ``key``, e.g. (root, index))."""
    if key is None or key not in _IMAGE_CACHE:
        K, world_to_camera, width, height = camera(meta)
        image = raycast(reference_meshes(meta), K, world_to_camera, width, height)
        if key is None:
            return image
        _IMAGE_CACHE[key] = image
    return _IMAGE_CACHE[key]


def landmark_points(meta: dict[str, Any], instance_id: int) -> tuple[list[str], np.ndarray]:
    """An object's landmarks (names, world points): the asset's sidecar file, else its box corners and
    (area-weighted) centroid, placed with the description's pose and scale."""
    obj = described_object(meta, instance_id)
    sidecar = None
    if obj["mesh"]["kind"] == "file":
        path = Path(obj["mesh"]["path"])
        sidecar = path.with_name(path.stem + ".landmarks.json")
    if sidecar is not None and sidecar.is_file():
        data = json.loads(sidecar.read_text())["landmarks"]
        names, points = list(data), np.array(list(data.values()), dtype=float).reshape(-1, 3)
    else:
        mesh = asset_mesh(obj["mesh"])
        lo, hi = mesh.bounds
        names = [f"box_{i}{j}{k}" for i in (0, 1) for j in (0, 1) for k in (0, 1)] + ["centroid"]
        points = np.array([[(lo, hi)[i][0], (lo, hi)[j][1], (lo, hi)[k][2]]
                           for i in (0, 1) for j in (0, 1) for k in (0, 1)] + [mesh.centroid])
    transform = placement(obj)
    return names, points @ transform[:3, :3].T + transform[:3, 3]


def landmark_reference(meta: dict[str, Any], ref: RaycastImage, world: np.ndarray, tolerance: float) -> dict:
    """Projection and visibility of world points by the reference: uv (pixel centres at integers),
    in_frame, visible (in frame and nothing hit before 1 - tolerance of the way from the camera centre),
    and ``clear``: the points whose visibility a per-pixel raster label can be held to (away from the
    reference's silhouettes, not within 0.2 % of the threshold, and the point's pixel showing the surface
    the point's own ray hits first); ``stepped`` counts the points excluded by that last rule."""
    K, world_to_camera, width, height = camera(meta)
    R, t = world_to_camera[:3, :3], world_to_camera[:3, 3]
    centre = -R.T @ t
    cam = world @ R.T + t
    uv = (cam @ K.T)[:, :2] / cam[:, 2:3]
    inside = (cam[:, 2] > 0) & (uv[:, 0] >= -0.5) & (uv[:, 0] < width - 0.5) \
        & (uv[:, 1] >= -0.5) & (uv[:, 1] < height - 0.5)
    _, distance, _ = first_hits(reference_meshes(meta), np.tile(centre, (len(world), 1)), world - centre)
    hit = distance > 0
    threshold = 1.0 - tolerance
    occluded = hit & (distance < threshold)
    ambiguous = hit & (np.abs(distance - threshold) < 0.002)
    visible = inside & ~occluded
    band = silhouette_band(ref.instance, ref.depth)
    pix = np.floor(uv[inside] + 0.5).astype(int)
    rows, cols = pix[:, 1], pix[:, 0]
    clear = np.zeros(len(world), bool)
    clear[inside] = ~band[rows, cols]
    clear &= ~ambiguous
    # A raster sees one surface per pixel centre: where the reference surface at the point's pixel,
    # extended as a plane to the point's ray, is not the surface that ray hits first (a step inside the
    # pixel, e.g. a handle over a body), no per-pixel label can tell.
    point = np.stack([(cols - K[0, 2]) / K[0, 0], (rows - K[1, 2]) / K[1, 1], np.ones(len(cols))], 1) \
        * ref.depth[rows, cols][:, None]
    normal = ref.normals[rows, cols]
    ray = cam[inside] / cam[inside, 2:3]  # z = 1
    empty_pixel, missed = ref.depth[rows, cols] == 0, ~hit[inside]
    with np.errstate(divide="ignore", invalid="ignore"):
        plane_z = np.einsum("ij,ij->i", normal, point) / np.einsum("ij,ij->i", normal, ray)
    hit_z = distance[inside] * cam[inside, 2]  # the first surface on the ray, before or behind
    same_surface = (empty_pixel & missed) | (~empty_pixel & ~missed & (
        np.abs(plane_z - hit_z) < 0.5 * tolerance * cam[inside, 2]))
    stepped = int((clear[inside] & ~same_surface).sum())
    clear[inside] &= same_surface
    return {"uv": uv, "in_frame": inside, "visible": visible, "clear": clear, "stepped": stepped}
