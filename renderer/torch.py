"""PyTorch datasets (the ``renderer[torch]`` extra): a written dataset, or frames rendered on the fly.

Both return the same sample for frame i (docs/pytorch.md): a dict of tensors

- ``image`` float32 (3, H, W) in [0, 1]; ``depth`` float32 (1, H, W) metres, 0 = no surface;
  ``normals`` float32 (3, H, W) camera frame; ``instance``, ``semantic`` int64 (H, W), 0 = background;
- per object, for the N objects with at least one visible pixel, in instance-id order:
  ``instance_ids``, ``labels`` (category ids) int64 (N,); ``boxes`` float32 (N, 4) as
  (x0, y0, x1, y1) pixel edges (torchvision's convention: x1 = x + w of our [x, y, w, h]);
  ``masks`` bool (N, H, W); ``keypoints`` float32 (N, L, 3) as (u, v, v_flag) with our pixel-centre
  (u, v) and v_flag 2 visible, 1 in frame but occluded, 0 outside (rows past an object's own
  landmarks are zero); ``poses`` float64 (N, 4, 4) object_to_camera; ``face_keypoints`` float32
  (N, 68, 3) people's face landmarks as keypoints (zero rows for objects without face labels; (N, 0, 3)
  when no object has them), ``face_boxes`` float32 (N, 4) their (x0, y0, x1, y1), ``head_rotations``
  float64 (N, 3, 3) head frame to camera (all zero without face labels; docs/faces.md);
- ``K`` float64 (3, 3), ``world_to_camera`` float64 (4, 4) (OpenCV frame), ``index`` int.

``fields`` keeps a subset (and skips the work for the rest); ``transform(sample) -> sample`` runs last.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from renderer.channels import CHANNELS, RenderedFrame
from renderer.errors import require_extra
from renderer.humans.catalog import scene_catalog
from renderer.scene.camera import camera_model
from renderer.scene.records import LandmarkLabels, ObjectLabels, as_stored

require_extra("torch", "torch", "renderer.torch", package="PyTorch")

import torch  # noqa: E402
from torch.utils.data import Dataset as TorchDataset  # noqa: E402
from torch.utils.data import IterableDataset  # noqa: E402

# The fields that carry a channel (each channel's ``sample_key``), read from that channel; then the
# per-object and camera fields, read from meta files. ``masks`` are made from the instance channel.
CHANNEL_OF_FIELD = {channel.sample_key: name for name, channel in CHANNELS.items() if channel.sample_key is not None}
FIELDS = (*CHANNEL_OF_FIELD, "instance_ids", "labels", "boxes", "masks", "keypoints", "poses", "face_keypoints",
          "face_boxes", "head_rotations", "K", "world_to_camera")
PER_OBJECT = ("instance_ids", "labels", "boxes", "masks", "keypoints", "poses", "face_keypoints", "face_boxes",
              "head_rotations")
FIELD_CHANNEL = {**CHANNEL_OF_FIELD, "masks": "instance"}  # the channel (dataset.json's outputs) a field needs

Sample = dict[str, Any]
Transform = Callable[[Sample], Sample]


def _check_fields(fields: Iterable[str] | None) -> tuple[str, ...]:
    chosen = tuple(FIELDS if fields is None else fields)
    unknown = [f for f in chosen if f not in FIELDS]
    if unknown:
        raise ValueError(f"unknown fields {unknown}; choose from {list(FIELDS)}")
    return chosen


def make_sample(index: int, fields: Sequence[str], *, channel: Callable[[str], NDArray[Any]], K: NDArray[np.float64],
                world_to_camera: NDArray[np.float64], objects: Sequence[ObjectLabels]) -> Sample:
    """One sample of a frame: ``channel(name)`` gives a channel's array, called only for the fields asked
    for (so unused files are never read); each channel field as its Channel.to_sample makes it."""
    sample: Sample = {"index": index}
    for key, name in CHANNEL_OF_FIELD.items():
        if key in fields:
            sample[key] = torch.from_numpy(np.ascontiguousarray(CHANNELS[name].to_sample(channel(name))))
    visible = [o for o in objects if o.visible_pixels > 0]
    if "instance_ids" in fields:
        sample["instance_ids"] = torch.tensor([o.instance_id for o in visible], dtype=torch.int64)
    if "labels" in fields:
        sample["labels"] = torch.tensor([o.category_id for o in visible], dtype=torch.int64)
    if "boxes" in fields:
        boxes = np.array([[x, y, x + w, y + h] for x, y, w, h in (o.bbox for o in visible)], dtype=np.float32)
        sample["boxes"] = torch.from_numpy(boxes.reshape(-1, 4))
    if "masks" in fields:
        ids = np.array([o.instance_id for o in visible], dtype=np.int64)
        sample["masks"] = torch.from_numpy(channel("instance")[None, :, :] == ids[:, None, None])
    if "keypoints" in fields:
        sample["keypoints"] = torch.from_numpy(_keypoints(visible))
    if "poses" in fields:
        sample["poses"] = torch.from_numpy(np.array([o.object_to_camera for o in visible], dtype=np.float64)
                                           .reshape(-1, 4, 4))
    if "face_keypoints" in fields:
        sample["face_keypoints"] = torch.from_numpy(_face_keypoints(visible))
    if "face_boxes" in fields:
        faces = [o.face.box if o.face is not None else (0, 0, 0, 0) for o in visible]
        sample["face_boxes"] = torch.tensor([[x, y, x + w, y + h] for x, y, w, h in faces],
                                            dtype=torch.float32).reshape(-1, 4)
    if "head_rotations" in fields:
        rotations = [o.face.head_rotation if o.face is not None else np.zeros((3, 3)) for o in visible]
        sample["head_rotations"] = torch.from_numpy(np.array(rotations, dtype=np.float64).reshape(-1, 3, 3))
    if "K" in fields:
        sample["K"] = torch.from_numpy(np.array(K, dtype=np.float64))
    if "world_to_camera" in fields:
        sample["world_to_camera"] = torch.from_numpy(np.array(world_to_camera, dtype=np.float64))
    return sample


def _face_keypoints(objects: Sequence[ObjectLabels]) -> NDArray[np.float32]:
    return _keypoints(objects, lambda o: o.face.landmarks if o.face is not None else None)


def _keypoints(objects: Sequence[ObjectLabels],
               which: Callable[[ObjectLabels], LandmarkLabels | None] = lambda o: o.landmarks) -> NDArray[np.float32]:
    sets = [which(o) for o in objects]
    count = max((len(lm.names) for lm in sets if lm is not None), default=0)
    out = np.zeros((len(objects), count, 3), dtype=np.float32)
    for n, lm in enumerate(sets):
        if lm is None:
            continue
        k = len(lm.names)
        out[n, :k, :2] = np.where(lm.in_frame[:, None], lm.uv, 0.0)
        out[n, :k, 2] = np.where(lm.visible, 2, np.where(lm.in_frame, 1, 0))
    return out


class RenderedDataset(TorchDataset):  # type: ignore[misc]
    """Map-style dataset over a folder written by ``renderer generate``; item i is its i-th frame."""

    def __init__(self, root: str | os.PathLike[str], fields: Iterable[str] | None = None,
                 transform: Transform | None = None) -> None:
        from renderer.io.dataset import Dataset

        self.frames = Dataset(root)
        self.fields = _default_fields(self.frames.channels, fields)
        self.frames.require(tuple(FIELD_CHANNEL[f] for f in self.fields if f in FIELD_CHANNEL),
                            f"fields {', '.join(self.fields)}")
        self.transform = transform

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, i: int) -> Sample:
        sample = sample_of_frame(self.frames[i], self.fields)
        return self.transform(sample) if self.transform is not None else sample


def sample_of_frame(frame: Any, fields: Sequence[str]) -> Sample:
    """make_sample over a renderer.io.dataset.Frame (files read only for the fields asked for)."""
    return make_sample(frame.index, fields, channel=frame.array, K=frame.K, world_to_camera=frame.world_to_camera,
                       objects=frame.objects)


def _default_fields(written: Sequence[str], fields: Iterable[str] | None) -> tuple[str, ...]:
    if fields is None:  # everything the dataset has
        fields = [f for f in FIELDS if f not in FIELD_CHANNEL or FIELD_CHANNEL[f] in written]
    return _check_fields(fields)


class ShardStream(IterableDataset):  # type: ignore[misc]
    """Frames of a shards-layout dataset (``--layout shards``), streamed shard by shard: each shard file
    is read front to back once, never opened at random, so the same code reads a local folder or a
    mounted object store.

    The shards are shared out among all readers, without duplicates: DataLoader worker w of W on rank
    r of R (``torch.distributed`` when it is initialised, else ``rank``/``world_size``) reads shards
    g, g + G, g + 2G ... for g = r * W + w, G = R * W. With ``shuffle_buffer`` > 0 the shard order is
    shuffled per epoch and frames pass through a buffer of that many (WebDataset's scheme), from
    ``SeedSequence(seed, spawn_key=(epoch, g))``: the same epoch gives the same order; ``set_epoch``
    changes it. Samples are those of RenderedDataset.
    """

    def __init__(self, root: str | os.PathLike[str], fields: Iterable[str] | None = None,
                 transform: Transform | None = None, shuffle_buffer: int = 0, seed: int = 0,
                 rank: int | None = None, world_size: int | None = None) -> None:
        from renderer.io.dataset import Dataset, DatasetError
        from renderer.io.shards import shard_paths

        self.root = Path(root)
        header = Dataset(root)  # checks dataset.json and every shard's index
        if header.layout != "shards":
            raise DatasetError(f"{self.root}: ShardStream reads the shards layout; this dataset has "
                               f"{header.layout} (use RenderedDataset)")
        self.channels = header.channels
        self.shards = [str(p) for p in shard_paths(self.root)]
        self.fields = _default_fields(self.channels, fields)
        header.require(tuple(FIELD_CHANNEL[f] for f in self.fields if f in FIELD_CHANNEL),
                       f"fields {', '.join(self.fields)}")
        if shuffle_buffer < 0:
            raise ValueError(f"shuffle_buffer must be >= 0, got {shuffle_buffer}")
        self.transform, self.shuffle_buffer, self.seed, self.epoch = transform, shuffle_buffer, seed, 0
        self.rank, self.world_size = rank, world_size

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _reader(self) -> tuple[int, int]:
        """(g, G): this reader's place among all of them."""
        from torch.utils.data import get_worker_info

        rank, world = self.rank, self.world_size
        if rank is None or world is None:
            dist = torch.distributed
            ready = dist.is_available() and dist.is_initialized()
            rank = (dist.get_rank() if ready else 0) if rank is None else rank
            world = (dist.get_world_size() if ready else 1) if world is None else world
        if not 0 <= rank < world:
            raise ValueError(f"rank {rank} is outside a world of {world}")
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        return rank * workers + worker, world * workers

    def _frames(self, shards: Sequence[str]) -> Iterable[Any]:
        from renderer.io.dataset import MemoryFiles, frame_from_files
        from renderer.io.shards import stream_samples

        for path in shards:
            with open(path, "rb") as handle:
                for index, members in stream_samples(handle):
                    yield frame_from_files(self.root, MemoryFiles(path, index, members), self.channels)

    def __iter__(self) -> Iterator[Sample]:
        g, total = self._reader()
        shards = self.shards[g::total]
        frames = self._frames(shards)
        if self.shuffle_buffer > 0:
            rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(self.epoch, g)))
            shards = [shards[k] for k in rng.permutation(len(shards))]
            frames = _shuffled(self._frames(shards), self.shuffle_buffer, rng)
        for frame in frames:
            sample = sample_of_frame(frame, self.fields)
            yield self.transform(sample) if self.transform is not None else sample


