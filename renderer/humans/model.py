"""The body model: anny (NAVER, Apache-2.0 code, CC0 MakeHuman-derived assets) posed from a BodyDescription.

Only anny's own topology, rig, phenotype blend shapes and COCO keypoint regressor are used; its SMPL /
SMPL-X paths (a non-commercial download) are never called, and ``assert_no_download`` makes sure.
The first model build writes ~0.9 GB to ``~/.cache/anny`` (``$ANNY_CACHE_DIR``; scripts/setup.sh builds
it once); later processes load it in well under a second. One model per process, made on first use.

Frames: anny's model frame has z up, x towards the body's left and its front along -y, metres. Our body
mesh frame is that frame shifted so that the posed body's lowest vertex lies on z = 0 and its root
(pelvis) is above the origin; the object's pose (object_to_world) then places and turns it on the floor.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from renderer.errors import require_extra
from renderer.humans.cache import BodyModelCacheError, body_model_cache_dir
from renderer.humans.keypoints import KEYPOINTS
from renderer.humans.parts import BODY_PARTS, part_of_bone
from renderer.humans.poses import rotation_xyz

KEYPOINT_DEPTH_SCALE, KEYPOINT_DEPTH_SLACK = 1.5, 0.03  # metres


@dataclass(frozen=True)
class PosedBody:
    """One posed body in the body mesh frame (see the module docstring).

    vertices: (V', 3) float64, one per (vertex, texture coordinate) pair, so seams keep their UVs;
    faces: (F, 3) int64 into them; uv: (V', 2) the texture's coordinates (anny's, the eyeballs on tiles of
    their own: BodyModel._eye_tiles); BodyModel.uv holds anny's own (the surface_uv label);
    keypoints: (len(KEYPOINTS), 3) regressed joint positions;
    keypoint_radii: (len(KEYPOINTS),) metres: the depth a keypoint may sit behind its own visible surface
    and still be seen, KEYPOINT_DEPTH_SCALE times its distance to the nearest vertex plus KEYPOINT_DEPTH_SLACK
    (the skin over a joint is rarely thinnest straight towards the camera).
    face_parts: (F,) index into BODY_PARTS; rest_vertices: the unposed body's (same split).
    model_vertices: (13 718, 3) the posed vertices unsplit, in anny's order (what face landmark anchors
    index). head_bone, eye_bones: (4, 4) and (2, 4, 4) poses of anny's head and eye.L / eye.R bones in the
    body mesh frame (bone axes: y along the bone, z out of the front; renderer.humans.head reads them).
    """

    vertices: NDArray[np.float64]
    faces: NDArray[np.int64]
    uv: NDArray[np.float64]
    keypoints: NDArray[np.float64]
    keypoint_radii: NDArray[np.float64]
    face_parts: NDArray[np.int64]
    rest_vertices: NDArray[np.float64]
    model_vertices: NDArray[np.float64]
    head_bone: NDArray[np.float64]
    eye_bones: NDArray[np.float64]


# Eye tiles: (row, column, half size) in texels of a 512 atlas, in its free top-right corner (measured:
# no face of anny's layout within 93 texels of the corner).
EYE_ATLAS = 512
EYE_TILES = ((24.0, 488.0, 21.0), (70.0, 488.0, 21.0))

BODY_DENSITY = 1010.0  # kg/m^3, the human body's mean density (for the mass estimate)
# The reference body: its rest mesh is where the per-face rules are set (eye tiles, garments' and hair's
# stretches, face regions); they then follow every body, as all share anny's triangles.
REFERENCE_PHENOTYPE = {"age": 0.67}


class BodyModel:
    """anny with our conventions: posed meshes (UV-split), keypoints and per-face body parts."""

    def __init__(self) -> None:
        anny = load_anny()
        import torch

        self._torch = torch
        with _cache_errors_named():
            # The 52 ARKit-named facial actions (anny's CC0 Face Units) are blend shapes on the same topology.
            self.model = anny.Anny(phenotypes="all", facial_actions="all")
            self.regressor = anny.KeypointsRegressor.coco(self.model, labels=list(KEYPOINTS))
        self.phenotype_labels = tuple(self.model.phenotype_labels)
        self.facial_action_labels = tuple(self.model.facial_action_labels)
        self.bone_labels = tuple(self.model.bone_labels)
        faces = self.model.faces.cpu().numpy().astype(np.int64)
        uv_index = self.model.face_texture_coordinate_indices.cpu().numpy().astype(np.int64)
        uv = self.model.texture_coordinates.cpu().numpy().astype(np.float64)
        # One output vertex per (vertex, uv) corner pair: seams get a vertex each side.
        pairs = np.stack([faces.ravel(), uv_index.ravel()], axis=1)
        unique, inverse = np.unique(pairs, axis=0, return_inverse=True)
        self.vertex_of = unique[:, 0]
        self.uv = uv[unique[:, 1]]
        self.faces = inverse.reshape(faces.shape).astype(np.int64)
        self.model_faces = faces
        self.split_of = np.zeros(int(faces.max()) + 1, dtype=np.int64)  # one split vertex of each model vertex
        self.split_of[self.vertex_of] = np.arange(len(self.vertex_of))
        self.face_parts = self._face_parts(faces)
        self.texture_uv = self._eye_tiles()
        from anny.anthropometry import Anthropometry

        self._anthropometry = Anthropometry(self.model)
        self._statures: dict[tuple[tuple[str, float], ...], tuple[float, float]] = {}

    def _eye_tiles(self) -> NDArray[np.float64]:
        """The texture coordinates the body is painted with: anny's, but each eyeball's mapped onto a tile
        of its own in a free corner of the atlas (EYE_TILES), its front hemisphere projected along the
        eye's axis onto a disc and its back pressed to the rim. In anny's layout a whole eyeball has ~13
        texels of a 512 atlas, too few for an iris and a pupil; the labels keep anny's UV (surface_uv)."""
        rest = self.reference_rest[0]
        indices = self.model.vertex_bone_indices.cpu().numpy()
        weights = self.model.vertex_bone_weights.cpu().numpy()
        texture_uv = self.uv.copy()
        for bone, (row, col, half) in zip(("eye.L", "eye.R"), EYE_TILES, strict=True):
            on_eye = ((indices == self.bone_labels.index(bone)) * weights).sum(axis=1) > 0.5
            eye_faces = on_eye[self.model_faces].all(axis=1)
            split = np.unique(self.faces[eye_faces])
            points = rest[self.vertex_of[split]]
            centre = rest[on_eye].mean(axis=0)
            front = rest[on_eye][rest[on_eye][:, 1] < np.quantile(rest[on_eye][:, 1], 0.1)].mean(axis=0)
            axis = (front - centre) / np.linalg.norm(front - centre)
            e1 = np.cross(axis, [0.0, 0.0, 1.0])
            e1 /= np.linalg.norm(e1)
            e2 = np.cross(e1, axis)  # up, on the eye
            local = points - centre
            radius = float(np.linalg.norm(local, axis=1).max())
            disc = np.stack([local @ e1, local @ e2], axis=1) / radius
            back = local @ axis < 0
            disc[back] /= np.maximum(np.linalg.norm(disc[back], axis=1, keepdims=True), 1e-9)
            texture_uv[split, 0] = (col + disc[:, 0] * half) / EYE_ATLAS
            texture_uv[split, 1] = 1.0 - (row - disc[:, 1] * half) / EYE_ATLAS
        return texture_uv

    def _face_parts(self, faces: NDArray[np.int64]) -> NDArray[np.int64]:
        """Each face's body part: the part whose bones carry most skinning weight over its corners."""
        indices = self.model.vertex_bone_indices.cpu().numpy()
        weights = self.model.vertex_bone_weights.cpu().numpy()
        bone_part = np.array([BODY_PARTS.index(part_of_bone(b)) for b in self.bone_labels])
        per_vertex = np.zeros((len(indices), len(BODY_PARTS)))
        np.add.at(per_vertex, (np.repeat(np.arange(len(indices)), indices.shape[1]), bone_part[indices.ravel()]),
                  weights.ravel())
        return np.argmax(per_vertex[faces].sum(axis=1), axis=1).astype(np.int64)

    def stature(self, phenotype: tuple[tuple[str, float], ...]) -> float:
        """Standing height (metres) of the unposed body: its rest mesh's extent in z."""
        return self._rest_facts(phenotype)[0]

    def mass(self, phenotype: tuple[tuple[str, float], ...]) -> float:
        """Body mass estimate (kg): the unposed mesh's enclosed volume times BODY_DENSITY."""
        return self._rest_facts(phenotype)[1]

    def _rest_facts(self, phenotype: tuple[tuple[str, float], ...]) -> tuple[float, float]:
        """(height, mass) of the unposed body, by anny's public API: its rest vertices blended from the
        phenotype's blend-shape coefficients (none of the skinning: the same numbers, tests/test_people.py),
        measured by anny's Anthropometry (height: the extent in z; volume, times our BODY_DENSITY)."""
        if phenotype not in self._statures:
            model = self.model
            with self._torch.no_grad():
                coefficients = model.get_phenotype_blendshape_coefficients(
                    **{name: float(value) for name, value in phenotype})
                rest = model.get_rest_vertices(coefficients)
                height, volume = float(self._anthropometry.height(rest)[0]), float(self._anthropometry.volume(rest)[0])
            self._statures[phenotype] = (height, volume * BODY_DENSITY)
        return self._statures[phenotype]

    @functools.cached_property
    def reference_rest(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(V, 3) rest vertices and (B, 3) bone heads (bone_labels order) of the reference body, the rest
        mesh of REFERENCE_PHENOTYPE that the per-face rules are set on (eye tiles, the painter's layout,
        face regions), in anny's frame, built once."""
        with self._torch.no_grad():
            out = self.model(phenotype_kwargs=dict(REFERENCE_PHENOTYPE))
        return (out["rest_vertices"][0].cpu().numpy().astype(np.float64),
                out["rest_bone_heads"][0].cpu().numpy().astype(np.float64))

    def pose(self, phenotype: tuple[tuple[str, float], ...],
             joints: tuple[tuple[str, tuple[float, float, float]], ...],
             expression: tuple[tuple[str, float], ...] = ()) -> PosedBody:
        """The body of these phenotype values in this pose, its face showing ``expression`` (facial action
        weights, renderer.humans.expressions)."""
        torch = self._torch
        unknown = [name for name, _ in phenotype if name not in self.phenotype_labels]
        if unknown:
            raise ValueError(f"body: unknown phenotype {unknown[0]!r}")
        unknown = [name for name, _ in expression if name not in self.facial_action_labels]
        if unknown:
            raise ValueError(f"body: unknown facial action {unknown[0]!r}")
        transforms: dict[str, Any] = {}
        for bone, angles in joints:
            if bone not in self.bone_labels:
                raise ValueError(f"body: unknown bone {bone!r}")
            matrix = np.eye(4)
            matrix[:3, :3] = rotation_xyz(angles)
            transforms[bone] = torch.as_tensor(matrix, dtype=self.model.dtype)[None]
        with torch.no_grad():
            out = self.model(pose_parameters=transforms or None,
                             phenotype_kwargs={name: float(value) for name, value in phenotype},
                             facial_actions={name: float(value) for name, value in expression} or None)
            keypoints = self.regressor(out)[0].cpu().numpy().astype(np.float64)
        vertices = out["vertices"][0].cpu().numpy().astype(np.float64)
        rest = out["rest_vertices"][0].cpu().numpy().astype(np.float64)
        shift = np.array([0.0, 0.0, -vertices[:, 2].min()])
        vertices = vertices + shift
        keypoints = keypoints + shift
        radii = KEYPOINT_DEPTH_SCALE * _nearest_distance(keypoints, vertices) + KEYPOINT_DEPTH_SLACK
        bones = out["bone_poses"][0].cpu().numpy().astype(np.float64)
        bones[:, :3, 3] += shift
        head, left, right = (self.bone_labels.index(name) for name in ("head", "eye.L", "eye.R"))
        return PosedBody(vertices=vertices[self.vertex_of], faces=self.faces, uv=self.texture_uv, keypoints=keypoints,
                         keypoint_radii=radii, face_parts=self.face_parts, rest_vertices=rest[self.vertex_of],
                         model_vertices=vertices, head_bone=bones[head], eye_bones=bones[[left, right]])


def _nearest_distance(points: NDArray[np.float64], vertices: NDArray[np.float64]) -> NDArray[np.float64]:
    import scipy.spatial

    return np.asarray(scipy.spatial.cKDTree(vertices).query(points)[0], dtype=np.float64)


_LOCK = threading.Lock()


@functools.cache
def _model() -> BodyModel:
    return BodyModel()


def body_model() -> BodyModel:
    """The process's body model, built on first use (thread-safe)."""
    with _LOCK:
        return _model()


@contextlib.contextmanager
def _cache_errors_named() -> Iterator[None]:
    """anny's failures to read or write its cache (what renderer.humans.cache checks before a run; a cache
    damaged or made read-only since) as one BodyModelCacheError naming the cache, not a traceback."""
    try:
        yield
    except OSError as exc:
        raise BodyModelCacheError(f"the body model's cache {body_model_cache_dir()} ($ANNY_CACHE_DIR): "
                                  f"{exc.strerror or exc}{f' ({exc.filename})' if exc.filename else ''}") from None
    except Exception as exc:
        if type(exc).__name__ != "SafetensorError":
            raise
        raise BodyModelCacheError(f"the body model's cache {body_model_cache_dir()} ($ANNY_CACHE_DIR) holds a "
                                  f"damaged file ({exc}); remove it to have it rebuilt") from None


def load_anny() -> Any:
    """The anny package, imported safely (every use of anny goes through here); a MissingExtraError
    naming the people extra where anny or torch is missing."""
    require_extra("torch", "people", "people", package="PyTorch")
    _keep_triton_out()
    require_extra("anny", "people", "people")
    _quiet_warp()
    import anny

    assert_no_download()
    return anny


def _keep_triton_out() -> None:
    """anny imports roma, which imports torch._dynamo, which imports triton if installed; triton's own
    LLVM crashes the process (segfault) once Mesa's llvmpipe (the software GL we render with) is loaded.
    Nothing here compiles with torch, so triton is made unimportable unless something imported it first."""
    if "triton" not in sys.modules:
        sys.modules["triton"] = None  # type: ignore[assignment]


def _quiet_warp() -> None:
    """anny skins with NVIDIA Warp, which prints its kernel cache on every start and, from its native
    library, a warning that there is no CUDA driver (the CPU is what it runs on here): a dataset tool's
    output should be its own lines. Warp is initialised now with its native stderr caught, and whatever
    it wrote but that warning goes on to stderr."""
    import warp

    warp.config.log_level = warp.LOG_ERROR
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            warp.init()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        caught.seek(0)
        lines = caught.read().decode(errors="replace").splitlines()
    rest = [line for line in lines if "CUDA driver" not in line]
    if rest:
        print("\n".join(rest), file=sys.stderr)


def assert_no_download() -> None:
    """Make anny's one network path (its non-commercial SMPL data) raise instead of downloading."""
    import anny.paths

    def refuse() -> None:
        raise RuntimeError("anny tried to download its non-commercial SMPL data; renderer never uses it")

    anny.paths.download_noncommercial_data = refuse
