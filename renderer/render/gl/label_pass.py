"""The label pass: one rasterisation per frame (renderer.scene.fragments), from our own shader.

Why our own pass: pyrender 0.1.45 renders colour 4x multisampled and returns the depth of one
multisample rather than the pixel centre. This pass draws every object once into a non-multisampled
framebuffer whose targets are, for the surface the ray through each pixel centre hits first, the
object (its index in the frame), the triangle and the camera z: the frame's Fragments. Every other
per-pixel label (normals, object and texture coordinates, classes, materials, flow) is a numpy function
of the fragments and the frame's meshes (FrameSurfaces), made in the channel module that writes it.
Pixels an object would cover alone are counted by a second small pass with occlusion queries and the
stencil buffer: each object is drawn again with depth testing off, and the stencil makes every pixel
count once per object, so no extra image is cleared or read back.
"""

from __future__ import annotations

import ctypes
import dataclasses
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from renderer.assets.meshes import MeshLookup, face_classes_of, face_normals
from renderer.caching import LruCache
from renderer.render.gl.caches import KeptPass, MeshBufferCache, MeshBuffers, RecentPasses
from renderer.render.gl.decoders import NEIGHBOUR_TARGETS, label_buffers, motion_targets
from renderer.render.gl.gl_context import GLContext, index_chunks
from renderer.render.gl.gl_platform import BackendError
from renderer.render.materials import surface_material
from renderer.scene.buffers import LabelBuffers
from renderer.scene.camera import camera_model
from renderer.scene.description import FrameDescription, MaterialDescription, MeshSource, ObjectDescription
from renderer.scene.fragments import (
    Fragments,
    FrameSurfaces,
    SurfaceMaterial,
    SurfaceMesh,
    SurfaceSeen,
    model_views64,
)
from renderer.scene.geometry import clip_from_opencv

_VERTEX_SHADER = """
#version 330 core
layout(location = 0) in vec3 position;
uniform mat4 model_view;      // scaled object frame -> OpenCV camera frame
uniform mat4 projection;      // OpenCV camera frame -> clip space (geometry.clip_from_opencv)
out float camera_z;
void main() {
    vec4 p = model_view * vec4(position, 1.0);
    camera_z = p.z;
    gl_Position = projection * p;
}
"""

# The fragments: 1 + the object's index in the frame, the triangle (a row of its mesh's faces: large
# meshes are drawn in pieces, primitive_base is the first triangle of the piece) and camera z.
_FRAGMENT_SHADER = """
#version 330 core
in float camera_z;
uniform uint object_slot;
uniform int primitive_base;
layout(location = 0) out uint slot;
layout(location = 1) out uint triangle;
layout(location = 2) out float depth;
void main() {
    slot = object_slot;
    triangle = uint(primitive_base + gl_PrimitiveID);
    depth = camera_z;
}
"""

RECENT_FRAMES = 3  # label passes kept for reuse (a frame and its two neighbours)
KEPT_SURFACE_BYTES = 256 * 2**20  # numpy copies of meshes kept between frames (people: new bodies each frame)
KEPT_MATERIALS = 64  # objects' materials as arrays (made only for the material channels)


def model_matrix(obj: ObjectDescription) -> NDArray[np.float64]:
    """Scaled object frame -> world."""
    return np.asarray(obj.object_to_world) @ np.diag([obj.scale, obj.scale, obj.scale, 1.0])


def surface_mesh(lookup: MeshLookup, source: MeshSource) -> SurfaceMesh:
    """A mesh source's geometry as plain arrays for per-pixel attributes (renderer.scene.fragments)."""
    mesh = lookup.mesh(source)
    uv = mesh.metadata.get("surface_uv", getattr(mesh.visual, "uv", None))  # a body's: anny's own layout
    uv = None if uv is None or len(uv) != len(mesh.vertices) else np.asarray(uv, dtype=np.float32)
    classes = face_classes_of(lookup, source)
    if classes is not None:
        classes = np.ascontiguousarray(classes, dtype=np.uint32)
        if classes.shape != (len(mesh.faces),):
            raise ValueError(f"{len(classes)} face classes for a mesh of {len(mesh.faces)} faces")
    return SurfaceMesh(vertices=np.asarray(mesh.vertices, dtype=np.float64),
                       faces=np.asarray(mesh.faces, dtype=np.int64), face_normals=face_normals(mesh), uv=uv,
                       face_classes=classes)


