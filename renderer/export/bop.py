"""BOP export (the 6D-pose benchmark format, https://bop.felk.cvut.cz): poses, masks, depth, models.

Layout (docs/export.md)::

    <out>/models/obj_NNNNNN.ply, models_info.json      models in millimetres
    <out>/train_pbr/SSSSSS/scene_camera.json, scene_gt.json, scene_gt_info.json,
                           rgb/IIIIII.png, depth/IIIIII.png, mask/IIIIII_GGGGGG.png, mask_visib/...

Frame f is image f % 1000 of scene f // 1000. BOP poses are rigid and a model has one size, so every
distinct (asset, scale) pair is its own model (fix ``scale`` in the scene file to get one model per
asset). Amodal masks (``mask/``) are rendered here: each object drawn alone, sampled at pixel centres
like our instance masks, so this export needs the GL platform the generator uses.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import trimesh
from numpy.typing import NDArray

from renderer.dataset import Dataset, DatasetMeshes, Frame
from renderer.scene import MeshSource
from renderer.writers import atomic_write_bytes, atomic_write_json, frame_name

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


def _bbox(mask: NDArray[np.bool_]) -> list[int]:
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if len(rows) == 0:
        return [-1, -1, -1, -1]  # BOP's empty box
    return [int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)]


def _models_info(mesh_mm: trimesh.Trimesh) -> dict[str, float]:
    lo, hi = mesh_mm.bounds
    hull = mesh_mm.convex_hull.vertices if len(mesh_mm.vertices) > 3 else mesh_mm.vertices
    diffs = hull[:, None, :] - hull[None, :, :]
    diameter = float(np.sqrt((diffs**2).sum(-1)).max())
    return {"diameter": diameter, "min_x": float(lo[0]), "min_y": float(lo[1]), "min_z": float(lo[2]),
            "size_x": float(hi[0] - lo[0]), "size_y": float(hi[1] - lo[1]), "size_z": float(hi[2] - lo[2])}


def _write_models(dataset: Dataset, models: dict[tuple[str, float], BopModel], out: Path) -> None:
    (out / "models").mkdir(parents=True, exist_ok=True)
    info = {}
    for model in models.values():
        mesh = DatasetMeshes().mesh(MeshSource("file", path=str(dataset.root / "meshes" / f"{model.asset_id}.ply")))
        mesh = mesh.copy()
        mesh.apply_scale(model.scale * 1000.0)
        data = mesh.export(file_type="ply", encoding="binary")
        assert isinstance(data, bytes)
        atomic_write_bytes(out / "models" / f"obj_{model.obj_id:06d}.ply", data)
        info[str(model.obj_id)] = {**_models_info(mesh), "asset_id": model.asset_id, "scale": model.scale}
    atomic_write_json(out / "models" / "models_info.json", info)


def _link_or_copy(src: Path, dst: Path) -> None:
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


class _SceneFiles:
    """The three JSON files of one BOP scene folder, written when the scene is complete."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.camera: dict[str, Any] = {}
        self.gt: dict[str, Any] = {}
        self.gt_info: dict[str, Any] = {}
        for sub in ("rgb", "depth", "mask", "mask_visib"):
            (folder / sub).mkdir(parents=True, exist_ok=True)

    def flush(self) -> None:
        atomic_write_json(self.folder / "scene_camera.json", self.camera)
        atomic_write_json(self.folder / "scene_gt.json", self.gt)
        atomic_write_json(self.folder / "scene_gt_info.json", self.gt_info)


def _export_frame(frame: Frame, im_id: int, scene: _SceneFiles, models: dict[tuple[str, float], BopModel],
                  amodal: NDArray[np.bool_]) -> None:
    folder = scene.folder
    name = f"{im_id:06d}"
    _link_or_copy(frame.root / "rgb" / f"{frame_name(frame.index)}.png", folder / "rgb" / f"{name}.png")
    depth = frame.depth
    depth_scale = depth_scale_for(depth)
    atomic_write_bytes(folder / "depth" / f"{name}.png",
                       _png(np.rint(depth * 1000.0 / depth_scale).astype(np.uint16)))
    w2c = frame.world_to_camera
    scene.camera[str(im_id)] = {
        "cam_K": frame.K.ravel().tolist(), "depth_scale": depth_scale,
        "cam_R_w2c": w2c[:3, :3].ravel().tolist(), "cam_t_w2c": (w2c[:3, 3] * 1000.0).tolist(),
        "renderer_frame_index": frame.index,
    }
    gts, infos = [], []
    instance = frame.instance
    for k, (obj, labels) in enumerate(zip(frame.description.labelled_objects, frame.objects, strict=True)):
        o2c = labels.object_to_camera
        gts.append({"cam_R_m2c": o2c[:3, :3].ravel().tolist(), "cam_t_m2c": (o2c[:3, 3] * 1000.0).tolist(),
                    "obj_id": models[(obj.asset_id, obj.scale)].obj_id})
        visible = instance == obj.instance_id
        full = amodal[k]
        count_all, count_visib = int(full.sum()), int(visible.sum())
        infos.append({"bbox_obj": _bbox(full), "bbox_visib": _bbox(visible), "px_count_all": count_all,
                      "px_count_valid": int((full & (depth > 0)).sum()), "px_count_visib": count_visib,
                      "visib_fract": count_visib / count_all if count_all else 0.0})
        mask_name = f"{name}_{k:06d}.png"
        atomic_write_bytes(folder / "mask" / mask_name, _png(full.astype(np.uint8) * 255))
        atomic_write_bytes(folder / "mask_visib" / mask_name, _png(visible.astype(np.uint8) * 255))
    scene.gt[str(im_id)] = gts
    scene.gt_info[str(im_id)] = infos


def export_bop(root: str | Path, out: str | Path | None = None, split: str = "train_pbr") -> Path:
    """Write the BOP layout under ``out`` (default ``<root>/bop``); returns that folder."""
    from renderer.backends.gl_context import GLContext
    from renderer.backends.label_pass import LabelPass

    dataset = Dataset(root)
    target = Path(out) if out is not None else Path(root) / "bop"
    models = model_table(dataset)
    _write_models(dataset, models, target)
    image = dataset.header["image"]
    meshes = DatasetMeshes()
    scenes: dict[int, _SceneFiles] = {}
    with GLContext(image["width"], image["height"]) as context:
        label_pass = LabelPass(context)
        for i in range(len(dataset)):
            frame = dataset[i]
            scene_id, im_id = divmod(frame.index, IMAGES_PER_SCENE)
            if scene_id not in scenes:
                scenes[scene_id] = _SceneFiles(target / split / f"{scene_id:06d}")
            amodal = label_pass.amodal_masks(frame.description_on_dataset_meshes(), meshes)
            _export_frame(frame, im_id, scenes[scene_id], models, amodal)
    for scene in scenes.values():
        scene.flush()
    atomic_write_json(target / "camera.json", _camera_json(dataset))
    return target


def _camera_json(dataset: Dataset) -> dict[str, Any]:
    """BOP's dataset-level camera file; per-image intrinsics (they vary) are in scene_camera.json."""
    image = dataset.header["image"]
    info: dict[str, Any] = {"width": image["width"], "height": image["height"], "depth_scale": DEPTH_SCALES[0]}
    if len(dataset):
        K = dataset[0].K
        info.update(fx=float(K[0, 0]), fy=float(K[1, 1]), cx=float(K[0, 2]), cy=float(K[1, 2]))
    return info
