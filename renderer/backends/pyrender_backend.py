"""pyrender backend: RGB from pyrender's PBR renderer, labels from one pass of our own shaders.

Why our own label pass: pyrender 0.1.45 renders colour 4x multisampled and returns the depth of one
multisample rather than the pixel centre, and has no normals output. Our pass draws every object once
into a non-multisampled framebuffer with two render targets (normal + camera z, instance id), so id,
depth and normal at a pixel are the values of the surface hit by the ray through the pixel centre.
Pixels an object would cover alone are counted with occlusion queries and the stencil buffer: each
object is drawn again with depth testing off, and the stencil makes every pixel count once per object,
so no extra image is cleared or read back.

The same GL context serves pyrender and our pass (pyrender makes it current before each render).
"""

from __future__ import annotations

import ctypes
import dataclasses
import functools
from typing import Any

import numpy as np
import trimesh
from numpy.typing import NDArray

from renderer.assets import AssetCatalog, MeshLookup
from renderer.backends.gl_platform import BackendError, context_error_message, select_gl_platform
from renderer.backgrounds import background_image, composite
from renderer.buffers import RenderBuffers
from renderer.geometry import clip_from_opencv, opengl_from_opencv_pose, rigid_inverse
from renderer.scene import FrameDescription, LightDescription, MeshSource, ObjectDescription
from renderer.sensor import apply_sensor
from renderer.textures import texture_rgb

_VERTEX_SHADER = """
#version 330 core
layout(location = 0) in vec3 position;
layout(location = 1) in vec3 face_normal;
uniform mat4 model_view;      // scaled object frame -> OpenCV camera frame
uniform mat3 normal_matrix;   // inverse transpose of model_view's 3x3
uniform mat4 projection;      // OpenCV camera frame -> clip space (geometry.clip_from_opencv)
out vec3 camera_position;
out vec3 camera_normal;
void main() {
    vec4 p = model_view * vec4(position, 1.0);
    camera_position = p.xyz;
    camera_normal = normal_matrix * face_normal;
    gl_Position = projection * p;
}
"""

_FRAGMENT_SHADER = """
#version 330 core
in vec3 camera_position;
in vec3 camera_normal;
uniform float instance_id;
layout(location = 0) out vec4 normal_and_z;
layout(location = 1) out float instance;
void main() {
    vec3 n = normalize(camera_normal);
    if (dot(n, camera_position) > 0.0) n = -n;   // face the camera
    normal_and_z = vec4(n, camera_position.z);
    instance = instance_id;
}
"""


def _import_pyrender() -> Any:
    """Import pyrender after the GL platform is chosen, with the one numpy 2 fix it needs."""
    select_gl_platform()
    if not hasattr(np, "infty"):  # pyrender 0.1.45's Mesh.bounds uses np.infty, removed in numpy 2
        setattr(np, "infty", np.inf)  # noqa: B010 (the name np.infty itself would be "fixed" by ruff NPY201)
    import pyrender

    return pyrender


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


