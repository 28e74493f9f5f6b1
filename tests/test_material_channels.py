"""Material channels (albedo, roughness, metallic, material_id: renderer.channels.material) made from the
label pass's fragments, checked against independent references: the raster engine's own image of the
same textured surfaces under ambient light alone (albedo, so texture coordinates and their orientation
agree with what the engine draws), and the materials of the frame description (factors, ids)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import trimesh
from PIL import Image

from renderer.assets.meshes import box_mesh
from renderer.labels.flow import surface_attributes
from renderer.scene.description import (
    BackgroundDescription,
    CameraDescription,
    FrameDescription,
    MaterialDescription,
    MeshSource,
    ObjectDescription,
    TextureDescription,
    as_matrix,
)

MATERIAL_CHANNELS = ("albedo", "roughness", "metallic", "material_id")


def _gradient_image(path: Path, size: int = 64) -> np.ndarray:
    """Red rises left to right, green top to bottom: any flip or swap of texture axes shows."""
    x, y = np.meshgrid(np.linspace(0, 1, size), np.linspace(0, 1, size))
    rgb = np.stack([x, y, 0.3 + 0 * x], axis=-1)
    pixels = np.rint(rgb * 255).astype(np.uint8)
    Image.fromarray(pixels).save(path)
    return pixels


class _Lookup:
    """Boxes, and one box carrying its own UV and glTF material (as a person's mesh does)."""

    def __init__(self, texture: np.ndarray) -> None:
        self.texture = texture

    def mesh(self, source: MeshSource) -> trimesh.Trimesh:
        mesh = box_mesh(source.extents)
        if source.kind == "file":
            lo, hi = mesh.bounds
            uv = (np.asarray(mesh.vertices)[:, :2] - lo[:2]) / (hi[:2] - lo[:2])  # planar map over x, y
            material = trimesh.visual.material.PBRMaterial(baseColorTexture=Image.fromarray(self.texture),
                                                           baseColorFactor=[255, 255, 255, 255],
                                                           metallicFactor=0.25, roughnessFactor=0.4)
            mesh.visual = trimesh.visual.TextureVisuals(uv=uv, material=material)
        return mesh


def _frame(texture_path: Path) -> FrameDescription:
    w, h, f = 160, 80, 200.0
    K = np.array([[f, 0, (w - 1) / 2], [0, f, (h - 1) / 2], [0, 0, 1]])
    camera = CameraDescription(w, h, as_matrix(K), as_matrix(np.eye(4)), 0.05, 10.0)

    def at(x: float, z: float) -> tuple[tuple[float, ...], ...]:
        pose = np.eye(4)
        pose[:3, 3] = (x, 0.0, z)
        return as_matrix(pose)

    textured = MaterialDescription((0.9, 0.8, 1.0, 1.0), 0.0, 0.7,
                                   texture=TextureDescription("image", 0, 64, str(texture_path)))
    own = MaterialDescription((1.0, 1.0, 1.0, 1.0), 0.0, 0.5, use_asset_material=True)
    plain = MaterialDescription((0.2, 0.5, 0.1, 1.0), 0.8, 0.3)
    objects = (
        ObjectDescription(1, "a", "a", 1, MeshSource("box", extents=(0.1, 0.1, 0.01)), 1.0, at(-0.11, 0.5), textured),
        ObjectDescription(2, "b", "b", 1, MeshSource("file", path="own", extents=(0.1, 0.1, 0.01)), 1.0,
                          at(0.0, 0.5), own),
        ObjectDescription(3, "c", "c", 1, MeshSource("box", extents=(0.08, 0.08, 0.01)), 1.0, at(0.11, 0.5), plain),
    )
    return FrameDescription(0, 0, camera, objects, (), 1.0, BackgroundDescription("solid", ((0.0, 0.0, 0.0),)))


def test_material_channels_agree_with_the_engine_and_the_description(tmp_path: Path) -> None:
    from renderer.render.frame import FrameRenderer
    from renderer.scene.color import linear_from_srgb

    path = tmp_path / "gradient.png"
    texture = _gradient_image(path)
    frame = _frame(path)
    lookup = _Lookup(texture)
    with FrameRenderer(frame.camera.width, frame.camera.height) as renderer:
        labels = renderer.labels.render(frame, lookup)
        made = surface_attributes(renderer.labels, frame, lookup, MATERIAL_CHANNELS)
        rgb = renderer.render_rgb(frame, lookup)  # type: ignore[arg-type]
    instance = labels.instance
    # The raster engine shades ambient light alone as ambient x base colour, display-encoded (gamma 2.2).
    engine_albedo = np.power(rgb.astype(np.float64) / 255.0, 2.2)
    inner = np.zeros_like(instance, dtype=bool)
    inner[2:-2, 2:-2] = True
    for k in (1, 2, 3):
        mask = (instance == k) & inner
        for shift in ((0, 1), (0, -1), (1, 0), (-1, 0), (2, 0), (-2, 0), (0, 2), (0, -2)):
            mask &= np.roll(instance == k, shift, axis=(0, 1))  # away from edges (antialiasing)
        assert mask.sum() > 500
        ours, theirs = made["albedo"][mask].astype(np.float64), engine_albedo[mask]
        error = np.abs(ours - theirs)
        print(f"object {k}: albedo vs engine median {np.median(error):.4f}, p95 {np.percentile(error, 95):.4f}")
        assert np.median(error) < 0.01 and np.percentile(error, 95) < 0.03
        if k in (1, 2):  # textured: the gradients run the same way in both (no flipped or swapped axes)
            for c in (0, 1):
                assert np.corrcoef(ours[:, c], theirs[:, c])[0, 1] > 0.98
    # Factors: the description's (the asset material's own factors for object 2), 0 off every surface.
    expected_roughness = {1: 0.7, 2: 0.4, 3: 0.3}
    expected_metallic = {1: 0.0, 2: 0.25, 3: 0.8}
    for k in (1, 2, 3):
        np.testing.assert_allclose(made["roughness"][instance == k], expected_roughness[k], rtol=1e-6)
        np.testing.assert_allclose(made["metallic"][instance == k], expected_metallic[k], rtol=1e-6)
    plain = made["albedo"][instance == 3]
    np.testing.assert_allclose(plain, np.broadcast_to((0.2, 0.5, 0.1), plain.shape), rtol=1e-6)
    off = instance == 0
    assert not made["albedo"][off].any() and not made["roughness"][off].any() and not made["material_id"][off].any()
    # Ids: one per material, numbered in object order.
    for k in (1, 2, 3):
        assert set(np.unique(made["material_id"][instance == k])) == {k}
    assert linear_from_srgb(np.float64(1.0)) == 1.0


def test_material_channels_are_written_read_and_batched(tmp_path: Path) -> None:
    from renderer.config.schema import load_scene
    from renderer.io.dataset import Dataset
    from renderer.pipeline.run import generate

    root = Path(__file__).resolve().parents[1]
    config = load_scene(root / "scenes" / "tabletop.yaml",
                        ["image.width=96", "image.height=72", "outputs=[rgb, instance, albedo, roughness, metallic, "
                         "material_id]"])
    generate(config, tmp_path / "ds", frames=1, seed=0)
    frame = Dataset(tmp_path / "ds")[0]
    albedo, ids = frame.array("albedo"), frame.array("material_id")
    assert albedo.shape == (72, 96, 3) and albedo.dtype == np.float32 and ids.dtype == np.uint16
    surface = frame.array("instance") > 0
    assert (ids[surface] > 0).all() and albedo[surface].max() <= 1.0