def _shuffled(items: Iterable[Any], size: int, rng: np.random.Generator) -> Iterable[Any]:
    """Items through a buffer of ``size``: each step emits a random one of those held."""
    buffer: list[Any] = []
    for item in items:
        buffer.append(item)
        if len(buffer) >= size:
            k = int(rng.integers(len(buffer)))
            buffer[k], buffer[-1] = buffer[-1], buffer[k]
            yield buffer.pop()
    while buffer:
        k = int(rng.integers(len(buffer)))
        buffer[k], buffer[-1] = buffer[-1], buffer[k]
        yield buffer.pop()


def _rendered_anyway(name: str, outputs: Sequence[str]) -> bool:
    """Whether a frame rendered for a scene with these outputs can give channel ``name``."""
    channel = CHANNELS[name]
    if name in outputs:
        return True
    return not channel.on_request and all(_rendered_anyway(r, outputs) for r in channel.requires)


class GeneratedDataset(TorchDataset):  # type: ignore[misc]
    """Frames rendered on demand: item i equals frame i of ``renderer generate`` with the same scene and seed.

    Each DataLoader worker process opens its own GL context on its first item (nothing GL happens in
    the main process until an item is read there); the DataLoader's sampler shares the indices out
    among the workers, and frame i depends only on (seed, i), so the split does not change the data.
    """

    def __init__(self, scene: str | os.PathLike[str] | Any, seed: int, length: int,
                 fields: Iterable[str] | None = None, transform: Transform | None = None) -> None:
        from renderer.config.schema import SceneConfig, load_scene
        from renderer.pipeline.run import load_catalog

        self.config: SceneConfig = scene if isinstance(scene, SceneConfig) else load_scene(Path(scene))
        from renderer.pipeline.balance import planned_config

        catalog = load_catalog(self.config)  # fail here, in the main process, on a bad asset
        self.config = planned_config(self.config, catalog, seed)  # balance_visible: as generate plans it
        if length < 0:
            raise ValueError(f"length must be >= 0, got {length}")
        self.seed, self.length = seed, length
        # Motion channels exist only where the scene's outputs ask the label pass for them (and so do the
        # derived channels made from them); the others come with every rendered frame.
        made = [f for f in FIELDS if f not in FIELD_CHANNEL or _rendered_anyway(FIELD_CHANNEL[f], self.config.outputs)]
        self.fields = _check_fields(made if fields is None else fields)
        missing = [f for f in self.fields if f not in made]
        if missing:
            raise ValueError(f"field {missing[0]} needs {FIELD_CHANNEL[missing[0]]} in the scene's outputs")
        self.transform = transform
        self._process: tuple[int, Any, Any] | None = None  # (pid, catalog, renderer)

    def __len__(self) -> int:
        return self.length

    def _renderer(self) -> tuple[Any, Any]:
        if self._process is None or self._process[0] != os.getpid():  # a fresh worker: its own context
            from renderer.render.frame import frame_renderer_for

            catalog = scene_catalog(self.config)  # first: a body model loads torch's extensions before GL
            renderer = frame_renderer_for(self.config)
            self._process = (os.getpid(), catalog, renderer)
        return self._process[1], self._process[2]

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_process": None}  # GL contexts do not travel to spawned workers

    def __getitem__(self, i: int) -> Sample:
        from renderer.pipeline.run import make_frame

        if not 0 <= i < self.length:
            raise IndexError(f"frame {i} out of range for {self.length} frames")
        catalog, renderer = self._renderer()
        frame, buffers, labels = make_frame(self.config, catalog, renderer, self.seed, i)
        stored = [as_stored(lab) for lab in labels]  # as a written dataset gives them back
        rendered = RenderedFrame(frame, buffers, stored)
        sample = make_sample(i, self.fields, channel=rendered.array, K=camera_model(frame.camera).pinhole_K(),
                             world_to_camera=np.asarray(frame.camera.world_to_camera), objects=stored)
        return self.transform(sample) if self.transform is not None else sample


