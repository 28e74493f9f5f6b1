"""people: who (phenotype, Monk skin tone), how they stand (a blend of two named poses with jitter, within
joint limits), what they wear and where they stand (``people:``). Each person is a labelled object of
category ``person`` whose mesh source is its body (renderer.humans builds it)."""

from __future__ import annotations

import colorsys
import dataclasses

import numpy as np
from numpy.typing import NDArray

from renderer.assets.catalog import PERSON_CATEGORY
from renderer.config.people import FaceConfig, PeopleConfig, age_group
from renderer.humans.catalog import posed_body_of
from renderer.humans.expressions import sample_expression
from renderer.humans.head import eye_joints, head_frame, head_joints
from renderer.humans.identity import eye_colour, identity_digest
from renderer.humans.parts import BODY_PARTS
from renderer.humans.phenotype import sample_phenotype
from renderer.humans.poses import NAMED_POSES, sample_pose
from renderer.humans.skin import skin_albedo
from renderer.humans.wardrobe import WORN, Wearer
from renderer.sampling.randomizers.base import FrameDraft, Randomizer
from renderer.scene.color import linear_from_srgb, rgb_tuple
from renderer.scene.description import (
    BodyDescription,
    ClothingDescription,
    MaterialDescription,
    MeshSource,
    ObjectDescription,
    PersonAttributes,
    as_matrix,
)
from renderer.scene.geometry import rotation_z
from renderer.seeding import identity_rng

# Natural hair colours, linear RGB (black, dark brown, brown, auburn, blond, grey); grey more often with age.
HAIR_COLOURS = ((0.012, 0.010, 0.009), (0.035, 0.020, 0.012), (0.10, 0.055, 0.03), (0.20, 0.07, 0.03),
                (0.45, 0.32, 0.16), (0.40, 0.40, 0.40))
PERSON_MATERIAL = MaterialDescription(base_color=(1.0, 1.0, 1.0, 1.0), metallic=0.0, roughness=0.65,
                                      use_asset_material=True)
_PLACEMENT_TRIES = 60


def _draw(draft: FrameDraft) -> None:
    config = draft.config.people
    rng = draft.stream("people")
    count = int(config.count.sample(rng))
    if count == 0:
        return
    category_id = draft.catalog.categories[PERSON_CATEGORY]
    taken: list[tuple[NDArray[np.float64], float]] = [
        (np.asarray(o.object_to_world)[:2, 3], 0.15) for o in draft.objects if o.category not in ("table", "tray")]
    next_id = sum(o.labelled for o in draft.objects) + 1
    fabrics = [str(path) for path in draft.catalog.image_choices("people.garment_images")] \
        if config.garment_image_probability > 0 else []
    faces = draft.stream("faces")
    for person in range(count):
        body = sample_body(config, rng, person + 1, fabrics, seed=draft.seed)
        if config.face.moves_face:
            body = with_face(body, config.face, faces)
        yaw = np.deg2rad(float(config.yaw_deg.sample(rng)))
        radius = _footprint_radius(body)
        spot = _free_spot(config, rng, taken, radius)
        if spot is None:
            continue  # no room: fewer people than drawn (the meta counts those placed)
        taken.append((spot, radius))
        pose = np.eye(4)
        pose[:3, :3] = rotation_z(yaw)
        pose[:2, 3] = spot
        person_object = ObjectDescription(
            instance_id=next_id, asset_id=f"person_{person + 1:03d}", category=PERSON_CATEGORY,
            category_id=category_id, mesh=MeshSource("body", body=body), scale=1.0, object_to_world=as_matrix(pose),
            material=PERSON_MATERIAL)
        draft.objects.append(person_object)
        next_id += 1
        if any(p > 0 for p in config.face.accessories.values()):
            for worn in worn_accessories(draft, person_object, config.face, draft.stream("accessories"), next_id):
                draft.objects.append(worn)
                next_id += 1


RANDOMIZER = Randomizer("people", ("people", "faces", "accessories"), rank=15, draw=_draw)


