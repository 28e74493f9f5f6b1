"""Lossless encodings of arrays: PNG (8/16-bit), numpy's .npz, and a .npy in a zstd frame (.npy.zst).

Encoders favour speed at a size within a few per cent of their best (docs/format.md has the measured
table): PNG at zlib level 1 with one fixed row filter, npz with deflate level 3 (depth and normals:
numpy reads it with no glue), zstd level -1 (fast) for the motion channels' float32 images, whose noisy
mantissas make deflate five to ten times slower than zstd for no smaller file.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from typing import Any

import numpy as np
from numpy.typing import NDArray

from renderer.errors import quiet_stderr

NPZ_LEVEL = 3


def png_bytes(image: NDArray[Any]) -> bytes:
    """PNG of a uint8/uint16 (H, W) or (H, W, 3) array, channels in OpenCV's BGR order."""
    import cv2

    params = [cv2.IMWRITE_PNG_COMPRESSION, 1]
    # One fixed row filter (SUB for photos, NONE for masks): about half the time of OpenCV's adaptive
    # filtering for the same size. Older OpenCV builds lack the flag.
    png_filter = getattr(cv2, "IMWRITE_PNG_FILTER", None)
    if png_filter is not None:
        params += [png_filter, cv2.IMWRITE_PNG_FILTER_SUB if image.ndim == 3 else cv2.IMWRITE_PNG_FILTER_NONE]
    ok, data = cv2.imencode(".png", image, params)
    if not ok:  # pragma: no cover - cv2 fails only on unsupported dtypes
        raise ValueError("PNG encoding failed")
    return bytes(data.tobytes())


def png_array(data: bytes) -> NDArray[Any]:
    import cv2
    with quiet_stderr():  # libpng prints its own complaints about damaged files
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED) if data else None
    if image is None:
        raise ValueError("unreadable image (damaged or not a PNG)")
    return image


def npz_bytes(array: NDArray[Any], name: str) -> bytes:
    """A numpy .npz holding ``array`` under ``name`` (np.load(f)[name]); deflate, bit-exact."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=NPZ_LEVEL) as archive:
        with archive.open(f"{name}.npy", "w", force_zip64=False) as member:
            np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def npz_array(data: bytes, name: str) -> NDArray[Any]:
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            return np.asarray(archive[name])
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as exc:
        raise ValueError(f"unreadable array ({type(exc).__name__}: {' '.join(str(exc).split())})") from None


ZSTD_LEVEL = -1  # 15 % larger than level 3 in 40 % of its time: motion labels' cost (docs/format.md)


def npy_zst_bytes(array: NDArray[Any]) -> bytes:
    """A .npy file compressed as one zstd frame (``zstd -d`` gives the .npy back).

    One-shot compression of the .npy assembled with a single copy: zstandard's streaming compressor
    gives the GIL back and takes it again for every 128 kB block, and with the main thread busy in
    Python each retake waited for the interpreter's switch interval (15x slower, measured)."""
    import zstandard

    array = np.ascontiguousarray(array)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, np.lib.format.header_data_from_array_1_0(array))
    head = header.getvalue()
    npy = bytearray(len(head) + array.nbytes)
    npy[:len(head)] = head
    npy[len(head):] = array.reshape(-1).view(np.uint8).data
    return bytes(zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(npy))


def npy_zst_array(data: bytes) -> NDArray[Any]:
    import zstandard

    try:
        raw = zstandard.ZstdDecompressor().decompress(data, max_output_size=1 << 34)
    except zstandard.ZstdError as exc:
        raise ValueError(f"unreadable zstd data ({' '.join(str(exc).split())})") from None
    return npy_array(raw)


def npy_array(data: bytes) -> NDArray[Any]:
    """A plain .npy (format versions before 4 wrote depth and normals so)."""
    try:
        return np.asarray(np.load(io.BytesIO(data), allow_pickle=False))
    except (OSError, ValueError, EOFError) as exc:
        raise ValueError(f"unreadable array ({type(exc).__name__}: {' '.join(str(exc).split())})") from None
