"""outputs: only the chosen channels are written, read back and exported; asking for one that was not
written is one clear error naming it; resume and verification count the written channels only."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from renderer import cli
from renderer.config.schema import ConfigError, load_scene
from renderer.io.dataset import Dataset, DatasetError
from renderer.pipeline.run import generate

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def rgb_and_instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("outputs") / "ds"
    config = load_scene(ROOT / "scenes" / "tabletop.yaml", ["image.width=96", "image.height=72",
                                                             "outputs=[rgb, instance]"])
    generate(config, out, frames=3, seed=2)
    return out


def test_only_the_chosen_channels_are_written(rgb_and_instance: Path, tmp_path: Path) -> None:
    assert sorted(p.name for p in rgb_and_instance.iterdir() if p.is_dir()) == ["instance", "meshes", "meta", "rgb"]
    assert json.loads((rgb_and_instance / "dataset.json").read_text())["outputs"] == ["rgb", "instance"]
    # The same frames with every channel: the chosen ones are the same bytes.
    full = tmp_path / "full"
    generate(load_scene(ROOT / "scenes" / "tabletop.yaml", ["image.width=96", "image.height=72"]), full,
             frames=3, seed=2)
    for sub, suffix in (("rgb", ".png"), ("instance", ".png"), ("meta", ".json")):
        for i in range(3):
            assert (rgb_and_instance / sub / f"{i:06d}{suffix}").read_bytes() == \
                (full / sub / f"{i:06d}{suffix}").read_bytes()


def test_reading_or_exporting_a_channel_not_written_names_it(rgb_and_instance: Path, tmp_path: Path,
                                                             capfd: pytest.CaptureFixture[str]) -> None:
    ds = Dataset(rgb_and_instance)
    frame = ds[0]
    assert frame.rgb.shape == (72, 96, 3) and frame.instance.shape == (72, 96) and frame.objects
    with pytest.raises(DatasetError, match="depth was not written"):
        _ = frame.depth
    assert cli.main(["export", str(rgb_and_instance), "--format", "bop", "--out", str(tmp_path / "bop")]) == 2
    err = capfd.readouterr().err
    assert err.count("\n") == 1 and "needs depth" in err
    assert cli.main(["export", str(rgb_and_instance), "--format", "coco", "--out", str(tmp_path / "coco")]) == 0
    capfd.readouterr()


def test_torch_fields_follow_the_written_channels(rgb_and_instance: Path) -> None:
    torch_module = pytest.importorskip("torch")
    from renderer.torch import RenderedDataset

    sample = RenderedDataset(rgb_and_instance)[0]
    assert "depth" not in sample and "normals" not in sample and "semantic" not in sample
    assert isinstance(sample["image"], torch_module.Tensor) and sample["masks"].shape[1:] == (72, 96)
    with pytest.raises(DatasetError, match="needs depth"):
        RenderedDataset(rgb_and_instance, fields=["image", "depth"])


def test_resume_counts_the_written_channels_only(rgb_and_instance: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "ds"
    shutil.copytree(rgb_and_instance, copy)
    (copy / "rgb" / "000001.png").write_bytes(b"")  # damaged: redone
    config = load_scene(ROOT / "scenes" / "tabletop.yaml", ["image.width=96", "image.height=72",
                                                             "outputs=[rgb, instance]"])
    summary = generate(config, copy, frames=3, seed=2)
    assert summary.frames_written == 1 and summary.frames_skipped == 2
    assert np.array_equal(Dataset(copy)[1].rgb, Dataset(rgb_and_instance)[1].rgb)


def test_unknown_or_repeated_channels_are_refused() -> None:
    with pytest.raises(ConfigError, match="outputs: 'flow' is not one of rgb, depth, normals, instance, semantic"):
        load_scene(ROOT / "scenes" / "tabletop.yaml", ["outputs=[rgb, flow]"])
    with pytest.raises(ConfigError, match="listed twice"):
        load_scene(ROOT / "scenes" / "tabletop.yaml", ["outputs=[rgb, rgb]"])
