"""Frame constraints: every frame of a run meets them (checked on the written files), redraws are
reproducible alone, an impossible constraint is one error line, low-visibility objects become crowd."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from renderer.config.schema import load_scene
from renderer.io.dataset import Dataset
from renderer.pipeline.run import generate

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ["image.width=160", "image.height=120", "constraints.min_visible_objects=10",
            "constraints.min_visible_fraction=0.5", "constraints.max_objects_cut_by_border=0",
            "constraints.min_depth=0.6"]


@pytest.fixture(scope="module")
def constrained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("constrained") / "ds"
    generate(load_scene(ROOT / "scenes" / "tabletop.yaml", SETTINGS), out, frames=12, seed=4)
    return out


def test_every_frame_meets_the_constraints(constrained: Path) -> None:
    ds = Dataset(constrained)
    assert len(ds) == 12
    redrawn = 0
    for i in range(len(ds)):
        frame = ds[i]
        redrawn += frame.description.attempt > 0
        supports = {o.instance_id for o in frame.objects if o.category in ("table", "tray")}
        seen = [o for o in frame.objects if o.instance_id not in supports and o.visible_pixels > 0
                and o.visible_fraction >= 0.5]
        assert len(seen) >= 10
        assert all(o.ignore == (o.visible_fraction < 0.5) for o in frame.objects)
        # From the images themselves: no object's pixels touch the border; no surface nearer than 0.6 m.
        instance = frame.instance
        border = np.concatenate([instance[0], instance[-1], instance[:, 0], instance[:, -1]])
        assert not (set(np.unique(border).tolist()) - supports - {0})
        assert frame.depth[frame.depth > 0].min() >= 0.6
    assert redrawn > 0  # the constraints did reject draws, so the check above means something


def test_a_redrawn_frame_made_alone_equals_the_same_frame_of_the_run(constrained: Path, tmp_path: Path) -> None:
    ds = Dataset(constrained)
    index = next(ds[i].index for i in range(len(ds)) if ds[i].description.attempt > 0)
    generate(load_scene(ROOT / "scenes" / "tabletop.yaml", SETTINGS), tmp_path / "alone", frames=1, seed=4,
             start=index)
    name = f"{index:06d}"
    for sub, suffix in (("rgb", ".png"), ("depth", ".npz"), ("instance", ".png"), ("meta", ".json")):
        assert (tmp_path / "alone" / sub / f"{name}{suffix}").read_bytes() == \
            (constrained / sub / f"{name}{suffix}").read_bytes()


def test_an_impossible_constraint_is_one_line_naming_it(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "renderer", "generate", "scenes/tabletop.yaml", "--out",
                             str(tmp_path / "out"), "--frames", "2", "--set", "image.width=64",
                             "--set", "image.height=48", "--set", "constraints.min_visible_objects=40",
                             "--set", "constraints.max_attempts=3"], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "constraints.min_visible_objects" in result.stderr and "3" in result.stderr
    assert not list((tmp_path / "out" / "meta").glob("*.json"))


def test_objects_below_min_visible_fraction_are_crowd_in_coco(constrained: Path, tmp_path: Path) -> None:
    from pycocotools.coco import COCO

    from renderer.export.coco import export_coco

    export_coco(constrained, tmp_path / "coco")
    coco = COCO(str(tmp_path / "coco" / "instances.json"))
    ds = Dataset(constrained)
    crowd = 0
    for i in range(len(ds)):
        frame = ds[i]
        by_id = {o.instance_id: o for o in frame.objects}
        for ann in coco.loadAnns(coco.getAnnIds(imgIds=[frame.index])):
            obj = by_id[ann["renderer_instance_id"]]
            assert ann["iscrowd"] == int(obj.visible_fraction < 0.5)
            crowd += ann["iscrowd"]
            mask = coco.annToMask(ann).astype(bool)
            instance = cv2.imread(str(constrained / "instance" / f"{frame.index:06d}.png"), cv2.IMREAD_UNCHANGED)
            assert np.array_equal(mask, instance == obj.instance_id)
    assert crowd > 0
    json.loads((tmp_path / "coco" / "instances.json").read_text())
