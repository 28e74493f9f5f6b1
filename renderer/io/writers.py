"""Write a dataset in the layout of docs/format.md; renderer.io.dataset reads it back.

Every file is written to a temporary name in its final folder and renamed into place, and a frame's
``meta/NNNNNN.json`` is renamed last: a frame whose meta file exists is complete, and an interrupted
run leaves no half-written file under a final name. In the shards layout frames are made the same way
in ``staging/`` and packed into ``shards/shard-NNNNNN.tar`` (renderer.io.shards) once every frame of a
shard is there; the tar is renamed into place before its staged files are removed.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import re
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import trimesh

from renderer import __version__
from renderer.assets.catalog import BOX_EDGES, PERSON_CATEGORY, TABLE_CATEGORY, TRAY_CATEGORY, AssetCatalog
from renderer.assets.inputs import changed_input, input_hashes
from renderer.channels import CHANNEL_NAMES, CHANNELS
from renderer.config.schema import DEFAULT_OUTPUTS, SceneConfig, scene_from_dict, scene_to_dict
from renderer.errors import RendererError
from renderer.humans.keypoints import SKELETON as PERSON_SKELETON
from renderer.io.format import (
    FORMAT_VERSION,
    LAYOUTS,
    OutputError,
    atomic_write,
    atomic_write_bytes,
    atomic_write_json,
    frame_name,
    read_json_object,
)
from renderer.io.records import (
    Category,
    ClassNames,
    DatasetHeader,
    FrameRecord,
    ImageSize,
    RunRecord,
    read_header,
)
from renderer.io.shards import (
    DEFAULT_SHARD_SIZE,
    SHARDS,
    STAGING,
    Sample,
    index_shard,
    read_span,
    shard_name,
    shard_paths,
    write_tar,
)
from renderer.scene.body import BODY_PARTS, COVERINGS, FACE_CLASSES
from renderer.scene.buffers import RenderBuffers
from renderer.scene.description import INSTANCE_IDS, FrameDescription
from renderer.scene.records import OCCLUSION_TOLERANCE, ObjectLabels

CONVENTIONS = {
    "camera_frame": "OpenCV: x right, y down, z forward",
    "units": "metres",
    "depth": "z along the optical axis, metres, float32, 0 = no surface",
    "normals": "unit face normals in the camera frame, facing the camera, float32, 0 = no surface",
    "pixel_centres": "pixel (row r, column c) has its centre at (u, v) = (c, r)",
    "bbox": "[x, y, w, h] in pixels, inclusive of columns x..x+w-1 and rows y..y+h-1",
    "instance_ids": INSTANCE_IDS,
    "landmark_occlusion_tolerance": OCCLUSION_TOLERANCE,
}



def dataset_header(config: SceneConfig, seed: int, catalog: AssetCatalog, layout: str = "files",
                   shard_size: int = DEFAULT_SHARD_SIZE) -> DatasetHeader:
    """dataset.json without run figures; its IDENTITY_KEYS are what a resumed run must match."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout: {layout!r} is not one of {', '.join(LAYOUTS)}")
    return DatasetHeader(
        version=FORMAT_VERSION, renderer_version=__version__, seed=seed,
        image=ImageSize(config.image.width, config.image.height),
        categories=tuple(Category(cid, name) for name, cid in catalog.categories.items()),
        conventions=dict(CONVENTIONS), scene_file=config.source, scene=scene_to_dict(config),
        skipped_assets=tuple(sorted(catalog.skipped)), skeletons=_skeletons(config, catalog),
        classes=ClassNames(BODY_PARTS, COVERINGS, FACE_CLASSES),
        inputs=input_hashes(config, catalog), outputs=tuple(c for c in CHANNEL_NAMES if c in config.outputs),
        layout="shards" if layout == "shards" else "files", shard_size=shard_size if layout == "shards" else None)


def _skeletons(config: SceneConfig, catalog: AssetCatalog) -> dict[str, list[list[str]]]:
    """{category: landmark-name edges}, the union over the category's assets (COCO's skeleton)."""
    edges: dict[str, list[list[str]]] = {}
    labelled = catalog.all_assets if config.distractors.labelled else catalog.assets
    for asset in labelled:
        for a, b in catalog.landmarks(asset.source).skeleton:
            if [a, b] not in edges.setdefault(asset.category, []):
                edges[asset.category].append([a, b])
    for support in (TABLE_CATEGORY, TRAY_CATEGORY):
        if support in catalog.categories:
            edges[support] = [list(edge) for edge in BOX_EDGES]
    if PERSON_CATEGORY in catalog.categories:
        edges[PERSON_CATEGORY] = [list(edge) for edge in PERSON_SKELETON]
    return edges


