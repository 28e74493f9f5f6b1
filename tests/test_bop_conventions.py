"""Our BOP export against the conventions the BOP toolkit's readers rely on, checked by readers of our own.

The toolkit (github.com/thodan/bop_toolkit, ``bop_toolkit_lib``) is not on PyPI (no ``bop-toolkit``,
``bop_toolkit`` or ``bop_toolkit_lib`` distribution), so it is not installed. Its code was read
(``inout.py``, ``misc.py``, ``dataset_params.py``, ``scripts/calc_gt_info.py``, ``scripts/calc_model_info.py``)
and each convention it relies on for the files `renderer export DS --format bop` writes is written down
here as what the toolkit does with the file, then checked with the small readers below (JSON with integer
keys, PNG decoded from its bytes with zlib, PLY parsed from its header), which share no code with the
exporter. The reference values come from the native dataset (renderer.io.dataset), not from the export.

Conventions (toolkit behaviour -> what must hold):
- ``load_json(keys_to_int=True)``: keys that are decimal digits become ints -> image ids are plain
  decimal strings; ``{scene_id:06d}``, ``{im_id:06d}``, ``{im_id:06d}_{gt_id:06d}`` path templates
  (``dataset_params``), gt_id = the object's index in ``scene_gt[im_id]``.
- ``load_cam_params``: camera.json has width, height, fx, fy, cx, cy (depth_scale optional).
- ``load_scene_camera``: cam_K reshaped (3, 3) row-major, cam_R_w2c (3, 3), cam_t_w2c (3, 1) in mm;
  ``calc_gt_info``: depth PNG x depth_scale = depth in mm.
- ``load_scene_gt``: cam_R_m2c reshaped (3, 3) row-major, cam_t_m2c (3, 1) in mm, obj_id an int naming
  ``models/obj_{obj_id:06d}.ply``; ``misc.project_pts``: x = K (R X + t), pixel centres at (c + 1/2, r + 1/2)
  in the toolkit's renderer.
- ``load_depth``: a one-channel 16-bit PNG read as float.
- ``calc_gt_info``: px_count_all (whole silhouette, also outside the image), px_count_valid (in-image
  silhouette pixels with depth > 0), px_count_visib, visib_fract = visib / all (0 when all is 0), bbox_obj
  and bbox_visib by ``misc.calc_2d_bbox`` = [x_min, y_min, x_max - x_min, y_max - y_min], both
  [-1, -1, -1, -1] when nothing is visible.
- masks: one-channel 8-bit PNGs, read as ``> 0``.
- ``load_ply``: ascii or binary (little-endian, as ``struct`` reads it on x86), property types float,
  double, int, uint, uchar only, faces as ``vertex_indices`` / ``vertex_index`` lists of 3; units mm.
- ``calc_model_info``: models_info min_x.. = the vertices' minimum, size_x.. = max - min,
  diameter = the largest distance between two vertices (``misc.calc_pts_diameter``);
  ``misc.get_symmetry_transformations``: symmetries_discrete are 16 numbers (a 4 x 4 row-major, t in mm),
  symmetries_continuous ``{"axis": [3], "offset": [3]}``.
- ``inout.get_im_targets`` with BOP 2019's visib_gt_min 0.1: test targets count instances with
  visib_fract >= 0.1.
"""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from renderer.config.schema import load_scene
from renderer.export import export_bop
from renderer.io.dataset import Dataset
from renderer.pipeline.run import generate

ROOT = Path(__file__).resolve().parent.parent


# --- readers written from the toolkit's documented behaviour -------------------------------------------

