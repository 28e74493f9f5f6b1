"""--layout shards: WebDataset tar shards holding exactly the files layout's bytes, the same whatever the
worker count or interruptions, read by the webdataset library, streamed by renderer.torch.ShardStream
without duplicates across workers and ranks, and read by every reader of ours."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest

from renderer import cli
from renderer.config.schema import SceneConfig, load_scene
from renderer.io.dataset import Dataset, DatasetError
from renderer.pipeline.run import generate

ROOT = Path(__file__).resolve().parent.parent
FRAMES, SHARD_SIZE = 7, 3  # shards of 3, 3 and 1 frames


def _config() -> SceneConfig:
    return load_scene(ROOT / "scenes" / "tabletop.yaml", ["image.width=96", "image.height=72"])


@pytest.fixture(scope="module")
def both_layouts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("layouts")
    generate(_config(), base / "files", frames=FRAMES, seed=3)
    generate(_config(), base / "shards", frames=FRAMES, seed=3, layout="shards", shard_size=SHARD_SIZE)
    return base / "files", base / "shards"


def _tar_bytes(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "shards").glob("*.tar"))}


def test_shards_hold_the_files_layouts_bytes_in_frame_order(both_layouts: tuple[Path, Path]) -> None:
    files, shards = both_layouts
    tars = sorted((shards / "shards").glob("*.tar"))
    assert [t.name for t in tars] == ["shard-000000.tar", "shard-000001.tar", "shard-000002.tar"]
    seen = []
    for k, path in enumerate(tars):
        with tarfile.open(path) as archive:
            members = archive.getmembers()
            keys = sorted({m.name.split(".")[0] for m in members})
            assert keys == [f"{i:06d}" for i in range(k * SHARD_SIZE, min((k + 1) * SHARD_SIZE, FRAMES))]
            for member in members:
                key, _, rest = member.name.partition(".")
                folder, _, suffix = rest.partition(".")
                assert member.mtime == 0 and member.uid == 0 and member.uname == ""
                assert archive.extractfile(member).read() == (files / folder / f"{key}.{suffix}").read_bytes()
                seen.append(member.name)
    assert seen == sorted(seen, key=lambda n: n.split(".")[0])  # a frame's members together, frames in order
    assert len(seen) == FRAMES * 6
    assert not [p for p in (shards / "staging").rglob("*") if p.is_file()]
    a, b = Dataset(files), Dataset(shards)
    assert len(a) == len(b) == FRAMES and b.layout == "shards"
    for i in range(FRAMES):
        for name in ("rgb", "depth", "normals", "instance", "semantic"):
            np.testing.assert_array_equal(a[i].array(name), b[i].array(name))
        assert a[i].meta == b[i].meta


def test_same_shards_whatever_the_workers_interruptions_or_growth(both_layouts: tuple[Path, Path],
                                                                    tmp_path: Path) -> None:
    _, shards = both_layouts
    expected = _tar_bytes(shards)
    generate(_config(), tmp_path / "two", frames=FRAMES, seed=3, layout="shards", shard_size=SHARD_SIZE, workers=2)
    assert _tar_bytes(tmp_path / "two") == expected

    def stop_after_four(done: int, total: int) -> None:
        if done == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        generate(_config(), tmp_path / "cut", frames=FRAMES, seed=3, layout="shards", shard_size=SHARD_SIZE,
                 progress=stop_after_four)
    assert sorted(_tar_bytes(tmp_path / "cut")) == ["shard-000000.tar"]  # shard 1 waits in staging
    summary = generate(_config(), tmp_path / "cut", frames=FRAMES, seed=3, layout="shards", shard_size=SHARD_SIZE)
    assert summary.frames_skipped == 4 and _tar_bytes(tmp_path / "cut") == expected

    generate(_config(), tmp_path / "grown", frames=5, seed=3, layout="shards", shard_size=SHARD_SIZE)
    assert len(Dataset(tmp_path / "grown")) == 5  # shard 1 packed with the 2 frames this run made
    generate(_config(), tmp_path / "grown", frames=FRAMES, seed=3, layout="shards", shard_size=SHARD_SIZE)
    assert _tar_bytes(tmp_path / "grown") == expected

    with pytest.raises(Exception, match="layout differs"):  # one folder never mixes layouts
        generate(_config(), tmp_path / "grown", frames=FRAMES, seed=3)


def test_the_webdataset_library_reads_the_shards(both_layouts: tuple[Path, Path]) -> None:
    wds = pytest.importorskip("webdataset")
    from PIL import Image

    files, shards = both_layouts
    urls = [str(p) for p in sorted((shards / "shards").glob("*.tar"))]
    reference = Dataset(files)
    samples = list(wds.WebDataset(urls, shardshuffle=False).decode())
    assert [s["__key__"] for s in samples] == [f"{i:06d}" for i in range(FRAMES)]
    for i, sample in enumerate(samples):
        frame = reference[i]
        assert set(sample) >= {"rgb.png", "depth.npz", "normals.npz", "instance.png", "semantic.png", "meta.json"}
        np.testing.assert_array_equal(sample["depth.npz"]["depth"], frame.depth)  # webdataset's own npz decoder
        np.testing.assert_array_equal(sample["normals.npz"]["normals"], frame.normals)
        assert sample["meta.json"] == frame.meta
        np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(sample["rgb.png"]))), frame.rgb)
        np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(sample["instance.png"]))), frame.instance)


def test_shard_stream_shares_frames_among_workers_and_ranks_exactly_once(both_layouts: tuple[Path, Path]) -> None:
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader

    from renderer.torch import RenderedDataset, ShardStream

    files, shards = both_layouts
    reference = RenderedDataset(files, fields=["image", "depth", "boxes"])
    seen: list[int] = []
    for rank in (0, 1):
        stream = ShardStream(shards, fields=["image", "depth", "boxes"], rank=rank, world_size=2)
        loader = DataLoader(stream, batch_size=None, num_workers=2)
        for sample in loader:
            seen.append(int(sample["index"]))
            expected = reference[int(sample["index"])]
            for key in ("image", "depth", "boxes"):
                assert torch.equal(sample[key], expected[key]), key
    assert sorted(seen) == list(range(FRAMES))  # 3 shards over 4 readers: each frame once, one reader idle

    shuffled = ShardStream(shards, fields=["boxes"], shuffle_buffer=4, seed=1)
    first = [int(s["index"]) for s in shuffled]
    assert sorted(first) == list(range(FRAMES)) and first == [int(s["index"]) for s in shuffled]
    shuffled.set_epoch(1)
    assert [int(s["index"]) for s in shuffled] != first
    with pytest.raises(DatasetError, match="ShardStream reads the shards layout"):
        ShardStream(files)


def test_readers_take_either_layout_and_name_a_damaged_shard(both_layouts: tuple[Path, Path], tmp_path: Path,
                                                             capfd: pytest.CaptureFixture[str]) -> None:
    files, shards = both_layouts
    assert cli.main(["export", str(files), "--format", "coco", "--out", str(tmp_path / "coco_files")]) == 0
    assert cli.main(["export", str(shards), "--format", "coco", "--out", str(tmp_path / "coco_shards")]) == 0
    a = json.loads((tmp_path / "coco_files" / "instances.json").read_text())
    b = json.loads((tmp_path / "coco_shards" / "instances.json").read_text())
    assert a["annotations"] == b["annotations"] and a["images"] == b["images"]
    for image in b["images"]:  # paths relative to the export folder, holding the same bytes
        assert (tmp_path / "coco_shards" / image["file_name"]).read_bytes() == (files / image["file_name"]).read_bytes()
    assert cli.main(["preview", str(shards), "-o", str(tmp_path / "p.png"), "--frames", "0:2"]) == 0
    assert cli.main(["report", str(shards), "-o", str(tmp_path / "r.html"), "--samples", "2"]) == 0
    capfd.readouterr()

    damaged = tmp_path / "damaged"
    shutil.copytree(shards, damaged)
    shard = damaged / "shards" / "shard-000001.tar"
    shard.write_bytes(shard.read_bytes()[:5000])
    with pytest.raises(DatasetError, match="shard-000001.tar"):
        Dataset(damaged)
    assert cli.main(["preview", str(damaged), "-o", str(tmp_path / "q.png")]) == 2
    err = capfd.readouterr().err
    assert err.count("\n") == 1 and "shard-000001.tar" in err
