"""A lean reader for large Wavefront OBJ files (photogrammetry scans).

trimesh's OBJ reader holds the whole text several times over (decoded, stripped, sliced) and a Python
string per line: 7.8x a 5.2 M-face mesh's arrays at peak, more than every later stage of a frame
together (scripts/large_mesh.py). This reader takes the file a block of lines at a time, parses each
block's numbers in C (numpy), and builds the mesh with trimesh's own rules (the same unmerging of
vertex/texture/normal indices, the same materials), so that what it returns is what trimesh would have.

It reads the plain subset scans are written in: ``v x y z``, ``vt u v``, ``vn x y z``, faces of
one layout throughout (``a``, ``a/b``, ``a//c`` or ``a/b/c``; triangles or quads), positive indices,
at most one material (named before the first face), and ``o``, ``g``, ``s``, ``mtllib``, ``usemtl``
and comment lines. Anything else
(negative indices, vertex colours, mixed face layouts, several materials, lines, ...) makes it return
None, and trimesh reads the file.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import trimesh
from numpy.typing import NDArray

LEAN_OBJ_BYTES = 32 * 2**20  # files at least this large are read here (smaller ones: trimesh, as ever)
BLOCK_BYTES = 8 * 2**20
_MTLLIB = re.compile(rb"^[ \t]*mtllib[ \t]+(.+?)[ \t\r]*$", re.MULTILINE)
_IGNORED = (b"#", b"o ", b"g ", b"s ", b"o\t", b"g\t", b"s\t")


class _Unsupported(Exception):
    """The file needs trimesh's full reader."""


def line_blocks(path: Path, block_bytes: int | None = None) -> Iterator[bytes]:
    """The file in blocks of whole lines (each about block_bytes long, default BLOCK_BYTES; the last
    line's end included)."""
    block_bytes = block_bytes or BLOCK_BYTES
    with open(path, "rb") as handle:
        rest = b""
        while True:
            data = handle.read(block_bytes)
            if not data:
                if rest:
                    yield rest
                return
            data = rest + data
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                rest = data
                continue
            rest = data[cut:]
            yield data[:cut]


def mtllib_names(path: Path) -> list[str]:
    """The MTL libraries an OBJ names, read a block at a time (a scan's text is never held whole)."""
    names: list[str] = []
    for block in line_blocks(path):
        names += [m.decode("utf-8", errors="replace").strip() for m in _MTLLIB.findall(block)]
    return names


def _numbers(lines: list[bytes], skip: int, columns: int, dtype: type) -> NDArray[Any]:
    """The numbers after each line's keyword (``skip`` bytes), ``columns`` per line, as an (n, columns)
    array; every line must hold exactly that many."""
    if any(len(line.split()) != columns + 1 for line in lines):
        raise _Unsupported
    values = _parse(b" ".join(line[skip:] for line in lines), dtype)
    if values.size != len(lines) * columns:
        raise _Unsupported
    return values.reshape(-1, columns)


