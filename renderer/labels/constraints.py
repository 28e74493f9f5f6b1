"""Conditions every frame must meet (the scene's ``constraints:``), checked on its label buffers.

A frame that fails is drawn again from fresh streams of its own (attempt k: ``spawn_key=(i, r, k)``,
renderer.seeding), so frame i is still a function of (seed, i) alone and equals the same frame of any
run; after ``max_attempts`` draws the run stops with an error naming the constraint. Checks run on the
label pass before the RGB image is made, so a rejected draw costs no RGB render.
"""

from __future__ import annotations

from renderer.assets.catalog import PERSON_CATEGORY, TABLE_CATEGORY, TRAY_CATEGORY
from renderer.config.schema import ConstraintsConfig
from renderer.errors import RendererError
from renderer.scene.buffers import LabelBuffers
from renderer.scene.description import FrameDescription
from renderer.scene.records import ObjectLabels

SUPPORTS = (TABLE_CATEGORY, TRAY_CATEGORY)


class ConstraintError(RendererError, RuntimeError):
    """No draw of a frame met the scene's constraints within max_attempts."""


def cut_by_border(label: ObjectLabels, width: int, height: int) -> bool:
    """Whether an object's visible box touches the image border (it may continue outside the image)."""
    x, y, w, h = label.bbox
    return w > 0 and (x == 0 or y == 0 or x + w == width or y + h == height)


def unmet_constraint(constraints: ConstraintsConfig, frame: FrameDescription, buffers: LabelBuffers,
                     labels: list[ObjectLabels]) -> str | None:
    """The first constraint the frame fails, said in words; None when it meets them all.

    Supports (table, tray) count for nothing here: the constraints are about the objects.
    """
    objects = [lab for lab in labels if lab.category not in SUPPORTS]
    seen = [lab for lab in objects if lab.visible_pixels > 0 and not lab.ignore]
    if len(seen) < constraints.min_visible_objects:
        return (f"constraints.min_visible_objects: {len(seen)} objects seen (visible fraction >= "
                f"{constraints.min_visible_fraction:g}), at least {constraints.min_visible_objects} wanted")
    if constraints.max_objects_cut_by_border is not None:
        cut = sum(cut_by_border(lab, frame.camera.width, frame.camera.height) for lab in objects)
        if cut > constraints.max_objects_cut_by_border:
            return (f"constraints.max_objects_cut_by_border: {cut} objects touch the image border, at most "
                    f"{constraints.max_objects_cut_by_border} allowed")
    if constraints.min_visible_people > 0:
        people = [lab for lab in labels if lab.category == PERSON_CATEGORY and lab.visible_pixels > 0
                  and not lab.ignore and int(lab.landmarks.visible.sum()) >= constraints.min_person_keypoints]
        if len(people) < constraints.min_visible_people:
            return (f"constraints.min_visible_people: {len(people)} people seen with at least "
                    f"{constraints.min_person_keypoints} visible keypoints, at least "
                    f"{constraints.min_visible_people} wanted")
    if constraints.min_depth > 0:
        surface = buffers.depth[buffers.depth > 0]
        if surface.size and float(surface.min()) < constraints.min_depth:
            return (f"constraints.min_depth: a surface at {float(surface.min()):.3g} m, nearer than "
                    f"{constraints.min_depth:g} m")
    return None
