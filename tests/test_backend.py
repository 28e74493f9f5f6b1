"""The GL backend on scenes with closed-form answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh

from renderer.assets.catalog import AssetCatalog
from renderer.config.schema import scene_from_dict
from renderer.render.frame import FrameRenderer
from renderer.scene.description import (
    BackgroundDescription,
    CameraDescription,
    FrameDescription,
    MaterialDescription,
    MeshSource,
    ObjectDescription,
    as_matrix,
)
from renderer.scene.geometry import intrinsics_from_fov, look_at_world_to_camera

WIDTH, HEIGHT = 64, 48


@pytest.fixture(scope="module")
def backend() -> FrameRenderer:
    with FrameRenderer(WIDTH, HEIGHT) as b:
        yield b


def overhead_frame(height_m: float, table: tuple[float, float], offset: tuple[float, float]) -> FrameDescription:
    pose = np.eye(4)
    pose[:3, 3] = (offset[0], offset[1], -0.02)
    K = intrinsics_from_fov(60.0, WIDTH, HEIGHT)
    camera = CameraDescription(WIDTH, HEIGHT, as_matrix(K),
                               as_matrix(look_at_world_to_camera(np.array([0, 0, height_m]), np.zeros(3))),
                               near=0.01, far=10.0)
    box = ObjectDescription(1, "table", "table", 1, MeshSource("box", extents=(table[0], table[1], 0.04)), 1.0,
                            as_matrix(pose), MaterialDescription((0.5, 0.5, 0.5, 1.0), 0.0, 0.5))
    return FrameDescription(0, 0, camera, (box,), (), 0.5, BackgroundDescription("solid", ((0.0, 0.0, 0.0),)))


def test_pyrender_numpy2_fix_is_in_place(backend: FrameRenderer) -> None:
    import pyrender

    bounds = pyrender.Mesh.from_trimesh(trimesh.creation.box()).bounds  # uses np.infty inside
    np.testing.assert_allclose(bounds, [[-0.5] * 3, [0.5] * 3])


@pytest.mark.parametrize("height_m", [0.7, 1.3])
def test_camera_above_a_table_top(backend: FrameRenderer, height_m: float) -> None:
    frame = overhead_frame(height_m, (0.6, 0.4), (0.05, -0.03))
    catalog = AssetCatalog(scene_from_dict({"objects": {"count": 0}, "table": {"enabled": False}}))
    buffers = backend.render(frame, catalog)
    K = np.asarray(frame.camera.K)
    w2c = np.asarray(frame.camera.world_to_camera)
    # Closed form: the ray through pixel centre (c, r) meets the plane z = 0 at camera depth height_m.
    cols, rows = np.meshgrid(np.arange(WIDTH), np.arange(HEIGHT))
    rays = np.stack([(cols - K[0, 2]) / K[0, 0], (rows - K[1, 2]) / K[1, 1], np.ones_like(cols, float)], -1)
    world = (rays * height_m - w2c[:3, 3]) @ w2c[:3, :3]  # camera -> world
    inside = (np.abs(world[..., 0] - 0.05) < 0.3) & (np.abs(world[..., 1] + 0.03) < 0.2)
    np.testing.assert_array_equal(buffers.instance == 1, inside)
    np.testing.assert_allclose(buffers.depth[inside], height_m, rtol=1e-6)
    assert np.all(buffers.depth[~inside] == 0)
    np.testing.assert_allclose(buffers.normals[inside], np.tile([0, 0, -1.0], (inside.sum(), 1)), atol=1e-6)
    assert buffers.unoccluded_pixels.tolist() == [inside.sum()]
    assert buffers.rgb.shape == (HEIGHT, WIDTH, 3) and buffers.rgb[inside].mean() > buffers.rgb[~inside].mean()


def test_colour_read_and_compositing_equal_pyrenders_own_colour(backend: FrameRenderer) -> None:
    """Our colour-only read equals pyrender's own colour; the image over transparent black, composited
    on the background, equals it but for 8-bit rounding at antialiased edges."""
    from renderer.render.frame import composite, frame_background
    from renderer.sampling.frame import sample_frame

    config = scene_from_dict({"image": {"width": WIDTH, "height": HEIGHT},
                              "objects": {"count": [3, 5], "assets": [{"path": "../assets/meshes/*.obj"}]}},
                             source=str(Path(__file__).parent.parent / "scenes" / "x.yaml"))
    catalog = AssetCatalog(config)
    frame = sample_frame(config, catalog, seed=0, index=0)
    engine = backend.engine
    colour, depth = engine.render_pyrender_rgb_depth(frame, catalog)
    np.testing.assert_array_equal(engine.render_on_clear_color(frame, catalog, frame.background.colors[0]), colour)
    ours = composite(engine.render(frame, catalog), frame_background(frame)).astype(int)
    difference = np.abs(ours - colour.astype(int))
    assert difference.max() <= 2 and np.mean(difference.max(axis=-1) == 0) > 0.97
    assert depth.max() > 0


def test_same_description_renders_the_same_rgb_every_time() -> None:
    """pyrender keeps lights in sets; unordered, repeated renders differed by one level at some pixels."""
    from renderer.config.schema import load_scene
    from renderer.sampling.frame import sample_frame

    config = load_scene(Path(__file__).resolve().parent.parent / "scenes" / "tabletop.yaml")
    catalog = AssetCatalog(config)
    with FrameRenderer(config.image.width, config.image.height) as b:
        for index in range(3):
            frame = sample_frame(config, catalog, seed=7, index=index)
            first = b.render(frame, catalog).rgb
            for _ in range(3):
                np.testing.assert_array_equal(b.render(frame, catalog).rgb, first)


def test_closing_one_backend_leaves_another_working(backend: FrameRenderer) -> None:
    """pyrender's own delete terminates the EGL display that all contexts of a process share."""
    frame = overhead_frame(1.0, (0.6, 0.4), (0.0, 0.0))
    catalog = AssetCatalog(scene_from_dict({"objects": {"count": 0}, "table": {"enabled": False}}))
    before = backend.render(frame, catalog)
    with FrameRenderer(16, 16):
        pass
    after = backend.render(frame, catalog)
    np.testing.assert_array_equal(after.rgb, before.rgb)
    np.testing.assert_array_equal(after.instance, before.instance)