def read_json(path: Path, keys_to_int: bool = False) -> Any:
    """inout.load_json: with keys_to_int, keys of (optionally signed) decimal digits become ints."""
    def hook(obj: dict[str, Any]) -> dict[Any, Any]:
        return {int(k) if k.lstrip("-").isdigit() else k: v for k, v in obj.items()}

    with path.open(encoding="utf-8") as f:
        return json.load(f, object_hook=hook) if keys_to_int else json.load(f)


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def read_png(path: Path) -> tuple[NDArray[Any], int, int]:
    """(image, bit depth, colour type) of a non-interlaced greyscale PNG, decoded from its chunks."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        header = body if kind == b"IHDR" else header
        idat += body if kind == b"IDAT" else b""
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert colour == 0 and interlace == 0 and depth in (8, 16), (path, depth, colour, interlace)
    bpp = depth // 8
    stride = width * bpp
    raw = zlib.decompress(idat)
    rows = np.zeros((height, stride), np.int64)
    prior = [0] * stride
    for r in range(height):
        kind = raw[r * (stride + 1)]
        line = list(raw[r * (stride + 1) + 1:(r + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            c = prior[i - bpp] if i >= bpp else 0
            b = prior[i]
            line[i] = (line[i] + (0, a, b, (a + b) // 2, _paeth(a, b, c))[kind]) & 0xFF
        rows[r], prior = line, line
    image = rows if bpp == 1 else rows[:, 0::2] * 256 + rows[:, 1::2]  # 16-bit samples are big-endian
    return image, depth, colour


PLY_TYPES = {"float": "<f", "double": "<d", "int": "<i", "uint": "<I", "uchar": "<B"}  # load_ply's formats


def read_ply(path: Path) -> dict[str, NDArray[np.float64]]:
    """{"pts", "normals", "faces"} of a triangle PLY the toolkit's load_ply reads (its types only)."""
    data = path.read_bytes()
    end = data.index(b"end_header") + len(b"end_header")
    end += 2 if data[end:end + 2] == b"\r\n" else 1
    header = data[:end].decode("ascii").splitlines()
    fmt = next(line.split()[1] for line in header if line.startswith("format"))
    assert fmt in ("ascii", "binary_little_endian"), fmt
    elements: list[tuple[str, int, list[list[str]]]] = []
    for line in header:
        words = line.split()
        if words[:1] == ["element"]:
            elements.append((words[1], int(words[2]), []))
        elif words[:1] == ["property"]:
            elements[-1][2].append(words[1:])
    values: dict[str, list[list[float]]] = {}
    body, tokens, pos = data[end:], data[end:].split(), 0
    for name, count, props in elements:
        for prop in props:
            types = prop[1:3] if prop[0] == "list" else prop[:1]
            assert all(t in PLY_TYPES for t in types), (path, prop)  # anything else: KeyError in load_ply
        if name == "face":
            assert [p for p in props if p[0] == "list"][0][-1] in ("vertex_indices", "vertex_index")
        rows = values.setdefault(name, [])
        for _ in range(count):
            row: list[float] = []
            for prop in props:
                if fmt == "ascii":
                    n = int(tokens[pos]) if prop[0] == "list" else 1
                    pos += prop[0] == "list"
                    row += [float(t) for t in tokens[pos:pos + n]]
                    pos += n
                    continue
                kind = PLY_TYPES[prop[1] if prop[0] == "list" else prop[0]]
                if prop[0] == "list":
                    (n,) = struct.unpack_from(kind, body, pos)
                    pos += struct.calcsize(kind)
                    assert n == 3, "load_ply: only triangular faces are supported"
                    kind = PLY_TYPES[prop[2]]
                else:
                    n = 1
                row += struct.unpack_from("<" + kind[1] * n, body, pos)
                pos += struct.calcsize(kind) * n
            rows.append(row)
    names = [p[-1] for p in elements[0][2]]
    vertex = np.asarray(values["vertex"], dtype=np.float64)
    columns = {n: vertex[:, names.index(n)] for n in names}
    model = {"pts": np.stack([columns["x"], columns["y"], columns["z"]], axis=1),
             "faces": np.asarray(values["face"], dtype=np.float64)}
    if {"nx", "ny", "nz"} <= set(columns):
        model["normals"] = np.stack([columns["nx"], columns["ny"], columns["nz"]], axis=1)
    return model


def calc_2d_bbox(mask: NDArray[np.bool_], offset: tuple[int, int] = (0, 0)) -> list[int]:
    """misc.calc_2d_bbox over the mask's pixels: [x_min, y_min, x_max - x_min, y_max - y_min]."""
    ys, xs = np.nonzero(mask)
    xs, ys = xs - offset[0], ys - offset[1]
    return [int(xs.min()), int(ys.min()), int(xs.max() - xs.min()), int(ys.max() - ys.min())]


# --- the dataset ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A tabletop dataset at 96 x 72 (3 frames) and its BOP export (silhouettes rendered)."""
    folder = tmp_path_factory.mktemp("bop_conventions")
    text = (ROOT / "scenes" / "tabletop.yaml").read_text(encoding="utf-8")
    for old, new in (("width: 640", "width: 96"), ("height: 480", "height: 72"),
                     ("../assets/", f"{ROOT / 'assets'}/")):
        text = text.replace(old, new)
    (folder / "scene.yaml").write_text(text, encoding="utf-8")
    generate(load_scene(folder / "scene.yaml"), folder / "ds", frames=3, seed=0)
    return folder / "ds", export_bop(folder / "ds")


