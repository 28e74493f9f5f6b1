"""Sizes and encode/decode times of candidate lossless encodings for depth and normals, on frames of the
default scene (the table in docs/format.md).

Candidates: raw .npy (format 3), numpy .npz (deflate levels 1, 3, 6; what format 4 writes at 3), zstd
around a .npy (level 3), OpenEXR float32 (ZIP, ZIPS, PIZ; what Blender reads), and for normals the
octahedral 2x16-bit encoding in a 16-bit PNG (lossy: its largest angle error is printed).

    .venv/bin/python scripts/encodings.py [--frames 8]
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from renderer.channels.codecs import npz_array, npz_bytes, png_array, png_bytes
from renderer.config.schema import load_scene
from renderer.pipeline.run import generate

ROOT = Path(__file__).resolve().parent.parent
Codec = tuple[Callable[[NDArray[Any]], bytes], Callable[[bytes], NDArray[Any]]]


def _npy(array: NDArray[Any]) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _npz_level(level: int) -> Codec:
    import renderer.channels.codecs as codecs

    def encode(array: NDArray[Any]) -> bytes:
        saved, codecs.NPZ_LEVEL = codecs.NPZ_LEVEL, level
        try:
            return npz_bytes(array, "a")
        finally:
            codecs.NPZ_LEVEL = saved

    return encode, lambda data: npz_array(data, "a")


def _zstd() -> Codec | None:
    try:
        import zstandard
    except ImportError:
        return None
    return (lambda a: zstandard.ZstdCompressor(level=3).compress(_npy(a)),
            lambda d: np.load(io.BytesIO(zstandard.decompress(d))))


def _exr(compression: str) -> Codec | None:
    try:
        import OpenEXR
    except ImportError:
        return None
    kind = getattr(OpenEXR, compression)
    folder = tempfile.mkdtemp(prefix="exr-")

    def encode(array: NDArray[Any]) -> bytes:
        channels = {"Z": array} if array.ndim == 2 else {c: np.ascontiguousarray(array[..., k])
                                                          for k, c in enumerate("XYZ")}
        path = os.path.join(folder, "x.exr")
        OpenEXR.File({"compression": kind, "type": OpenEXR.scanlineimage}, channels).write(path)
        return Path(path).read_bytes()

    def decode(data: bytes) -> NDArray[Any]:
        path = os.path.join(folder, "y.exr")
        Path(path).write_bytes(data)
        with OpenEXR.File(path) as f:
            ch = f.channels()
            return ch["Z"].pixels if "Z" in ch and len(ch) == 1 else np.stack([ch[c].pixels for c in "XYZ"], -1)

    return encode, decode


def octahedral(normals: NDArray[np.float32]) -> NDArray[np.uint16]:
    n = normals / np.maximum(np.abs(normals).sum(-1, keepdims=True), 1e-12)
    x, y, z = n[..., 0], n[..., 1], n[..., 2]
    ox = np.where(z >= 0, x, (1 - np.abs(y)) * np.sign(x + (x == 0)))
    oy = np.where(z >= 0, y, (1 - np.abs(x)) * np.sign(y + (y == 0)))
    return np.stack([np.rint((ox + 1) * 32767.5), np.rint((oy + 1) * 32767.5), np.zeros_like(ox)], -1).astype(np.uint16)


def from_octahedral(encoded: NDArray[np.uint16]) -> NDArray[np.float32]:
    ox = encoded[..., 0] / 32767.5 - 1
    oy = encoded[..., 1] / 32767.5 - 1
    z = 1 - np.abs(ox) - np.abs(oy)
    t = np.clip(-z, 0, None)
    x = ox - t * np.sign(ox + (ox == 0))
    y = oy - t * np.sign(oy + (oy == 0))
    v = np.stack([x, y, z], -1)
    return (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scene", type=Path, default=ROOT / "scenes" / "tabletop.yaml")
    parser.add_argument("--frames", type=int, default=8)
    args = parser.parse_args()
    from renderer.io.dataset import Dataset

    out = Path(tempfile.mkdtemp(prefix="encodings-"))
    generate(load_scene(args.scene), out, frames=args.frames, seed=0)
    ds = Dataset(out)
    arrays = {"depth": [ds[i].depth for i in range(len(ds))], "normals": [ds[i].normals for i in range(len(ds))]}
    candidates: dict[str, Codec | None] = {
        "npy (raw, format 3)": (_npy, lambda d: np.load(io.BytesIO(d))),
        "npz deflate 1": _npz_level(1), "npz deflate 3 (format 4)": _npz_level(3), "npz deflate 6": _npz_level(6),
        "npy + zstd 3": _zstd(),
        "EXR float32 ZIP": _exr("ZIP_COMPRESSION"), "EXR float32 ZIPS": _exr("ZIPS_COMPRESSION"),
        "EXR float32 PIZ": _exr("PIZ_COMPRESSION"),
    }
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; scene {args.scene.name}, "
          f"{args.frames} frames of {ds[0].image_size[0]}x{ds[0].image_size[1]}")
    print("| channel | encoding | kB per frame | encode ms | decode ms | exact |")
    print("| --- | --- | ---: | ---: | ---: | --- |")
    for channel, frames in arrays.items():
        for name, codec in candidates.items():
            if codec is None:
                continue
            encode, decode = codec
            sizes, enc, dec, exact = [], 0.0, 0.0, True
            for array in frames:
                t0 = time.perf_counter()
                data = encode(array)
                t1 = time.perf_counter()
                back = decode(data)
                dec += time.perf_counter() - t1
                enc += t1 - t0
                sizes.append(len(data))
                exact &= back.dtype == array.dtype and np.array_equal(back.view(np.uint32), array.view(np.uint32))
            n = len(frames)
            print(f"| {channel} | {name} | {np.mean(sizes) / 1000:.0f} | {enc / n * 1000:.1f} | {dec / n * 1000:.1f} "
                  f"| {'bit-exact' if exact else 'NO'} |")
        if channel == "normals":
            sizes, worst, enc = [], 0.0, 0.0
            for array in frames:
                t0 = time.perf_counter()
                data = png_bytes(octahedral(array))
                enc += time.perf_counter() - t0
                back = from_octahedral(png_array(data))
                surface = np.any(array != 0, -1)
                cos = np.clip((back[surface] * array[surface]).sum(-1) / np.linalg.norm(array[surface], axis=-1), -1, 1)
                worst = max(worst, float(np.degrees(np.arccos(cos)).max()))
                sizes.append(len(data))
            print(f"| normals | octahedral 2x16-bit PNG | {np.mean(sizes) / 1000:.0f} | {enc / len(frames) * 1000:.1f} "
                  f"| - | lossy, max {worst:.4f} deg |")


if __name__ == "__main__":
    main()
