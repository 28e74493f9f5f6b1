"""BOP export (the 6D-pose benchmark format, https://bop.felk.cvut.cz): poses, masks, depth, models.

Layout (docs/export.md)::

    <out>/models/obj_NNNNNN.ply, models_info.json      models in millimetres
    <out>/train_pbr/SSSSSS/scene_camera.json, scene_gt.json, scene_gt_info.json,
                           rgb/IIIIII.png, depth/IIIIII.png, mask/IIIIII_GGGGGG.png, mask_visib/...

Frame f is image f % 1000 of scene f // 1000. BOP poses are rigid and a model has one size, so every
distinct (asset, scale) pair is its own model (fix ``scale`` in the scene file, or draw it from a short
``{choice: [...]}`` list, to get one or a few models per asset). Written to the BOP toolkit's letter
(docs/export.md says which toolkit behaviour each part follows):

- ``cam_K`` in the toolkit's pixel convention: its renderer puts the centre of pixel (c, r) at
  (c + 1/2, r + 1/2), ours at (c, r), so cx and cy are ours + 1/2;
- models in millimetres with vertex normals, their origin moved to the centre of their 3D bounding
  box (poses adjusted to match);
- amodal silhouettes rendered here on a canvas three times the image's width and height (the
  toolkit's calc_gt_info.py does the same), so objects cut by the image border get their whole
  ``px_count_all`` and an unclipped ``bbox_obj``; ``mask/`` is the in-image part; boxes are
  [x, y, x_max - x, y_max - y] and [-1, -1, -1, -1] for objects not visible at all.
Rendering the silhouettes needs the GL platform the generator uses; ``amodal="stored"`` (AMODAL_MODES)
exports from the stored labels alone, without GL.
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import trimesh
from numpy.typing import NDArray

from renderer.export.base import Exporter, ExportOption
from renderer.io.dataset import Dataset, DatasetError, DatasetMeshes, Frame
from renderer.io.format import atomic_write_bytes, atomic_write_json
from renderer.scene.description import FrameDescription, MeshSource, as_matrix

IMAGES_PER_SCENE = 1000
DEPTH_SCALES = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)  # mm per depth-PNG unit; the finest that fits wins


@dataclass(frozen=True)
class BopModel:
    obj_id: int
    asset_id: str
    scale: float


def model_table(dataset: Dataset) -> dict[tuple[str, float], BopModel]:
    """{(asset_id, scale): model}, obj_ids 1.. in sorted (asset_id, scale) order."""
    keys = sorted({(o.asset_id, o.scale) for i in range(len(dataset)) for o in dataset[i].description.labelled_objects})
    return {key: BopModel(n + 1, *key) for n, key in enumerate(keys)}


def depth_scale_for(depth_m: NDArray[np.float32]) -> float:
    """Finest BOP depth_scale (mm per unit) whose uint16 range holds the frame's deepest surface."""
    deepest_mm = float(depth_m.max(initial=0.0)) * 1000.0
    for scale in DEPTH_SCALES:
        if deepest_mm / scale <= 65535:
            return scale
    raise ValueError(f"depth {deepest_mm / 1000:.1f} m does not fit a 16-bit BOP depth image")


def _png(image: NDArray[Any]) -> bytes:
    ok, data = cv2.imencode(".png", image)
    if not ok:
        raise OSError("PNG encoding failed")
    return data.tobytes()


def _bbox(mask: NDArray[np.bool_], offset: tuple[int, int] = (0, 0)) -> list[int]:
    """The BOP toolkit's box of a mask (misc.calc_2d_bbox): [x_min, y_min, x_max - x_min, y_max - y_min]
    in image coordinates (offset: where the image's pixel (0, 0) lies in the mask), [-1] * 4 if empty."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if len(rows) == 0:
        return [-1, -1, -1, -1]  # BOP's empty box
    x, y = int(cols[0]) - offset[0], int(rows[0]) - offset[1]
    return [x, y, int(cols[-1] - cols[0]), int(rows[-1] - rows[0])]


BOP_PIXEL_CENTRE = 0.5  # the toolkit's K puts pixel (c, r)'s centre at (c + 1/2, r + 1/2)


def bop_K(K: NDArray[np.float64]) -> NDArray[np.float64]:
    """K in the BOP toolkit's pixel convention from ours (pixel centres at integers)."""
    out = np.array(K, dtype=float)
    out[0, 2] += BOP_PIXEL_CENTRE
    out[1, 2] += BOP_PIXEL_CENTRE
    return out