class PyrenderBackend:
    """Renders frame descriptions of one image size; holds one GL context. Close it when done."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        try:
            pyrender = _import_pyrender()
            self._pyrender = pyrender
            self._renderer = pyrender.OffscreenRenderer(width, height)
        except Exception as exc:
            raise BackendError(context_error_message(select_gl_platform(), exc)) from None
        self._labels = _LabelPass(width, height)
        self._textures: dict[Any, Any] = {}
        self._primitive_arrays: dict[MeshSource, dict[str, NDArray[Any]]] = {}
        self._asset_meshes: dict[MeshSource, Any] = {}

    def close(self) -> None:
        if self._renderer is not None:
            platform = self._renderer._platform
            platform.make_current()
            self._labels.release()
            if hasattr(platform, "_egl_display"):
                # pyrender would eglTerminate the display, which every EGL context of the process
                # shares: another open backend (or the user's own context) would die with this one.
                platform.delete_context = functools.partial(_destroy_egl_context_only, platform)
            self._renderer.delete()
            self._renderer = None

    def __enter__(self) -> PyrenderBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public -------------------------------------------------------------------------------------

    def render(self, frame: FrameDescription, catalog: AssetCatalog) -> RenderBuffers:
        """RGB (pyrender) and the pixel-centre label buffers (our pass) of one frame."""
        self._check_size(frame)
        rgb = apply_sensor(self.render_rgb(frame, catalog), frame.sensor)
        self._renderer._platform.make_current()  # pyrender leaves the context un-current
        normals, depth, instance, unoccluded = self._labels.render(frame, catalog)
        return RenderBuffers(rgb=rgb, depth=depth, normals=normals, instance=instance,
                             unoccluded_pixels=unoccluded)

    def render_rgb(self, frame: FrameDescription, catalog: AssetCatalog) -> NDArray[np.uint8]:
        """pyrender's antialiased colour image over the frame's background (before sensor effects).

        A solid background is pyrender's clear colour. Any other (gradient, texture, image) goes under
        the image rendered over transparent black (render_rgba): multisample resolving leaves colour
        premultiplied by coverage, so compositing blends antialiased edges as a clear colour would.
        """
        background = frame.background
        if background.kind == "solid":
            return self._render_color(frame, catalog, (*background.colors[0], 1.0), rgba=False)
        return composite(self.render_rgba(frame, catalog), background_image(background, self.width, self.height))

    def render_rgba(self, frame: FrameDescription, catalog: AssetCatalog) -> NDArray[np.uint8]:
        """The colour image over transparent black, (H, W, 4): colour premultiplied by coverage (alpha)."""
        return self._render_color(frame, catalog, (0.0, 0.0, 0.0, 0.0), rgba=True)

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

    def render_amodal_masks(self, frame: FrameDescription, meshes: MeshLookup) -> NDArray[np.bool_]:
        """(N, H, W) bool: the pixel centres each of the frame's N labelled objects covers drawn alone."""
        self._check_size(frame)
        self._renderer._platform.make_current()
        labelled = frame.labelled_objects
        masks = np.zeros((len(labelled), self.height, self.width), dtype=bool)
        for k, obj in enumerate(labelled):
            _, _, instance, _ = self._labels.render(dataclasses.replace(frame, objects=(obj,)), meshes,
                                                    count_alone=False)
            masks[k] = instance == obj.instance_id
        return masks

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
            raise ValueError(f"frame is {frame.camera.width}x{frame.camera.height}, backend is "
                             f"{self.width}x{self.height}")

    def pyrender_scene(self, frame: FrameDescription, catalog: AssetCatalog,
                       clear_color: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0)) -> tuple[Any, list[Any]]:
        """The pyrender.Scene of a frame and its mesh nodes in the order of frame.objects."""
        pyrender = self._pyrender
        node = _ordered_node_class(pyrender)
        scene = pyrender.Scene(bg_color=list(clear_color), ambient_light=[frame.ambient] * 3)
        nodes: list[Any] = []
        for obj in frame.objects:
            nodes.append(node(len(nodes), mesh=self._pyrender_mesh(obj, catalog), matrix=_model_matrix(obj)))
            scene.add_node(nodes[-1])
        for k, light in enumerate(frame.lights):
            scene.add_node(node(len(nodes) + k, matrix=np.asarray(light.light_to_world), light=self._light(light)))
        cam = frame.camera
        K = np.asarray(cam.K)
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
            if obj.mesh not in self._asset_meshes:
                self._asset_meshes[obj.mesh] = pyrender.Mesh.from_trimesh(catalog.mesh(obj.mesh))
            return self._asset_meshes[obj.mesh]
        arrays = self._primitive_arrays.get(obj.mesh)
        if arrays is None:
            arrays = _shading_arrays(catalog.mesh(obj.mesh))
            self._primitive_arrays[obj.mesh] = arrays
        material = obj.material
        texture = None
        if material.texture is not None and "uv" in arrays:
            texture = self._textures.get(material.texture)
            if texture is None:
                texture = pyrender.Texture(source=texture_rgb(material.texture), source_channels="RGB")
                self._textures[material.texture] = texture
        pbr = pyrender.MetallicRoughnessMaterial(
            baseColorFactor=list(material.base_color), metallicFactor=material.metallic,
            roughnessFactor=material.roughness, baseColorTexture=texture,
        )
        primitive = pyrender.Primitive(positions=arrays["positions"], normals=arrays["normals"],
                                       texcoord_0=arrays.get("uv"), indices=arrays["indices"],
                                       material=pbr)
        return pyrender.Mesh(primitives=[primitive])