def scenes(bop: Path) -> list[Path]:
    return sorted((bop / "train_pbr").iterdir())


def test_readers_on_known_files(tmp_path: Path) -> None:
    """The PNG reader against images of known pixels (every filter type comes up in cv2's and PIL's)."""
    import cv2
    from PIL import Image

    rng = np.random.default_rng(0)
    depth = (rng.integers(0, 2, (17, 23)) * rng.integers(0, 65536, (17, 23))).astype(np.uint16)
    mask = np.kron(rng.integers(0, 2, (6, 8)), np.ones((3, 3), np.int64)).astype(np.uint8) * 255
    cv2.imwrite(str(tmp_path / "d.png"), depth)
    Image.fromarray(mask).save(tmp_path / "m.png", optimize=True)
    image, bits, _ = read_png(tmp_path / "d.png")
    assert bits == 16 and np.array_equal(image, depth)
    image, bits, _ = read_png(tmp_path / "m.png")
    assert bits == 8 and np.array_equal(image, mask)
    (tmp_path / "k.json").write_text('{"0": {"7": 1, "-2": 2, "a1": 3}}')
    assert read_json(tmp_path / "k.json", keys_to_int=True) == {0: {7: 1, -2: 2, "a1": 3}}


def test_file_layout_and_naming(exported: tuple[Path, Path]) -> None:
    root, bop = exported
    native = Dataset(root)
    seen_frames = []
    for folder in scenes(bop):
        scene_id = int(folder.name)
        assert folder.name == f"{scene_id:06d}"
        camera = read_json(folder / "scene_camera.json", keys_to_int=True)
        gt = read_json(folder / "scene_gt.json", keys_to_int=True)
        info = read_json(folder / "scene_gt_info.json", keys_to_int=True)
        raw = read_json(folder / "scene_camera.json")
        assert all(key == str(int(key)) for key in raw)  # plain decimal ids, as {im_id:06d} formats them
        assert set(camera) == set(gt) == set(info)
        expected_masks = set()
        for im_id in camera:
            seen_frames.append(camera[im_id]["renderer_frame_index"])
            assert camera[im_id]["renderer_frame_index"] == 1000 * scene_id + im_id
            for sub in ("rgb", "depth"):
                assert (folder / sub / f"{im_id:06d}.png").is_file()
            assert len(gt[im_id]) == len(info[im_id])
            expected_masks |= {f"{im_id:06d}_{gt_id:06d}.png" for gt_id in range(len(gt[im_id]))}
        for sub in ("mask", "mask_visib"):
            assert {p.name for p in (folder / sub).iterdir()} == expected_masks
    assert sorted(seen_frames) == native.indices


def test_camera_files(exported: tuple[Path, Path]) -> None:
    root, bop = exported
    native = Dataset(root)
    cam = read_json(bop / "camera.json")
    assert {"width", "height", "fx", "fy", "cx", "cy"} <= set(cam)  # what load_cam_params reads
    assert (cam["width"], cam["height"]) == (96, 72) and isinstance(cam.get("depth_scale", 1.0), float)
    first = native[native.indices[0]].K
    assert (cam["fx"], cam["fy"], cam["cx"], cam["cy"]) == pytest.approx(
        (first[0, 0], first[1, 1], first[0, 2] + 0.5, first[1, 2] + 0.5))
    for folder in scenes(bop):
        for im_id, entry in read_json(folder / "scene_camera.json", keys_to_int=True).items():
            frame = native[entry["renderer_frame_index"]]
            K = np.reshape(entry["cam_K"], (3, 3))  # row-major, as load_scene_camera reshapes it
            want = frame.K + np.array([[0, 0, 0.5], [0, 0, 0.5], [0, 0, 0]])  # pixel centres at c + 1/2
            np.testing.assert_allclose(K, want, rtol=1e-12, err_msg=f"{folder.name}/{im_id}")
            R, t = np.reshape(entry["cam_R_w2c"], (3, 3)), np.reshape(entry["cam_t_w2c"], (3, 1))
            np.testing.assert_allclose(R, frame.world_to_camera[:3, :3], atol=1e-8)
            np.testing.assert_allclose(t[:, 0], frame.world_to_camera[:3, 3] * 1000.0, atol=1e-5)  # mm
            assert isinstance(entry["depth_scale"], float) and entry["depth_scale"] > 0


