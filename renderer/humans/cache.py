"""The body model's cache on disk (anny's built model data, ~1.3 GB of ``.safetensors`` files under
``~/.cache/anny`` or ``$ANNY_CACHE_DIR``): checked before a run with people writes anything.

anny builds its data once and loads it in later processes; a file cut short (a full disk, a killed build),
a cache on a read-only file system or a cache path that is a regular file would otherwise end in a
traceback from deep inside anny after the dataset folder was made. ``check_body_model_cache`` reads only
the files' headers (no torch, no anny import): a damaged file is removed where the folder is writable (anny
rebuilds it on first use, about a minute) and refused, naming it, where not.

A safetensors file is an 8-byte little-endian header length n, n bytes of JSON naming each tensor's
``data_offsets`` [begin, end) in the data that follows; its size is exactly 8 + n + the largest end.
"""

from __future__ import annotations

import json
import math
import os
import struct
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from renderer.errors import RendererError

MAX_HEADER_BYTES = 100 * 2**20  # safetensors' own limit on the JSON header


class BodyModelCacheError(RendererError):
    """The body model's cache cannot be used or rebuilt; the message is one line naming the path."""


def body_model_cache_dir() -> Path:
    """Where anny keeps its built model data: anny's own setting once anny is imported, else the rule anny
    applies on import (``$ANNY_CACHE_DIR``, default ``~/.cache/anny``); read here so that the check needs
    no torch import."""
    paths = sys.modules.get("anny.paths")
    if paths is not None:
        return Path(paths.get_anny_cache_path())
    return Path(os.environ.get("ANNY_CACHE_DIR", str(Path.home() / ".cache" / "anny")))


def check_body_model_cache(warn: Callable[[str], None], root: Path | None = None) -> None:
    """The cache at ``root`` (default body_model_cache_dir()) can be loaded from or built into:
    BodyModelCacheError where it is not a folder, cannot be made, or is read-only and holds a damaged file
    or no built model; a damaged file in a writable folder is removed (anny rebuilds it) and reported
    through ``warn``."""
    root = body_model_cache_dir() if root is None else root
    where = f"the body model's cache {root} ($ANNY_CACHE_DIR)"
    if root.exists() and not root.is_dir():
        raise BodyModelCacheError(f"{where} is not a folder; point ANNY_CACHE_DIR at a folder")
    if not root.exists():
        ancestor = next(p for p in root.parents if p.exists())
        if not ancestor.is_dir():
            raise BodyModelCacheError(f"{where} cannot be made: {ancestor} is not a folder")
        if not os.access(ancestor, os.W_OK | os.X_OK):
            raise BodyModelCacheError(f"{where} cannot be made: {ancestor} is read-only")
        return  # anny builds it on first use
    files = sorted(root.glob("v*/*.safetensors"))
    for path in files:
        problem = safetensors_problem(path)
        if problem is None:
            continue
        if os.access(path.parent, os.W_OK | os.X_OK):
            try:
                path.unlink()
            except OSError as exc:
                raise BodyModelCacheError(f"{path}: damaged body model cache file ({problem}) and cannot be "
                                          f"removed ({exc.strerror})") from None
            warn(f"removed a damaged body model cache file ({problem}): {path}; rebuilt on first use (~1 min)")
        else:
            raise BodyModelCacheError(f"{path}: damaged body model cache file ({problem}) in a read-only "
                                      f"folder; remove it or point ANNY_CACHE_DIR at a writable folder")
    usable = [p for p in files if p.exists()]
    if not usable and not _writable_tree(root):
        raise BodyModelCacheError(f"{where} is read-only and holds no built model; run scripts/setup.sh or "
                                  f"point ANNY_CACHE_DIR at a writable folder")


def _writable_tree(root: Path) -> bool:
    """Whether anny can write its versioned folder and files under ``root``."""
    folders = [root, *(p for p in root.glob("v*") if p.is_dir())]
    return all(os.access(p, os.W_OK | os.X_OK) for p in folders)


def safetensors_problem(path: Path) -> str | None:
    """Why the safetensors file at ``path`` cannot be loaded (one phrase), judged from its header and size
    alone; None where it looks whole."""
    try:
        size = path.stat().st_size
        if size < 8:
            return f"{size} bytes"
        with path.open("rb") as f:
            (length,) = struct.unpack("<Q", f.read(8))
            if length > MAX_HEADER_BYTES or 8 + length > size:
                return f"header of {length} bytes in a file of {size}"
            header = json.loads(f.read(length))
    except OSError as exc:
        return f"unreadable: {exc.strerror}"
    except (ValueError, UnicodeDecodeError):
        return "header is not JSON"
    if not isinstance(header, dict):
        return "header is not a mapping"
    return _layout_problem(header, size - 8 - length)


_DTYPE_BYTES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2,
                "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8}


def _layout_problem(header: dict[str, Any], data_bytes: int) -> str | None:
    """Why the tensors a safetensors header lists do not tile its ``data_bytes`` of data exactly (each
    tensor's bytes = its element count x its dtype's size, in order, no gap, no overlap), or None."""
    metadata = header.get("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        return "header's metadata is not text"
    spans = []
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            return f"tensor {name!r} is not described by dtype, shape and data_offsets"
        dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if dtype not in _DTYPE_BYTES or not isinstance(shape, list) or not isinstance(offsets, list) \
                or len(offsets) != 2 or not all(_count(v) for v in (*shape, *offsets)):
            return f"tensor {name!r} has a malformed dtype, shape or data_offsets"
        begin, end = offsets
        if end - begin != _DTYPE_BYTES[dtype] * math.prod(shape):
            return f"tensor {name!r} has {end - begin} bytes for its shape {shape} of {dtype}"
        spans.append((begin, end))
    position = 0
    for begin, end in sorted(spans):
        if begin != position:
            return "tensors overlap or leave gaps"
        position = end
    if position != data_bytes:
        how = "cut short" if position > data_bytes else "too long"
        return f"{data_bytes} bytes of data, {position} expected ({how})"
    return None


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
