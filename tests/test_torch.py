"""PyTorch datasets through real DataLoaders with two worker processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch.utils.data import DataLoader  # noqa: E402

from renderer.io.dataset import Dataset  # noqa: E402
from renderer.torch import GeneratedDataset, RenderedDataset, collate  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TABLETOP = ROOT / "scenes" / "tabletop.yaml"


def tag_process(sample: dict) -> dict:
    sample["pid"] = torch.tensor(os.getpid())
    return sample


def _all_samples(dataset, context: str | None = None) -> tuple[dict[int, dict], set[int]]:
    loader = DataLoader(dataset, batch_size=2, num_workers=2, collate_fn=collate, multiprocessing_context=context)
    samples, pids = {}, set()
    for batch in loader:
        pids.update(batch["pid"].tolist())
        for j, index in enumerate(batch["index"].tolist()):
            samples[index] = {k: v[j] for k, v in batch.items()}
    return samples, pids


def test_rendered_dataset_in_a_dataloader(tabletop_dataset: Path) -> None:
    samples, pids = _all_samples(RenderedDataset(tabletop_dataset, transform=tag_process))
    assert len(pids) == 2 and os.getpid() not in pids
    ds = Dataset(tabletop_dataset)
    assert sorted(samples) == ds.indices
    for frame in (ds[i] for i in range(len(ds))):
        s = samples[frame.index]
        assert s["image"].shape == (3, *frame.rgb.shape[:2]) and s["image"].dtype == torch.float32
        np.testing.assert_array_equal((s["image"] * 255).round().byte().permute(1, 2, 0).numpy(), frame.rgb)
        np.testing.assert_array_equal(s["depth"][0].numpy(), frame.depth)
        np.testing.assert_array_equal(s["normals"].permute(1, 2, 0).numpy(), frame.normals)
        np.testing.assert_array_equal(s["semantic"].numpy(), frame.semantic)
        visible = [o for o in frame.objects if o.visible_pixels > 0]
        assert s["labels"].tolist() == [o.category_id for o in visible]
        for n, obj in enumerate(visible):
            mask = s["masks"][n].numpy()
            np.testing.assert_array_equal(mask, frame.instance == obj.instance_id)
            rows, cols = np.nonzero(mask)  # xyxy box in pixel edges: the mask's extent
            assert s["boxes"][n].tolist() == [cols.min(), rows.min(), cols.max() + 1, rows.max() + 1]
            kp = s["keypoints"][n].numpy()[: len(obj.landmarks.names)]
            flags = np.where(obj.landmarks.visible, 2, np.where(obj.landmarks.in_frame, 1, 0))
            np.testing.assert_array_equal(kp[:, 2], flags)
            np.testing.assert_allclose(kp[flags > 0, :2], obj.landmarks.uv[flags > 0], atol=1e-4)
            np.testing.assert_allclose(s["poses"][n].numpy(), obj.object_to_camera)
        np.testing.assert_array_equal(s["K"].numpy(), frame.K)


def test_generated_dataset_equals_written_frames(tabletop_dataset: Path) -> None:
    """tabletop_dataset is `generate(tabletop.yaml, frames=4, seed=7)`: on-the-fly sample i must equal it."""
    generated = GeneratedDataset(TABLETOP, seed=7, length=4, transform=tag_process)
    on_the_fly, pids = _all_samples(generated, context="spawn")
    assert len(pids) == 2 and os.getpid() not in pids
    written, _ = _all_samples(RenderedDataset(tabletop_dataset, transform=tag_process))
    assert sorted(on_the_fly) == sorted(written) == [0, 1, 2, 3]
    for i in range(4):
        for key, value in written[i].items():
            if key != "pid":
                assert torch.equal(on_the_fly[i][key], value), (i, key)


def test_fields_select_and_unknown_field_is_an_error(tabletop_dataset: Path) -> None:
    sample = RenderedDataset(tabletop_dataset, fields=["depth", "boxes"])[0]
    assert set(sample) == {"index", "depth", "boxes"}
    with pytest.raises(ValueError, match="unknown fields"):
        RenderedDataset(tabletop_dataset, fields=["rgb"])


def test_pytorch_doc_example_trains(tmp_path: Path) -> None:
    """docs/pytorch.md's training loop (scripts/train_segmentation.py) runs on CPU and lowers the loss."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train_segmentation.py"), "--scene", str(TABLETOP),
         "--frames", "4", "--steps", "30", "--size", "160x120", "--workers", "2"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    losses = [float(line.split()[-1]) for line in result.stdout.splitlines() if line.startswith("step")]
    assert len(losses) >= 3 and losses[-1] < 0.8 * losses[0], result.stdout


MASK_RCNN_CHECK = """
import sys, torch
from torch.utils.data import DataLoader
from torchvision.models.detection import maskrcnn_resnet50_fpn
from renderer.torch import RenderedDataset, collate_detection

dataset = RenderedDataset(sys.argv[1], fields=["image", "boxes", "labels", "masks"])
images, targets = next(iter(DataLoader(dataset, batch_size=2, collate_fn=collate_detection)))
assert isinstance(images, list) and isinstance(targets, list) and len(images) == len(targets) == 2
assert set(targets[0]) == {"boxes", "labels", "masks"} and targets[0]["masks"].dtype == torch.uint8
num_classes = int(max(int(t["labels"].max()) for t in targets)) + 1
torch.manual_seed(0)
model = maskrcnn_resnet50_fpn(weights=None, weights_backbone=None, num_classes=num_classes,
                              min_size=160, max_size=224)
model.train()
losses = model(images, targets)
assert {"loss_classifier", "loss_box_reg", "loss_mask", "loss_objectness", "loss_rpn_box_reg"} <= set(losses)
total = sum(losses.values())
assert torch.isfinite(total)
total.backward()
assert model.roi_heads.mask_predictor.mask_fcn_logits.weight.grad is not None
print("mask-rcnn ok", float(total))
"""


def test_collate_detection_feeds_torchvision_mask_rcnn(tabletop_dataset: Path) -> None:
    """collate_detection's (images, targets) go straight into torchvision's Mask R-CNN: a forward pass in
    training mode gives finite losses and a backward pass reaches the weights (random weights, CPU).
    In a fresh interpreter: torchvision pulls in triton, whose own LLVM must not meet the ones the GL
    and path-tracing tests loaded into this process."""
    import importlib.util

    if importlib.util.find_spec("torchvision") is None:  # not imported here (see above)
        pytest.skip("torchvision is not installed")
    result = subprocess.run([sys.executable, "-c", MASK_RCNN_CHECK, str(tabletop_dataset)], capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0 and "mask-rcnn ok" in result.stdout, result.stderr[-2000:]
