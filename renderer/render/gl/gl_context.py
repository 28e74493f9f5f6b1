"""One offscreen OpenGL context (EGL by default), shared by the raster engine and the label pass.

pyrender's OffscreenRenderer makes the context (and, for the raster engine, renders into it); our label
pass draws into the same context with its own framebuffer. The context is made current before each use.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from renderer.render.gl.gl_platform import BackendError, context_error_message, select_gl_platform

# Large meshes are drawn this many triangles at a time, each piece finished before the next: Mesa's
# software rasteriser bins a whole draw's triangles for its threads before they rasterise, and the bins
# of a 1.3 M-face scan's single draw held ~100 MB at once (scripts/large_mesh.py). Consecutive draws
# of the pieces make the same pixels as one draw (primitives are rasterised in order either way).
DRAW_CHUNK_TRIANGLES = 100_000


def index_chunks(count: int) -> list[tuple[int, int]]:
    """(first index, index count) of the pieces a draw of ``count`` triangle indices is split into."""
    step = 3 * DRAW_CHUNK_TRIANGLES
    return [(first, min(step, count - first)) for first in range(0, count, step)] or [(0, 0)]


def import_pyrender() -> Any:
    """Import pyrender after the GL platform is chosen, with the one numpy 2 fix it needs, and its indexed
    draws of large meshes split into pieces (index_chunks)."""
    select_gl_platform()
    if not hasattr(np, "infty"):  # pyrender 0.1.45's Mesh.bounds uses np.infty, removed in numpy 2
        setattr(np, "infty", np.inf)  # noqa: B010 (the name np.infty itself would be "fixed" by ruff NPY201)
    import pyrender
    import pyrender.renderer

    draw = pyrender.renderer.glDrawElementsInstanced  # its module's own name (from OpenGL.GL import *)
    if not getattr(draw, "in_chunks", False):
        pyrender.renderer.glDrawElementsInstanced = _chunked_instanced_draw(draw)
    return pyrender


def _chunked_instanced_draw(draw: Any) -> Any:
    import ctypes

    from OpenGL import GL as gl

    def chunked(mode: int, count: int, index_type: int, offset: Any, instances: int) -> None:
        chunks = index_chunks(count) if mode == gl.GL_TRIANGLES and index_type == gl.GL_UNSIGNED_INT else []
        if len(chunks) <= 1:
            draw(mode, count, index_type, offset, instances)
            return
        base = int(getattr(offset, "value", offset) or 0)
        for first, size in chunks:
            draw(mode, size, index_type, ctypes.c_void_p(base + 4 * first), instances)
            gl.glFinish()

    chunked.in_chunks = True  # type: ignore[attr-defined]
    return chunked


class GLContext:
    """An offscreen context of one image size. Close it when done (or use it as a context manager)."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        try:
            self.pyrender = import_pyrender()
            self.offscreen = self.pyrender.OffscreenRenderer(width, height)
        except Exception as exc:
            raise BackendError(context_error_message(select_gl_platform(), exc)) from None
        self._on_close: list[Any] = []

    def make_current(self) -> None:
        self.offscreen._platform.make_current()

    def on_close(self, release: Any) -> None:
        """Call ``release`` (with the context current) before the context goes."""
        self._on_close.append(release)

    def close(self) -> None:
        if self.offscreen is None:
            return
        platform = self.offscreen._platform
        platform.make_current()
        for release in reversed(self._on_close):
            release()
        self._on_close.clear()
        if hasattr(platform, "_egl_display"):
            # pyrender would eglTerminate the display, which every EGL context of the process
            # shares: another open context (or the user's own) would die with this one.
            platform.delete_context = functools.partial(_destroy_egl_context_only, platform)
        self.offscreen.delete()
        self.offscreen = None

    def __enter__(self) -> GLContext:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _destroy_egl_context_only(platform: Any) -> None:
    from OpenGL import EGL

    if platform._egl_context is not None:
        EGL.eglMakeCurrent(platform._egl_display, EGL.EGL_NO_SURFACE, EGL.EGL_NO_SURFACE, EGL.EGL_NO_CONTEXT)
        EGL.eglDestroyContext(platform._egl_display, platform._egl_context)
        platform._egl_context = None
    platform._egl_display = None
