"""The only place that touches OpenGL: platform choice, the GL context, the label pass and its caches."""

from renderer.render.gl.gl_platform import BackendError, select_gl_platform

__all__ = ["BackendError", "select_gl_platform"]