def test_depth_png_in_mm_by_depth_scale(exported: tuple[Path, Path]) -> None:
    root, bop = exported
    native = Dataset(root)
    for folder in scenes(bop):
        for im_id, entry in read_json(folder / "scene_camera.json", keys_to_int=True).items():
            image, bits, _ = read_png(folder / "depth" / f"{im_id:06d}.png")
            assert bits == 16 and image.shape == (72, 96)  # one channel, uint16: load_depth's input
            depth_mm = image.astype(np.float64) * entry["depth_scale"]  # calc_gt_info's conversion
            truth_mm = native[entry["renderer_frame_index"]].depth.astype(np.float64) * 1000.0
            assert np.array_equal(depth_mm == 0, truth_mm == 0)
            err = np.abs(depth_mm - truth_mm).max()
            assert err <= entry["depth_scale"] / 2 + 1e-3, (folder.name, im_id, err)


def test_poses_put_each_model_where_the_scene_has_it(exported: tuple[Path, Path]) -> None:
    """R (row-major) X_mm + t_mm of every model vertex = our scene mesh in the camera frame, in mm."""
    root, bop = exported
    native = Dataset(root)
    models: dict[int, dict[str, NDArray[np.float64]]] = {}
    for folder in scenes(bop):
        camera = read_json(folder / "scene_camera.json", keys_to_int=True)
        for im_id, objects in read_json(folder / "scene_gt.json", keys_to_int=True).items():
            frame = native[camera[im_id]["renderer_frame_index"]]
            meshes = frame.scene_meshes()
            labelled = [o.instance_id for o in frame.objects]
            assert len(objects) == len(labelled)
            for gt_id, gt in enumerate(objects):
                assert isinstance(gt["obj_id"], int)
                if gt["obj_id"] not in models:
                    models[gt["obj_id"]] = read_ply(bop / "models" / f"obj_{gt['obj_id']:06d}.ply")
                R, t = np.reshape(gt["cam_R_m2c"], (3, 3)), np.reshape(gt["cam_t_m2c"], (3, 1))
                assert abs(np.linalg.det(R) - 1) < 1e-6
                ours = meshes[gt_id + 1].vertices @ frame.world_to_camera[:3, :3].T + frame.world_to_camera[:3, 3]
                theirs = (R @ models[gt["obj_id"]]["pts"].T + t).T
                dist, _ = cKDTree(ours * 1000.0).query(theirs)
                back, _ = cKDTree(theirs).query(ours * 1000.0)
                assert max(dist.max(), back.max()) < 0.05, (folder.name, im_id, gt_id, dist.max(), back.max())


def test_gt_info_as_calc_gt_info_defines_it(exported: tuple[Path, Path]) -> None:
    root, bop = exported
    native = Dataset(root)
    cut_by_border = 0
    for folder in scenes(bop):
        camera = read_json(folder / "scene_camera.json", keys_to_int=True)
        for im_id, infos in read_json(folder / "scene_gt_info.json", keys_to_int=True).items():
            frame = native[camera[im_id]["renderer_frame_index"]]
            depth, _, _ = read_png(folder / "depth" / f"{im_id:06d}.png")
            for gt_id, info in enumerate(infos):
                assert set(info) == {"bbox_obj", "bbox_visib", "px_count_all", "px_count_valid",
                                     "px_count_visib", "visib_fract"}
                assert all(isinstance(info[k], int) for k in info if k.startswith("px_count"))
                name = f"{im_id:06d}_{gt_id:06d}.png"
                visib, bits, _ = read_png(folder / "mask_visib" / name)
                full, bits_full, _ = read_png(folder / "mask" / name)
                assert bits == bits_full == 8 and set(np.unique(visib)) | set(np.unique(full)) <= {0, 255}
                visib_mask, full_mask = visib > 0, full > 0
                assert np.array_equal(visib_mask, frame.instance == gt_id + 1)
                assert not (visib_mask & ~full_mask).any()
                assert info["px_count_visib"] == int(visib_mask.sum())
                assert info["px_count_valid"] == int((full_mask & (depth > 0)).sum())
                assert info["px_count_all"] >= int(full_mask.sum())
                want = info["px_count_visib"] / info["px_count_all"] if info["px_count_all"] else 0.0
                assert info["visib_fract"] == pytest.approx(want, rel=1e-12)
                if info["px_count_visib"] == 0:
                    assert info["bbox_obj"] == info["bbox_visib"] == [-1, -1, -1, -1]
                    continue
                assert info["bbox_visib"] == calc_2d_bbox(visib_mask)
                x, y, w, h = info["bbox_obj"]
                inside = x >= 0 and y >= 0 and x + w < 96 and y + h < 72
                if inside:  # the whole silhouette is in the image: its box is the mask's
                    assert info["bbox_obj"] == calc_2d_bbox(full_mask)
                    assert info["px_count_all"] == int(full_mask.sum())
                else:  # unclipped (calc_2d_bbox without clip), over the silhouette's in-image part too
                    cut_by_border += 1
                    fx, fy, fw, fh = calc_2d_bbox(full_mask)
                    assert x <= fx and y <= fy and x + w >= fx + fw and y + h >= fy + fh
                    assert info["px_count_all"] > int(full_mask.sum())
    assert cut_by_border > 0  # the tiny frames cut objects at the border: the case is exercised


