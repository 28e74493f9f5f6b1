"""Worn things that follow a person's own surface: a knitted hat over the scalp and a face mask over the
lower face, each a closed shell offset from that person's posed skin (so it fits every head shape, pose
and expression exactly), built in the body mesh frame (it shares the person's pose).

Glasses are rigid (renderer.assets.accessories); these two are made here, from the posed body, as mesh
sources of kind ``accessory`` that carry the body (MeshSource.body).
"""

from __future__ import annotations

import functools

import numpy as np
import trimesh
from numpy.typing import NDArray

from renderer.humans.model import PosedBody, body_model

WORN = ("hat", "face_mask")
OFFSET = {"hat": 0.006, "face_mask": 0.007}  # metres off the skin (hair under a hat; a mask's stand-off)
THICKNESS = 0.0025
SMOOTHING = {"hat": 4, "face_mask": 12}  # Laplacian passes: a mask spans the dips beside the nose


@functools.cache
def worn_faces(name: str) -> NDArray[np.bool_]:
    """(F,) the model faces a worn thing covers (on the reference rest layout, renderer.humans.appearance)."""
    from renderer.humans.appearance import face_layout
    from renderer.humans.face_regions import region_faces

    layout = face_layout()
    x, y, z = layout.head.T  # from the eyes: x left, y back, z up
    if name == "hat":  # down to the forehead, just above the ears, to the nape
        line = np.interp(y, [0.0, 0.035, 0.06, 0.10, 0.15], [0.045, 0.035, 0.012, 0.012, -0.04])
        return np.asarray(region_faces("skin") & (z > line))
    if name == "face_mask":  # from the nose's bridge to under the chin, ear to ear
        face = region_faces("skin", "nose", "upper_lip", "lower_lip")
        under_chin = region_faces("neck") & (y < 0.02)
        return np.asarray((face | under_chin) & (z < -0.012) & (z > -0.135) & (y < 0.055))
    raise ValueError(f"no worn thing {name!r}")


def worn_mesh(name: str, posed: PosedBody) -> trimesh.Trimesh:
    """The closed shell of a worn thing over this posed body (its mesh frame)."""
    model = body_model()
    faces = model.model_faces[worn_faces(name)]
    used, local = np.unique(faces, return_inverse=True)
    local = local.reshape(faces.shape)
    skin = trimesh.Trimesh(posed.model_vertices, model.model_faces, process=False)
    normals = skin.vertex_normals[used]
    outer = trimesh.Trimesh(posed.model_vertices[used] + OFFSET[name] * normals, local, process=False)
    trimesh.smoothing.filter_laplacian(outer, lamb=0.5, iterations=SMOOTHING[name], volume_constraint=False)
    outer_normals = outer.vertex_normals
    inner = outer.vertices - THICKNESS * outer_normals
    n = len(used)
    edges = np.sort(np.concatenate([local[:, [0, 1]], local[:, [1, 2]], local[:, [2, 0]]]), axis=1)
    directed = np.concatenate([local[:, [0, 1]], local[:, [1, 2]], local[:, [2, 0]]])
    unique, counts = np.unique(edges, axis=0, return_counts=True)
    boundary = {tuple(e) for e in unique[counts == 1]}
    rim = np.array([d for d in directed if tuple(sorted(d)) in boundary])
    a, b = rim[:, 0], rim[:, 1]
    walls = np.concatenate([np.stack([b, a, a + n], 1), np.stack([b, a + n, b + n], 1)])
    mesh = trimesh.Trimesh(np.concatenate([outer.vertices, inner]),
                           np.concatenate([local, local[:, ::-1] + n, walls]), process=False)
    return mesh