def test_meshes_drawn_in_pieces_make_the_same_pixels(backend: FrameRenderer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Large meshes are drawn a piece at a time (bounded rasteriser memory): every buffer, the face
    normals looked up per triangle included, equals the one-draw image bit for bit."""
    import renderer.render.gl.gl_context as gl_context
    from renderer.sampling.frame import sample_frame

    config = scene_from_dict({"image": {"width": WIDTH, "height": HEIGHT},
                              "objects": {"count": 5, "assets": [{"path": "../assets/meshes/*.obj"}]}},
                             source=str(Path(__file__).parent.parent / "scenes" / "x.yaml"))
    catalog = AssetCatalog(config)
    frame = sample_frame(config, catalog, seed=3, index=0)
    whole = backend.render(frame, catalog)
    monkeypatch.setattr(gl_context, "DRAW_CHUNK_TRIANGLES", 50)
    assert max(len(gl_context.index_chunks(3 * len(catalog.mesh(o.mesh).faces))) for o in frame.objects) > 10
    backend.labels.recent.clear()  # the label pass drawn anew, not taken from its cache
    pieces = backend.render(frame, catalog)
    for name in ("rgb", "depth", "normals", "instance", "unoccluded_pixels"):
        np.testing.assert_array_equal(getattr(pieces, name), getattr(whole, name), err_msg=name)
    assert (whole.instance > 0).sum() > 0.05 * WIDTH * HEIGHT