IDENTITY_KEYS = ("version", "seed", "image", "scene", "categories", "skipped_assets", "inputs", "layout",
                 "shard_size")


def same_scene(written: Any, current: Any) -> bool:
    """Whether the scene a dataset was started with is the one given now, once both are read by this
    version: keys that a newer version added (with defaults that keep what older versions drew) and
    the order of keys do not count, so an upgrade never blocks resuming with the same scene file.
    Parsing alone: paths are compared as written and nothing is looked up on disk, so the answer does
    not depend on the working directory (relative asset paths resolve against the scene file's folder
    only where a scene is loaded for rendering)."""
    if written == current:
        return True
    try:
        return scene_to_dict(scene_from_dict(written)) == scene_to_dict(scene_from_dict(current))
    except RendererError:  # a key this version does not know: another dataset
        return False


def prepare_dataset(root: str | os.PathLike[str], dataset: DatasetHeader, meshes: dict[str, trimesh.Trimesh]) -> None:
    """Check the output folder and create (or, for the same dataset, reuse) its skeleton.

    A folder that holds a dataset with another identity (IDENTITY_KEYS of the header), or any other
    files, is refused: nothing in it is touched.
    """
    root = Path(root)
    header_path = root / "dataset.json"
    header = dataset.to_dict()  # compared with the stored one as plain JSON: a header of any version compares
    if root.exists() and not root.is_dir():
        raise OutputError(f"{root}: exists and is not a folder")
    if header_path.is_file():
        try:
            existing = read_json_object(header_path, "dataset header")
        except ValueError as exc:
            raise OutputError(str(exc)) from None
        for key in IDENTITY_KEYS:
            if key == "inputs" and isinstance(existing.get(key), dict) and existing.get("version") == header["version"]:
                changed = changed_input(existing[key], header[key])
                if changed is not None:
                    raise OutputError(f"{root}: an input file changed since this dataset was started: {changed}; "
                                      "use another --out, or restore the file")
            elif key == "scene" and same_scene(existing.get(key), header.get(key)):
                continue
            elif existing.get(key) != header.get(key):
                raise OutputError(f"{root}: already holds a different dataset ({key} differs); "
                                  "use another --out or delete it")
    elif root.is_dir() and not _only_a_skeleton(root):
        raise OutputError(f"{root}: folder is not empty and holds no dataset.json; use another --out")
    fresh = not header_path.is_file()  # new, or a set-up that was interrupted: (re)write every mesh
    try:
        for sub in _folders(dataset):
            (root / sub).mkdir(parents=True, exist_ok=True)
        remove_stale_temp_files(root)
        for asset_id, mesh in meshes.items():
            path = root / "meshes" / f"{asset_id}.ply"
            if fresh or not path.is_file():
                data = mesh.export(file_type="ply", encoding="binary")
                assert isinstance(data, bytes)
                atomic_write_bytes(path, data)
        if not header_path.is_file():
            atomic_write_json(header_path, header)
    except OSError as exc:
        raise OutputError(f"{root}: cannot write output ({_reason(exc)})") from None


def _folders(header: DatasetHeader) -> list[str]:
    frames = [*header.stored_channels, "meta"]
    if header.layout == "shards":
        return [SHARDS, *(f"{STAGING}/{sub}" for sub in frames), "meshes"]
    return [*frames, "meshes"]


SUBFOLDERS = (*CHANNEL_NAMES, "meta", "meshes", SHARDS, STAGING)



_TEMP = re.compile(r"^\..+\.(\d+)\.\d+\.tmp$")


def _only_a_skeleton(root: Path) -> bool:
    """Whether a folder without dataset.json holds only what an interrupted set-up leaves: our empty
    subfolders and mesh files (no frame, nothing else)."""
    for entry in root.iterdir():
        if entry.name.startswith("."):
            continue
        if entry.name not in SUBFOLDERS or not entry.is_dir():
            return False
        for item in entry.iterdir():
            if entry.name == STAGING and item.is_dir() and item.name in SUBFOLDERS:
                if any(not sub.name.startswith(".") for sub in item.iterdir()):
                    return False
            elif not (item.name.startswith(".") or (entry.name == "meshes" and item.suffix == ".ply")):
                return False
    return True


