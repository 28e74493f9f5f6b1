"""The 68 iBUG 300-W face landmark anchors on anny's mesh (renderer/humans/data/anny_ibug68.json, written by
scripts/author_face_landmarks.py): the file's shape, then the points on anny's rest mesh against geometry
the authoring rules do not use (eyeball centres from the rig, the most forward vertex, the head's extent,
left/right mirror images) and, on a second phenotype, that they follow the shape."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

ASSET = Path(__file__).resolve().parents[1] / "renderer" / "humans" / "data" / "anny_ibug68.json"
FACES, VERTICES = 27420, 13718
MM = 0.001
# 300-W's left/right mirror (0-based): the index of each point's twin.
FLIP = (16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17,
        27, 28, 29, 30, 35, 34, 33, 32, 31, 45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40, 54, 53, 52, 51, 50,
        49, 48, 59, 58, 57, 56, 55, 64, 63, 62, 61, 60, 67, 66, 65)
MIDLINE = (8, 27, 28, 29, 30, 33, 51, 57, 62, 66)  # 0-based: chin, nose bridge and tip, subnasale, lips' middle


def pt(n: int) -> int:
    """300-W's 1-based number -> row."""
    return n - 1


@pytest.fixture(scope="module")
def asset() -> dict:
    return json.loads(ASSET.read_text())


def test_the_file_holds_68_named_anchors_with_valid_faces_and_barycentrics(asset: dict) -> None:
    assert asset["layout"] == "ibug-300w-68"
    assert asset["topology"] == f"anny-0.6.2 ({VERTICES} vertices, {FACES} faces)"
    names = asset["names"]
    expected = ([f"jaw_{i:02d}" for i in range(1, 18)] + [f"right_brow_{i}" for i in range(1, 6)]
                + [f"left_brow_{i}" for i in range(1, 6)] + [f"nose_bridge_{i}" for i in range(1, 5)]
                + [f"nose_base_{i}" for i in range(1, 6)] + [f"right_eye_{i}" for i in range(1, 7)]
                + [f"left_eye_{i}" for i in range(1, 7)] + [f"mouth_outer_{i}" for i in range(1, 13)]
                + [f"mouth_inner_{i}" for i in range(1, 9)])
    assert names == expected
    faces = np.asarray(asset["faces"])
    bary = np.asarray(asset["barycentric"], dtype=np.float64)
    assert faces.shape == (68,) and faces.dtype.kind == "i"
    assert ((faces >= 0) & (faces < FACES)).all()
    assert bary.shape == (68, 3)
    assert (bary >= 0).all() and np.allclose(bary.sum(axis=1), 1.0, atol=1e-9)
    assert "right" in asset["convention"] and "-x" in asset["convention"]


@pytest.fixture(scope="module")
def anny_model():  # type: ignore[no-untyped-def]
    pytest.importorskip("anny")
    from renderer.humans.model import load_anny

    return load_anny().Anny(phenotypes="all")


def _rest(model, phenotype: dict[str, float]) -> tuple[np.ndarray, dict[str, np.ndarray]]:  # type: ignore[no-untyped-def]
    import torch

    with torch.no_grad():
        out = model(phenotype_kwargs=phenotype)
    heads = out["rest_bone_heads"][0].cpu().numpy()
    return (out["rest_vertices"][0].cpu().numpy().astype(np.float64),
            {bone: heads[i] for i, bone in enumerate(model.bone_labels)})