def sample_body(config: PeopleConfig, rng: np.random.Generator, person_id: int,
                fabrics: list[str] | None = None, seed: int = 0) -> BodyDescription:
    """One person: phenotype, skin, pose, clothing and hair, drawn in a fixed order from ``rng`` (first
    the balanced cell, where ``balance`` names attributes). With ``people.identities`` the identity
    (cell, phenotype, tone, skin) comes from its own stream (renderer.seeding.identity_rng(seed, k))."""
    identity_index, who = -1, rng
    if config.identities > 0:
        identity_index = int(rng.integers(config.identities))
        who = identity_rng(seed, identity_index)
    cell = balanced_cell(config, who)
    years = None
    if "age_group" in cell:
        low, high = config.age_range(str(cell["age_group"]))
        years = float(who.uniform(low, high)) if high > low else low
    gender = str(cell["gender"]) if "gender" in cell else None
    phenotype, years, gender = sample_phenotype(config, who, years=years, gender=gender)
    tone = int(cell["monk_tone"]) if "monk_tone" in cell else int(config.monk_tones.sample(who))
    skin = skin_albedo(tone, who)
    first, second = str(config.poses.sample(rng)), str(config.poses.sample(rng))
    blend = float(config.pose_blend.sample(rng))
    joints = sample_pose(rng, first, second, blend, config.pose_jitter_deg)
    hair_style = str(config.hair_styles.sample(rng))
    grey = min(max((years - 40.0) / 40.0, 0.0), 0.9)
    weights = np.array([0.3, 0.3, 0.2, 0.08, 0.12, 0.0]) * (1 - grey) + np.array([0, 0, 0, 0, 0, 1.0]) * grey
    hair_color = HAIR_COLOURS[int(rng.choice(len(HAIR_COLOURS), p=weights / weights.sum()))]
    top = _garment(rng, str(config.tops.sample(rng)), config, fabrics=fabrics)
    bottom = _garment(rng, str(config.bottoms.sample(rng)), config, fabrics=fabrics)
    shoes = _garment(rng, str(config.shoes.sample(rng)), config, dark=True)
    height, mass = _stature(phenotype)
    identity = identity_digest(phenotype, tone, skin)
    attributes = PersonAttributes(age_years=round(years, 3), gender=gender, monk_tone=tone,  # type: ignore[arg-type]
                                  height_m=height, pose=first if blend < 0.5 else second, person_id=person_id,
                                  age_group=age_group(years), weight=round(dict(phenotype)["weight"], 4),
                                  mass_kg=mass, identity=identity, identity_index=identity_index)
    return BodyDescription(phenotype=phenotype, joints=tuple(joints.items()), skin=skin, hair_style=hair_style,
                           hair_color=hair_color, top=top, bottom=bottom, shoes=shoes, attributes=attributes,
                           eye_color=eye_colour(identity, tone))


def worn_accessories(draft: FrameDraft, person: ObjectDescription, face: FaceConfig, rng: np.random.Generator,
                     first_id: int) -> list[ObjectDescription]:
    """The things a person wears (each with its probability), each fitted to them by its kind
    (renderer.humans.wardrobe.WORN: glasses sized to the head, a hat and a face mask as shells over the
    person's own skin)."""
    posed = posed_body_of(draft.catalog, person.mesh)
    head = head_frame(posed.head_bone, posed.eye_bones)
    on_head = np.unique(posed.faces[posed.face_parts == BODY_PARTS.index("head")])
    assert person.mesh.body is not None
    wearer = Wearer(body=person.mesh.body, object_to_world=np.asarray(person.object_to_world), posed=posed, head=head,
                    head_vertices=(posed.vertices[on_head] - head[:3, 3]) @ head[:3, :3])  # (x left, y down, z back)
    worn: list[ObjectDescription] = []
    for name, probability in face.accessories.items():
        if probability <= 0 or float(rng.uniform()) >= probability:
            continue
        fitted = WORN[name].fit(wearer, rng)
        worn.append(ObjectDescription(
            instance_id=first_id + len(worn), asset_id=f"{person.asset_id}_{name}", category=name,
            category_id=draft.catalog.categories[name], mesh=fitted.mesh, scale=1.0,
            object_to_world=as_matrix(fitted.object_to_world), material=fitted.material))
    return worn


