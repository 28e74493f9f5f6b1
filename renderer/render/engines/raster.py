"""The raster engine: RGB from pyrender's PBR rasteriser (direct light, shadow maps, 4x MSAA).

Every pyrender-specific detail lives here and in render/gl/gl_context.py; the labels come from the
label pass (render/gl/label_pass.py), never from this engine.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from numpy.typing import NDArray

from renderer.assets.catalog import AssetCatalog
from renderer.caching import LruCache
from renderer.config.schema import RASTER_MAX_LIGHTS, RenderConfig
from renderer.render.engines.shading import KEPT_MESH_BYTES, KEPT_TEXTURES, mesh_bytes, shading_arrays
from renderer.render.gl.gl_context import GLContext
from renderer.render.gl.gl_platform import BackendError
from renderer.render.gl.label_pass import model_matrix
from renderer.scene.buffers import EngineImage
from renderer.scene.camera import camera_model
from renderer.scene.description import FrameDescription, LightDescription, MeshSource, ObjectDescription
from renderer.scene.environment import ambient_radiance
from renderer.scene.geometry import opengl_from_opencv_pose, rigid_inverse
from renderer.scene.textures import texture_rgb

GLASS_ALPHA = 0.3  # glass in the raster engine: its tint, alpha-blended at this opacity (no refraction)


@functools.cache
def _ordered_node_class(pyrender: Any) -> Any:
    """pyrender.Node hashed by its place in our frame description.

    pyrender keeps nodes in sets and feeds lights to its shader in set order; plain nodes hash by
    memory address, so the order of the lights (and with it the floating-point sum of their
    contributions) changed from render to render, flipping the odd pixel by one level. Small-int
    hashes make set order, and so every image, the same for the same description.
    """

    class OrderedNode(pyrender.Node):  # type: ignore[misc,name-defined]
        def __init__(self, order: int, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.order = order

        def __hash__(self) -> int:
            return self.order

        def __eq__(self, other: object) -> bool:
            return self is other

    return OrderedNode


class RasterEngine:
    """pyrender's PBR rasteriser: direct light, directional and spot shadows, 4x MSAA; fast.

    Renders into a GLContext it shares with the label pass. What it does not model (docs/engines.md):
    indirect light, soft shadows, reflections of the scene or the environment, refraction (glass is
    drawn as a tinted, alpha-blended surface). An environment lights it only as an ambient term: its
    cosine-weighted mean radiance over the upper hemisphere.
    """

    name = "raster"

    def __init__(self, width: int, height: int, settings: RenderConfig, context: GLContext) -> None:
        self.width, self.height = width, height
        self._context = context
        self._pyrender = context.pyrender
        self._renderer = context.offscreen
        # Bounded: a scene with people has new body meshes (and textures) every frame.
        self._textures: LruCache[Any, Any] = LruCache(KEPT_TEXTURES)
        self._primitive_arrays: LruCache[MeshSource, dict[str, NDArray[Any]]] = LruCache(
            KEPT_MESH_BYTES, weight=lambda arrays: sum(a.nbytes for a in arrays.values()))
        self._asset_meshes: LruCache[MeshSource, tuple[Any, int]] = LruCache(KEPT_MESH_BYTES,
                                                                              weight=lambda kept: kept[1])

    def close(self) -> None:
        """Nothing of its own: the GLContext holds every GL object."""

    def render(self, frame: FrameDescription, catalog: AssetCatalog) -> EngineImage:
        """pyrender's antialiased colour image over transparent black: multisample resolving leaves
        colour premultiplied by coverage, which the background stage composites as a clear colour would."""
        rgba = self.render_rgba(frame, catalog)
        return EngineImage(rgba=rgba.astype(np.float32) / np.float32(255.0))

    def render_rgba(self, frame: FrameDescription, catalog: AssetCatalog) -> NDArray[np.uint8]:
        """The colour image over transparent black, (H, W, 4) uint8: colour premultiplied by coverage."""
        return self._render_color(frame, catalog, (0.0, 0.0, 0.0, 0.0), rgba=True)

    def render_on_clear_color(self, frame: FrameDescription, catalog: AssetCatalog,
                              clear_color: tuple[float, float, float]) -> NDArray[np.uint8]:
        """RGB over pyrender's own clear colour (the reference the compositing stage is checked against)."""
        return self._render_color(frame, catalog, (*clear_color, 1.0), rgba=False)

    def _render_color(self, frame: FrameDescription, catalog: AssetCatalog, clear_color: tuple[float, ...],
                      rgba: bool) -> NDArray[np.uint8]:
        """pyrender's colour pass, read without its depth read-back.

        pyrender always reads back and linearises its (multisample) depth, which our labels never
        use; for this call its framebuffer read is replaced by a colour-only one (pyrender is pinned
        to 0.1.45, whose framebuffer attributes this relies on).
        """
        self._check_size(frame)
        scene, _ = self.pyrender_scene(frame, catalog, clear_color=clear_color)
        impl = self._renderer._renderer
        impl._read_main_framebuffer = functools.partial(_read_color_only, impl)
        flags = self._pyrender.RenderFlags
        # pyrender sizes shadow maps by the scene's extent, which an empty scene does not have
        shadows = flags.SHADOWS_DIRECTIONAL | flags.SHADOWS_SPOT if frame.objects else flags.NONE
        try:
            return self._renderer.render(scene, flags=shadows | (flags.RGBA if rgba else flags.NONE))
        finally:
            del impl._read_main_framebuffer

    def render_pyrender_rgb_depth(self, frame: FrameDescription,
                                  catalog: AssetCatalog) -> tuple[NDArray[np.uint8], NDArray[np.float32]]:
        """pyrender's own colour and depth (the 'bare pyrender' baseline of scripts/bench.py), over the
        background's first colour as pyrender's clear colour."""
        self._check_size(frame)
        scene, _ = self.pyrender_scene(frame, catalog, clear_color=(*frame.background.colors[0], 1.0))
        flags = self._pyrender.RenderFlags
        color, depth = self._renderer.render(scene, flags=flags.SHADOWS_DIRECTIONAL | flags.SHADOWS_SPOT)
        return np.ascontiguousarray(color[..., :3]), depth

    # -- pyrender scene -----------------------------------------------------------------------------

    def _check_size(self, frame: FrameDescription) -> None:
        if (frame.camera.width, frame.camera.height) != (self.width, self.height):
            raise ValueError(f"frame is {frame.camera.width}x{frame.camera.height}, engine is "
                             f"{self.width}x{self.height}")

    def pyrender_scene(self, frame: FrameDescription, catalog: AssetCatalog,
                       clear_color: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0)) -> tuple[Any, list[Any]]:
        """The pyrender.Scene of a frame and its mesh nodes in the order of frame.objects."""
        pyrender = self._pyrender
        kinds = [light.kind for light in frame.lights]
        for kind in set(kinds):
            if kinds.count(kind) > RASTER_MAX_LIGHTS:  # pyrender would drop the rest without a word
                raise BackendError(f"frame {frame.index}: {kinds.count(kind)} {kind} lights; the raster engine renders "
                                   f"at most {RASTER_MAX_LIGHTS} of each type (use the path engine)")
        node = _ordered_node_class(pyrender)
        ambient = np.full(3, frame.ambient) + ambient_radiance(frame.environment)
        scene = pyrender.Scene(bg_color=list(clear_color), ambient_light=ambient.tolist())
        nodes: list[Any] = []
        for obj in frame.objects:
            nodes.append(node(len(nodes), mesh=self._pyrender_mesh(obj, catalog), matrix=model_matrix(obj)))
            scene.add_node(nodes[-1])
        for k, light in enumerate(frame.lights):
            scene.add_node(node(len(nodes) + k, matrix=np.asarray(light.light_to_world), light=self._light(light)))
        cam = frame.camera
        K = camera_model(cam).pinhole_K()
        # pyrender puts pixel centres at half-integers; ours are at integers, hence the + 0.5.
        camera = pyrender.IntrinsicsCamera(fx=K[0, 0], fy=K[1, 1], cx=K[0, 2] + 0.5, cy=K[1, 2] + 0.5,
                                           znear=cam.near, zfar=cam.far)
        camera_to_world = rigid_inverse(np.asarray(cam.world_to_camera))
        scene.add_node(node(len(nodes) + len(frame.lights), camera=camera,
                            matrix=opengl_from_opencv_pose(camera_to_world)))
        return scene, nodes

    def _light(self, light: LightDescription) -> Any:
        pyrender = self._pyrender
        color = list(light.color)
        if light.kind == "directional":
            return pyrender.DirectionalLight(color=color, intensity=light.intensity)
        if light.kind == "point":
            return pyrender.PointLight(color=color, intensity=light.intensity)
        outer = np.deg2rad(light.spot_angle_deg)
        return pyrender.SpotLight(color=color, intensity=light.intensity, innerConeAngle=0.75 * outer,
                                  outerConeAngle=outer)

    def _pyrender_mesh(self, obj: ObjectDescription, catalog: AssetCatalog) -> Any:
        pyrender = self._pyrender
        if obj.material.use_asset_material:
            def own() -> tuple[Any, int]:
                mesh = catalog.mesh(obj.mesh)
                return pyrender.Mesh.from_trimesh(mesh), mesh_bytes(mesh)

            return self._asset_meshes.get_or_make(obj.mesh, own)[0]
        arrays = self._primitive_arrays.get_or_make(obj.mesh, lambda: shading_arrays(catalog.mesh(obj.mesh)))
        material = obj.material
        texture = None
        if material.texture is not None and "uv" in arrays:
            texture = self._textures.get(material.texture)
            if texture is None:
                texture = pyrender.Texture(source=texture_rgb(material.texture), source_channels="RGB")
                self._textures.put(material.texture, texture)
        if material.kind == "glass":  # no refraction here: a tinted, alpha-blended glossy surface
            pbr = pyrender.MetallicRoughnessMaterial(
                baseColorFactor=[*material.base_color[:3], GLASS_ALPHA], metallicFactor=0.0,
                roughnessFactor=max(material.roughness, 0.05), alphaMode="BLEND")
        else:
            pbr = pyrender.MetallicRoughnessMaterial(
                baseColorFactor=list(material.base_color), metallicFactor=material.metallic,
                roughnessFactor=1.0 if material.kind == "diffuse" else material.roughness,
                baseColorTexture=texture)
        primitive = _lean_primitive(pyrender)(positions=arrays["positions"], normals=arrays["normals"],
                                              texcoord_0=arrays.get("uv"), indices=arrays["indices"],
                                              material=pbr)
        return pyrender.Mesh(primitives=[primitive])