def _points(asset: dict, vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    corners = vertices[faces[np.asarray(asset["faces"])]]
    return np.einsum("nk,nkd->nd", np.asarray(asset["barycentric"]), corners)


def test_the_points_are_where_a_300w_annotator_puts_them_on_anny_s_rest_mesh(asset: dict, anny_model) -> None:  # type: ignore[no-untyped-def]
    faces = anny_model.faces.cpu().numpy()
    assert faces.shape == (FACES, 3) and faces.max() + 1 == VERTICES
    vertices, bones = _rest(anny_model, {})
    p = _points(asset, vertices, faces)
    # The same mesh the file was authored on (vertex order and topology unchanged).
    assert np.allclose(p, np.asarray(asset["rest_points"]), atol=0.02 * MM)

    # Left and right are the person's own (-x is their right): the two halves mirror each other exactly.
    right_eye, left_eye = p[pt(37):pt(43)], p[pt(43):pt(49)]
    assert (right_eye[:, 0] < 0).all() and (left_eye[:, 0] > 0).all()
    assert (p[:8, 0] < 0).all() and (p[9:17, 0] > 0).all()  # the jaw, from the right ear round to the left
    assert (p[pt(18):pt(23), 0] < 0).all() and (p[pt(23):pt(28), 0] > 0).all()
    assert np.allclose(p[list(FLIP)] * [-1, 1, 1], p, atol=0.01 * MM)
    assert np.abs(p[list(MIDLINE), 0]).max() < 0.01 * MM
    for a, b in ((49, 55), (37, 46), (40, 43), (32, 36), (1, 17)):  # the brief's "mirror within a few mm"
        assert np.linalg.norm(p[pt(a)] * [-1, 1, 1] - p[pt(b)]) < 2 * MM

    # Eyes around the eyeball centres of the rig (eye.R is the person's right), in front of them.
    for eye, bone in ((right_eye, "eye.R"), (left_eye, "eye.L")):
        centre = bones[bone]
        assert np.linalg.norm((eye.mean(axis=0) - centre)[[0, 2]]) < 4 * MM
        assert (eye[:, 1] < centre[1]).all()
        assert (np.linalg.norm(eye - centre, axis=1) < 25 * MM).all()
    # Eye corners: 37 and 46 the outer ones, the eye 2-4 cm wide and the lids above / below the corners.
    assert p[pt(37), 0] < p[pt(40), 0] < 0 < p[pt(43), 0] < p[pt(46), 0]
    assert 20 * MM < p[pt(40), 0] - p[pt(37), 0] < 40 * MM
    for upper, lower in ((38, 42), (39, 41), (44, 48), (45, 47)):
        assert p[pt(upper), 2] > p[pt(lower), 2] + 3 * MM

    # The nose tip (31) is the most forward of the 68 and the face's most forward vertex.
    head = vertices[vertices[:, 2] > p[pt(9), 2]]
    assert int(np.argmin(p[:, 1])) == pt(31)
    assert p[pt(31), 1] - head[:, 1].min() < 1 * MM
    # The chin (9) is the lowest jaw point; 1 and 17 are level with the eyes.
    assert int(np.argmin(p[:17, 2])) == pt(9)
    assert abs(p[pt(1), 2] - p[pt(37), 2]) < 5 * MM
    # Top to bottom: brows, eyes, bridge to tip, nose base, upper lip, inner lips, lower lip, chin.
    assert p[pt(18):pt(28), 2].min() > p[pt(37):pt(49), 2].max()
    assert p[pt(28), 2] > p[pt(29), 2] > p[pt(30), 2] > p[pt(31), 2] > p[pt(34), 2]
    assert p[pt(34), 2] > p[pt(51):pt(54), 2].max()
    assert p[pt(51):pt(54), 2].min() > p[pt(62):pt(65), 2].max()
    assert p[pt(66):pt(69), 2].min() > p[pt(57):pt(60), 2].max() > p[pt(9), 2]
    # A closed mouth: upper and lower inner points (nearly) meet, the inner corners at the outer ones.
    for upper, lower in ((62, 68), (63, 67), (64, 66)):
        assert 0 <= p[pt(upper), 2] - p[pt(lower), 2] < 3 * MM
    for outer, inner in ((49, 61), (55, 65)):
        assert np.linalg.norm(p[pt(outer)] - p[pt(inner)]) < 2 * MM
    # All on the front half of the head (the midpoint in y between the face's front and the back of the head).
    back = head[(head[:, 2] > p[pt(9), 2]) & (head[:, 2] < p[pt(18), 2] + 0.1)][:, 1].max()
    assert (p[:, 1] < (head[:, 1].min() + back) / 2).all()


def test_the_points_follow_another_shape(asset: dict, anny_model) -> None:  # type: ignore[no-untyped-def]
    faces = anny_model.faces.cpu().numpy()
    vertices, bones = _rest(anny_model, {"age": 0.3, "weight": 0.9, "gender": 0.2, "african": 1.0,
                                         "asian": 0.0, "caucasian": 0.0})
    p = _points(asset, vertices, faces)
    for eye, bone in ((p[pt(37):pt(43)], "eye.R"), (p[pt(43):pt(49)], "eye.L")):
        assert np.linalg.norm((eye.mean(axis=0) - bones[bone])[[0, 2]]) < 5 * MM
    assert int(np.argmin(p[:, 1])) == pt(31)
    assert int(np.argmin(p[:17, 2])) == pt(9)
    assert np.allclose(p[list(FLIP)] * [-1, 1, 1], p, atol=0.05 * MM)  # a symmetric shape stays symmetric
