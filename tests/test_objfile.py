"""The lean OBJ reader (renderer.assets.objfile) against trimesh's own reader, the reference for what a mesh
file means: same vertices, faces, texture coordinates, vertex normals and material, or None (and
trimesh reads the file) where the file leaves the plain subset."""

from __future__ import annotations

import glob
import shutil
from pathlib import Path

import numpy as np
import pytest
import trimesh

from renderer.assets.objfile import line_blocks, mtllib_names, read_large_obj

ASSETS = Path(__file__).resolve().parent.parent / "assets" / "meshes"
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def trimesh_reading(path: Path) -> trimesh.Trimesh:
    scene = trimesh.load_scene(str(path), process=False)
    assert len(scene.geometry) == 1
    return next(iter(scene.geometry.values()))


def assert_same_mesh(ours: trimesh.Trimesh, reference: trimesh.Trimesh) -> None:
    np.testing.assert_array_equal(ours.vertices, reference.vertices)
    np.testing.assert_array_equal(ours.faces, reference.faces)
    reference_uv, our_uv = getattr(reference.visual, "uv", None), getattr(ours.visual, "uv", None)
    assert (reference_uv is None) == (our_uv is None)
    if reference_uv is not None:
        np.testing.assert_array_equal(our_uv, reference_uv)
    reference_image = getattr(getattr(reference.visual, "material", None), "image", None)
    our_image = getattr(getattr(ours.visual, "material", None), "image", None)
    assert (reference_image is None) == (our_image is None)
    if reference_image is not None:
        assert np.array_equal(np.asarray(our_image), np.asarray(reference_image))
    assert ("vertex_normals" in reference._cache.cache) == ("vertex_normals" in ours._cache.cache)
    if "vertex_normals" in reference._cache.cache:
        np.testing.assert_allclose(ours.vertex_normals, reference.vertex_normals, atol=1e-12)


def real_obj_files() -> list[Path]:
    import pybullet_data

    bullet = sorted(Path(p) for p in glob.glob(f"{pybullet_data.getDataPath()}/**/*.obj", recursive=True))
    return sorted(ASSETS.glob("*.obj")) + bullet[::8]  # every asset; an eighth of pybullet's 1,100


def test_real_files_read_as_trimesh_reads_them() -> None:
    read = 0
    for path in real_obj_files():
        ours = read_large_obj(path)
        if ours is not None:
            assert_same_mesh(ours, trimesh_reading(path))
            read += 1
    assert read >= 0.9 * len(real_obj_files())  # the plain subset is what real files are written in


def test_textured_duck_keeps_its_texture(tmp_path: Path) -> None:
    import pybullet_data

    for name in ("duck.obj", "duck.mtl", "duckCM.png"):
        shutil.copy(Path(pybullet_data.getDataPath()) / name, tmp_path / name)
    ours = read_large_obj(tmp_path / "duck.obj")
    assert ours is not None and ours.visual.material.image is not None
    assert_same_mesh(ours, trimesh_reading(tmp_path / "duck.obj"))
    assert mtllib_names(tmp_path / "duck.obj") == ["duck.mtl"]


LAYOUTS = ("{v}", "{v}/{t}", "{v}//{n}", "{v}/{t}/{n}")


def write_obj(path: Path, mesh: trimesh.Trimesh, layout: str, quads: bool, newline: str, extras: bool) -> None:
    """``mesh`` as OBJ text in the given face layout (texture and normal indices shuffled, so that
    vertices must be split as trimesh splits them)."""
    rng = np.random.default_rng(len(mesh.faces))
    uv = rng.random((len(mesh.vertices) + 3, 2))
    normals = rng.normal(size=(len(mesh.vertices) + 5, 3))
    faces = mesh.faces if not quads else np.column_stack([mesh.faces, mesh.faces[:, 0]])
    tex = rng.integers(0, len(uv), faces.shape)
    nor = rng.integers(0, len(normals), faces.shape)
    lines = ["# written by the test", "o thing"] if extras else []
    lines += [f"v {x!r} {y!r} {z!r}" for x, y, z in mesh.vertices.tolist()]
    if "{t}" in layout:
        lines += [f"vt {u!r} {w!r}" for u, w in uv.tolist()]
    if "{n}" in layout:
        lines += [f"vn {x!r} {y!r} {z!r}" for x, y, z in normals.tolist()]
    if extras:
        lines += ["g part", "s 1"]
    for face, t, n in zip(faces.tolist(), tex.tolist(), nor.tolist(), strict=True):
        groups = (layout.format(v=a + 1, t=b + 1, n=c + 1) for a, b, c in zip(face, t, n, strict=True))
        lines.append("f " + " ".join(groups))
    path.write_bytes(newline.join(lines).encode() + newline.encode())


@settings(max_examples=40, deadline=None)
@given(subdivisions=st.integers(0, 2), layout=st.sampled_from(LAYOUTS), quads=st.booleans(),
       newline=st.sampled_from(["\n", "\r\n"]), extras=st.booleans(), block=st.sampled_from([64, 1000, 1 << 20]))
def test_generated_files_read_as_trimesh_reads_them(tmp_path_factory: pytest.TempPathFactory, subdivisions: int,
                                                    layout: str, quads: bool, newline: str, extras: bool,
                                                    block: int) -> None:
    import renderer.assets.objfile as objfile

    path = tmp_path_factory.mktemp("obj") / "mesh.obj"
    write_obj(path, trimesh.creation.icosphere(subdivisions=subdivisions), layout, quads, newline, extras)
    saved = objfile.BLOCK_BYTES
    objfile.BLOCK_BYTES = block  # blocks cut anywhere: lines split across reads are joined again
    try:
        ours = read_large_obj(path)
    finally:
        objfile.BLOCK_BYTES = saved
    assert ours is not None
    assert_same_mesh(ours, trimesh_reading(path))


