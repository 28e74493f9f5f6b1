"""Stereo (sequence.camera.kind: stereo, renderer.export.stereo): the rig is rectified, the exported
disparity d = fx B / z equals the label pass's own optical flow from left to right (-u) and its
occlusion mask agrees with the flow's validity, the files read back through OpenCV, and OpenCV's SGBM on
our pair agrees with the ground truth where it is valid."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import scipy.ndimage

from renderer.config.schema import ConfigError, load_scene
from renderer.export import EXPORTERS
from renderer.io.dataset import Dataset
from renderer.pipeline.run import generate

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def stereo_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("stereo") / "ds"
    config = load_scene(ROOT / "scenes" / "stereo.yaml", ["image.width=320", "image.height=240"])
    generate(config, root, frames=6, seed=3, workers=1)
    return root


def test_disparity_is_the_flow_from_left_to_right_and_files_read_back(stereo_dataset: Path, tmp_path: Path) -> None:
    out = EXPORTERS["stereo"](stereo_dataset, tmp_path / "stereo")
    data = Dataset(stereo_dataset)
    agree = checked = 0
    bad, compared = 0, 0
    for s in range(3):
        left, right = data.sequence(s)
        w0, w1 = left.world_to_camera, right.world_to_camera
        assert np.allclose(w0[:3, :3], w1[:3, :3]) and np.array_equal(left.K, right.K)
        name = f"{s:06d}"
        disparity = cv2.imread(str(out / "middlebury" / name / "disp0GT.pfm"), cv2.IMREAD_UNCHANGED)
        mask = cv2.imread(str(out / "middlebury" / name / "mask0nocc.png"), cv2.IMREAD_UNCHANGED)
        kitti = cv2.imread(str(out / "kitti" / "disp_occ_0" / f"{name}_10.png"), cv2.IMREAD_UNCHANGED)
        noc = cv2.imread(str(out / "kitti" / "disp_noc_0" / f"{name}_10.png"), cv2.IMREAD_UNCHANGED)
        valid = np.isfinite(disparity)
        assert np.array_equal(valid, left.depth > 0)
        assert np.allclose(kitti[valid] / 256.0, disparity[valid], atol=1 / 512)
        assert np.array_equal(noc > 0, (mask == 255) & (kitti > 0))
        flow = left.array("flow_forward")
        flow_valid = left.array("flow_forward_valid")
        both = valid & flow_valid
        assert np.allclose(-flow[..., 0][both], disparity[both], atol=2e-3)  # the GL motion pass, independently
        assert np.abs(flow[..., 1][both]).max() < 2e-3  # rectified: no vertical motion
        edges = scipy.ndimage.maximum_filter(left.instance, 3) != scipy.ndimage.minimum_filter(left.instance, 3)
        clear = valid & ~edges
        agree += int(np.sum((mask[clear] == 255) == flow_valid[clear]))
        checked += int(clear.sum())
        # OpenCV's semi-global matcher on our pair, against the ground truth where non-occluded.
        grey = [cv2.cvtColor(f.rgb, cv2.COLOR_RGB2GRAY) for f in (left, right)]
        ndisp = 16 * int(np.ceil(np.nanmax(np.where(valid, disparity, 0)) / 16 + 1))
        sgbm = cv2.StereoSGBM_create(minDisparity=0, numDisparities=ndisp, blockSize=5, P1=8 * 25, P2=32 * 25,
                                     uniquenessRatio=5, mode=cv2.STEREO_SGBM_MODE_HH)
        estimate = sgbm.compute(grey[0], grey[1]).astype(np.float64) / 16.0
        usable = (mask == 255) & (estimate > 0)
        bad += int(np.sum(np.abs(estimate[usable] - disparity[usable]) > 2.0))
        compared += int(usable.sum())
    print(f"stereo: occlusion mask agrees with flow validity at {agree / checked:.4f}; SGBM bad-pixel rate "
          f"(> 2 px) {bad / compared:.3f} over {compared} pixels")
    assert agree / checked > 0.98
    assert compared > 50_000 and bad / compared < 0.25


def test_a_stereo_baseline_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="sequence.camera.baseline"):
        load_scene(ROOT / "scenes" / "stereo.yaml", ["sequence.camera.baseline=0"])