def large_canvas(description: FrameDescription) -> FrameDescription:
    """The frame seen on a canvas 3W x 3H whose middle third is the image (for truncated silhouettes)."""
    camera = description.camera
    K = np.asarray(camera.K, dtype=float).copy()
    K[0, 2] += camera.width
    K[1, 2] += camera.height
    big = dataclasses.replace(camera, width=3 * camera.width, height=3 * camera.height, K=as_matrix(K))
    return dataclasses.replace(description, camera=big)


def _models_info(mesh_mm: trimesh.Trimesh) -> dict[str, float]:
    lo, hi = mesh_mm.bounds
    hull = mesh_mm.convex_hull.vertices if len(mesh_mm.vertices) > 3 else mesh_mm.vertices
    diffs = hull[:, None, :] - hull[None, :, :]
    diameter = float(np.sqrt((diffs**2).sum(-1)).max())
    return {"diameter": diameter, "min_x": float(lo[0]), "min_y": float(lo[1]), "min_z": float(lo[2]),
            "size_x": float(hi[0] - lo[0]), "size_y": float(hi[1] - lo[1]), "size_z": float(hi[2] - lo[2])}


def model_centre(dataset: Dataset, asset_id: str) -> NDArray[np.float64]:
    """Centre of an asset's 3D bounding box in its own (unscaled) frame, metres: the BOP model origin."""
    mesh = DatasetMeshes().mesh(MeshSource("file", path=str(dataset.root / "meshes" / f"{asset_id}.ply")))
    lo, hi = mesh.bounds
    return np.asarray((lo + hi) / 2.0)


SYMMETRY_TOLERANCE = 0.01  # of the model's diameter: how far a turned surface may lie from the original
SYMMETRY_MAX_FACES = 50_000  # larger models are not searched for symmetries (the check is O(vertices log faces))
_TURNS = (0.61, 1.57, 2.46, 3.14, 4.05, 5.23)  # radians: a symmetry about z must hold for all of these


def _turn(axis: int, angle: float) -> NDArray[np.float64]:
    c, s = np.cos(angle), np.sin(angle)
    i, j = [a for a in range(3) if a != axis]
    rotation = np.eye(3)
    rotation[i, i], rotation[i, j], rotation[j, i], rotation[j, j] = c, -s, s, c
    return rotation


def _maps_onto_itself(mesh: trimesh.Trimesh, rotation: NDArray[np.float64], tolerance: float) -> bool:
    turned = mesh.vertices @ rotation.T
    _, distance, _ = trimesh.proximity.closest_point(mesh, turned)
    if distance.max() > tolerance:
        return False
    _, back, _ = trimesh.proximity.closest_point(trimesh.Trimesh(turned, mesh.faces, process=False), mesh.vertices)
    return bool(back.max() <= tolerance)


def model_symmetries(asset_id: str, mesh_mm: trimesh.Trimesh) -> dict[str, Any]:
    """BOP's symmetries of a centred model (mm), found geometrically: continuous about the z axis where
    every tried turn about it maps the surface onto itself within SYMMETRY_TOLERANCE of the diameter
    (surfaces of revolution: bottles, bowls, cans, cups without a handle); else discrete half turns about
    x, y and z that do (boxes). None for models over SYMMETRY_MAX_FACES."""
    if len(mesh_mm.faces) > SYMMETRY_MAX_FACES:
        return {}
    lo, hi = mesh_mm.bounds
    tolerance = SYMMETRY_TOLERANCE * float(np.linalg.norm(hi - lo))
    if all(_maps_onto_itself(mesh_mm, _turn(2, angle), tolerance) for angle in _TURNS):
        return {"symmetries_continuous": [{"axis": [0, 0, 1], "offset": [0, 0, 0]}]}
    discrete = []
    for axis in range(3):
        rotation = _turn(axis, np.pi)
        if _maps_onto_itself(mesh_mm, rotation, tolerance):
            transform = np.eye(4)
            transform[:3, :3] = np.round(rotation, 12)
            discrete.append([float(v) for v in transform.ravel()])
    return {"symmetries_discrete": discrete} if discrete else {}


def _write_models(dataset: Dataset, models: dict[tuple[str, float], BopModel], out: Path) -> None:
    (out / "models").mkdir(parents=True, exist_ok=True)
    info = {}
    for model in models.values():
        mesh = DatasetMeshes().mesh(MeshSource("file", path=str(dataset.root / "meshes" / f"{model.asset_id}.ply")))
        mesh = mesh.copy()
        mesh.apply_translation(-model_centre(dataset, model.asset_id))
        mesh.apply_scale(model.scale * 1000.0)
        data = mesh.export(file_type="ply", encoding="binary", vertex_normal=True)
        assert isinstance(data, bytes)
        atomic_write_bytes(out / "models" / f"obj_{model.obj_id:06d}.ply", data)
        entry = {**_models_info(mesh), "asset_id": model.asset_id, "scale": model.scale}
        entry.update(model_symmetries(model.asset_id, mesh))
        info[str(model.obj_id)] = entry
    atomic_write_json(out / "models" / "models_info.json", info)


