"""The kinds of things people wear, as types: Garment (painted into the body's texture), WornKind (an
object of its own fitted to one person: Shell over the skin, or a rigid procedural mesh such as glasses),
and the painted slots that give each covered face its covering and face classes.

Each kind is one entry that holds everything about it: its config name, its geometry or paint rule, its
covering class (renderer.scene.body.COVERINGS) and its face class (renderer.scene.body.FACE_CLASSES).
"""

from __future__ import annotations

import abc
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import trimesh
from numpy.typing import NDArray

from renderer.humans.parts import BODY_PARTS
from renderer.scene.body import COVERINGS, FACE_CLASSES
from renderer.scene.description import BodyDescription, MaterialDescription, MeshSource

if TYPE_CHECKING:
    from renderer.humans.layout import FaceLayout
    from renderer.humans.model import PosedBody


@dataclass(frozen=True)
class Slot:
    """A painted slot of the body's texture (renderer.humans.appearance).

    covering: its covering class (COVERINGS); face_class: the face class (FACE_CLASSES) of the faces it
    paints whatever their anatomical region (clothes, hair), or None where the region's own class shows.
    """

    name: str
    covering: str
    face_class: str | None = None

    def __post_init__(self) -> None:
        if self.covering not in COVERINGS:
            raise ValueError(f"slot {self.name!r}: covering {self.covering!r} is not one of {COVERINGS}")
        if self.face_class is not None and self.face_class not in FACE_CLASSES:
            raise ValueError(f"slot {self.name!r}: face class {self.face_class!r} is not one of {FACE_CLASSES}")


# The slots in texture order (a face's slot is stored as its index here: do not reorder).
SLOTS_TABLE = (Slot("skin", "skin"), Slot("palm", "skin"), Slot("top", "top", "clothing"),
               Slot("bottom", "bottom", "clothing"), Slot("shoes", "shoes", "clothing"), Slot("hair", "hair", "hair"),
               Slot("stubble", "hair", "hair"), Slot("brow", "eyebrows"), Slot("sclera", "eyes"), Slot("iris", "eyes"),
               Slot("lips", "lips"), Slot("beard", "hair", "beard"), Slot("beard_stubble", "hair", "beard"),
               Slot("mouth", "skin"), Slot("lashes", "hair"))
SLOT_OF = {slot.name: slot for slot in SLOTS_TABLE}
GARMENT_SLOTS = ("top", "bottom", "shoes")  # a person wears one garment in each (BodyDescription.top, ...)


@dataclass(frozen=True)
class Garment:
    """A kind of garment, painted into the body's texture in its slot's colour and pattern.

    name: its config name (people.tops / bottoms / shoes: renderer.config.people lists them). slot: the
    slot it fills (GARMENT_SLOTS; None for ``none``, bare, which fits every slot); the slot gives its
    covering and face classes. covers: {body part (BODY_PARTS): (t from, t to)}: the stretch of the
    part it covers, t running 0 -> 1 along the limb from its proximal joint (always 0 on the head, neck,
    torso and pelvis, where (0, 1) is the whole part).
    """

    name: str
    slot: str | None
    covers: Mapping[str, tuple[float, float]]

    def __post_init__(self) -> None:
        if self.slot is not None and self.slot not in GARMENT_SLOTS:
            raise ValueError(f"garment {self.name!r}: slot {self.slot!r} is not one of {GARMENT_SLOTS}")
        for part, (lo, hi) in self.covers.items():
            if part not in BODY_PARTS:
                raise ValueError(f"garment {self.name!r}: no body part {part!r}")
            if not 0.0 <= lo <= hi <= 1.0:
                raise ValueError(f"garment {self.name!r}: {part} stretch ({lo}, {hi}) is not within [0, 1]")

    @property
    def covering(self) -> str | None:
        """Its covering class (COVERINGS), its slot's; None for none."""
        return None if self.slot is None else SLOT_OF[self.slot].covering

    @property
    def face_class(self) -> str | None:
        """Its face class (FACE_CLASSES), its slot's; None for none."""
        return None if self.slot is None else SLOT_OF[self.slot].face_class


@dataclass(frozen=True)
class Wearer:
    """One posed person whom worn things are fitted to.

    body: the person's description; object_to_world: (4, 4) the person's pose (mesh frame to world);
    posed: the posed body; head: (4, 4) its head frame in the mesh frame (renderer.humans.head: x the
    person's left, y down, z back, origin between the eyeballs); head_vertices: (N, 3) the vertices of
    the body part head in that frame, metres.
    """

    body: BodyDescription
    object_to_world: NDArray[np.float64]
    posed: PosedBody
    head: NDArray[np.float64]
    head_vertices: NDArray[np.float64]


