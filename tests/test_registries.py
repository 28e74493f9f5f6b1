"""Contract tests over the registries: every channel, engine, exporter and randomizer that is registered
meets its contract, so a new one is checked the moment its module exists."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import numpy as np
import pytest
import torch

import renderer.render.engines
from renderer.channels import CHANNELS
from renderer.config.schema import ENGINES, scene_from_dict
from renderer.export import EXPORTERS
from renderer.inspect.preview import frame_panels
from renderer.io.dataset import Dataset, DatasetError
from renderer.pipeline.run import generate
from renderer.sampling.randomizers import RANDOMIZERS
from renderer.seeding import stream_key
from renderer.torch import CHANNEL_OF_FIELD, GeneratedDataset, RenderedDataset

ROOT = Path(__file__).resolve().parent.parent
SCENE = {
    "image": {"width": 64, "height": 48},
    "objects": {"count": [2, 3], "assets": [{"path": str(ROOT / "assets" / "meshes" / "cone.obj")},
                                            {"path": str(ROOT / "assets" / "meshes" / "mug.obj")}]},
    "camera": {"distance": [0.6, 0.8]},
    "sequence": {"length": 3, "camera": {"kind": "orbit", "orbit_speed_deg": [20, 30]}},
    "outputs": list(CHANNELS),  # every channel there is, derived ones included
}


@pytest.fixture(scope="module")
def every_channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("registries") / "ds"
    generate(scene_from_dict(SCENE), root, frames=3, seed=4, workers=1)
    return root


@pytest.fixture(scope="module")
def on_the_fly() -> GeneratedDataset:
    return GeneratedDataset(scene_from_dict(SCENE), seed=4, length=3)  # one GL context for the module


@pytest.mark.parametrize("name", list(CHANNELS))
def test_every_channel_round_trips_write_read_torch_preview(every_channel: Path, on_the_fly: GeneratedDataset,
                                                            name: str) -> None:
    channel = CHANNELS[name]
    dataset = Dataset(every_channel)
    assert name in dataset.channels
    frame = dataset[1]  # the middle of the sequence: flow both ways
    array = frame.array(name)
    assert array.dtype == channel.dtype and array.ndim == channel.ndim and array.shape[:2] == (48, 64)
    if channel.stored:  # the file decodes to what encoding the array gives back, bit for bit
        np.testing.assert_array_equal(channel.read(channel.encode(array)), array)
    # Rendered on the fly, the same frame gives the same array as the written dataset.
    key = channel.sample_key
    if key is not None:
        written = RenderedDataset(every_channel, fields=[key])[1][key]
        fresh = on_the_fly[1][key]
        assert isinstance(written, torch.Tensor) and torch.equal(written, fresh), name
        assert tuple(written.shape[-2:]) == (48, 64)
    if channel.preview is not None:
        panel = channel.preview(frame)
        panels = frame_panels(frame)
        assert (panel is None) == (name not in panels)
        if panel is not None:
            assert panel.dtype == np.uint8 and panel.shape == (48, 64, 3)


def test_torch_fields_name_registered_channels() -> None:
    assert set(CHANNEL_OF_FIELD.values()) <= set(CHANNELS)
    assert len(set(CHANNEL_OF_FIELD)) == len(CHANNEL_OF_FIELD)


def test_every_engine_name_is_a_module_with_an_engine_and_back() -> None:
    modules = {info.name for info in pkgutil.iter_modules(renderer.render.engines.__path__)}
    with_engine = {name for name in modules
                   if hasattr(importlib.import_module(f"renderer.render.engines.{name}"), "ENGINE")}
    assert with_engine == set(ENGINES)


@pytest.mark.parametrize("name", list(EXPORTERS))
def test_every_exporter_writes_its_format(every_channel: Path, tmp_path: Path, name: str) -> None:
    exporter = EXPORTERS[name]
    assert exporter.doc and exporter.name == name
    if name == "stereo":  # an orbiting camera is no stereo rig: refused in one line (tests/test_stereo.py writes)
        with pytest.raises(DatasetError, match="stereo export: a pair's cameras differ"):
            exporter(every_channel, tmp_path / name)
        return
    written = exporter(every_channel, tmp_path / name)
    assert written.exists()
    files = [p for p in (written.rglob("*") if written.is_dir() else [written]) if p.is_file()]
    assert files and all(p.stat().st_size > 0 for p in files)
    with pytest.raises(TypeError, match="unknown option"):
        exporter(every_channel, tmp_path / "again", no_such_option=1)


def test_randomizers_draw_from_streams_of_their_own() -> None:
    streams = [s for r in RANDOMIZERS.values() for s in r.streams]
    assert len(streams) == len(set(streams))
    keys = [stream_key(s) for s in streams]
    assert len(keys) == len(set(keys))
    assert [r.rank for r in RANDOMIZERS.values()] == sorted(r.rank for r in RANDOMIZERS.values())
    assert stream_key("a_new_randomizer") == stream_key("a_new_randomizer") != stream_key("another")


def test_renderer_channels_lists_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    from renderer.cli import main

    assert main(["channels"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(CHANNELS)
    for line, channel in zip(lines, CHANNELS.values(), strict=True):
        assert line.endswith(channel.doc)