def _box_projected_uv(mesh: trimesh.Trimesh) -> NDArray[np.float64]:
    """Texture coordinates for meshes without any: each vertex projected along the axis its normal
    points most along (a box projection), 10 texture repeats per metre."""
    axis = np.argmax(np.abs(mesh.vertex_normals), axis=1)
    others = np.array([[1, 2], [0, 2], [0, 1]])[axis]
    rows = np.arange(len(mesh.vertices))
    return np.stack([mesh.vertices[rows, others[:, 0]], mesh.vertices[rows, others[:, 1]]], axis=1) * 10.0


def _destroy_egl_context_only(platform: Any) -> None:
    from OpenGL import EGL

    if platform._egl_context is not None:
        EGL.eglMakeCurrent(platform._egl_display, EGL.EGL_NO_SURFACE, EGL.EGL_NO_SURFACE, EGL.EGL_NO_CONTEXT)
        EGL.eglDestroyContext(platform._egl_display, platform._egl_context)
        platform._egl_context = None
    platform._egl_display = None


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


def _model_matrix(obj: ObjectDescription) -> NDArray[np.float64]:
    """Scaled object frame -> world."""
    return np.asarray(obj.object_to_world) @ np.diag([obj.scale, obj.scale, obj.scale, 1.0])


def _shading_arrays(mesh: trimesh.Trimesh) -> dict[str, NDArray[Any]]:
    """Vertex arrays for shading: smooth normals, split where faces meet at a sharp angle."""
    uv = getattr(mesh.visual, "uv", None)
    if uv is not None and len(uv) == len(mesh.vertices):
        shaded = mesh  # keep the UV layout as it is
    else:
        shaded = mesh.smooth_shaded
        uv = _box_projected_uv(shaded)
    arrays = {
        "positions": np.asarray(shaded.vertices, dtype=np.float32),
        "normals": np.asarray(shaded.vertex_normals, dtype=np.float32),
        "indices": np.asarray(shaded.faces, dtype=np.uint32),
    }
    if uv is not None:
        arrays["uv"] = np.asarray(uv, dtype=np.float32)
    return arrays