def collate(samples: Sequence[Sample]) -> Sample:
    """Batch samples: image-sized and camera tensors stacked; per-object fields kept as lists (N varies)."""
    batch: Sample = {}
    for key in samples[0]:
        values = [s[key] for s in samples]
        if key in PER_OBJECT:
            batch[key] = values
        elif key == "index":
            batch[key] = torch.tensor(values, dtype=torch.int64)
        else:
            batch[key] = torch.stack(values)
    return batch


class SequenceClips(TorchDataset):  # type: ignore[misc]
    """Clips of ``length`` consecutive frames of a sequence dataset (video models, flow, tracking): item j
    is a dict with the per-frame samples' fields stacked along a new first (time) axis where they are
    image-sized or per-frame (``image`` (T, 3, H, W), ``flow_forward`` (T, 2, H, W), ``K`` (T, 3, 3) ...),
    per-object fields as lists of T tensors (their counts vary), ``index`` (T,) the frame indices,
    and ``sequence`` the sequence index. Clips start every ``stride`` frames and never cross sequences;
    a clip with a frame missing (an unfinished run) is left out."""

    def __init__(self, root: str | os.PathLike[str], length: int, stride: int = 1,
                 fields: Iterable[str] | None = None, transform: Transform | None = None) -> None:
        if length < 1 or stride < 1:
            raise ValueError(f"length and stride must be >= 1, got {length} and {stride}")
        self.frames = RenderedDataset(root, fields)
        dataset = self.frames.frames
        per_sequence = dataset.sequence_length
        if length > per_sequence:
            raise ValueError(f"clips of {length} frames do not fit in sequences of {per_sequence}")
        have = set(dataset.indices)
        self.position = {index: k for k, index in enumerate(dataset.indices)}
        self.starts = [s * per_sequence + t
                       for s in range((max(have, default=-1) // per_sequence) + 1)
                       for t in range(0, per_sequence - length + 1, stride)
                       if all(s * per_sequence + t + k in have for k in range(length))]
        self.length, self.per_sequence, self.transform = length, per_sequence, transform

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, j: int) -> Sample:
        start = self.starts[j]
        samples = [self.frames[self.position[start + k]] for k in range(self.length)]
        clip = collate(samples)
        clip["sequence"] = start // self.per_sequence
        return self.transform(clip) if self.transform is not None else clip


def keep_category(category_id: int, keypoints: int | None = None) -> Transform:
    """A transform keeping only the objects of one category, and of their keypoints the first
    ``keypoints`` (people: 17 are COCO's, the 6 foot points follow), as a keypoint detector wants
    (one class, one keypoint layout): ``RenderedDataset(root, transform=keep_category(person_id, 17))``."""

    def transform(sample: Sample) -> Sample:
        if "labels" not in sample:
            raise ValueError("keep_category needs the labels field")
        keep = sample["labels"] == category_id
        out = {key: (value[keep] if key in PER_OBJECT else value) for key, value in sample.items()}
        if keypoints is not None and "keypoints" in out:
            out["keypoints"] = out["keypoints"][:, :keypoints]
        return out

    return transform


def collate_detection(samples: Sequence[Sample]) -> tuple[list[torch.Tensor], list[dict[str, torch.Tensor]]]:
    """Batch samples the way torchvision's detection models take them: ``(images, targets)``, a list of
    (3, H, W) float images and a list of dicts with ``boxes`` (float32 (N, 4), x0 y0 x1 y1), ``labels``
    (int64 (N,)), and, where the samples have them, ``masks`` (uint8 (N, H, W)) and ``keypoints``
    (float32 (N, L, 3)). Use it as ``DataLoader(..., collate_fn=collate_detection)`` and call
    ``model(images, targets)``. Keypoints move to the boxes' coordinates (pixel edges, the image corner
    at 0, as COCO and torchvision have them): (u + 0.5, v + 0.5) where the keypoint is in frame."""
    if any("image" not in s or "boxes" not in s or "labels" not in s for s in samples):
        raise ValueError("collate_detection needs the image, boxes and labels fields")
    images = [s["image"] for s in samples]
    targets = []
    for s in samples:
        target = {"boxes": s["boxes"].float(), "labels": s["labels"].long()}
        if "masks" in s:
            target["masks"] = s["masks"].to(torch.uint8)
        if "keypoints" in s:
            keypoints = s["keypoints"].float().clone()
            keypoints[..., :2] += (keypoints[..., 2:] > 0).float() * 0.5
            target["keypoints"] = keypoints
        targets.append(target)
    return images, targets
