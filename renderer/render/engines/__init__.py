"""Engines make a frame's RGB image from its description; labels never come from them.

The contract (Engine) is one method, ``render(frame, catalog) -> EngineImage``: colour over transparent
black, premultiplied by coverage, display-encoded. Background compositing and sensor effects are later
stages (renderer.render.frame), the same for every engine. An engine is the module of this package named
as in renderer.config.schema.ENGINES (the one list of names, which the config validates against without
importing any engine), defining ``ENGINE``, its factory; it is imported only when a scene uses it, so an
engine's dependencies (Mitsuba) load only then.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from renderer.config.schema import ENGINES
from renderer.scene.buffers import EngineImage

if TYPE_CHECKING:
    from renderer.assets.catalog import AssetCatalog
    from renderer.config.schema import RenderConfig
    from renderer.render.gl.gl_context import GLContext
    from renderer.scene.description import FrameDescription


class Engine(Protocol):
    """Makes RGB images of one size from frame descriptions; holds whatever it caches between frames."""

    name: str

    def render(self, frame: FrameDescription, catalog: AssetCatalog) -> EngineImage: ...

    def close(self) -> None: ...


EngineFactory = Callable[[int, int, "RenderConfig", "GLContext"], Engine]

def make_engine(settings: RenderConfig, width: int, height: int, context: GLContext) -> Engine:
    """The engine ``settings.engine`` names, for images of width x height."""
    if settings.engine not in ENGINES:
        raise ValueError(f"engine: {settings.engine!r} is not one of {', '.join(ENGINES)}")
    factory: EngineFactory = importlib.import_module(f"{__name__}.{settings.engine}").ENGINE
    return factory(width, height, settings, context)


__all__ = ["ENGINES", "Engine", "EngineImage", "make_engine"]
