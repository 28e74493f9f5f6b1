"""Choose the OpenGL platform once, at the entry point, before OpenGL is first imported."""

from __future__ import annotations

import os
import sys


class BackendError(RuntimeError):
    """No usable OpenGL context; the message says what to install."""


MISSING_GL_HINT = (
    "could not create an offscreen OpenGL context through {platform}: install the system packages "
    "libegl1 libegl-mesa0 libgl1-mesa-dri (Debian: sudo apt-get install libegl1 libegl-mesa0 "
    "libgl1-mesa-dri), or an NVIDIA driver with EGL; original error: {error}"
)


def select_gl_platform() -> str:
    """Use EGL unless PYOPENGL_PLATFORM says otherwise.

    EGL works without a display on Mesa (llvmpipe, software) and on the NVIDIA driver (GPU), so it is
    the default everywhere; set PYOPENGL_PLATFORM (egl, osmesa, glx) to override.
    """
    platform = os.environ.get("PYOPENGL_PLATFORM")
    if not platform:
        platform = "egl"
        if "OpenGL" not in sys.modules:
            os.environ["PYOPENGL_PLATFORM"] = platform
    return platform