def with_face(body: BodyDescription, face: FaceConfig, rng: np.random.Generator) -> BodyDescription:
    """The body with its head turned, its eyes' gaze and its expression drawn (from the frame's ``faces``
    stream, so that people's other draws stay as they were). The head and eye bones' rotations replace
    the drawn pose's own for those bones."""
    yaw, pitch, roll = (float(d.sample(rng)) for d in (face.head_yaw_deg, face.head_pitch_deg, face.head_roll_deg))
    gaze_yaw, gaze_pitch = float(face.gaze_yaw_deg.sample(rng)), float(face.gaze_pitch_deg.sample(rng))
    name = str(face.expressions.sample(rng))
    intensity = float(face.expression_intensity.sample(rng))
    from renderer.humans.model import body_model

    weights = sample_expression(rng, name, intensity, face.expression_jitter, body_model().facial_action_labels)
    facial_hair = str(face.facial_hair.sample(rng))
    if body.attributes.gender != "male" or body.attributes.age_years < 18:
        facial_hair = "none"
    joints = dict(body.joints)
    joints.update(head_joints(yaw, pitch, roll))
    joints.update(eye_joints(gaze_yaw, gaze_pitch))
    rounded = {bone: tuple(round(a, 6) for a in angles) for bone, angles in joints.items()}
    return dataclasses.replace(body, joints=tuple(rounded.items()), expression=weights,  # type: ignore[arg-type]
                               facial_hair=facial_hair,
                               attributes=dataclasses.replace(body.attributes, expression=name))


def balanced_cell(config: PeopleConfig, rng: np.random.Generator) -> dict[str, str | int]:
    """{attribute: value}: one cell of the product of the balanced attributes' values, uniformly (no draw
    without ``balance``)."""
    if not config.balance:
        return {}
    values = [config.balance_values(name) for name in config.balance]
    index = int(rng.integers(int(np.prod([len(v) for v in values]))))
    cell: dict[str, str | int] = {}
    for name, choices in zip(config.balance, values, strict=True):
        index, k = divmod(index, len(choices))
        cell[name] = choices[k]
    return cell


def _garment(rng: np.random.Generator, kind: str, config: PeopleConfig, dark: bool = False,
             fabrics: list[str] | None = None) -> ClothingDescription:
    hue, sat = float(rng.uniform()), float(rng.uniform(0.1, 0.8))
    value = float(rng.uniform(0.08, 0.35) if dark else rng.uniform(0.15, 0.9))
    pattern = str(config.patterns.sample(rng))
    colour = colorsys.hsv_to_rgb(hue, sat, value)
    other = colorsys.hsv_to_rgb(float(rng.uniform()), float(rng.uniform(0.0, 0.6)), float(rng.uniform(0.1, 1.0)))
    scale = float(rng.integers(3, 11))  # texels; whole numbers, so each pattern image is made once
    if fabrics and float(rng.uniform()) < config.garment_image_probability:  # (no draw without fabrics)
        image = fabrics[int(rng.integers(len(fabrics)))]
        return ClothingDescription(kind=kind, color=_linear(colour), pattern="image", pattern_color=_linear(other),
                                   pattern_scale=scale, image=image)
    return ClothingDescription(kind=kind, color=_linear(colour), pattern="solid" if dark else pattern,
                               pattern_color=_linear(other), pattern_scale=scale)


def _linear(srgb: tuple[float, float, float]) -> tuple[float, float, float]:
    return rgb_tuple(linear_from_srgb(srgb))


def _stature(phenotype: tuple[tuple[str, float], ...]) -> tuple[float, float]:
    """Standing height in metres of the unposed body (the rest mesh's extent in z) and its mass estimate."""
    from renderer.humans.model import body_model

    model = body_model()
    return round(model.stature(phenotype), 4), round(model.mass(phenotype), 2)


def _footprint_radius(body: BodyDescription) -> float:
    """Half the room a person takes on the floor: wider for poses that reach out or lie down."""
    height = body.attributes.height_m
    pose = body.attributes.pose
    return height * (0.55 if pose in ("lying", "sitting") else 0.3 if pose in ("t_pose", "waving") else 0.2)


def _free_spot(config: PeopleConfig, rng: np.random.Generator, taken: list[tuple[NDArray[np.float64], float]],
               radius: float) -> NDArray[np.float64] | None:
    half = np.asarray(config.area, dtype=float) / 2
    for _ in range(_PLACEMENT_TRIES):
        spot = rng.uniform(-half, half)
        if all(np.linalg.norm(spot - centre) >= radius + r + config.min_gap for centre, r in taken):
            return np.asarray(spot, dtype=np.float64)
    return None


assert set(NAMED_POSES) >= set(PeopleConfig().poses.params)