def test_models_and_models_info(exported: tuple[Path, Path]) -> None:
    _, bop = exported
    info = read_json(bop / "models" / "models_info.json", keys_to_int=True)
    files = sorted((bop / "models").glob("obj_*.ply"))
    assert [f.name for f in files] == [f"obj_{obj_id:06d}.ply" for obj_id in sorted(info)]
    for obj_id, entry in info.items():
        model = read_ply(bop / "models" / f"obj_{obj_id:06d}.ply")
        pts = model["pts"]
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        np.testing.assert_allclose([entry["min_x"], entry["min_y"], entry["min_z"]], lo, atol=1e-3)
        np.testing.assert_allclose([entry["size_x"], entry["size_y"], entry["size_z"]], hi - lo, atol=1e-3)
        unique = np.unique(pts, axis=0)
        diameter = max(float(np.sqrt(((unique[i:i + 256, None] - unique[None]) ** 2).sum(-1)).max())
                       for i in range(0, len(unique), 256))
        assert entry["diameter"] == pytest.approx(diameter, abs=1e-3)
        assert np.allclose(np.linalg.norm(model["normals"], axis=1), 1.0, atol=1e-3)
        assert model["faces"].shape[1] == 3 and model["faces"].max() < len(pts)
        tree = cKDTree(pts)
        for sym in entry.get("symmetries_discrete", []):
            S = np.reshape(sym, (4, 4))
            assert np.allclose(S[3], [0, 0, 0, 1]) and np.allclose(S[:3, :3] @ S[:3, :3].T, np.eye(3), atol=1e-6)
            moved = pts @ S[:3, :3].T + S[:3, 3]  # t in mm, like the vertices
            assert tree.query(moved)[0].max() < 0.02 * entry["diameter"]
        for sym in entry.get("symmetries_continuous", []):
            assert set(sym) >= {"axis", "offset"} and len(sym["axis"]) == len(sym["offset"]) == 3


def test_models_are_in_millimetres(exported: tuple[Path, Path]) -> None:
    """A model's size is its asset's (the dataset's mesh copy, metres) times the scale, times 1000."""
    root, bop = exported
    info = read_json(bop / "models" / "models_info.json", keys_to_int=True)
    for obj_id, entry in info.items():
        asset = read_ply(root / "meshes" / f"{entry['asset_id']}.ply")["pts"]
        size_m = (asset.max(axis=0) - asset.min(axis=0)) * entry["scale"]
        np.testing.assert_allclose([entry["size_x"], entry["size_y"], entry["size_z"]], size_m * 1000.0,
                                   rtol=1e-5, err_msg=str(obj_id))


def test_test_targets_count_instances_at_least_10_percent_visible(exported: tuple[Path, Path]) -> None:
    _, bop = exported
    want: dict[tuple[int, int, int], int] = {}
    for folder in scenes(bop):
        gts = read_json(folder / "scene_gt.json", keys_to_int=True)
        infos = read_json(folder / "scene_gt_info.json", keys_to_int=True)
        for im_id, objects in gts.items():
            for gt, info in zip(objects, infos[im_id], strict=True):
                if info["visib_fract"] >= 0.1:  # get_im_targets drops visib_fract < visib_gt_min
                    key = (int(folder.name), im_id, gt["obj_id"])
                    want[key] = want.get(key, 0) + 1
    targets = read_json(bop / "test_targets_bop19.json")
    assert {(t["scene_id"], t["im_id"], t["obj_id"]): t["inst_count"] for t in targets} == want
    assert len(targets) == len(want)