def remove_stale_temp_files(root: Path) -> int:
    """Delete temporary files that a killed process left (its pid no longer runs); returns how many.
    Files of live processes (another run into the same folder) are left alone."""
    removed = 0
    for sub in ("", *SUBFOLDERS, *(f"{STAGING}/{s}" for s in SUBFOLDERS)):
        folder = root / sub
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            match = _TEMP.match(path.name)
            if match and not _pid_alive(int(match.group(1))):
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync_folder(folder: Path) -> None:
    """Make renames in a folder durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class DatasetWriter:
    """Writes frames into a folder made by prepare_dataset; any number of processes may share one.

    In the files layout frames go straight to their folders; in the shards layout to ``staging/``, and
    the process that runs the job packs them (pack_shard, ShardPacking)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        try:
            header = read_header(self.root / "dataset.json")
        except ValueError:  # a folder prepare_dataset did not make: write the default channels, as files
            self.channels = tuple(c for c in CHANNEL_NAMES if c in DEFAULT_OUTPUTS and CHANNELS[c].stored)
            self.layout, self.shard_size = "files", DEFAULT_SHARD_SIZE
        else:
            self.channels = header.stored_channels
            self.layout, self.shard_size = header.layout, header.frames_per_shard
        self.frames_root = self.root / STAGING if self.layout == "shards" else self.root

    def _members(self) -> list[tuple[str, str]]:
        """(folder, suffix) of a frame's files, the meta file last."""
        return [(c, CHANNELS[c].suffix) for c in self.channels] + [("meta", ".json")]

    def staged(self) -> set[int]:
        """Indices of frames written in full under frames_root: the meta file (written last) is whole
        (non-empty, ends as the writer ends it) and every other file of the frame is there and not
        empty. Anything less (a power loss can leave empty or short files) is not complete, and a rerun
        makes it again."""
        done = set()
        for path in (self.frames_root / "meta").glob("*.json"):
            if path.stem.isdigit() and self._frame_is_whole(path):
                done.add(int(path.stem))
        return done

    def packed(self) -> set[int]:
        """Indices of frames in the shard files (shards layout)."""
        done: set[int] = set()
        for path in shard_paths(self.root):
            try:
                done.update(index_shard(path))
            except ValueError as exc:
                raise OutputError(f"{exc}; move it away and run again to make its frames anew") from None
        return done

    def completed(self) -> set[int]:
        """Indices of the frames written in full, packed or not."""
        return self.staged() | (self.packed() if self.layout == "shards" else set())

    def _frame_is_whole(self, meta: Path) -> bool:
        try:
            size = meta.stat().st_size
            if size < 2:
                return False
            with open(meta, "rb") as handle:
                handle.seek(size - 2)
                if handle.read(2) != b"}\n":
                    return False
            return all((self.frames_root / c / f"{meta.stem}{CHANNELS[c].suffix}").stat().st_size > 0
                       for c in self.channels)
        except OSError:
            return False

    def write_frame(self, frame: FrameDescription, buffers: RenderBuffers, labels: list[ObjectLabels]) -> None:
        """Write one frame; its meta file last, so a frame is visible only when complete."""
        name = frame_name(frame.index)
        root = self.frames_root
        def encode(name_: str) -> bytes:
            channel = CHANNELS[name_]
            return channel.encode(channel.extract(frame, buffers))

        try:
            # Only what the scene's outputs ask for; encoded side by side where there are cores to spare
            # (zlib, zstd and PNG release the GIL), in channel order otherwise. Same bytes either way.
            pool = _encoder_pool()
            encoded = pool.map(encode, self.channels) if pool is not None else map(encode, self.channels)
            for name_, data in zip(self.channels, encoded, strict=True):
                atomic_write_bytes(root / name_ / f"{name}{CHANNELS[name_].suffix}", data)
            for name_ in self.channels:  # the data files' names are durable before the meta file names them
                _fsync_folder(root / name_)
            atomic_write_json(root / "meta" / f"{name}.json", FrameRecord.of(frame, labels).to_dict(), indent=None)
            _fsync_folder(root / "meta")
        except OSError as exc:
            raise OutputError(f"{self.root}: cannot write frame {frame.index} ({_reason(exc)})") from None

    def pack_shard(self, shard: int) -> int:
        """Pack the staged frames of ``shard`` (with those its file already holds) into its tar, in index
        order; then remove them from staging. Returns the number of frames in the shard."""
        path = self.root / SHARDS / shard_name(shard)
        lo, hi = shard * self.shard_size, (shard + 1) * self.shard_size
        staged = sorted(i for i in self.staged() if lo <= i < hi)
        try:
            held = index_shard(path) if path.is_file() else {}
        except ValueError as exc:
            raise OutputError(f"{exc}; move it away and run again to make its frames anew") from None
        order = sorted(set(staged) | set(held))
        staged_set = set(staged)

        def samples() -> Iterator[Sample]:  # one frame in memory at a time
            for index in order:
                if index in staged_set:
                    name = frame_name(index)
                    yield index, [(f"{folder}{suffix}", (self.frames_root / folder / f"{name}{suffix}").read_bytes())
                                  for folder, suffix in self._members()]
                else:
                    spans = held[index]
                    yield index, [(member, read_span(path, spans[member])) for member in _member_order(spans)]

        try:
            atomic_write(path, lambda handle: write_tar(handle, samples()))
            _fsync_folder(path.parent)
            for index in staged:  # meta first: a frame stops counting as staged before its files go
                name = frame_name(index)
                for folder, suffix in reversed(self._members()):
                    (self.frames_root / folder / f"{name}{suffix}").unlink(missing_ok=True)
        except OSError as exc:
            raise OutputError(f"{self.root}: cannot write shard {path.name} ({_reason(exc)})") from None
        return len(order)

    def finish(self, run: RunRecord) -> None:
        """Record the run's figures in dataset.json (frames written, seconds, frames/s)."""
        header_path = self.root / "dataset.json"
        try:
            header = read_header(header_path)
        except ValueError as exc:
            raise OutputError(str(exc)) from None
        header = dataclasses.replace(header, runs=(*header.runs, run), frames=len(self.completed()))
        try:
            atomic_write_json(header_path, header.to_dict())
        except OSError as exc:
            raise OutputError(f"{self.root}: cannot update dataset.json ({_reason(exc)})") from None


