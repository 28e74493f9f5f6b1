"""Engines make a frame's RGB image from its description; labels never come from them.

The contract (Engine) is one method, ``render(frame, catalog) -> EngineImage``: colour over transparent
black, premultiplied by coverage, display-encoded. Background compositing and sensor effects are later
stages (renderer.render.frame), the same for every engine. A new engine is one module here plus its entry
in ENGINES (a name -> factory, imported lazily so that an engine's dependencies load only when used).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

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

# name -> "module:class"; the names are config.ENGINES (validated there without importing any engine).
ENGINES: dict[str, str] = {
    "raster": "renderer.render.engines.raster:RasterEngine",
    "path": "renderer.render.engines.path:PathEngine",
}


def make_engine(settings: RenderConfig, width: int, height: int, context: GLContext) -> Engine:
    """The engine ``settings.engine`` names, for images of width x height."""
    module_name, _, class_name = ENGINES[settings.engine].partition(":")
    factory: EngineFactory = getattr(importlib.import_module(module_name), class_name)
    return factory(width, height, settings, context)


__all__ = ["ENGINES", "Engine", "EngineImage", "make_engine"]
