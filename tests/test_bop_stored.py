"""BOP export from the stored labels alone (amodal="stored"): no GL context is opened, and what the
stored labels determine matches the rendered export and the raw files."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

import renderer.render.gl.gl_context as gl_context
from renderer.export import export_bop
from renderer.io.dataset import Dataset


def test_bop_from_stored_labels_needs_no_gl(tabletop_dataset: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    rendered = export_bop(tabletop_dataset, tmp_path / "rendered")

    class NoGL:
        def __init__(self, *args: object, **kwargs: object) -> None:
            raise AssertionError("a GL context was opened")

    monkeypatch.setattr(gl_context, "GLContext", NoGL)
    stored = export_bop(tabletop_dataset, tmp_path / "stored", amodal="stored")
    scene = stored / "train_pbr" / "000000"
    assert not (scene / "mask").exists() and (rendered / "train_pbr" / "000000" / "mask").is_dir()
    for name in ("scene_gt.json", "scene_camera.json"):
        assert json.loads((scene / name).read_text()) == json.loads(
            (rendered / "train_pbr" / "000000" / name).read_text())
    infos = json.loads((scene / "scene_gt_info.json").read_text())
    dataset = Dataset(tabletop_dataset)
    for i in range(len(dataset)):
        frame = dataset[i]
        instance = cv2.imread(str(tabletop_dataset / "instance" / f"{frame.index:06d}.png"), cv2.IMREAD_UNCHANGED)
        for k, (obj, info) in enumerate(zip(frame.objects, infos[str(frame.index)], strict=True)):
            visible = instance == obj.instance_id
            mask = cv2.imread(str(scene / "mask_visib" / f"{frame.index:06d}_{k:06d}.png"), cv2.IMREAD_UNCHANGED)
            np.testing.assert_array_equal(mask > 0, visible)
            assert info["px_count_visib"] == int(visible.sum())
            assert info["px_count_all"] == obj.unoccluded_pixels >= info["px_count_visib"]
            assert info["bbox_obj"] == [-1, -1, -1, -1] and info["px_count_valid"] == -1
            if visible.any():
                rows, cols = np.nonzero(visible)
                assert info["bbox_visib"] == [int(cols.min()), int(rows.min()), int(cols.max() - cols.min()),
                                              int(rows.max() - rows.min())]
