"""PeopleCatalog: the scene's asset catalog plus the bodies of its people (mesh sources of kind body).

Render, the label pass and the labels ask a catalog for ``mesh(source)`` and ``landmarks(source)``; for a
body this builds (and keeps the last few of) the posed, textured mesh and its keypoints, and passes every
other source to the AssetCatalog. So people reach every engine, label and writer as ordinary objects.
"""

from __future__ import annotations

import functools

import numpy as np
import trimesh
from numpy.typing import NDArray
from PIL import Image

from renderer.assets.catalog import AssetCatalog, FaceGeometry, Landmarks, release_freed_memory
from renderer.caching import LruCache
from renderer.config.schema import SceneConfig
from renderer.humans.appearance import body_texture, face_classes, roughness_texture
from renderer.humans.face_landmarks import FACE_LANDMARK_RADIUS, face_anchors, face_landmark_points
from renderer.humans.head import gaze_directions, head_frame
from renderer.humans.keypoints import KEYPOINTS, SKELETON
from renderer.humans.model import PosedBody, body_model
from renderer.humans.skin import palm_albedo
from renderer.humans.wardrobe import WORN
from renderer.scene.body import worn_face_classes
from renderer.scene.description import BodyDescription, MeshSource

# Posed bodies kept: a frame's people are built once for all its passes, and a sequence's neighbours
# (flow) are the frames before and after: three frames' worth, at least KEPT_BODIES.
KEPT_BODIES = 16
RELEASE_EVERY = 32  # bodies built between hand-backs of freed memory to the system


class PeopleCatalog(AssetCatalog):
    """An AssetCatalog that also builds body meshes from their descriptions."""

    def __init__(self, config: SceneConfig, skip: frozenset[str] = frozenset()) -> None:
        super().__init__(config, skip)
        self._face_labels = config.people.face.labels
        self._worn: LruCache[MeshSource, trimesh.Trimesh] = LruCache(max(KEPT_BODIES, 3 * config.people.count.max))
        self._built = 0
        self._bodies: LruCache[BodyDescription, tuple[trimesh.Trimesh, Landmarks, PosedBody]] = LruCache(
            max(KEPT_BODIES, 3 * config.people.count.max))

    def _body(self, body: BodyDescription) -> tuple[trimesh.Trimesh, Landmarks, PosedBody]:
        return self._bodies.get_or_make(body, lambda: self._build(body))

    def _build(self, body: BodyDescription) -> tuple[trimesh.Trimesh, Landmarks, PosedBody]:
        # Every body's meshes (here, in the engines, in GL) are freed a few frames later; glibc keeps the
        # freed heap unless asked, and a run would grow by ~8 MB a frame (measured: flat at 1.7 GB
        # over 250 frames of scenes/people.yaml with this, 4.5 GB after 120 without).
        self._built += 1
        if self._built % RELEASE_EVERY == 0:
            release_freed_memory()
        return build_body(body)

    def mesh(self, source: MeshSource) -> trimesh.Trimesh:
        if source.kind == "body" and source.body is not None:
            return self._body(source.body)[0]
        if source.kind == "accessory":  # a worn thing: its kind builds it (over the posed body, for a shell)
            return self._worn.get_or_make(source, lambda: WORN[source.path].mesh(source, self._posed))
        return super().mesh(source)

    def landmarks(self, source: MeshSource) -> Landmarks:
        if source.kind == "body" and source.body is not None:
            return self._body(source.body)[1]
        return super().landmarks(source)

    def face_classes(self, source: MeshSource) -> NDArray[np.uint32] | None:
        """Per face of a body: its part and covering packed (renderer.scene.body); of a worn thing: its
        kind's face class alone (no part, no covering); None for other meshes."""
        if source.kind == "body" and source.body is not None:
            return face_classes(source.body)
        if source.kind == "accessory" and source.path in WORN:
            return worn_face_classes(WORN[source.path].face_class, len(self.mesh(source).faces))
        return super().face_classes(source)

    def face(self, source: MeshSource) -> FaceGeometry | None:
        if source.kind != "body" or source.body is None or not self._face_labels:
            return super().face(source)
        return face_geometry(source.body, self._body(source.body)[2])

    def _posed(self, body: BodyDescription) -> PosedBody:
        return self._body(body)[2]

    def posed_body(self, source: MeshSource) -> PosedBody:
        """The posed body of a body source (its per-face parts, keypoint radii, rest vertices)."""
        assert source.body is not None
        return self._body(source.body)[2]


def posed_body_of(catalog: AssetCatalog, source: MeshSource) -> PosedBody:
    """The posed body of a body source: the PeopleCatalog's (built once for sampling and rendering), or
    built now for any other catalog."""
    if isinstance(catalog, PeopleCatalog):
        return catalog.posed_body(source)
    assert source.body is not None
    return body_model().pose(source.body.phenotype, source.body.joints, source.body.expression)


