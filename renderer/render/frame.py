"""Frame description -> RenderBuffers: the engine's image, then background and sensor stages, and the
label pass beside them.

    image  = engine.render(frame)                          # any engine (renderer.render.engines)
    rgb    = sensor(fog(composite(image, background(frame)), depth))   # numpy, the same for every engine
    labels = label_pass.render(frame)                      # GL, independent of the engine

so a frame's label buffers are the same bits whichever engine made its RGB.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from renderer.assets.catalog import AssetCatalog
from renderer.config.schema import RenderConfig, SceneConfig
from renderer.render.backgrounds import background_image
from renderer.render.conditions import apply_fog, apply_glare, apply_precipitation
from renderer.render.engines import Engine, make_engine
from renderer.render.gl.gl_context import GLContext
from renderer.render.gl.label_pass import LabelPass
from renderer.render.lens import canvas_size, plan_views
from renderer.render.lens import colour as lens_colour
from renderer.render.lens_pass import LensLabelPass, view_frame
from renderer.render.sensor import apply_sensor
from renderer.sampling.motion import shutter_instants
from renderer.scene.buffers import EngineImage, RenderBuffers
from renderer.scene.camera import camera_model
from renderer.scene.color import display_from_linear, linear_from_display
from renderer.scene.description import FrameDescription
from renderer.scene.environment import environment_background


def frame_background(frame: FrameDescription, where: NDArray[np.bool_] | None = None) -> NDArray[np.float32]:
    """(H, W, 3) display-encoded: the visible environment, else the frame's background (an environment
    looked up only at the ``where`` pixels, when given: those the engine's surfaces leave uncovered)."""
    camera = frame.camera
    if frame.environment.kind != "none" and frame.environment.visible:
        return environment_background(frame.environment, camera, where)
    return background_image(frame.background, camera.width, camera.height)


def composite_colour(image: EngineImage, background: NDArray[np.float32]) -> NDArray[np.float32]:
    """The engine's premultiplied colour over the background: colour + (1 - alpha) * background."""
    rgba = image.rgba
    return np.asarray(rgba[..., :3] + (np.float32(1.0) - rgba[..., 3:4]) * background, dtype=np.float32)


def _exposed(linear: NDArray[np.float32], shutter: float, rolling: float) -> NDArray[np.float32]:
    """(H, W, 3) the renders (N, H, W, 3) at evenly spread instants averaged per row over the instants in
    that row's exposure window (all of them for a global shutter; the nearest if none falls inside)."""
    samples, height = linear.shape[0], linear.shape[1]
    if rolling <= 0:
        return np.asarray(linear.mean(axis=0), dtype=np.float32)
    instants = shutter_instants(shutter, rolling, samples)
    row_time = rolling * (np.arange(height) / max(height - 1, 1) - 0.5)
    half = shutter / 2 + 1e-12
    weights = (np.abs(instants[None, :] - row_time[:, None]) <= half).astype(np.float32)  # (H, N)
    empty = weights.sum(axis=1) == 0
    weights[empty, np.argmin(np.abs(instants[None, :] - row_time[empty, None]), axis=1)] = 1.0
    weights /= weights.sum(axis=1, keepdims=True)
    return np.asarray(np.einsum("hn,nhwc->hwc", weights, linear), dtype=np.float32)


def _over_background(frame: FrameDescription, image: EngineImage) -> NDArray[np.float32]:
    uncovered = image.rgba[..., 3] < 1.0  # where the background shows through (at all)
    return composite_colour(image, frame_background(frame, uncovered))


def composite(image: EngineImage, background: NDArray[np.float32]) -> NDArray[np.uint8]:
    """composite_colour in 8 bits."""
    return _eight_bits(composite_colour(image, background))


def _eight_bits(colour: NDArray[np.float32]) -> NDArray[np.uint8]:
    return np.clip(np.rint(colour * np.float32(255.0)), 0, 255).astype(np.uint8)


def finish_rgb(frame: FrameDescription, image: EngineImage | list[tuple[FrameDescription, EngineImage]],
               depth: NDArray[np.float32] | None = None,
               exposure: tuple[float, float] = (0.0, 0.0)) -> NDArray[np.uint8]:
    """The stages after the engine: background, conditions (fog: needs the label pass's ``depth``), then
    sensor effects. ``image`` may be the renders of instants over an open shutter ((their description,
    image) pairs at renderer.sampling.motion.shutter_instants of ``exposure`` = (shutter, rolling
    readout)): each composited over its own background, then averaged in linear radiance (motion blur),
    each row over the instants its own exposure window holds (rolling shutter), before the conditions and
    the sensor."""
    if isinstance(image, list):
        linear = np.stack([_linear(_over_background(f, im)) for f, im in image])
        colour = display_from_linear(_exposed(linear, *exposure)).astype(np.float32)
    else:
        colour = _over_background(frame, image)
    return conditions_and_sensor(frame, colour, depth)


def _linear(display: NDArray[np.float32]) -> NDArray[np.float32]:
    return linear_from_display(display).astype(np.float32)


