"""What the dataset's writer and reader share: format constants, frame names, atomic file writes and
strict JSON (the typed header and frame records: renderer.io.records). The reader
(renderer.io.dataset) never imports the writer."""

from __future__ import annotations

import io
import json
import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from renderer.errors import RendererError

FORMAT_NAME = "renderer-dataset"
FORMAT_VERSION = 5
LAYOUTS = ("files", "shards")


class OutputError(RendererError, RuntimeError):
    """The output folder cannot take this dataset; one line saying why."""


def frame_name(index: int) -> str:
    return f"{index:06d}"


def atomic_write(path: Path, write: Callable[[io.BufferedWriter], None]) -> None:
    # A name of its own per process and thread: workers may write the same file (never the same frame).
    # The data reaches the disk (fsync) before the name appears, so a power loss cannot leave a named
    # file with missing contents (measured: about 1 ms per 5 MB frame here, on the writer thread).
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda handle: handle.write(data))  # type: ignore[arg-type,return-value]


def link_or_copy(src: Path, dst: Path) -> None:
    """dst becomes a hard link to src (a copy across file systems), atomically."""
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def atomic_write_json(path: Path, payload: Any, indent: int | None = 1) -> None:
    """Strict JSON file (NaN and infinities refused: they are not JSON); indent=None writes compactly
    (and much faster: the C encoder)."""
    try:
        text = json.dumps(payload, indent=indent, allow_nan=False)
    except ValueError:
        raise OutputError(f"{path}: refusing to write non-finite numbers (NaN or infinity) into JSON; the "
                          "scene's values are out of a usable range") from None
    atomic_write_bytes(path, (text + "\n").encode())


def read_json_object(path: Path, what: str) -> dict[str, Any]:
    """A JSON object from a file; ValueError with one line naming the file and ``what`` it should be."""
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        detail = " ".join(str(getattr(exc, "strerror", None) or exc).split())
        raise ValueError(f"{path}: unreadable {what} ({detail})") from None
    if not isinstance(value, dict):
        raise ValueError(f"{path}: malformed {what} (not a JSON object)")
    return value