class _SceneFiles:
    """The three JSON files of one BOP scene folder, written when the scene is complete."""

    def __init__(self, folder: Path, masks: bool = True) -> None:
        self.folder = folder
        self.camera: dict[str, Any] = {}
        self.gt: dict[str, Any] = {}
        self.gt_info: dict[str, Any] = {}
        for sub in ("rgb", "depth", *(("mask",) if masks else ()), "mask_visib"):
            (folder / sub).mkdir(parents=True, exist_ok=True)

    def flush(self) -> None:
        atomic_write_json(self.folder / "scene_camera.json", self.camera)
        atomic_write_json(self.folder / "scene_gt.json", self.gt)
        atomic_write_json(self.folder / "scene_gt_info.json", self.gt_info)


def _export_frame(frame: Frame, im_id: int, scene: _SceneFiles, models: dict[tuple[str, float], BopModel],
                  amodal_large: NDArray[np.bool_] | None, centres: dict[str, NDArray[np.float64]]) -> None:
    """One image's files; ``amodal_large`` None: from the stored labels alone (AMODAL_MODES, "stored")."""
    folder = scene.folder
    name = f"{im_id:06d}"
    frame.copy_file("rgb", folder / "rgb" / f"{name}.png")
    depth = frame.depth
    depth_scale = depth_scale_for(depth)
    atomic_write_bytes(folder / "depth" / f"{name}.png",
                       _png(np.rint(depth * 1000.0 / depth_scale).astype(np.uint16)))
    w2c = frame.world_to_camera
    scene.camera[str(im_id)] = {
        "cam_K": bop_K(frame.K).ravel().tolist(), "depth_scale": depth_scale,
        "cam_R_w2c": w2c[:3, :3].ravel().tolist(), "cam_t_w2c": (w2c[:3, 3] * 1000.0).tolist(),
        "renderer_frame_index": frame.index,
    }
    gts, infos = [], []
    instance = frame.instance
    h, w = instance.shape
    for k, (obj, labels) in enumerate(zip(frame.description.labelled_objects, frame.objects, strict=True)):
        o2c = labels.object_to_camera
        # The model's origin is its box centre c (scaled): p_cam = R (p' + s c) + t, so t' = t + R s c.
        t_m2c = o2c[:3, 3] + o2c[:3, :3] @ (obj.scale * centres[obj.asset_id])
        gts.append({"cam_R_m2c": o2c[:3, :3].ravel().tolist(), "cam_t_m2c": (t_m2c * 1000.0).tolist(),
                    "obj_id": models[(obj.asset_id, obj.scale)].obj_id})
        visible = instance == obj.instance_id
        count_visib = int(visible.sum())
        mask_name = f"{name}_{k:06d}.png"
        if amodal_large is None:  # the stored records: in-image counts, no amodal silhouette
            infos.append({"bbox_obj": [-1, -1, -1, -1], "bbox_visib": _bbox(visible),
                          "px_count_all": labels.unoccluded_pixels, "px_count_valid": -1,
                          "px_count_visib": count_visib, "visib_fract": labels.visible_fraction})
        else:
            large = amodal_large[k]
            full = large[h:2 * h, w:2 * w]
            count_all = int(large.sum())
            infos.append({"bbox_obj": _bbox(large, (w, h)) if count_visib else [-1, -1, -1, -1],
                          "bbox_visib": _bbox(visible), "px_count_all": count_all,
                          "px_count_valid": int((full & (depth > 0)).sum()), "px_count_visib": count_visib,
                          "visib_fract": count_visib / count_all if count_all else 0.0})
            atomic_write_bytes(folder / "mask" / mask_name, _png(full.astype(np.uint8) * 255))
        atomic_write_bytes(folder / "mask_visib" / mask_name, _png(visible.astype(np.uint8) * 255))
    scene.gt[str(im_id)] = gts
    scene.gt_info[str(im_id)] = infos


# How BOP's amodal part is made: "render" draws each object alone on a canvas 3x the image (mask/,
# bbox_obj, px_count_all, as the toolkit's calc_gt_info.py; needs the GL platform); "stored" needs no GL
# and takes what the dataset stores: no mask/ folder, bbox_obj and px_count_valid -1, px_count_all the
# in-image count of the object drawn alone (unoccluded_pixels) and visib_fract the stored one.
AMODAL_MODES = ("render", "stored")