@dataclass(frozen=True)
class Fitted:
    """A worn thing fitted to one person: its mesh source, its pose (object_to_world, (4, 4)) and its
    material."""

    mesh: MeshSource
    object_to_world: NDArray[np.float64]
    material: MaterialDescription


class WornKind(abc.ABC):
    """A kind of worn thing: an object of its own (category ``name``, a mesh source of kind accessory
    whose path is the name), drawn with probability ``people.face.<name>_probability``, labelled in
    face_segmentation as ``face_class`` (FACE_CLASSES)."""

    name: str
    face_class: str

    @abc.abstractmethod
    def fit(self, wearer: Wearer, rng: np.random.Generator) -> Fitted:
        """This thing on this person (its draws from ``rng``, the person's accessories stream)."""

    @abc.abstractmethod
    def mesh(self, source: MeshSource, posed: Callable[[BodyDescription], PosedBody]) -> trimesh.Trimesh:
        """Its mesh for a source ``fit`` made (``posed``: the posed body of a description)."""


@dataclass(frozen=True)
class Shell(WornKind):
    """A worn thing that follows the person's own surface: a closed shell ``offset`` metres off the posed
    skin of the faces ``covers`` picks on the reference rest layout (renderer.humans.layout.face_layout),
    smoothed by ``smoothing`` Laplacian passes and ``thickness`` thick; built in the body mesh frame (it
    shares the person's pose), so it fits every head shape, pose and expression exactly."""

    name: str
    face_class: str
    covers: Callable[[FaceLayout], NDArray[np.bool_]]
    offset: float
    smoothing: int
    thickness: float = 0.0025

    def faces(self) -> NDArray[np.bool_]:
        """(F,) the model faces it covers."""
        return _shell_faces(self)

    def fit(self, wearer: Wearer, rng: np.random.Generator) -> Fitted:
        import colorsys

        from renderer.scene.color import linear_from_srgb, rgb_tuple

        rgb = colorsys.hsv_to_rgb(float(rng.uniform()), float(rng.uniform(0.0, 0.7)), float(rng.uniform(0.15, 0.9)))
        colour = (*rgb_tuple(linear_from_srgb(rgb)), 1.0)
        return Fitted(MeshSource("accessory", path=self.name, body=wearer.body), np.asarray(wearer.object_to_world),
                      MaterialDescription(base_color=colour, metallic=0.0, roughness=0.85))

    def mesh(self, source: MeshSource, posed: Callable[[BodyDescription], PosedBody]) -> trimesh.Trimesh:
        if source.body is None:
            raise ValueError(f"{self.name}: a shell needs the body it is worn over")
        return shell_mesh(self, posed(source.body))


@functools.cache
def _shell_faces(shell: Shell) -> NDArray[np.bool_]:
    from renderer.humans.layout import face_layout

    return np.asarray(shell.covers(face_layout()))


def shell_mesh(shell: Shell, posed: PosedBody) -> trimesh.Trimesh:
    """The closed shell over this posed body (its mesh frame)."""
    from renderer.humans.model import body_model

    model = body_model()
    faces = model.model_faces[shell.faces()]
    used, local = np.unique(faces, return_inverse=True)
    local = local.reshape(faces.shape)
    skin = trimesh.Trimesh(posed.model_vertices, model.model_faces, process=False)
    normals = skin.vertex_normals[used]
    outer = trimesh.Trimesh(posed.model_vertices[used] + shell.offset * normals, local, process=False)
    trimesh.smoothing.filter_laplacian(outer, lamb=0.5, iterations=shell.smoothing, volume_constraint=False)
    outer_normals = outer.vertex_normals
    inner = outer.vertices - shell.thickness * outer_normals
    n = len(used)
    edges = np.sort(np.concatenate([local[:, [0, 1]], local[:, [1, 2]], local[:, [2, 0]]]), axis=1)
    directed = np.concatenate([local[:, [0, 1]], local[:, [1, 2]], local[:, [2, 0]]])
    unique, counts = np.unique(edges, axis=0, return_counts=True)
    boundary = {tuple(e) for e in unique[counts == 1]}
    rim = np.array([d for d in directed if tuple(sorted(d)) in boundary])
    a, b = rim[:, 0], rim[:, 1]
    walls = np.concatenate([np.stack([b, a, a + n], 1), np.stack([b, a + n, b + n], 1)])
    return trimesh.Trimesh(np.concatenate([outer.vertices, inner]),
                           np.concatenate([local, local[:, ::-1] + n, walls]), process=False)
