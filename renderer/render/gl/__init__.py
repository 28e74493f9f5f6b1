"""Backends translate a frame description into render buffers; the only place that touches OpenGL."""

from renderer.render.gl.gl_platform import BackendError, select_gl_platform

__all__ = ["BackendError", "select_gl_platform"]