def _parse(text: bytes, dtype: type) -> NDArray[Any]:
    """Whitespace-separated numbers, parsed in C (numpy has no faster text reader); anything that is
    not a number leaves the file to trimesh."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy only warns (and stops early) at text it cannot parse
        try:
            return np.fromstring(text.decode("ascii"), sep=" ", dtype=dtype)
        except (ValueError, DeprecationWarning):
            raise _Unsupported from None


class _FaceLayout:
    """The layout of the first face line (vertex count, which indices), which every face line must share."""

    def __init__(self, line: bytes) -> None:
        groups = line.split()[1:]
        if len(groups) not in (3, 4):
            raise _Unsupported
        parts = groups[0].split(b"/")
        self.count = len(groups)
        self.has_texture = len(parts) >= 2 and parts[1] != b""
        self.has_normal = len(parts) == 3 and parts[2] != b""
        if len(parts) > 3 or (len(parts) == 3 and not self.has_normal) or (len(parts) == 2 and not self.has_texture):
            raise _Unsupported
        self.slashes = line.count(b"/")
        self.doubles = line.count(b"//")
        self.per_vertex = 1 + self.has_texture + self.has_normal

    def parse(self, lines: list[bytes]) -> NDArray[np.int64]:
        """(n, count * per_vertex) one-based indices of the face lines."""
        if any(line.count(b"/") != self.slashes or line.count(b"//") != self.doubles for line in lines):
            raise _Unsupported
        if any(len(line.split()) != self.count + 1 for line in lines):
            raise _Unsupported
        values = _parse(b" ".join(line[2:] for line in lines).replace(b"//", b" ").replace(b"/", b" "), np.int64)
        if values.size != len(lines) * self.count * self.per_vertex:
            raise _Unsupported
        return values.reshape(len(lines), self.count * self.per_vertex)


def read_large_obj(path: Path) -> trimesh.Trimesh | None:
    """The OBJ's single mesh as trimesh.load would make it (process=False), or None where the file is
    not of the plain subset this reader takes (module docstring)."""
    try:
        return _read(path)
    except (_Unsupported, UnicodeDecodeError):
        return None


def _read(path: Path) -> trimesh.Trimesh:
    chunks: dict[str, list[NDArray[Any]]] = {"v": [], "vt": [], "vn": [], "f": []}
    layout: _FaceLayout | None = None
    materials_used: set[bytes] = set()
    faces_seen = False
    for block in line_blocks(path):
        v: list[bytes] = []
        vt: list[bytes] = []
        vn: list[bytes] = []
        f: list[bytes] = []
        for line in block.split(b"\n"):
            line = line.strip()
            head = line[:2]
            if head == b"v ":
                v.append(line)
            elif head == b"f ":
                f.append(line)
                faces_seen = True
            elif head == b"vt":
                vt.append(line)
            elif head == b"vn":
                vn.append(line)
            elif not line or line.startswith(_IGNORED) or line.startswith(b"mtllib"):
                continue
            elif line.startswith(b"usemtl"):
                materials_used.add(line[6:].strip())
                if len(materials_used) > 1 or faces_seen:  # faces of two materials: trimesh's groups
                    raise _Unsupported
            else:
                raise _Unsupported
        if v:
            chunks["v"].append(_numbers(v, 2, 3, np.float64))
        if vn:
            if any(line[2:3] not in (b" ", b"\t") for line in vn):
                raise _Unsupported
            chunks["vn"].append(_numbers(vn, 3, 3, np.float64))
        if vt:
            if any(line[2:3] not in (b" ", b"\t") for line in vt):
                raise _Unsupported
            chunks["vt"].append(_numbers(vt, 3, 2, np.float64))
        if f:
            layout = layout or _FaceLayout(f[0])
            chunks["f"].append(layout.parse(f))
        del v, vt, vn, f, block
    if layout is None or not chunks["v"]:
        raise _Unsupported
    vertices = _stack(chunks["v"])
    indices = _stack(chunks["f"])
    if indices.min() < 1:  # zero is no index; negative (relative) ones are left to trimesh
        raise _Unsupported
    indices -= 1
    step = layout.per_vertex
    faces = indices[:, 0::step]
    faces_tex = indices[:, 1::step] if layout.has_texture else None
    faces_norm = indices[:, step - 1::step] if layout.has_normal else None
    del indices
    uv_all = _stack(chunks["vt"]) if chunks["vt"] else None
    normals_all = _stack(chunks["vn"]) if chunks["vn"] else None
    if faces.max() >= len(vertices) or (faces_tex is not None and (uv_all is None or faces_tex.max() >= len(uv_all))) \
            or (faces_norm is not None and (normals_all is None or faces_norm.max() >= len(normals_all))):
        raise _Unsupported  # trimesh decides what an index out of range makes
    return _mesh(path, vertices, faces, faces_tex, faces_norm, uv_all, normals_all, materials_used)


def _stack(parts: list[NDArray[Any]]) -> NDArray[Any]:
    array = parts[0] if len(parts) == 1 else np.concatenate(parts)
    parts.clear()
    return array


def _mesh(path: Path, vertices: NDArray[np.float64], faces: NDArray[np.int64], faces_tex: NDArray[np.int64] | None,
          faces_norm: NDArray[np.int64] | None, uv_all: NDArray[np.float64] | None,
          normals_all: NDArray[np.float64] | None, materials_used: set[bytes]) -> trimesh.Trimesh:
    """trimesh's load_obj rules, from arrays: vertices split where texture (and normal) indices differ."""
    from trimesh.visual.texture import TextureVisuals, unmerge_faces

    uv = normals = None
    if faces_tex is not None:
        if faces_norm is not None:
            new_faces, mask_v, mask_vt, mask_vn = unmerge_faces(faces, faces_tex, faces_norm)
            normals = normals_all[mask_vn] if normals_all is not None else None
        else:
            new_faces, mask_v, mask_vt = unmerge_faces(faces, faces_tex)
        uv = uv_all[mask_vt] if uv_all is not None else None
    elif faces_norm is not None:
        new_faces, mask_v, mask_vn = unmerge_faces(faces, faces_norm)
        normals = normals_all[mask_vn] if normals_all is not None else None
    else:
        mask_v = np.zeros(len(vertices), dtype=bool)
        mask_v[faces] = True
        inverse = np.zeros(len(vertices), dtype=np.int64)
        inverse[mask_v] = np.arange(int(mask_v.sum()))
        new_faces = inverse[faces]
        del inverse
    del faces, faces_tex, faces_norm
    kept = vertices[mask_v]
    del vertices
    visual = None
    material = _material(path, next(iter(materials_used))) if materials_used else None
    if material is not None:
        visual = TextureVisuals(uv=uv, material=material)
    elif uv is not None and len(uv) == len(kept):
        visual = TextureVisuals(uv=uv)
    if normals is not None and normals.shape != kept.shape:
        normals = None
    # quads are split into triangles by Trimesh itself, as for trimesh's reader
    return trimesh.Trimesh(vertices=kept, faces=new_faces, vertex_normals=normals, visual=visual, process=False)


def _material(path: Path, name: bytes) -> Any:
    """The named material of the OBJ's MTL libraries, as trimesh's reader makes it (None if absent)."""
    from trimesh.exchange.obj import parse_mtl
    from trimesh.resolvers import FilePathResolver
    from trimesh.visual.material import SimpleMaterial

    resolver = FilePathResolver(str(path))
    for library in mtllib_names(path)[:1]:  # trimesh reads the first library named
        try:
            found = parse_mtl(resolver[library], resolver=resolver)
        except (OSError, TypeError):
            return None
        wanted = name.decode("utf-8", errors="replace")
        if wanted in found:
            return SimpleMaterial(**found[wanted])
    return None