def _surface_bytes(mesh: SurfaceMesh) -> int:
    return sum(a.nbytes for a in (mesh.vertices, mesh.faces, mesh.face_normals, mesh.uv, mesh.face_classes)
               if a is not None)


@dataclass(frozen=True)
class PendingMotion:
    """A frame's motion labels, made when read (LabelPass.draw_motion)."""

    make: Callable[[], dict[str, NDArray[Any]]]

    def read(self) -> dict[str, NDArray[Any]]:
        return self.make()


class LabelPass:
    """Our non-multisampled rasterisation of frames, drawn in a GLContext (whose close releases it).

    Independent of the engine that makes the RGB image: for a frame, its buffers are the same bits
    whichever engine runs beside it.
    """

    def __init__(self, context: GLContext) -> None:
        context.make_current()
        from OpenGL import GL as gl

        self.context = context
        self.gl = gl
        self.width, self.height = width, height = context.width, context.height
        self.program = _link_program(gl, _VERTEX_SHADER, _FRAGMENT_SHADER)
        self.uniforms = {name: gl.glGetUniformLocation(self.program, name)
                         for name in ("model_view", "projection", "object_slot", "primitive_base")}
        self.framebuffer = int(gl.glGenFramebuffers(1))
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, self.framebuffer)
        self.renderbuffers = [int(r) for r in np.atleast_1d(gl.glGenRenderbuffers(4))]
        for rb, fmt, attachment in zip(
            self.renderbuffers,
            (gl.GL_R32UI, gl.GL_R32UI, gl.GL_R32F, gl.GL_DEPTH32F_STENCIL8),
            (gl.GL_COLOR_ATTACHMENT0, gl.GL_COLOR_ATTACHMENT1, gl.GL_COLOR_ATTACHMENT2,
             gl.GL_DEPTH_STENCIL_ATTACHMENT),
            strict=True,
        ):
            gl.glBindRenderbuffer(gl.GL_RENDERBUFFER, rb)
            gl.glRenderbufferStorage(gl.GL_RENDERBUFFER, fmt, width, height)
            gl.glFramebufferRenderbuffer(gl.GL_FRAMEBUFFER, attachment, gl.GL_RENDERBUFFER, rb)
        status = gl.glCheckFramebufferStatus(gl.GL_FRAMEBUFFER)
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, 0)
        if status != gl.GL_FRAMEBUFFER_COMPLETE:
            raise BackendError(f"label framebuffer incomplete (status 0x{int(status):x})")
        self.meshes = MeshBufferCache(self._upload_mesh, self._free_mesh)
        self.surface_meshes: LruCache[MeshSource, SurfaceMesh] = LruCache(KEPT_SURFACE_BYTES, weight=_surface_bytes)
        self.materials: LruCache[tuple[MeshSource, MaterialDescription], SurfaceMaterial] = LruCache(KEPT_MATERIALS)
        self.recent = RecentPasses(RECENT_FRAMES)  # the last passes (a sequence's neighbours reuse them)
        self.queries: list[int] = []
        context.on_close(self.release)

    def release(self) -> None:
        gl = self.gl
        self.meshes.release()
        self.surface_meshes.clear()
        self.materials.clear()
        self.recent.clear()
        if self.queries:
            gl.glDeleteQueries(len(self.queries), self.queries)
        gl.glDeleteRenderbuffers(len(self.renderbuffers), self.renderbuffers)
        gl.glDeleteFramebuffers(1, [self.framebuffer])
        gl.glDeleteProgram(self.program)

    def _vertex_array(self, source: MeshSource, catalog: MeshLookup) -> MeshBuffers:
        return self.meshes.get(source, catalog)

    def _free_mesh(self, entry: MeshBuffers) -> None:
        gl = self.gl
        gl.glDeleteVertexArrays(1, [entry.vao])
        gl.glDeleteBuffers(len(entry.buffers), entry.buffers)

    def _upload_mesh(self, source: MeshSource, catalog: MeshLookup) -> MeshBuffers:
        """GL buffers of a mesh: float32 vertices and uint32 triangle indices."""
        gl = self.gl
        mesh = catalog.mesh(source)
        lo, hi = np.asarray(mesh.bounds, dtype=np.float64)
        centre, diagonal = (lo + hi).astype(np.float32) / 2, max(float(np.linalg.norm(hi - lo)), 1e-12)
        vao = int(gl.glGenVertexArrays(1))
        buffers = [int(b) for b in np.atleast_1d(gl.glGenBuffers(2))]
        gl.glBindVertexArray(vao)
        positions = np.ascontiguousarray(mesh.vertices, dtype=np.float32)
        gl.glBindBuffer(gl.GL_ARRAY_BUFFER, buffers[0])
        gl.glBufferData(gl.GL_ARRAY_BUFFER, positions.nbytes, positions, gl.GL_STATIC_DRAW)
        gl.glEnableVertexAttribArray(0)
        gl.glVertexAttribPointer(0, 3, gl.GL_FLOAT, False, 12, ctypes.c_void_p(0))
        indices = np.ascontiguousarray(mesh.faces, dtype=np.uint32)
        gl.glBindBuffer(gl.GL_ELEMENT_ARRAY_BUFFER, buffers[1])
        gl.glBufferData(gl.GL_ELEMENT_ARRAY_BUFFER, indices.nbytes, indices, gl.GL_STATIC_DRAW)
        gl.glBindVertexArray(0)  # the element buffer stays bound to the VAO
        gl.glBindBuffer(gl.GL_ARRAY_BUFFER, 0)
        return MeshBuffers(vao, buffers, indices.size, centre, diagonal, nbytes=positions.nbytes + indices.nbytes,
                           vertices=len(mesh.vertices))

    def surface(self, source: MeshSource, catalog: MeshLookup) -> SurfaceMesh:
        """The mesh of ``source`` as plain arrays (kept, least recently used dropped first)."""
        return self.surface_meshes.get_or_make(source, lambda: surface_mesh(catalog, source))

    def _near_first(self, frame: FrameDescription, catalog: MeshLookup) -> list[int]:
        """The order a frame's objects are drawn in: nearest first, by the far side of each one's
        bounding sphere. Hidden parts of large surfaces behind others (a table under its objects) then
        fail the depth test before they are shaded (default scene: 1.75 -> 1.5 fragments per covered pixel).
        At exactly equal depth the first drawn wins."""
        world_to_camera = np.asarray(frame.camera.world_to_camera)
        far_sides = []
        for obj in frame.objects:
            entry = self._vertex_array(obj.mesh, catalog)
            centre, diagonal = entry.centre, entry.diagonal
            camera_centre = (world_to_camera @ model_matrix(obj) @ np.append(centre.astype(np.float64), 1.0))[:3]
            far_sides.append(float(np.linalg.norm(camera_centre)) + obj.scale * diagonal / 2)
        return sorted(range(len(far_sides)), key=far_sides.__getitem__)

    def _draw(self, entry: MeshBuffers) -> None:
        gl = self.gl
        gl.glBindVertexArray(entry.vao)
        chunks = index_chunks(entry.count)
        for first, count in chunks:
            gl.glUniform1i(self.uniforms["primitive_base"], first // 3)
            gl.glDrawElements(gl.GL_TRIANGLES, count, gl.GL_UNSIGNED_INT, ctypes.c_void_p(4 * first))
            if len(chunks) > 1:
                gl.glFinish()

    def render(self, frame: FrameDescription, catalog: MeshLookup, count_alone: bool = True,
               surfaces: bool = True) -> LabelBuffers:
        """The label buffers of a frame; unoccluded_pixels is empty unless count_alone; depth and
        normals are empty (0 x 0) unless surfaces (an id-only read is a third of the read-back).

        The last few full results are kept: the frames of a sequence are each other's neighbours for
        flow (renderer.labels.flow), so frame t + 1's pass, made for frame t's forward flow, serves frame t + 1
        itself and then its backward flow (the same bits: the pass is deterministic)."""
        kept = self.recent.get(catalog, frame) if surfaces else None
        if kept is not None and (not count_alone or len(kept.buffers.unoccluded_pixels) == len(frame.objects)):
            return kept.buffers
        buffers = self._render(frame, catalog, count_alone, surfaces)
        if surfaces:  # (a pass without counts serves only requests without them: checked above)
            self.recent.put(catalog, frame, KeptPass(buffers))
        return buffers

    def neighbour_buffers(self, frame: FrameDescription, catalog: MeshLookup) -> LabelBuffers:
        """What draw_motion needs of a neighbouring frame: its full pass."""
        return self.render(frame, catalog)

    def fragments(self, frame: FrameDescription, catalog: MeshLookup, surfaces: bool = True) -> Fragments:
        """One rasterisation of the frame (depth empty unless ``surfaces``)."""
        return self._rasterise(frame, catalog, surfaces, count_alone=False)[0]

    def frame_surfaces(self, frame: FrameDescription, catalog: MeshLookup,
                       fragments: Fragments | None = None) -> FrameSurfaces:
        """The frame's fragments with its meshes: what per-pixel attributes are made from."""
        if fragments is None:
            buffers = self.render(frame, catalog, count_alone=False)  # the frame's own pass, when kept
            assert buffers.surfaces is not None
            return buffers.surfaces
        meshes = tuple(self.surface(obj.mesh, catalog) for obj in frame.objects)

        def material_of(k: int) -> SurfaceMaterial:
            obj = frame.objects[k]
            return self.materials.get_or_make((obj.mesh, obj.material),
                                              lambda: surface_material(catalog.mesh(obj.mesh), obj.material))

        return FrameSurfaces(frame, fragments, meshes, material_of)

    def _render(self, frame: FrameDescription, catalog: MeshLookup, count_alone: bool,
                surfaces: bool) -> LabelBuffers:
        fragments, unoccluded = self._rasterise(frame, catalog, surfaces, count_alone)
        ids = np.array([0, *(obj.instance_id for obj in frame.objects)], dtype=np.uint16)
        instance = ids[fragments.object_index + 1]
        if not surfaces:
            return label_buffers(np.zeros((0, 0), np.float32), np.zeros((0, 0, 3), np.float32), instance, unoccluded)
        self.surface_meshes.trim(keep=tuple(obj.mesh for obj in frame.objects))
        seen = self.frame_surfaces(frame, catalog, fragments)
        return dataclasses.replace(label_buffers(fragments.depth, seen.normals(), instance, unoccluded), surfaces=seen)

    def _rasterise(self, frame: FrameDescription, catalog: MeshLookup, surfaces: bool,
                   count_alone: bool) -> tuple[Fragments, NDArray[np.int64]]:
        if (frame.camera.width, frame.camera.height) != (self.width, self.height):
            raise ValueError(f"frame is {frame.camera.width}x{frame.camera.height}, label pass is "
                             f"{self.width}x{self.height}")
        self.context.make_current()
        self.meshes.trim(keep=tuple(obj.mesh for obj in frame.objects))  # before any of this frame is drawn
        gl = self.gl
        w, h = self.width, self.height
        cam = frame.camera
        # Flip clip y so that OpenGL's bottom-up rows read back in image order (top row first).
        projection = np.diag([1.0, -1.0, 1.0, 1.0]) @ clip_from_opencv(camera_model(cam).pinhole_K(), w, h, cam.near,
                                                                        cam.far)
        views = model_views64(frame).astype(np.float32)
        draws = [(k, views[k], self._vertex_array(frame.objects[k].mesh, catalog))
                 for k in self._near_first(frame, catalog)]
        self._begin_pass(3)
        gl.glUseProgram(self.program)
        gl.glUniformMatrix4fv(self.uniforms["projection"], 1, gl.GL_TRUE, projection.astype(np.float32))
        for k, model_view32, entry in draws:
            gl.glUniformMatrix4fv(self.uniforms["model_view"], 1, gl.GL_TRUE, model_view32)
            gl.glUniform1ui(self.uniforms["object_slot"], k + 1)
            self._draw(entry)

        slot = np.empty((h, w), dtype=np.uint32)
        gl.glReadBuffer(gl.GL_COLOR_ATTACHMENT0)
        gl.glReadPixels(0, 0, w, h, gl.GL_RED_INTEGER, gl.GL_UNSIGNED_INT, slot)
        triangle = np.zeros((0, 0), dtype=np.uint32)
        depth = np.zeros((0, 0), dtype=np.float32)
        if surfaces:
            triangle = np.empty((h, w), dtype=np.uint32)
            gl.glReadBuffer(gl.GL_COLOR_ATTACHMENT1)
            gl.glReadPixels(0, 0, w, h, gl.GL_RED_INTEGER, gl.GL_UNSIGNED_INT, triangle)
            depth = np.empty((h, w), dtype=np.float32)
            gl.glReadBuffer(gl.GL_COLOR_ATTACHMENT2)
            gl.glReadPixels(0, 0, w, h, gl.GL_RED, gl.GL_FLOAT, depth)

        unoccluded = np.zeros(len(draws) if count_alone else 0, dtype=np.int64)
        if count_alone:
            unoccluded[[k for k, _, _ in draws]] = self._count_alone(draws)  # back in the frame's object order

        gl.glBindVertexArray(0)
        gl.glUseProgram(0)
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, 0)
        gl.glDisable(gl.GL_STENCIL_TEST)
        gl.glColorMask(True, True, True, True)
        gl.glDepthMask(True)
        gl.glEnable(gl.GL_DEPTH_TEST)
        object_index = slot.astype(np.int32) - 1
        triangle_index = np.where(object_index >= 0, triangle.astype(np.int32), -1) if surfaces else triangle.astype(
            np.int32)
        return Fragments(object_index=object_index, triangle=triangle_index, depth=depth), unoccluded

    def _begin_pass(self, targets: int) -> None:
        """Bind the label framebuffer, its ``targets`` colour targets cleared to 0, plain depth testing."""
        gl = self.gl
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, self.framebuffer)
        gl.glViewport(0, 0, self.width, self.height)
        gl.glDrawBuffers(targets, [gl.GL_COLOR_ATTACHMENT0 + k for k in range(targets)])
        gl.glColorMask(True, True, True, True)
        gl.glDepthMask(True)
        gl.glStencilMask(0xFF)
        gl.glDisable(gl.GL_BLEND)
        gl.glDisable(gl.GL_CULL_FACE)
        gl.glDisable(gl.GL_STENCIL_TEST)
        gl.glEnable(gl.GL_DEPTH_TEST)
        gl.glDepthFunc(gl.GL_LESS)
        for k in range(2):
            gl.glClearBufferuiv(gl.GL_COLOR, k, np.zeros(4, dtype=np.uint32))
        gl.glClearBufferfv(gl.GL_COLOR, 2, np.zeros(4, dtype=np.float32))
        gl.glClearBufferfi(gl.GL_DEPTH_STENCIL, 0, 1.0, 0)

    def attributes(self, frame: FrameDescription, catalog: MeshLookup,
                   make: dict[str, Callable[[FrameSurfaces], NDArray[Any]]]) -> dict[str, NDArray[Any]]:
        """Per-pixel attributes of the frame, each ``make[name](surfaces)`` of its fragments and meshes."""
        seen = self.frame_surfaces(frame, catalog)
        return {name: function(seen) for name, function in make.items()}

    def motion_labels(self, frame: FrameDescription, catalog: MeshLookup,
                      before: tuple[FrameDescription, LabelBuffers] | None,
                      after: tuple[FrameDescription, LabelBuffers] | None,
                      tolerance: float, targets: Collection[str] = NEIGHBOUR_TARGETS) -> dict[str, NDArray[Any]]:
        """Per pixel: ``flow_forward`` and ``flow_backward`` float32 (H, W, 2), ``flags`` uint8 (H, W): 0 no
        surface, else 1 + 2 if the forward flow is valid + 4 if the backward one is;
        ``scene_flow_forward`` and ``scene_flow_backward`` float32 (H, W, 3) (renderer.labels.flow).
        ``before``/``after``: the neighbouring frames with their label passes (None at a sequence's ends);
        they hold the same objects in the same order."""
        return self.draw_motion(frame, catalog, before, after, tolerance, targets).read()

    def draw_motion(self, frame: FrameDescription, catalog: MeshLookup,
                    before: tuple[FrameDescription, LabelBuffers] | None,
                    after: tuple[FrameDescription, LabelBuffers] | None,
                    tolerance: float, targets: Collection[str] = NEIGHBOUR_TARGETS) -> PendingMotion:
        """motion_labels, made when the result is read (after other work, such as the RGB image)."""
        here = self.frame_surfaces(frame, catalog)

        def neighbour(other: tuple[FrameDescription, LabelBuffers] | None) -> tuple[FrameSurfaces, SurfaceSeen] | None:
            if other is None:
                return None
            buffers = other[1] if other[1] is not None and other[1].surfaces is not None else self.render(
                other[0], catalog)
            assert buffers.surfaces is not None
            return buffers.surfaces, SurfaceSeen(buffers.depth, buffers.normals)

        seen_before, seen_after = neighbour(before), neighbour(after)
        return PendingMotion(lambda: motion_targets(here, seen_before, seen_after, tolerance, frozenset(targets)))

    def amodal_masks(self, frame: FrameDescription, meshes: MeshLookup) -> NDArray[np.bool_]:
        """(N, H, W) bool: the pixel centres each of the frame's N labelled objects covers drawn alone."""
        labelled = frame.labelled_objects
        masks = np.zeros((len(labelled), self.height, self.width), dtype=bool)
        for k, obj in enumerate(labelled):
            alone = self._rasterise(dataclasses.replace(frame, objects=(obj,)), meshes, surfaces=False,
                                    count_alone=False)[0]
            masks[k] = alone.object_index == 0
        return masks

    def _count_alone(self, draws: list[tuple[int, NDArray[np.float32], MeshBuffers]]) -> NDArray[np.int64]:
        """Pixel centres each object covers with nothing in front: stencil-once + occlusion query."""
        gl = self.gl
        while len(self.queries) < len(draws):
            self.queries.append(int(np.ravel(gl.glGenQueries(1))[0]))
        gl.glColorMask(False, False, False, False)
        gl.glDepthMask(False)
        gl.glDisable(gl.GL_DEPTH_TEST)
        gl.glEnable(gl.GL_STENCIL_TEST)
        gl.glStencilOp(gl.GL_KEEP, gl.GL_KEEP, gl.GL_REPLACE)
        for k, (_, model_view, entry) in enumerate(draws):
            if k > 0 and k % 255 == 0:
                gl.glClear(gl.GL_STENCIL_BUFFER_BIT)
            gl.glStencilFunc(gl.GL_NOTEQUAL, k % 255 + 1, 0xFF)
            gl.glUniformMatrix4fv(self.uniforms["model_view"], 1, gl.GL_TRUE, model_view)
            gl.glBeginQuery(gl.GL_SAMPLES_PASSED, self.queries[k])
            self._draw(entry)
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