def export_bop(root: str | Path, out: str | Path | None = None, split: str = "train_pbr",
               amodal: str = "render") -> Path:
    """Write the BOP layout under ``out`` (default ``<root>/bop``); returns that folder."""
    if amodal not in AMODAL_MODES:
        raise ValueError(f"amodal: {amodal!r} is not one of {', '.join(AMODAL_MODES)}")
    dataset = Dataset(root)
    if len(dataset):
        dataset[0].require_pinhole("the BOP format")  # before anything is written
    dataset.require(("rgb", "depth", "instance"), "the BOP export")
    target = Path(out) if out is not None else Path(root) / "bop"
    models = model_table(dataset)
    posed = sorted({o.asset_id for i in range(len(dataset)) for o in dataset[i].description.labelled_objects
                    if o.mesh.kind in ("body", "accessory")})
    if posed:  # before anything is written: BOP needs one fixed model per object, people are posed per frame
        raise DatasetError(f"{root}: the BOP format needs one fixed mesh per object, and this dataset has people "
                           f"({', '.join(posed[:3])}{', ...' if len(posed) > 3 else ''}), posed per frame and "
                           f"not stored as meshes: export it as coco or yolo, or render the scene without people")
    _write_models(dataset, models, target)
    image = dataset.header.image
    meshes = DatasetMeshes()
    scenes: dict[int, _SceneFiles] = {}
    centres = {model.asset_id: model_centre(dataset, model.asset_id) for model in models.values()}
    with contextlib.ExitStack() as stack:
        label_pass = None
        if amodal == "render":
            from renderer.render.gl.gl_context import GLContext
            from renderer.render.gl.label_pass import LabelPass

            label_pass = LabelPass(stack.enter_context(GLContext(3 * image.width, 3 * image.height)))
        for i in range(len(dataset)):
            frame = dataset[i]
            frame.require_pinhole("the BOP format")
            scene_id, im_id = divmod(frame.index, IMAGES_PER_SCENE)
            if scene_id not in scenes:
                scenes[scene_id] = _SceneFiles(target / split / f"{scene_id:06d}", masks=label_pass is not None)
            silhouettes = (label_pass.amodal_masks(large_canvas(frame.description_on_dataset_meshes()), meshes)
                           if label_pass is not None else None)
            _export_frame(frame, im_id, scenes[scene_id], models, silhouettes, centres)
    for scene in scenes.values():
        scene.flush()
    atomic_write_json(target / "camera.json", _camera_json(dataset))
    atomic_write_json(target / "test_targets_bop19.json", _test_targets(scenes, split_scene_ids(scenes)))
    return target


TARGET_MIN_VISIB = 0.1  # BOP 2019's targets: instances with at least this visible fraction


def split_scene_ids(scenes: dict[int, _SceneFiles]) -> list[int]:
    return sorted(scenes)


def _test_targets(scenes: dict[int, _SceneFiles], scene_ids: list[int]) -> list[dict[str, int]]:
    """BOP 2019's test targets: per image and object id, how many of its instances are at least
    TARGET_MIN_VISIB visible."""
    targets = []
    for scene_id in scene_ids:
        scene = scenes[scene_id]
        for im_id in sorted(scene.gt, key=int):
            counts: dict[int, int] = {}
            for gt, info in zip(scene.gt[im_id], scene.gt_info[im_id], strict=True):
                if info["visib_fract"] >= TARGET_MIN_VISIB:
                    counts[gt["obj_id"]] = counts.get(gt["obj_id"], 0) + 1
            targets += [{"im_id": int(im_id), "inst_count": n, "obj_id": obj_id, "scene_id": scene_id}
                        for obj_id, n in sorted(counts.items())]
    return targets


def _camera_json(dataset: Dataset) -> dict[str, Any]:
    """BOP's dataset-level camera file; per-image intrinsics (they vary) are in scene_camera.json."""
    image = dataset.header.image
    info: dict[str, Any] = {"width": image.width, "height": image.height, "depth_scale": DEPTH_SCALES[0]}
    if len(dataset):
        K = dataset[0].K
        K = bop_K(K)
        info.update(fx=float(K[0, 0]), fy=float(K[1, 1]), cx=float(K[0, 2]), cy=float(K[1, 2]))
    return info


EXPORTER = Exporter("bop", export_bop, "BOP layout (scene_gt, scene_gt_info, masks, depth, camera) for its toolkit",
                    options=(ExportOption("amodal", "bop: render amodal masks (GL), or take the stored labels only "
                                          "(no GL, no mask/ folder)", "render", choices=AMODAL_MODES),))
