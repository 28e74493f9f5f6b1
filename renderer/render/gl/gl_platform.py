"""Choose the OpenGL platform once, at the entry point, before OpenGL is first imported."""

from __future__ import annotations

import os
import sys

from renderer.errors import RendererError


class BackendError(RendererError, RuntimeError):
    """No usable OpenGL context; the message says what to install."""


EGL_PACKAGES = ("libegl1", "libegl-mesa0", "libgl1-mesa-dri")


def missing_system_packages(platform: str) -> list[str]:
    """Debian packages whose files an offscreen context on ``platform`` needs and that are absent."""
    import ctypes.util
    import glob

    if platform == "osmesa":
        return [] if ctypes.util.find_library("OSMesa") else ["libosmesa6"]
    if platform != "egl":
        return []
    missing = []
    if not ctypes.util.find_library("EGL"):
        missing.append("libegl1")
    vendors = glob.glob("/usr/share/glvnd/egl_vendor.d/*.json") + glob.glob("/etc/glvnd/egl_vendor.d/*.json")
    if not vendors:
        missing.append("libegl-mesa0")
    if not glob.glob("/usr/lib/*/dri/swrast_dri.so") + glob.glob("/usr/lib/dri/swrast_dri.so") \
            and not any("nvidia" in v for v in vendors):
        missing.append("libgl1-mesa-dri")
    return missing


def context_error_message(platform: str, error: BaseException) -> str:
    """One line: what failed, which packages to install, and the underlying error."""
    detail = str(error).splitlines()[0] if str(error) else type(error).__name__
    missing = missing_system_packages(platform)
    if missing:
        advice = f"missing system packages: {' '.join(missing)} (Debian: apt-get install {' '.join(missing)})"
    elif platform == "egl":
        advice = (f"EGL needs {' '.join(EGL_PACKAGES)} (Debian) or an NVIDIA driver with EGL; they look "
                  "installed, so check the driver or set PYOPENGL_PLATFORM")
    else:
        advice = "set PYOPENGL_PLATFORM=egl for headless rendering"
    return f"could not create an offscreen OpenGL context through {platform}: {advice}; error: {detail}"


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
