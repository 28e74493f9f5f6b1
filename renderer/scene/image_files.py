"""How large an image file is, read from its header alone, and the size an image the scene draws from may
have: a file of a few hundred kB can declare 30 000 x 30 000 pixels (a "decompression bomb": 2.7 GB as
decoded BGR, several times that at peak), so the pixel count is checked before any decoder runs.

Bounds (docs/scenes.md): an 8-bit image (texture, background, fabric) at most MAX_IMAGE_PIXELS (8192 x
8192: 201 MB decoded), an environment map at most MAX_MAP_PIXELS (8192 x 4096: 403 MB as float32 RGB).
Larger files are refused naming the file and both sizes (downscale them once, e.g. ``convert -resize``),
rather than decoded and shrunk: PNG and most decoders allocate the full image before any resize.
"""

from __future__ import annotations

import threading
import warnings
from pathlib import Path

MAX_IMAGE_PIXELS = 8192 * 8192
MAX_MAP_PIXELS = 8192 * 4096
_HDR_HEADER_BYTES = 64 * 1024
_PIL_LIMIT = threading.Lock()  # PIL's own bomb limit is a module global, lifted here for one header read


def image_size(path: str | Path) -> tuple[int, int] | None:
    """(width, height) of an image file from its header (PNG, JPEG, BMP, WebP, TIFF through PIL's lazy
    open; Radiance .hdr and OpenEXR .exr headers read here); None where the header cannot be read."""
    suffix = Path(path).suffix.lower()
    try:
        if suffix == ".hdr":
            return _hdr_size(Path(path))
        if suffix == ".exr":
            import OpenEXR

            low, high = OpenEXR.File(str(path), header_only=True).header()["dataWindow"]
            return int(high[0] - low[0] + 1), int(high[1] - low[1] + 1)
        from PIL import Image

        with _PIL_LIMIT, warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None  # the size is judged below, not here
            try:
                with Image.open(path) as image:  # lazy: reads the header only
                    return int(image.width), int(image.height)
            finally:
                Image.MAX_IMAGE_PIXELS = saved
    except Exception:  # noqa: BLE001 - every reader raises its own types on a damaged header
        return None


def _hdr_size(path: Path) -> tuple[int, int] | None:
    with path.open("rb") as f:
        head = f.read(_HDR_HEADER_BYTES)
    lines = head.split(b"\n")
    if not lines or not lines[0].startswith(b"#?"):
        return None
    try:
        blank = lines.index(b"", 1)
        words = lines[blank + 1].split()
    except (ValueError, IndexError):
        return None
    if len(words) != 4 or {words[0][1:], words[2][1:]} != {b"X", b"Y"}:
        return None
    sizes = {words[0][1:]: int(words[1]), words[2][1:]: int(words[3])}
    return sizes[b"X"], sizes[b"Y"]


def image_size_problem(path: str | Path, hdr: bool = False) -> str | None:
    """Why an image file may not be decoded (its header unreadable, or more pixels than allowed: one
    phrase), or None. ``hdr``: an environment map (MAX_MAP_PIXELS), else an 8-bit image (MAX_IMAGE_PIXELS)."""
    size = image_size(path)
    if size is None:
        return "missing or unreadable image header"
    width, height = size
    limit = MAX_MAP_PIXELS if hdr else MAX_IMAGE_PIXELS
    if width < 1 or height < 1:
        return f"{width} x {height} pixels"
    if width * height > limit:
        bound = "8192 x 4096" if hdr else "8192 x 8192"
        return (f"{width} x {height} pixels, more than the {limit / 1e6:.0f} million ({bound}) "
                f"{'an environment map' if hdr else 'an image'} may have; downscale it")
    return None