def scene_catalog(config: SceneConfig, skip: frozenset[str] = frozenset()) -> AssetCatalog:
    """The catalog a scene renders with: a PeopleCatalog when it has people, else the AssetCatalog."""
    if config.people.count.max > 0:
        return PeopleCatalog(config, skip)
    return AssetCatalog(config, skip)


def build_body(body: BodyDescription) -> tuple[trimesh.Trimesh, Landmarks, PosedBody]:
    """The posed, textured mesh of a body, its keypoints (with their depth radii) and the posed body."""
    posed = body_model().pose(body.phenotype, body.joints, body.expression)
    texture = body_texture(body, lips_rgb=_lips(body.skin), palm_rgb=palm_albedo(body.attributes.monk_tone))
    roughness = _roughness_image(body.top.kind, body.bottom.kind, body.shoes.kind, body.hair_style, body.facial_hair)
    material = trimesh.visual.material.PBRMaterial(baseColorTexture=Image.fromarray(texture), metallicFactor=0.0,
                                                   roughnessFactor=1.0, metallicRoughnessTexture=roughness)
    mesh = trimesh.Trimesh(posed.vertices, posed.faces, process=False,
                           vertex_normals=welded_normals(posed.vertices, posed.faces, body_model().vertex_of),
                           visual=trimesh.visual.TextureVisuals(uv=posed.uv, material=material))
    mesh.metadata["surface_uv"] = body_model().uv  # anny's layout: the label, whatever the texture uses
    landmarks = Landmarks(KEYPOINTS, posed.keypoints, SKELETON, radii=posed.keypoint_radii)
    return mesh, landmarks, posed


def face_geometry(body: BodyDescription, posed: PosedBody) -> FaceGeometry:
    """The face of a posed body: its 68 landmarks, head frame, eyes and expression."""
    model = body_model()
    points = face_landmark_points(posed.model_vertices, model.model_faces)
    names = face_anchors().names
    landmarks = Landmarks(names, points, radii=np.full(len(names), FACE_LANDMARK_RADIUS))
    return FaceGeometry(landmarks=landmarks, head_frame=head_frame(posed.head_bone, posed.eye_bones),
                        eye_centres=posed.eye_bones[:, :3, 3].copy(), gaze=gaze_directions(posed.eye_bones),
                        expression=body.attributes.expression, expression_weights=body.expression)


def dense_face(body: BodyDescription) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """The dense face of a person, for dense alignment: (indices into anny's 13 718 vertices, (V, 3) their
    posed positions in the body mesh frame) of every vertex of the head's and neck's regions
    (renderer.humans.face_regions: all but other; the jaw line's landmarks lie on the neck). The same
    vertices for every person, so vertex k is the same point of every face; ``object_to_camera`` of the
    person's labels carries them into the camera. Rebuilt exactly from the frame description, so a dataset
    stores no bytes for it."""
    from renderer.humans.face_regions import FACE_REGIONS, face_regions

    model = body_model()
    regions = face_regions()
    on_head = regions != FACE_REGIONS.index("other")
    indices = np.unique(model.model_faces[on_head])
    posed = model.pose(body.phenotype, body.joints, body.expression)
    return indices, posed.model_vertices[indices]


def welded_normals(vertices: NDArray[np.float64], faces: NDArray[np.int64],
                   vertex_of: NDArray[np.int64]) -> NDArray[np.float64]:
    """Smooth vertex normals as if the UV seams were not split: each face's area-weighted normal summed
    per body vertex (``vertex_of``: the body vertex of each split one), so both sides of a seam shade
    alike (split apart, they differed by 26 degrees at the median: a crease along every seam)."""
    tri = vertices[faces]
    weighted = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])  # |n| = 2 x area
    summed = np.zeros((int(vertex_of.max()) + 1, 3))
    for corner in range(3):
        np.add.at(summed, vertex_of[faces[:, corner]], weighted)
    normals = summed[vertex_of]
    return np.asarray(normals / np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12))


def _lips(skin: tuple[float, float, float]) -> tuple[float, float, float]:
    """Lips: the skin with more blood showing (redder, a little darker)."""
    rgb: NDArray[np.float64] = np.asarray(skin) * np.array([0.85, 0.55, 0.55])
    return (float(rgb[0]), float(rgb[1]), float(rgb[2]))


@functools.lru_cache(maxsize=64)
def _roughness_image(top: str, bottom: str, shoes: str, hair_style: str, facial_hair: str) -> Image.Image:
    """The roughness texture of a clothing and hair combination, one image shared by all who wear it."""
    return Image.fromarray(np.array(roughness_texture(top, bottom, shoes, hair_style, facial_hair)))
