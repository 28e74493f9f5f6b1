"""A folder of the user's own meshes: OBJ with landmarks, PLY, STL, textured GLB."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import trimesh
from PIL import Image
from raycast import silhouette_band
from scene_reference import reference_image

from renderer.config.schema import scene_from_dict
from renderer.io.dataset import Dataset
from renderer.pipeline.run import generate

ROOT = Path(__file__).resolve().parent.parent
MESHES = ROOT / "assets" / "meshes"


def make_folder(folder: Path) -> None:
    folder.mkdir()
    shutil.copy(MESHES / "mug.obj", folder / "cup.obj")
    shutil.copy(MESHES / "mug.landmarks.json", folder / "cup.landmarks.json")
    trimesh.load(MESHES / "bowl.obj", force="mesh").export(folder / "dish.ply")
    trimesh.load(MESHES / "cone.obj", force="mesh").export(folder / "spike.stl")
    crate = trimesh.creation.box(extents=(0.12, 0.12, 0.1))
    crate.apply_translation((0, 0, 0.05))
    crate.unmerge_vertices()
    uv = crate.vertices[:, :2] / 0.12 + 0.5  # 0..1 across the top: red half, green half
    pattern = np.zeros((64, 64, 3), dtype=np.uint8)
    pattern[:, :32] = (250, 20, 20)  # half red, half green
    pattern[:, 32:] = (20, 250, 20)
    crate.visual = trimesh.visual.TextureVisuals(uv=uv, image=Image.fromarray(pattern))
    crate.export(folder / "crate.glb")
    (folder / "README.txt").write_text("not a mesh; ignored")


def test_folder_of_user_meshes(tmp_path: Path) -> None:
    make_folder(tmp_path / "my_meshes")
    config = scene_from_dict({
        "image": {"width": 200, "height": 150},
        "camera": {"distance": [0.5, 0.6]},
        "table": {"size": [0.5, 0.4]},
        "objects": {"count": [8, 8], "assets": [{"path": "my_meshes"}]},
    }, source=str(tmp_path / "scene.yaml"))
    generate(config, tmp_path / "out", frames=2, seed=4)
    ds = Dataset(tmp_path / "out")
    assert sorted(ds.categories.values()) == ["crate", "cup", "dish", "spike", "table"]
    seen = set()
    textures_checked = 0
    for i in range(len(ds)):
        frame = ds[i]
        # The user's own files, read by trimesh and placed as the meta file says (tests/scene_reference.py).
        ref = reference_image(frame.meta)
        keep = ~silhouette_band(ref.instance, ref.depth)
        assert (frame.instance == ref.instance)[keep].mean() >= 0.999
        for obj, desc in zip(frame.objects, frame.description.objects, strict=True):
            seen.add(obj.category)
            if obj.category == "cup":
                assert obj.landmarks.names[:2] == ("base_center", "rim_front")  # from the sidecar
            elif obj.category == "spike":
                assert obj.landmarks.names[-1] == "centroid"  # computed: no sidecar
            if obj.category == "crate":
                assert desc.material.use_asset_material
                if obj.visible_pixels > 200:
                    colours = frame.rgb[frame.instance == obj.instance_id].astype(int)
                    reddish = (colours[:, 0] > colours[:, 1] + 40).mean()
                    greenish = (colours[:, 1] > colours[:, 0] + 40).mean()
                    assert reddish > 0.1 and greenish > 0.1, "the GLB's own texture is rendered"
                    textures_checked += 1
    assert {"crate", "cup", "dish", "spike"} <= seen
    assert textures_checked > 0