@pytest.mark.parametrize("change", ["negative index", "two materials", "polyline", "mixed layouts", "vertex colour",
                                    "pentagon", "not a number"])
def test_files_outside_the_plain_subset_are_left_to_trimesh(tmp_path: Path, change: str) -> None:
    body = ["v 0 0 0", "v 1 0 0", "v 0 1 0", "v 1 1 0", "v 2 1 0"]
    faces = {"negative index": ["f -3 -2 -1"], "two materials": ["usemtl a", "f 1 2 3", "usemtl b", "f 2 4 3"],
             "polyline": ["f 1 2 3", "l 1 2"], "mixed layouts": ["f 1 2 3", "f 2 4 3 5"],
             "vertex colour": ["f 1 2 3"], "pentagon": ["f 1 2 4 5 3"], "not a number": ["f 1 2 3"]}[change]
    if change == "vertex colour":
        body[0] = "v 0 0 0 1 0 0"
    if change == "not a number":
        body[1] = "v 1 zero 0"
    path = tmp_path / "odd.obj"
    path.write_text("\n".join(body + faces) + "\n")
    assert read_large_obj(path) is None


def test_blocks_are_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "lines.txt"
    lines = [f"line {k} " + "x" * (k % 37) for k in range(2000)]
    path.write_text("\n".join(lines))  # no newline at the end
    blocks = list(line_blocks(path, block_bytes=100))
    assert all(b.endswith(b"\n") for b in blocks[:-1]) and len(blocks) > 50
    assert b"".join(blocks).decode().split("\n") == lines


def test_scans_are_read_here_and_render(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the catalog: an OBJ above the size threshold is read by this reader (the threshold set
    to 0 here), and loads as the same checked mesh trimesh's reader gives."""
    import renderer.assets.catalog as assets
    import renderer.assets.objfile as objfile
    from renderer.scene.description import MeshSource

    path = tmp_path / "scan.obj"
    write_obj(path, trimesh.creation.icosphere(subdivisions=3), "{v}/{t}/{n}", False, "\n", True)
    calls = []
    monkeypatch.setattr(assets, "LEAN_OBJ_BYTES", 0)
    monkeypatch.setattr(assets, "read_large_obj", lambda p: calls.append(p) or objfile.read_large_obj(p))
    lean = assets.load_mesh(MeshSource("file", path=str(path)))
    monkeypatch.setattr(assets, "LEAN_OBJ_BYTES", 1 << 60)
    reference = assets.load_mesh(MeshSource("file", path=str(path)))
    assert calls == [path]
    assert_same_mesh(lean, reference)


def _line() -> st.SearchStrategy[str]:
    number = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=32).map(repr),
                       st.sampled_from(["1e308", "-0", "1.5e-300", "x", "", "1,5"]))
    index = st.one_of(st.integers(-3, 12).map(str), st.sampled_from(["", "a", "1.5"]))
    group = st.builds(lambda v, t, n, form: form.format(v=v, t=t, n=n), index, index, index,
                      st.sampled_from(["{v}", "{v}/{t}", "{v}//{n}", "{v}/{t}/{n}", "{v}/", "{v}/{t}/"]))
    return st.one_of(
        st.lists(number, min_size=2, max_size=4).map(lambda xs: "v " + " ".join(xs)),
        st.lists(number, min_size=1, max_size=3).map(lambda xs: "vt " + " ".join(xs)),
        st.lists(number, min_size=2, max_size=4).map(lambda xs: "vn " + " ".join(xs)),
        st.lists(group, min_size=2, max_size=5).map(lambda gs: "f " + " ".join(gs)),
        st.sampled_from(["# comment é", "o a", "g b", "s off", "usemtl m", "mtllib none.mtl", "l 1 2", "", "  ",
                         "vp 0.5", "\t"]),
        st.text(max_size=12),
    )


def _plain_line() -> st.SearchStrategy[str]:
    coordinate = st.floats(-10, 10, width=32).map(repr)
    return st.one_of(st.lists(coordinate, min_size=3, max_size=3).map(lambda xs: "v " + " ".join(xs)),
                     st.lists(st.integers(1, 4).map(str), min_size=3, max_size=3).map(lambda xs: "f " + " ".join(xs)))


@settings(max_examples=150, deadline=None)
@given(plain=st.lists(_plain_line(), max_size=30), hostile=st.lists(_line(), max_size=2), at=st.integers(0, 30),
       head=st.booleans())
def test_any_text_is_read_as_trimesh_reads_it_or_left_to_trimesh(tmp_path_factory: pytest.TempPathFactory,
                                                                  plain: list[str], hostile: list[str], at: int,
                                                                  head: bool) -> None:
    """Hostile files (plain lines with odd ones among them): the reader never raises, and what it
    returns is what trimesh makes of the file."""
    path = tmp_path_factory.mktemp("fuzz") / "mesh.obj"
    lines = (["v 0 0 0", "v 1 0 0", "v 0 1 0", "v 0 0 1"] if head else []) + plain[:at] + hostile + plain[at:]
    path.write_bytes("\n".join(lines).encode("utf-8", errors="surrogatepass"))
    ours = read_large_obj(path)
    hypothesis.event("left to trimesh" if ours is None else "read here")
    if ours is None:
        return
    reference = trimesh.load_scene(str(path), process=False)
    assert len(reference.geometry) == 1
    assert_same_mesh(ours, next(iter(reference.geometry.values())))