_ENCODERS: list[ThreadPoolExecutor | None] = []


def _encoder_pool() -> ThreadPoolExecutor | None:
    """Threads that encode a frame's channels side by side: one per core beyond the two that rendering
    and writing take (none on a two-core machine), at most six."""
    if not _ENCODERS:
        spare = min((os.cpu_count() or 1) - 2, 6)
        _ENCODERS.append(ThreadPoolExecutor(spare, thread_name_prefix="encode") if spare >= 2 else None)
    return _ENCODERS[0]


def _member_order(members: dict[str, Any]) -> list[str]:
    """A frame's members as the writer orders them: channels in registry order, the meta file last."""
    rank = {name: k for k, name in enumerate(CHANNEL_NAMES)}
    return sorted(members, key=lambda m: (m == "meta.json", rank.get(m.split(".")[0], len(rank)), m))


class ShardPacking:
    """Packs each shard of a run as soon as every frame the run makes in it is complete.

    ``start .. stop - 1`` are the run's frames, ``done`` those complete before it began. Memory: one
    counter per shard in progress (never a list of the run's frames)."""

    def __init__(self, writer: DatasetWriter, start: int, stop: int, done: set[int]) -> None:
        self.writer, self.start, self.stop, self.done = writer, start, stop, done
        self.remaining: dict[int, int] = {}

    def _planned(self, shard: int) -> range:
        size = self.writer.shard_size
        return range(max(shard * size, self.start), min((shard + 1) * size, self.stop))

    def begin(self) -> None:
        """Pack what an interrupted run left staged in shards that are complete already."""
        for shard in sorted({i // self.writer.shard_size for i in self.writer.staged()}):
            if all(i in self.done for i in self._planned(shard)):
                self.writer.pack_shard(shard)

    def written(self, indices: Iterable[int]) -> None:
        for index in indices:
            shard = index // self.writer.shard_size
            if shard not in self.remaining:
                self.remaining[shard] = sum(1 for i in self._planned(shard) if i not in self.done)
            self.remaining[shard] -= 1
            if self.remaining[shard] == 0:
                del self.remaining[shard]
                self.writer.pack_shard(shard)


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on device"
    return exc.strerror or str(exc)


def frame_meta(frame: FrameDescription, labels: list[ObjectLabels]) -> dict[str, Any]:
    """The meta file's JSON object of a frame: its FrameRecord (renderer.io.records) as plain data."""
    return FrameRecord.of(frame, labels).to_dict()