class _LabelPass:
    """Our non-multisampled multi-render-target pass; GL objects live in the current context."""

    def __init__(self, width: int, height: int) -> None:
        from OpenGL import GL as gl

        self.gl = gl
        self.width, self.height = width, height
        self.program = _link_program(gl, _VERTEX_SHADER, _FRAGMENT_SHADER)
        self.uniforms = {name: gl.glGetUniformLocation(self.program, name)
                         for name in ("model_view", "normal_matrix", "projection", "instance_id")}
        self.framebuffer = gl.glGenFramebuffers(1)
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, self.framebuffer)
        self.renderbuffers = list(np.atleast_1d(gl.glGenRenderbuffers(3)))
        for rb, fmt, attachment in zip(
            self.renderbuffers,
            (gl.GL_RGBA32F, gl.GL_R32F, gl.GL_DEPTH32F_STENCIL8),
            (gl.GL_COLOR_ATTACHMENT0, gl.GL_COLOR_ATTACHMENT1, gl.GL_DEPTH_STENCIL_ATTACHMENT),
            strict=True,
        ):
            gl.glBindRenderbuffer(gl.GL_RENDERBUFFER, int(rb))
            gl.glRenderbufferStorage(gl.GL_RENDERBUFFER, fmt, width, height)
            gl.glFramebufferRenderbuffer(gl.GL_FRAMEBUFFER, attachment, gl.GL_RENDERBUFFER, int(rb))
        status = gl.glCheckFramebufferStatus(gl.GL_FRAMEBUFFER)
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, 0)
        if status != gl.GL_FRAMEBUFFER_COMPLETE:
            raise BackendError(f"label framebuffer incomplete (status 0x{int(status):x})")
        self.meshes: dict[MeshSource, tuple[int, int, int]] = {}  # source -> (vao, vbo, vertex count)
        self.queries: list[int] = []

    def release(self) -> None:
        gl = self.gl
        for vao, vbo, _ in self.meshes.values():
            gl.glDeleteVertexArrays(1, [vao])
            gl.glDeleteBuffers(1, [vbo])
        self.meshes.clear()
        if self.queries:
            gl.glDeleteQueries(len(self.queries), self.queries)
        gl.glDeleteRenderbuffers(len(self.renderbuffers), [int(r) for r in self.renderbuffers])
        gl.glDeleteFramebuffers(1, [self.framebuffer])
        gl.glDeleteProgram(self.program)

    def _vertex_array(self, source: MeshSource, catalog: MeshLookup) -> tuple[int, int]:
        """VAO of a mesh, unindexed so that each triangle carries its own face normal."""
        if source not in self.meshes:
            gl = self.gl
            mesh = catalog.mesh(source)
            positions = mesh.vertices[mesh.faces].reshape(-1, 3)
            normals = np.repeat(mesh.face_normals, 3, axis=0)
            data = np.ascontiguousarray(np.hstack([positions, normals]), dtype=np.float32)
            vao = gl.glGenVertexArrays(1)
            vbo = gl.glGenBuffers(1)
            gl.glBindVertexArray(vao)
            gl.glBindBuffer(gl.GL_ARRAY_BUFFER, vbo)
            gl.glBufferData(gl.GL_ARRAY_BUFFER, data.nbytes, data, gl.GL_STATIC_DRAW)
            stride = 6 * 4
            gl.glEnableVertexAttribArray(0)
            gl.glVertexAttribPointer(0, 3, gl.GL_FLOAT, False, stride, ctypes.c_void_p(0))
            gl.glEnableVertexAttribArray(1)
            gl.glVertexAttribPointer(1, 3, gl.GL_FLOAT, False, stride, ctypes.c_void_p(12))
            gl.glBindVertexArray(0)
            gl.glBindBuffer(gl.GL_ARRAY_BUFFER, 0)
            self.meshes[source] = (int(vao), int(vbo), len(positions))
        vao, _, count = self.meshes[source]
        return vao, count

    def render(self, frame: FrameDescription, catalog: MeshLookup, count_alone: bool = True) -> tuple[
            NDArray[np.float32], NDArray[np.float32], NDArray[np.uint16], NDArray[np.int64]]:
        """(normals, depth, instance, unoccluded pixel counts); the counts are empty unless count_alone."""
        gl = self.gl
        w, h = self.width, self.height
        cam = frame.camera
        world_to_camera = np.asarray(cam.world_to_camera)
        # Flip clip y so that OpenGL's bottom-up rows read back in image order (top row first).
        projection = np.diag([1.0, -1.0, 1.0, 1.0]) @ clip_from_opencv(np.asarray(cam.K), w, h, cam.near, cam.far)
        draws = []
        for obj in frame.objects:
            model_view = world_to_camera @ _model_matrix(obj)
            normal_matrix = np.linalg.inv(model_view[:3, :3]).T
            vao, count = self._vertex_array(obj.mesh, catalog)
            draws.append((obj.instance_id, model_view.astype(np.float32), normal_matrix.astype(np.float32),
                          vao, count))

        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, self.framebuffer)
        gl.glViewport(0, 0, w, h)
        gl.glDrawBuffers(2, [gl.GL_COLOR_ATTACHMENT0, gl.GL_COLOR_ATTACHMENT1])
        gl.glColorMask(True, True, True, True)
        gl.glDepthMask(True)
        gl.glStencilMask(0xFF)
        gl.glDisable(gl.GL_BLEND)
        gl.glDisable(gl.GL_CULL_FACE)
        gl.glDisable(gl.GL_STENCIL_TEST)
        gl.glEnable(gl.GL_DEPTH_TEST)
        gl.glDepthFunc(gl.GL_LESS)
        zeros = np.zeros(4, dtype=np.float32)
        gl.glClearBufferfv(gl.GL_COLOR, 0, zeros)
        gl.glClearBufferfv(gl.GL_COLOR, 1, zeros)
        gl.glClearBufferfi(gl.GL_DEPTH_STENCIL, 0, 1.0, 0)

        gl.glUseProgram(self.program)
        gl.glUniformMatrix4fv(self.uniforms["projection"], 1, gl.GL_TRUE, projection.astype(np.float32))
        for instance_id, model_view32, normal_matrix32, vao, count in draws:
            gl.glUniformMatrix4fv(self.uniforms["model_view"], 1, gl.GL_TRUE, model_view32)
            gl.glUniformMatrix3fv(self.uniforms["normal_matrix"], 1, gl.GL_TRUE, normal_matrix32)
            gl.glUniform1f(self.uniforms["instance_id"], float(instance_id))
            gl.glBindVertexArray(vao)
            gl.glDrawArrays(gl.GL_TRIANGLES, 0, count)

        gl.glReadBuffer(gl.GL_COLOR_ATTACHMENT0)
        normal_z = np.frombuffer(gl.glReadPixels(0, 0, w, h, gl.GL_RGBA, gl.GL_FLOAT),
                                 dtype=np.float32).reshape(h, w, 4)
        gl.glReadBuffer(gl.GL_COLOR_ATTACHMENT1)
        ids = np.frombuffer(gl.glReadPixels(0, 0, w, h, gl.GL_RED, gl.GL_FLOAT),
                            dtype=np.float32).reshape(h, w)

        unoccluded = self._count_alone(draws) if count_alone else np.zeros(0, dtype=np.int64)

        gl.glBindVertexArray(0)
        gl.glUseProgram(0)
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, 0)
        gl.glDisable(gl.GL_STENCIL_TEST)
        gl.glColorMask(True, True, True, True)
        gl.glDepthMask(True)
        gl.glEnable(gl.GL_DEPTH_TEST)

        normals = np.ascontiguousarray(normal_z[..., :3])
        depth = np.ascontiguousarray(normal_z[..., 3])
        instance = np.rint(ids).astype(np.uint16)
        return normals, depth, instance, unoccluded

    def _count_alone(self, draws: list[Any]) -> NDArray[np.int64]:
        """Pixel centres each object covers with nothing in front: stencil-once + occlusion query."""
        gl = self.gl
        while len(self.queries) < len(draws):
            self.queries.append(int(np.ravel(gl.glGenQueries(1))[0]))
        gl.glColorMask(False, False, False, False)
        gl.glDepthMask(False)
        gl.glDisable(gl.GL_DEPTH_TEST)
        gl.glEnable(gl.GL_STENCIL_TEST)
        gl.glStencilOp(gl.GL_KEEP, gl.GL_KEEP, gl.GL_REPLACE)
        for k, (_, model_view, normal_matrix, vao, count) in enumerate(draws):
            if k > 0 and k % 255 == 0:
                gl.glClear(gl.GL_STENCIL_BUFFER_BIT)
            gl.glStencilFunc(gl.GL_NOTEQUAL, k % 255 + 1, 0xFF)
            gl.glUniformMatrix4fv(self.uniforms["model_view"], 1, gl.GL_TRUE, model_view)
            gl.glUniformMatrix3fv(self.uniforms["normal_matrix"], 1, gl.GL_TRUE, normal_matrix)
            gl.glBeginQuery(gl.GL_SAMPLES_PASSED, self.queries[k])
            gl.glBindVertexArray(vao)
            gl.glDrawArrays(gl.GL_TRIANGLES, 0, count)
            gl.glEndQuery(gl.GL_SAMPLES_PASSED)
        counts = np.array([int(gl.glGetQueryObjectuiv(self.queries[k], gl.GL_QUERY_RESULT))
                           for k in range(len(draws))], dtype=np.int64)
        return counts


def _link_program(gl: Any, vertex_source: str, fragment_source: str) -> int:
    shaders = []
    for kind, source in ((gl.GL_VERTEX_SHADER, vertex_source), (gl.GL_FRAGMENT_SHADER, fragment_source)):
        shader = gl.glCreateShader(kind)
        gl.glShaderSource(shader, source)
        gl.glCompileShader(shader)
        if not gl.glGetShaderiv(shader, gl.GL_COMPILE_STATUS):
            raise BackendError(f"label shader failed to compile: {gl.glGetShaderInfoLog(shader)!r}")
        shaders.append(shader)
    program = gl.glCreateProgram()
    for shader in shaders:
        gl.glAttachShader(program, shader)
    gl.glLinkProgram(program)
    if not gl.glGetProgramiv(program, gl.GL_LINK_STATUS):
        raise BackendError(f"label shaders failed to link: {gl.glGetProgramInfoLog(program)!r}")
    for shader in shaders:
        gl.glDetachShader(program, shader)
        gl.glDeleteShader(shader)
    return int(program)