def conditions_and_sensor(frame: FrameDescription, colour: NDArray[np.float32],
                          depth: NDArray[np.float32] | None) -> NDArray[np.uint8]:
    """The display-encoded colour over its background through the conditions and the sensor."""
    if frame.fog is not None or frame.precipitation is not None or frame.glare is not None:
        if depth is None:
            raise ValueError("fog, rain, snow and glare need the frame's depth (render the label pass first)")
        if frame.fog is not None:
            colour = apply_fog(colour, depth, camera_model(frame.camera), frame.fog)
        if frame.precipitation is not None:
            colour = apply_precipitation(colour, depth, camera_model(frame.camera), frame.precipitation)
        if frame.glare is not None:
            colour = apply_glare(colour, depth, camera_model(frame.camera), np.asarray(frame.camera.world_to_camera),
                                 frame.environment.sun_direction, frame.glare)
    return apply_sensor(_eight_bits(colour), frame.sensor)


class FrameRenderer:
    """One engine and the label pass, for frames of one size; holds a GL context. Close it when done.

    ``canvas``: for frames whose cameras have lenses, the size of the pinhole views they are drawn as
    (renderer.render.lens): the context, the engine and the label pass are that size, and both the
    labels and the RGB image are resampled through each frame's lens."""

    def __init__(self, width: int, height: int, settings: RenderConfig | None = None,
                 canvas: tuple[int, int] | None = None) -> None:
        settings = RenderConfig() if settings is None else settings
        self.width, self.height = width, height
        self.canvas = canvas
        draw_width, draw_height = canvas if canvas is not None else (width, height)
        self.context = GLContext(draw_width, draw_height)
        try:
            inner = LabelPass(self.context)
            self.labels: LabelPass | LensLabelPass = inner if canvas is None else LensLabelPass(inner)
            self.engine: Engine = make_engine(settings, draw_width, draw_height, self.context)
        except BaseException:
            self.context.close()
            raise

    def _lens_rgb(self, frame: FrameDescription, catalog: AssetCatalog, depth: NDArray[np.float32] | None,
                  instants: list[FrameDescription], exposure: tuple[float, float]) -> NDArray[np.uint8]:
        """render_rgb of a lens frame: each instant's views over their backgrounds, resampled in linear
        radiance through its lens (renderer.render.lens.colour), then exposed, conditions, sensor."""
        linear = []
        for instant in instants:
            plan = plan_views(instant.camera, (self.engine_width, self.engine_height))
            views = []
            for k in range(len(plan.views)):
                seen = view_frame(instant, plan, k)
                views.append(_linear(_over_background(seen, self.engine.render(seen, catalog))))
            linear.append(lens_colour(plan, views))
        exposed = _exposed(np.stack(linear), *exposure) if len(instants) > 1 else linear[0]
        colour = display_from_linear(exposed).astype(np.float32)  # (at most 1: resampled from clamped views)
        return conditions_and_sensor(frame, colour, depth)

    @property
    def engine_width(self) -> int:
        return self.canvas[0] if self.canvas is not None else self.width

    @property
    def engine_height(self) -> int:
        return self.canvas[1] if self.canvas is not None else self.height

    def render(self, frame: FrameDescription, catalog: AssetCatalog) -> RenderBuffers:
        labels = self.labels.render(frame, catalog)
        return RenderBuffers.of(self.render_rgb(frame, catalog, labels.depth), labels)

    def render_rgb(self, frame: FrameDescription, catalog: AssetCatalog, depth: NDArray[np.float32] | None = None,
                   shutter: list[FrameDescription] | None = None,
                   exposure: tuple[float, float] = (0.0, 0.0)) -> NDArray[np.uint8]:
        """The engine's image through the background, conditions and sensor stages (``depth``: the label
        pass's, which fog needs; rendered here when it is needed and not given). ``shutter``: the frame at
        instants over an open shutter (renderer.sampling.motion.shutter_frames of ``exposure`` = (shutter,
        rolling readout)), rendered and averaged (motion blur, rolling shutter)."""
        if (frame.fog is not None or frame.precipitation is not None or frame.glare is not None) and depth is None:
            depth = self.labels.render(frame, catalog).depth
        if frame.camera.lens is not None:
            return self._lens_rgb(frame, catalog, depth, shutter or [frame], exposure)
        if shutter:
            return finish_rgb(frame, [(f, self.engine.render(f, catalog)) for f in shutter], depth, exposure)
        return finish_rgb(frame, self.engine.render(frame, catalog), depth)

    def close(self) -> None:
        self.engine.close()
        self.context.close()

    def __enter__(self) -> FrameRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def frame_renderer_for(config: SceneConfig) -> FrameRenderer:
    """The engine and label pass a scene's frames need (its lens's view canvas, when it has one)."""
    width, height = config.image.width, config.image.height
    lens = config.camera.lens
    canvas = canvas_size(width, height, lens.supersampling) if lens is not None else None
    return FrameRenderer(width, height, config.render, canvas)
