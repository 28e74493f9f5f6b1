"""PeopleCatalog: the scene's asset catalog plus the bodies of its people (mesh sources of kind body).

Render, the label pass and the labels ask a catalog for ``mesh(source)`` and ``landmarks(source)``; for a
body this builds (and keeps the last few of) the posed, textured mesh and its keypoints, and passes every
other source to the AssetCatalog. So people reach every engine, label and writer as ordinary objects.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import trimesh
from numpy.typing import NDArray
from PIL import Image

from renderer.assets.catalog import AssetCatalog, Landmarks
from renderer.config.schema import SceneConfig
from renderer.humans.appearance import body_texture
from renderer.humans.keypoints import KEYPOINTS, SKELETON
from renderer.humans.model import PosedBody, body_model
from renderer.humans.skin import palm_albedo
from renderer.scene.description import BodyDescription, MeshSource

KEPT_BODIES = 128  # posed bodies kept per process (a frame's people are built once for all its passes)


class PeopleCatalog(AssetCatalog):
    """An AssetCatalog that also builds body meshes from their descriptions."""

    def __init__(self, config: SceneConfig, skip: frozenset[str] = frozenset()) -> None:
        super().__init__(config, skip)
        self._bodies: OrderedDict[BodyDescription, tuple[trimesh.Trimesh, Landmarks, PosedBody]] = OrderedDict()

    def _body(self, body: BodyDescription) -> tuple[trimesh.Trimesh, Landmarks, PosedBody]:
        kept = self._bodies.get(body)
        if kept is None:
            kept = self._bodies[body] = build_body(body)
            while len(self._bodies) > KEPT_BODIES:
                self._bodies.popitem(last=False)
        self._bodies.move_to_end(body)
        return kept

    def mesh(self, source: MeshSource) -> trimesh.Trimesh:
        if source.kind == "body" and source.body is not None:
            return self._body(source.body)[0]
        return super().mesh(source)

    def landmarks(self, source: MeshSource) -> Landmarks:
        if source.kind == "body" and source.body is not None:
            return self._body(source.body)[1]
        return super().landmarks(source)

    def posed_body(self, source: MeshSource) -> PosedBody:
        """The posed body of a body source (its per-face parts, keypoint radii, rest vertices)."""
        assert source.body is not None
        return self._body(source.body)[2]


def scene_catalog(config: SceneConfig, skip: frozenset[str] = frozenset()) -> AssetCatalog:
    """The catalog a scene renders with: a PeopleCatalog when it has people, else the AssetCatalog."""
    if config.people.count.max > 0:
        return PeopleCatalog(config, skip)
    return AssetCatalog(config, skip)


def build_body(body: BodyDescription) -> tuple[trimesh.Trimesh, Landmarks, PosedBody]:
    """The posed, textured mesh of a body, its keypoints (with their depth radii) and the posed body."""
    posed = body_model().pose(body.phenotype, body.joints)
    texture = body_texture(body, lips_rgb=_lips(body.skin), palm_rgb=palm_albedo(body.attributes.monk_tone))
    material = trimesh.visual.material.PBRMaterial(baseColorTexture=Image.fromarray(texture), metallicFactor=0.0,
                                                   roughnessFactor=0.65)
    mesh = trimesh.Trimesh(posed.vertices, posed.faces, process=False,
                           visual=trimesh.visual.TextureVisuals(uv=posed.uv, material=material))
    landmarks = Landmarks(KEYPOINTS, posed.keypoints, SKELETON, radii=posed.keypoint_radii)
    return mesh, landmarks, posed


def _lips(skin: tuple[float, float, float]) -> tuple[float, float, float]:
    """Lips: the skin with more blood showing (redder, a little darker)."""
    rgb: NDArray[np.float64] = np.asarray(skin) * np.array([0.85, 0.55, 0.55])
    return (float(rgb[0]), float(rgb[1]), float(rgb[2]))