@functools.cache
def _lean_primitive(pyrender: Any) -> Any:
    """pyrender.Primitive uploading each vertex attribute straight from its float32 array, with no copy.
    pyrender 0.1.45's own upload (pinned, so its attribute layout is fixed) interleaves them through
    five copies (hstack per attribute, flatten, astype, and two of the indices): for a scan of a million
    faces, hundreds of MB at once. Same attribute locations (positions, normals, tangents, texcoord_0,
    texcoord_1, color_0, then the per-instance model matrix); a buffer per attribute."""
    import ctypes

    from OpenGL import GL as gl

    class LeanPrimitive(pyrender.Primitive):  # type: ignore[misc,name-defined]
        def _add_to_context(self) -> None:
            if self._vaid is not None:
                raise ValueError("Mesh is already bound to a context")
            self._vaid: Any = gl.glGenVertexArrays(1)
            gl.glBindVertexArray(self._vaid)
            columns = [a for a in (self.positions, self.normals, self.tangents, self.texcoord_0, self.texcoord_1,
                                   self.color_0) if a is not None]
            for location, column in enumerate(columns):  # a buffer per attribute, straight from the array
                data = np.ascontiguousarray(column, dtype=np.float32)
                buffer = gl.glGenBuffers(1)
                self._buffers.append(buffer)
                gl.glBindBuffer(gl.GL_ARRAY_BUFFER, buffer)
                gl.glBufferData(gl.GL_ARRAY_BUFFER, data.nbytes, data, gl.GL_STATIC_DRAW)
                gl.glVertexAttribPointer(location, int(data.shape[1]), gl.GL_FLOAT, gl.GL_FALSE, 0, None)
                gl.glEnableVertexAttribArray(location)
            sizes = [int(a.shape[1]) for a in columns]
            poses = np.eye(4) if self.poses is None else np.transpose(self.poses, [0, 2, 1])
            pose_data = np.ascontiguousarray(poses, dtype=np.float32).reshape(-1)
            modelbuffer = gl.glGenBuffers(1)
            self._buffers.append(modelbuffer)
            gl.glBindBuffer(gl.GL_ARRAY_BUFFER, modelbuffer)
            gl.glBufferData(gl.GL_ARRAY_BUFFER, pose_data.nbytes, pose_data, gl.GL_STATIC_DRAW)
            for i in range(4):
                location = i + len(sizes)
                gl.glEnableVertexAttribArray(location)
                gl.glVertexAttribPointer(location, 4, gl.GL_FLOAT, gl.GL_FALSE, 64, ctypes.c_void_p(16 * i))
                gl.glVertexAttribDivisor(location, 1)
            if self.indices is not None:
                elementbuffer = gl.glGenBuffers(1)
                self._buffers.append(elementbuffer)
                gl.glBindBuffer(gl.GL_ELEMENT_ARRAY_BUFFER, elementbuffer)
                indices = np.ascontiguousarray(self.indices, dtype=np.uint32)
                gl.glBufferData(gl.GL_ELEMENT_ARRAY_BUFFER, indices.nbytes, indices, gl.GL_STATIC_DRAW)
            gl.glBindVertexArray(0)

    return LeanPrimitive


def _read_color_only(impl: Any, scene: Any, flags: int) -> NDArray[np.uint8]:
    """pyrender.Renderer._read_main_framebuffer without the depth blit, read and linearisation."""
    from OpenGL import GL as gl

    width, height = impl._main_fb_dims
    gl.glBindFramebuffer(gl.GL_READ_FRAMEBUFFER, impl._main_fb_ms)
    gl.glBindFramebuffer(gl.GL_DRAW_FRAMEBUFFER, impl._main_fb)
    gl.glBlitFramebuffer(0, 0, width, height, 0, 0, width, height, gl.GL_COLOR_BUFFER_BIT, gl.GL_LINEAR)
    gl.glBindFramebuffer(gl.GL_READ_FRAMEBUFFER, impl._main_fb)
    from pyrender import RenderFlags

    channels, layout = (4, gl.GL_RGBA) if flags & RenderFlags.RGBA else (3, gl.GL_RGB)
    data = gl.glReadPixels(0, 0, width, height, layout, gl.GL_UNSIGNED_BYTE)
    return np.ascontiguousarray(np.frombuffer(data, dtype=np.uint8).reshape(height, width, channels)[::-1])


ENGINE = RasterEngine  # the factory make_engine calls (renderer.render.engines)
