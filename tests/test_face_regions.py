"""The anatomical face-region map of anny's mesh (renderer.humans.face_regions), checked against anatomy on
several body shapes rather than against its own rules: every region present, left and right on their own
sides and mirror images of each other, the nose tip in the nose, the eyes around the eye bones, brows above
them, the upper lip above the lower, the mouth's interior behind the lips, ears far out, the neck below
the chin, regions only on the head and neck, each region in one piece, and a plausible share of skin."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("anny")

from renderer.humans.face_regions import FACE_REGIONS, brow_faces, face_regions, lip_faces, region_faces  # noqa: E402
from renderer.humans.model import body_model  # noqa: E402
from renderer.humans.parts import BODY_PARTS  # noqa: E402

SHAPES = {"neutral": {}, "child": {"age": 0.2}, "baby": {"age": 0.0}, "elderly": {"age": 1.0},
          "heavy": {"weight": 1.0, "age": 0.67}, "thin muscular man": {"gender": 1.0, "weight": 0.0, "muscle": 1.0},
          "african woman": {"gender": 0.0, "african": 1.0, "asian": 0.0, "caucasian": 0.0}}
SIDED = ("eye", "brow", "ear")


@pytest.fixture(scope="module")
def shapes() -> dict[str, dict[str, np.ndarray]]:
    """Per shape: rest vertices, face centroids and the bone heads (anny's frame: z up, +x the left)."""
    import torch

    model = body_model()
    out = {}
    with torch.no_grad():
        for name, kwargs in SHAPES.items():
            result = model.model(phenotype_kwargs=kwargs)
            vertices = result["rest_vertices"][0].cpu().numpy().astype(np.float64)
            heads = result["rest_bone_heads"][0].cpu().numpy().astype(np.float64)
            out[name] = {"vertices": vertices, "centroid": vertices[model.model_faces].mean(axis=1),
                         "eye.L": heads[model.bone_labels.index("eye.L")],
                         "eye.R": heads[model.bone_labels.index("eye.R")]}
    return out


def _mask(name: str) -> np.ndarray:
    return face_regions() == FACE_REGIONS.index(name)


def test_the_map_has_one_valid_read_only_label_per_model_face() -> None:
    regions = face_regions()
    model = body_model()
    assert regions.shape == (len(model.model_faces),) == (27420,) and regions.dtype == np.int64
    assert regions.min() >= 0 and regions.max() < len(FACE_REGIONS)
    assert not regions.flags.writeable and face_regions() is regions
    counts = np.bincount(regions, minlength=len(FACE_REGIONS))
    assert (counts > 0).all(), dict(zip(FACE_REGIONS, counts.tolist(), strict=True))
    assert np.array_equal(brow_faces(), _mask("left_brow") | _mask("right_brow"))
    assert np.array_equal(lip_faces(), _mask("upper_lip") | _mask("lower_lip"))
    with pytest.raises(ValueError):
        region_faces("forehead")


def test_regions_lie_on_the_head_and_neck_and_other_is_the_rest_of_the_body() -> None:
    part = body_model().face_parts
    head, neck = part == BODY_PARTS.index("head"), part == BODY_PARTS.index("neck")
    assert np.array_equal(_mask("other"), ~(head | neck))
    for name in FACE_REGIONS:
        if name not in ("other", "neck"):
            assert head[_mask(name)].all(), name
    assert neck[~_mask("other")].sum() == neck.sum()  # every neck-part face is labelled (as neck)
    assert _mask("neck")[neck].all()


@pytest.mark.parametrize("shape", list(SHAPES))
def test_left_and_right_are_the_subjects_own_and_mirror_each_other(shapes: dict, shape: str) -> None:
    centroid = shapes[shape]["centroid"]
    for name in SIDED:
        left, right = _mask(f"left_{name}"), _mask(f"right_{name}")
        assert (centroid[left, 0] > 0).all() and (centroid[right, 0] < 0).all(), name
        assert abs(left.sum() - right.sum()) <= 0.02 * left.sum(), name
        mean_left, mean_right = centroid[left].mean(axis=0), centroid[right].mean(axis=0)
        assert np.allclose(mean_left * [-1, 1, 1], mean_right, atol=0.002), (name, mean_left, mean_right)
    for name in ("nose", "upper_lip", "lower_lip", "mouth_interior", "skin", "neck"):
        x = centroid[_mask(name), 0]
        assert abs(x.mean()) < 0.002 and abs((x > 0).sum() - (x < 0).sum()) <= 0.02 * len(x) + 2, name


@pytest.mark.parametrize("shape", list(SHAPES))
def test_the_nose_holds_the_foremost_point_of_the_head(shapes: dict, shape: str) -> None:
    vertices = shapes[shape]["vertices"]
    faces = body_model().model_faces
    head_vertices = np.unique(faces[body_model().face_parts == BODY_PARTS.index("head")])
    tip = head_vertices[np.argmin(vertices[head_vertices, 1])]  # the front is -y
    assert _mask("nose")[(faces == tip).any(axis=1)].all()
    nose = shapes[shape]["centroid"][_mask("nose")]
    eyes = (shapes[shape]["eye.L"] + shapes[shape]["eye.R"]) / 2
    lips = shapes[shape]["centroid"][lip_faces()]
    assert lips[:, 2].max() < nose[:, 2].mean() < eyes[2]  # between the mouth and the eyes
    assert np.abs(nose[:, 0]).max() < 0.6 * np.linalg.norm(shapes[shape]["eye.L"] - shapes[shape]["eye.R"])


@pytest.mark.parametrize("shape", list(SHAPES))
def test_eyes_sit_on_the_eye_bones_and_brows_above_them(shapes: dict, shape: str) -> None:
    data = shapes[shape]
    span = np.linalg.norm(data["eye.L"] - data["eye.R"])  # between the eyes' centres
    for side, bone in (("left", "eye.L"), ("right", "eye.R")):
        eye = data["centroid"][_mask(f"{side}_eye")]
        assert np.linalg.norm(eye - data[bone], axis=1).max() < 0.5 * span, side
        brow = data["centroid"][_mask(f"{side}_brow")]
        above = brow[:, 2] - data[bone][2]
        assert (above > 0.1 * span).all() and (above < 0.6 * span).all(), (side, above.min(), above.max())
        assert (brow[:, 1] < data[bone][1]).all()  # in front of the eye's centre
        # over the eye, from near its inner corner to beyond its outer one
        lateral = np.abs(brow[:, 0]) - abs(data[bone][0])
        assert lateral.min() < -0.2 * span and lateral.max() > 0.2 * span and np.abs(lateral).max() < 0.75 * span


@pytest.mark.parametrize("shape", list(SHAPES))
def test_upper_lip_above_lower_lip_mouth_behind_them_and_neck_below(shapes: dict, shape: str) -> None:
    centroid = shapes[shape]["centroid"]
    upper, lower = centroid[_mask("upper_lip")], centroid[_mask("lower_lip")]
    assert upper[:, 2].mean() > lower[:, 2].mean() + 0.003
    # face by face: across the lips' middle (|x| < 1 cm) every upper lip face is above every lower one's mean
    middle_upper = upper[np.abs(upper[:, 0]) < 0.01]
    assert (middle_upper[:, 2] > lower[np.abs(lower[:, 0]) < 0.01, 2].mean()).mean() > 0.95
    mouth = centroid[_mask("mouth_interior")]
    assert mouth[:, 1].mean() > max(upper[:, 1].mean(), lower[:, 1].mean()) + 0.01  # behind (+y) the lips
    lips = np.concatenate([upper, lower])
    neck = centroid[_mask("neck")]
    ears = centroid[region_faces("left_ear", "right_ear")]
    assert neck[:, 2].mean() < lips[:, 2].min()
    in_front = neck[:, 1] < ears[:, 1].min()  # under the jaw, in front of the ears
    assert in_front.any() and (neck[in_front, 2] < lips[:, 2].mean()).all()
    nose = centroid[_mask("nose")]
    assert nose[:, 2].min() > lower[:, 2].max() - 0.005


@pytest.mark.parametrize("shape", list(SHAPES))
def test_ears_are_far_from_the_midline_level_with_the_eyes_and_nose(shapes: dict, shape: str) -> None:
    data = shapes[shape]
    head = data["centroid"][body_model().face_parts == BODY_PARTS.index("head")]
    half_width = np.abs(head[:, 0]).max()
    eye_z = data["eye.L"][2]
    span = np.linalg.norm(data["eye.L"] - data["eye.R"])
    for side in ("left", "right"):
        ear = data["centroid"][_mask(f"{side}_ear")]
        assert np.abs(ear[:, 0]).min() > 0.6 * half_width, side
        assert np.abs(ear[:, 0]).max() > 0.95 * half_width, side  # the ear sticks out furthest
        assert ear[:, 1].mean() > data["eye.L"][1] + 0.7 * span  # well behind the eyes
        assert eye_z - 1.5 * span < ear[:, 2].mean() < eye_z + 0.3 * span


def test_each_region_is_one_piece_of_the_surface() -> None:
    import scipy.sparse
    import scipy.sparse.csgraph

    faces = body_model().model_faces
    # faces are neighbours when they share a vertex (the eyeballs are separate shells from their sockets)
    rows = np.repeat(np.arange(len(faces)), 3)
    incidence = scipy.sparse.csr_matrix((np.ones(rows.size), (rows, faces.ravel())))
    for name in ("nose", "left_brow", "right_brow", "left_ear", "right_ear", "upper_lip", "lower_lip"):
        chosen = np.nonzero(_mask(name))[0]
        sub = incidence[chosen]
        adjacency = (sub @ sub.T) > 0
        count, _ = scipy.sparse.csgraph.connected_components(adjacency, directed=False)
        assert count == 1, (name, count)


def test_a_plausible_share_of_the_head_is_bare_skin() -> None:
    model = body_model()
    head = model.face_parts == BODY_PARTS.index("head")
    tri = model.model_faces
    import torch

    with torch.no_grad():
        vertices = model.model(phenotype_kwargs={})["rest_vertices"][0].cpu().numpy().astype(np.float64)[tri]
    area = 0.5 * np.linalg.norm(np.cross(vertices[:, 1] - vertices[:, 0], vertices[:, 2] - vertices[:, 0]), axis=1)
    skin = _mask("skin")
    assert 0.3 < skin[head].mean() < 0.7  # by count (the eyes and the mouth are finely meshed)
    # By area, of the head's outer surface (the mouth's interior is a large pocket, the eyes' sockets too):
    outer = head & ~region_faces("left_eye", "right_eye", "mouth_interior")
    share = area[outer & skin].sum() / area[outer].sum()
    assert 0.7 < share < 0.95, share  # face and scalp are most of it
    # and the features' areas in cm^2: a nose ~15-25, a brow ~3-8, each lip ~3-8, an ear (both sides) ~20-40
    for name, low, high in (("nose", 10, 30), ("left_brow", 2, 10), ("right_brow", 2, 10), ("upper_lip", 2.5, 10),
                            ("lower_lip", 2.5, 10), ("left_ear", 15, 45), ("right_ear", 15, 45)):
        cm2 = area[_mask(name)].sum() * 1e4
        assert low < cm2 < high, (name, cm2)
