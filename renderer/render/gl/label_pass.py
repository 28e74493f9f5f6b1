"""The label pass: depth, normals and instance ids at pixel centres, from one pass of our own shaders.

Why our own pass: pyrender 0.1.45 renders colour 4x multisampled and returns the depth of one
multisample rather than the pixel centre, and has no normals output. This pass draws every object once
into a non-multisampled framebuffer with two render targets (normal + camera z, instance id), so id,
depth and normal at a pixel are the values of the surface hit by the ray through the pixel centre.
Pixels an object would cover alone are counted with occlusion queries and the stencil buffer: each
object is drawn again with depth testing off, and the stencil makes every pixel count once per object,
so no extra image is cleared or read back.
"""

from __future__ import annotations

import ctypes
import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from renderer.assets.meshes import MeshLookup, face_classes_of, face_normals
from renderer.render.gl.caches import KeptPass, MeshBufferCache, MeshBuffers, RecentPasses
from renderer.render.gl.decoders import label_buffers
from renderer.render.gl.gl_context import GLContext, index_chunks
from renderer.render.gl.gl_platform import BackendError
from renderer.scene.buffers import LabelBuffers
from renderer.scene.camera import camera_model
from renderer.scene.description import FrameDescription, MeshSource, ObjectDescription
from renderer.scene.geometry import clip_from_opencv

_VERTEX_SHADER = """
#version 330 core
layout(location = 0) in vec3 position;
uniform mat4 model_view;      // scaled object frame -> OpenCV camera frame
uniform mat4 projection;      // OpenCV camera frame -> clip space (geometry.clip_from_opencv)
out vec3 camera_position;
void main() {
    vec4 p = model_view * vec4(position, 1.0);
    camera_position = p.xyz;
    gl_Position = projection * p;
}
"""

# Meshes are drawn indexed (shared vertices: a third of the memory of a triangle soup); each triangle's
# face normal comes from a buffer texture by its primitive id, so it is exact and never interpolated.
_FRAGMENT_SHADER = """
#version 330 core
in vec3 camera_position;
uniform float instance_id;
uniform mat3 normal_matrix;        // inverse transpose of model_view's 3x3
uniform samplerBuffer face_normals;
uniform int primitive_base;        // the first triangle of this draw (large meshes: index_chunks)
layout(location = 0) out vec4 normal_and_z;
layout(location = 1) out float instance;
void main() {
    vec3 n = normalize(normal_matrix * texelFetch(face_normals, primitive_base + gl_PrimitiveID).xyz);
    if (dot(n, camera_position) > 0.0) n = -n;   // face the camera
    normal_and_z = vec4(n, camera_position.z);
    instance = instance_id;
}
"""



# The motion pass: the same geometry and depth test as the label pass, writing for the surface at each
# pixel centre its point in the object's own frame and its optical flow (and scene flow) to the frames
# before and after with validity (the rule of renderer.labels.flow). The point's camera-frame
# position in another frame is linear over each triangle, so perspective-correct interpolation gives it
# exactly; it is projected with that frame's K and checked against that frame's own label pass (depth
# and normal per pixel, bound as a texture).
_MOTION_VERTEX_SHADER = """
#version 330 core
layout(location = 0) in vec3 position;
layout(location = 1) in vec2 texcoord;   // the mesh's UV where it has one per vertex, else (0, 0)
layout(location = 2) in vec3 position_before;  // the same vertex in the frames before and after: itself
layout(location = 3) in vec3 position_after;   // for a rigid mesh, moved for a deforming one (a person)
uniform mat4 model_views[3];   // the object's frame -> the camera frame here, before, after
uniform mat4 projection;
out vec2 surface_texcoord;
out vec3 object_position;
out vec3 here_position;
out vec3 before_position;
out vec3 after_position;
void main() {
    surface_texcoord = texcoord;
    object_position = position;
    here_position = (model_views[0] * vec4(position, 1.0)).xyz;
    before_position = (model_views[1] * vec4(position_before, 1.0)).xyz;
    after_position = (model_views[2] * vec4(position_after, 1.0)).xyz;
    gl_Position = projection * (model_views[0] * vec4(position, 1.0));
}
"""

_MOTION_FRAGMENT_SHADER = """
#version 330 core
in vec2 surface_texcoord;
in vec3 object_position;
in vec3 here_position;
in vec3 before_position;
in vec3 after_position;
uniform mat3 intrinsics_before;       // K of the frame before (GLSL's K[column][row])
uniform mat3 intrinsics_after;
uniform int has_before;
uniform int has_after;
uniform sampler2D surface_before;     // that frame's label pass: normal xyz, camera z (0 = no surface)
uniform sampler2D surface_after;
uniform float tolerance;
uniform vec2 image_size;              // width, height in pixels
uniform usamplerBuffer face_classes;  // the mesh's class per triangle (renderer.scene.body), if it has them
uniform int has_face_classes;
uniform int primitive_base;           // the first triangle of this draw (large meshes: index_chunks)
layout(location = 0) out vec4 object_coords;   // xyz (w dropped by an RGB target)
layout(location = 1) out vec2 flow_forward;    // du, dv
layout(location = 2) out vec2 flow_backward;
layout(location = 3) out uint flags;           // 0 no surface, else 1 + 2 forward valid + 4 backward valid
layout(location = 4) out vec4 scene_flow_forward;   // xyz: the point's camera-frame position there minus here
layout(location = 5) out vec4 scene_flow_backward;
layout(location = 6) out vec2 surface_uv;      // the mesh's texture coordinates at the pixel centre
layout(location = 7) out uint face_class;      // the class of the triangle seen there, 0 = none

// Flow from this pixel centre to where point p (camera frame of the other frame) projects there, and
// whether p is visible there: in front, inside the image, on the surface the other frame shows at the
// nearest pixel centre (extended as a plane to p's own ray, within tolerance * depth).
vec2 flow_to(vec3 p, mat3 K, sampler2D surface, vec2 pixel, out bool valid) {
    valid = false;
    if (p.z <= 0.0) return vec2(0.0);
    vec2 ray = p.xy / p.z;                         // p's ray, at z = 1
    vec2 uv = vec2(K[0][0] * ray.x + K[1][0] * ray.y + K[2][0], K[1][1] * ray.y + K[2][1]);
    if (all(greaterThanEqual(uv, vec2(-0.5))) && all(lessThan(uv, image_size - 0.5))) {
        vec2 nearest = floor(uv + 0.5);
        vec4 seen = texelFetch(surface, ivec2(nearest), 0);
        float centre_y = (nearest.y - K[2][1]) / K[1][1];
        vec3 centre = vec3((nearest.x - K[2][0] - K[1][0] * centre_y) / K[0][0], centre_y, 1.0);  // its ray
        float facing = dot(seen.xyz, vec3(ray, 1.0));
        float along = dot(seen.xyz, centre) * seen.w;
        float plane_z = abs(facing) > 1e-9 ? along / facing : seen.w;
        valid = seen.w > 0.0 && abs(plane_z - p.z) <= tolerance * p.z;
    }
    return uv - pixel;
}

void main() {
    vec2 pixel = gl_FragCoord.xy - 0.5;   // (column, row) of this pixel centre in image order
    bool forward_valid = false;
    bool backward_valid = false;
    vec2 forward = has_after != 0 ? flow_to(after_position, intrinsics_after, surface_after, pixel,
                                            forward_valid) : vec2(0.0);
    vec2 backward = has_before != 0 ? flow_to(before_position, intrinsics_before, surface_before, pixel,
                                              backward_valid) : vec2(0.0);
    object_coords = vec4(object_position, 1.0);
    flow_forward = forward;
    flow_backward = backward;
    flags = 1u + (forward_valid ? 2u : 0u) + (backward_valid ? 4u : 0u);
    scene_flow_forward = vec4(has_after != 0 ? after_position - here_position : vec3(0.0), 1.0);
    scene_flow_backward = vec4(has_before != 0 ? before_position - here_position : vec3(0.0), 1.0);
    surface_uv = surface_texcoord;
    face_class = has_face_classes != 0 ? texelFetch(face_classes, primitive_base + gl_PrimitiveID).r : 0u;
}
"""



@dataclass(frozen=True)
class _MotionTarget:
    """One render target of the motion pass, read back in the shape it is stored in (no copies on the
    CPU). Three-component float targets are RGB32F (a quarter fewer bytes to clear and write than
    RGBA32F), or RGBA32F where a driver cannot render to RGB32F (``fallback``)."""

    name: str
    internal: str
    read_format: str
    components: int
    integer: str = ""  # an unsigned integer target: the numpy type it is read as (uint8, uint32)
    fallback: str | None = None

    @property
    def shape_of(self) -> tuple[int, ...]:
        return (self.components,) if self.components > 1 else ()


_MOTION_OUTPUTS = (
    _MotionTarget("object_coords", "GL_RGB32F", "GL_RGB", 3, fallback="GL_RGBA32F"),
    _MotionTarget("flow_forward", "GL_RG32F", "GL_RG", 2),
    _MotionTarget("flow_backward", "GL_RG32F", "GL_RG", 2),
    _MotionTarget("flags", "GL_R8UI", "GL_RED_INTEGER", 1, integer="uint8"),
    _MotionTarget("scene_flow_forward", "GL_RGB32F", "GL_RGB", 3, fallback="GL_RGBA32F"),
    _MotionTarget("scene_flow_backward", "GL_RGB32F", "GL_RGB", 3, fallback="GL_RGBA32F"),
    _MotionTarget("surface_uv", "GL_RG32F", "GL_RG", 2),
    _MotionTarget("face_class", "GL_R32UI", "GL_RED_INTEGER", 1, integer="uint32"),
)
MOTION_TARGETS = len(_MOTION_OUTPUTS)
MOTION_OUTPUT_NAMES = frozenset(t.name for t in _MOTION_OUTPUTS)
FACE_NORMALS_UNIT = 2  # texture unit of the face-normal buffer (0 and 1: the motion pass's neighbours)
FACE_CLASSES_UNIT = 3  # texture unit of a mesh's face classes in the motion pass


RECENT_FRAMES = 3  # label passes kept for reuse (a frame and its two neighbours)


def model_matrix(obj: ObjectDescription) -> NDArray[np.float64]:
    """Scaled object frame -> world."""
    return np.asarray(obj.object_to_world) @ np.diag([obj.scale, obj.scale, obj.scale, 1.0])


def model_views(frame: FrameDescription) -> NDArray[np.float32]:
    """(N, 4, 4) float32: each object's scaled frame -> the frame's camera frame (computed in float64)."""
    poses = np.array([obj.object_to_world for obj in frame.objects], dtype=np.float64).reshape(-1, 4, 4)
    poses[:, :, :3] *= np.array([obj.scale for obj in frame.objects], dtype=np.float64)[:, None, None]
    return np.ascontiguousarray(np.asarray(frame.camera.world_to_camera) @ poses, dtype=np.float32)



@dataclass(frozen=True)
class PendingMotion:
    """A motion pass drawn but not yet read back (LabelPass.draw_motion)."""

    label_pass: LabelPass
    targets: frozenset[str]
    generation: int

    def read(self) -> dict[str, NDArray[Any]]:
        return self.label_pass._read_motion(self.targets, self.generation)


class LabelPass:
    """Our non-multisampled multi-render-target pass, drawn in a GLContext (whose close releases it).

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
                         for name in ("model_view", "normal_matrix", "projection", "instance_id", "face_normals",
                                      "primitive_base")}
        self.framebuffer = gl.glGenFramebuffers(1)
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, self.framebuffer)
        # Normal + z go to a texture (self.surface_pool), so that the motion pass can read a
        # neighbouring frame's surfaces where they were drawn; ids and depth-stencil to renderbuffers.
        self.surface_pool: list[int] = []
        self.recent = RecentPasses(RECENT_FRAMES)  # the last passes, and the surface textures they keep
        self._attach_surface(self._free_surface_texture())
        self.renderbuffers = list(np.atleast_1d(gl.glGenRenderbuffers(2)))
        for rb, fmt, attachment in zip(
            self.renderbuffers,
            (gl.GL_R32F, gl.GL_DEPTH32F_STENCIL8),
            (gl.GL_COLOR_ATTACHMENT1, gl.GL_DEPTH_STENCIL_ATTACHMENT),
            strict=True,
        ):
            gl.glBindRenderbuffer(gl.GL_RENDERBUFFER, int(rb))
            gl.glRenderbufferStorage(gl.GL_RENDERBUFFER, fmt, width, height)
            gl.glFramebufferRenderbuffer(gl.GL_FRAMEBUFFER, attachment, gl.GL_RENDERBUFFER, int(rb))
        status = gl.glCheckFramebufferStatus(gl.GL_FRAMEBUFFER)
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, 0)
        if status != gl.GL_FRAMEBUFFER_COMPLETE:
            raise BackendError(f"label framebuffer incomplete (status 0x{int(status):x})")
        self.meshes = MeshBufferCache(self._upload_mesh, self._free_mesh)
        self.queries: list[int] = []
        self.motion_program: int | None = None  # made on first use: most scenes never ask
        self.motion_framebuffer: int | None = None
        self.motion_renderbuffers: list[int] = []
        self.motion_generation = 0
        context.on_close(self.release)

    def release(self) -> None:
        gl = self.gl
        self.meshes.release()
        if self.queries:
            gl.glDeleteQueries(len(self.queries), self.queries)
        gl.glDeleteRenderbuffers(len(self.renderbuffers), [int(r) for r in self.renderbuffers])
        gl.glDeleteTextures(self.surface_pool)
        gl.glDeleteFramebuffers(1, [self.framebuffer])
        gl.glDeleteProgram(self.program)
        if self.motion_program is not None:
            gl.glDeleteTextures(self.surface_textures)
            gl.glDeleteRenderbuffers(len(self.motion_renderbuffers), self.motion_renderbuffers)
            gl.glDeleteFramebuffers(1, [self.motion_framebuffer])
            gl.glDeleteProgram(self.motion_program)

    def _free_surface_texture(self) -> int:
        """A normal + z texture that holds no kept pass (made when none is free: at most
        RECENT_FRAMES + 1, and one while no motion pass keeps any)."""
        kept = self.recent.surface_textures()
        for texture in self.surface_pool:
            if texture not in kept:
                return texture
        gl = self.gl
        texture = int(gl.glGenTextures(1))
        gl.glBindTexture(gl.GL_TEXTURE_2D, texture)
        gl.glTexImage2D(gl.GL_TEXTURE_2D, 0, gl.GL_RGBA32F, self.width, self.height, 0, gl.GL_RGBA,
                        gl.GL_FLOAT, None)
        gl.glTexParameteri(gl.GL_TEXTURE_2D, gl.GL_TEXTURE_MIN_FILTER, gl.GL_NEAREST)
        gl.glTexParameteri(gl.GL_TEXTURE_2D, gl.GL_TEXTURE_MAG_FILTER, gl.GL_NEAREST)
        gl.glBindTexture(gl.GL_TEXTURE_2D, 0)
        self.surface_pool.append(texture)
        return texture

    def _attach_surface(self, texture: int) -> None:
        """Make ``texture`` the label framebuffer's normal + z target (the framebuffer bound)."""
        gl = self.gl
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, self.framebuffer)
        gl.glFramebufferTexture2D(gl.GL_FRAMEBUFFER, gl.GL_COLOR_ATTACHMENT0, gl.GL_TEXTURE_2D, texture, 0)

    def _vertex_array(self, source: MeshSource, catalog: MeshLookup) -> MeshBuffers:
        return self.meshes.get(source, catalog)

    def _free_mesh(self, entry: MeshBuffers) -> None:
        gl = self.gl
        gl.glDeleteVertexArrays(1, [entry.vao])
        gl.glDeleteBuffers(len(entry.buffers), entry.buffers)
        gl.glDeleteTextures([entry.normals_texture, *entry.textures])

    def _upload_mesh(self, source: MeshSource, catalog: MeshLookup) -> MeshBuffers:
        """GL buffers of a mesh: float32 vertices, uint32 triangle indices, float32 face normals, and
        where the mesh has them float32 per-vertex UV (attribute 1) and uint32 face classes."""
        gl = self.gl
        mesh = catalog.mesh(source)
        lo, hi = np.asarray(mesh.bounds, dtype=np.float64)
        centre, diagonal = (lo + hi).astype(np.float32) / 2, max(float(np.linalg.norm(hi - lo)), 1e-12)
        uv = mesh.metadata.get("surface_uv", getattr(mesh.visual, "uv", None))  # a body's: anny's own layout
        uv = None if uv is None or len(uv) != len(mesh.vertices) else uv
        classes = face_classes_of(catalog, source)
        vao = int(gl.glGenVertexArrays(1))
        buffers = [int(b) for b in np.atleast_1d(gl.glGenBuffers(3 + (uv is not None) + (classes is not None)))]
        nbytes = 0
        gl.glBindVertexArray(vao)
        positions = np.ascontiguousarray(mesh.vertices, dtype=np.float32)
        gl.glBindBuffer(gl.GL_ARRAY_BUFFER, buffers[0])
        gl.glBufferData(gl.GL_ARRAY_BUFFER, positions.nbytes, positions, gl.GL_STATIC_DRAW)
        gl.glEnableVertexAttribArray(0)
        gl.glVertexAttribPointer(0, 3, gl.GL_FLOAT, False, 12, ctypes.c_void_p(0))
        nbytes += positions.nbytes
        del positions
        if uv is not None:
            texcoords = np.ascontiguousarray(uv, dtype=np.float32)
            gl.glBindBuffer(gl.GL_ARRAY_BUFFER, buffers[3])
            gl.glBufferData(gl.GL_ARRAY_BUFFER, texcoords.nbytes, texcoords, gl.GL_STATIC_DRAW)
            gl.glEnableVertexAttribArray(1)
            gl.glVertexAttribPointer(1, 2, gl.GL_FLOAT, False, 8, ctypes.c_void_p(0))
            nbytes += texcoords.nbytes
        else:
            gl.glDisableVertexAttribArray(1)  # the shader reads the constant (0, 0)
        indices = np.ascontiguousarray(mesh.faces, dtype=np.uint32)
        gl.glBindBuffer(gl.GL_ELEMENT_ARRAY_BUFFER, buffers[1])
        gl.glBufferData(gl.GL_ELEMENT_ARRAY_BUFFER, indices.nbytes, indices, gl.GL_STATIC_DRAW)
        count = indices.size
        nbytes += indices.nbytes
        del indices
        gl.glBindVertexArray(0)  # the element buffer stays bound to the VAO
        normals = face_normals(mesh)  # chunked: a scan's per-face arrays never all in memory
        texture = self._buffer_texture(buffers[2], normals, gl.GL_RGB32F)
        nbytes += normals.nbytes
        textures: tuple[int, ...] = ()
        if classes is not None:
            per_face = np.ascontiguousarray(classes, dtype=np.uint32)
            if per_face.shape != (len(mesh.faces),):
                raise ValueError(f"{len(per_face)} face classes for a mesh of {len(mesh.faces)} faces")
            textures = (self._buffer_texture(buffers[-1], per_face, gl.GL_R32UI),)
            nbytes += per_face.nbytes
        gl.glBindBuffer(gl.GL_ARRAY_BUFFER, 0)
        return MeshBuffers(vao, buffers, texture, count, centre, diagonal, nbytes=nbytes, textures=textures,
                           vertices=len(mesh.vertices))

    def _buffer_texture(self, buffer: int, data: NDArray[Any], internal: int) -> int:
        gl = self.gl
        gl.glBindBuffer(gl.GL_TEXTURE_BUFFER, buffer)
        gl.glBufferData(gl.GL_TEXTURE_BUFFER, data.nbytes, data, gl.GL_STATIC_DRAW)
        texture = int(gl.glGenTextures(1))
        gl.glBindTexture(gl.GL_TEXTURE_BUFFER, texture)
        gl.glTexBuffer(gl.GL_TEXTURE_BUFFER, internal, buffer)
        gl.glBindTexture(gl.GL_TEXTURE_BUFFER, 0)
        gl.glBindBuffer(gl.GL_TEXTURE_BUFFER, 0)
        return texture

    def _near_first(self, frame: FrameDescription, catalog: MeshLookup) -> list[int]:
        """The order both passes draw a frame's objects in: nearest first, by the far side of each one's
        bounding sphere. Hidden parts of large surfaces behind others (a table under its objects) then
        fail the depth test before they are shaded (default scene: 1.75 -> 1.5 fragments per covered pixel).
        At exactly equal depth the first drawn wins, in both passes alike."""
        world_to_camera = np.asarray(frame.camera.world_to_camera)
        far_sides = []
        for obj in frame.objects:
            entry = self._vertex_array(obj.mesh, catalog)
            centre, diagonal = entry.centre, entry.diagonal
            camera_centre = (world_to_camera @ model_matrix(obj) @ np.append(centre.astype(np.float64), 1.0))[:3]
            far_sides.append(float(np.linalg.norm(camera_centre)) + obj.scale * diagonal / 2)
        return sorted(range(len(far_sides)), key=far_sides.__getitem__)

    def _draw(self, entry: MeshBuffers, normals: bool = False, classes: bool = False) -> None:
        """Draw a mesh (its face normals, or in the motion pass its face classes, bound to their
        buffer-texture unit when the program reads them)."""
        gl = self.gl
        base_uniform = None
        if normals:
            gl.glActiveTexture(gl.GL_TEXTURE0 + FACE_NORMALS_UNIT)
            gl.glBindTexture(gl.GL_TEXTURE_BUFFER, entry.normals_texture)
            base_uniform = self.uniforms["primitive_base"]
        if classes:
            gl.glActiveTexture(gl.GL_TEXTURE0 + FACE_CLASSES_UNIT)
            gl.glBindTexture(gl.GL_TEXTURE_BUFFER, entry.textures[0] if entry.textures else 0)
            gl.glUniform1i(self.motion_uniforms["has_face_classes"], int(bool(entry.textures)))
            base_uniform = self.motion_uniforms["primitive_base"]
        gl.glBindVertexArray(entry.vao)
        chunks = index_chunks(entry.count)
        for first, count in chunks:
            if base_uniform is not None:
                gl.glUniform1i(base_uniform, first // 3)
            gl.glDrawElements(gl.GL_TRIANGLES, count, gl.GL_UNSIGNED_INT, ctypes.c_void_p(4 * first))
            if len(chunks) > 1:
                gl.glFinish()

    def render(self, frame: FrameDescription, catalog: MeshLookup, count_alone: bool = True,
               surfaces: bool = True) -> LabelBuffers:
        """The label buffers of a frame; unoccluded_pixels is empty unless count_alone; depth and
        normals are empty (0 x 0) unless surfaces (an id-only read is a fifth of the read-back).

        The last few full results are kept: the frames of a sequence are each other's neighbours for
        flow (renderer.labels.flow), so frame t + 1's pass, made for frame t's forward flow, serves frame t + 1
        itself and then its backward flow (the same bits: the pass is deterministic)."""
        kept = self.recent.get(catalog, frame) if surfaces else None
        if kept is not None and (not count_alone or len(kept.buffers.unoccluded_pixels) == len(frame.objects)):
            return kept.buffers
        texture = self._free_surface_texture()
        buffers = self._render(frame, catalog, count_alone, surfaces, texture)
        if surfaces and count_alone:
            # Its surfaces stay in the texture for the motion pass (once a scene has asked for one).
            self.recent.put(catalog, frame, KeptPass(buffers, texture if self.motion_program is not None else None))
        return buffers

    def neighbour_buffers(self, frame: FrameDescription, catalog: MeshLookup) -> LabelBuffers:
        """What draw_motion needs of a neighbouring frame: its full pass."""
        return self.render(frame, catalog)

    def _render(self, frame: FrameDescription, catalog: MeshLookup, count_alone: bool,
                surfaces: bool, surface_texture: int) -> LabelBuffers:
        if (frame.camera.width, frame.camera.height) != (self.width, self.height):
            raise ValueError(f"frame is {frame.camera.width}x{frame.camera.height}, label pass is "
                             f"{self.width}x{self.height}")
        self.context.make_current()
        self.meshes.trim(keep=tuple(obj.mesh for obj in frame.objects))  # before any of this frame is drawn
        gl = self.gl
        w, h = self.width, self.height
        cam = frame.camera
        world_to_camera = np.asarray(cam.world_to_camera)
        # Flip clip y so that OpenGL's bottom-up rows read back in image order (top row first).
        projection = np.diag([1.0, -1.0, 1.0, 1.0]) @ clip_from_opencv(camera_model(cam).pinhole_K(), w, h, cam.near,
                                                                        cam.far)
        draws = []
        order = self._near_first(frame, catalog)
        for obj in (frame.objects[k] for k in order):
            model_view = world_to_camera @ model_matrix(obj)
            normal_matrix = np.linalg.inv(model_view[:3, :3]).T
            draws.append((obj.instance_id, model_view.astype(np.float32), normal_matrix.astype(np.float32),
                          self._vertex_array(obj.mesh, catalog)))

        self._attach_surface(surface_texture)
        self._begin_pass(self.framebuffer, 2)

        gl.glUseProgram(self.program)
        gl.glUniformMatrix4fv(self.uniforms["projection"], 1, gl.GL_TRUE, projection.astype(np.float32))
        gl.glUniform1i(self.uniforms["face_normals"], FACE_NORMALS_UNIT)
        for instance_id, model_view32, normal_matrix32, entry in draws:
            gl.glUniformMatrix4fv(self.uniforms["model_view"], 1, gl.GL_TRUE, model_view32)
            gl.glUniformMatrix3fv(self.uniforms["normal_matrix"], 1, gl.GL_TRUE, normal_matrix32)
            gl.glUniform1f(self.uniforms["instance_id"], float(instance_id))
            self._draw(entry, normals=True)
        gl.glBindTexture(gl.GL_TEXTURE_BUFFER, 0)
        gl.glActiveTexture(gl.GL_TEXTURE0)

        normal_z = np.zeros((0, 0, 4), dtype=np.float32)
        if surfaces:
            gl.glReadBuffer(gl.GL_COLOR_ATTACHMENT0)
            normal_z = np.frombuffer(gl.glReadPixels(0, 0, w, h, gl.GL_RGBA, gl.GL_FLOAT),
                                     dtype=np.float32).reshape(h, w, 4)
        gl.glReadBuffer(gl.GL_COLOR_ATTACHMENT1)
        ids = np.frombuffer(gl.glReadPixels(0, 0, w, h, gl.GL_RED, gl.GL_FLOAT),
                            dtype=np.float32).reshape(h, w)

        unoccluded = np.zeros(len(draws) if count_alone else 0, dtype=np.int64)
        if count_alone:
            unoccluded[order] = self._count_alone(draws)  # back in the frame's object order

        gl.glBindVertexArray(0)
        gl.glUseProgram(0)
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, 0)
        gl.glDisable(gl.GL_STENCIL_TEST)
        gl.glColorMask(True, True, True, True)
        gl.glDepthMask(True)
        gl.glEnable(gl.GL_DEPTH_TEST)

        return label_buffers(normal_z, ids, unoccluded)

    def _motion_setup(self) -> None:
        gl = self.gl
        self.motion_program = _link_program(gl, _MOTION_VERTEX_SHADER, _MOTION_FRAGMENT_SHADER)
        self.motion_uniforms = {name: gl.glGetUniformLocation(self.motion_program, name) for name in
                                ("model_views", "projection",
                                 "intrinsics_before", "intrinsics_after",
                                 "has_before", "has_after", "surface_before", "surface_after", "tolerance",
                                 "image_size", "face_classes", "has_face_classes", "primitive_base")}
        self.surface_textures = [int(t) for t in np.atleast_1d(gl.glGenTextures(2))]
        self.motion_framebuffer = int(gl.glGenFramebuffers(1))
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, self.motion_framebuffer)
        self.motion_renderbuffers = [int(r) for r in np.atleast_1d(gl.glGenRenderbuffers(MOTION_TARGETS + 1))]
        for fallback in (False, True):  # RGB32F where the driver renders to it (Mesa does), else RGBA32F
            formats = [getattr(gl, t.fallback if fallback and t.fallback else t.internal) for t in _MOTION_OUTPUTS]
            for k, (rb, fmt) in enumerate(zip(self.motion_renderbuffers, [*formats, gl.GL_DEPTH_COMPONENT32F],
                                              strict=True)):
                depth = k == MOTION_TARGETS
                gl.glBindRenderbuffer(gl.GL_RENDERBUFFER, rb)
                gl.glRenderbufferStorage(gl.GL_RENDERBUFFER, fmt, self.width, self.height)
                attachment = gl.GL_DEPTH_ATTACHMENT if depth else gl.GL_COLOR_ATTACHMENT0 + k
                gl.glFramebufferRenderbuffer(gl.GL_FRAMEBUFFER, attachment, gl.GL_RENDERBUFFER, rb)
            gl.glGetError()  # an unsupported format is reported by the status below
            status = gl.glCheckFramebufferStatus(gl.GL_FRAMEBUFFER)
            if status == gl.GL_FRAMEBUFFER_COMPLETE:
                break
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, 0)
        if status != gl.GL_FRAMEBUFFER_COMPLETE:
            raise BackendError(f"motion framebuffer incomplete (status 0x{int(status):x})")

    def _begin_pass(self, framebuffer: int, targets: int, drawn: list[bool] | None = None,
                    integer: list[bool] | None = None) -> None:
        """Bind a framebuffer of ``targets`` colour targets, the ``drawn`` ones (default all) cleared to 0
        (as unsigned integers where ``integer``) and drawn into, with plain depth testing."""
        gl = self.gl
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, framebuffer)
        gl.glViewport(0, 0, self.width, self.height)
        drawn = drawn or [True] * targets
        gl.glDrawBuffers(targets, [gl.GL_COLOR_ATTACHMENT0 + k if drawn[k] else gl.GL_NONE for k in range(targets)])
        gl.glColorMask(True, True, True, True)
        gl.glDepthMask(True)
        gl.glStencilMask(0xFF)
        gl.glDisable(gl.GL_BLEND)
        gl.glDisable(gl.GL_CULL_FACE)
        gl.glDisable(gl.GL_STENCIL_TEST)
        gl.glEnable(gl.GL_DEPTH_TEST)
        gl.glDepthFunc(gl.GL_LESS)
        zeros = np.zeros(4, dtype=np.float32)
        for k in range(targets):
            if drawn[k]:
                if integer is not None and integer[k]:
                    gl.glClearBufferuiv(gl.GL_COLOR, k, np.zeros(4, dtype=np.uint32))
                else:
                    gl.glClearBufferfv(gl.GL_COLOR, k, zeros)
        gl.glClearBufferfi(gl.GL_DEPTH_STENCIL, 0, 1.0, 0)

    def _surface_texture(self, unit: int, catalog: MeshLookup,
                         other: tuple[FrameDescription, LabelBuffers] | None) -> None:
        """Bind a frame's depth and normals (its label pass) to texture unit ``unit``, image rows in order:
        the texture its pass drew them into while kept (LabelPass.recent), else uploaded."""
        gl = self.gl
        kept_pass = self.recent.get(catalog, other[0]) if other is not None else None
        kept = kept_pass.surface_texture if kept_pass is not None else None
        if kept is not None:
            gl.glActiveTexture(gl.GL_TEXTURE0 + unit)
            gl.glBindTexture(gl.GL_TEXTURE_2D, kept)
            return
        buffers = other[1] if other is not None else None
        if buffers is None:
            data = np.zeros((1, 1, 4), dtype=np.float32)
        else:
            data = np.empty((self.height, self.width, 4), dtype=np.float32)
            data[..., :3] = buffers.normals
            data[..., 3] = buffers.depth
        gl.glActiveTexture(gl.GL_TEXTURE0 + unit)
        gl.glBindTexture(gl.GL_TEXTURE_2D, self.surface_textures[unit])
        gl.glTexImage2D(gl.GL_TEXTURE_2D, 0, gl.GL_RGBA32F, data.shape[1], data.shape[0], 0, gl.GL_RGBA,
                        gl.GL_FLOAT, data)
        gl.glTexParameteri(gl.GL_TEXTURE_2D, gl.GL_TEXTURE_MIN_FILTER, gl.GL_NEAREST)
        gl.glTexParameteri(gl.GL_TEXTURE_2D, gl.GL_TEXTURE_MAG_FILTER, gl.GL_NEAREST)

    def motion_labels(self, frame: FrameDescription, catalog: MeshLookup,
                      before: tuple[FrameDescription, LabelBuffers] | None,
                      after: tuple[FrameDescription, LabelBuffers] | None,
                      tolerance: float, targets: frozenset[str] = MOTION_OUTPUT_NAMES,
                      ) -> dict[str, NDArray[Any]]:
        """Per pixel: ``object_coords`` float32 (H, W, 3), ``flow_forward`` and ``flow_backward`` float32
        (H, W, 2), ``flags`` uint8 (H, W): 0 no surface, else 1 + 2 if the forward flow is valid + 4 if
        the backward one is; ``scene_flow_forward`` and ``scene_flow_backward`` float32 (H, W, 3).
        ``before``/``after``: the neighbouring frames with their label
        passes (None at a sequence's ends); they hold the same objects in the same order. Only the
        outputs named in ``targets`` are drawn and read back (the shader's work for the others is dead
        code to the compiler)."""
        return self.draw_motion(frame, catalog, before, after, tolerance, targets).read()

    def draw_motion(self, frame: FrameDescription, catalog: MeshLookup,
                    before: tuple[FrameDescription, LabelBuffers] | None,
                    after: tuple[FrameDescription, LabelBuffers] | None,
                    tolerance: float, targets: frozenset[str] = MOTION_OUTPUT_NAMES) -> PendingMotion:
        """motion_labels in two halves: the draws are issued (and flushed, so the rasteriser starts on
        them) now; the result is read back by PendingMotion.read(), so that other work (the engine's
        RGB image) can run meanwhile. Only the newest pending motion pass can be read."""
        self.context.make_current()
        if self.motion_program is None:
            self._motion_setup()
        self.meshes.trim(keep=tuple(obj.mesh for obj in frame.objects))
        gl = self.gl
        w, h = self.width, self.height
        cam = frame.camera
        projection = np.diag([1.0, -1.0, 1.0, 1.0]) @ clip_from_opencv(camera_model(cam).pinhole_K(), w, h, cam.near,
                                                                        cam.far)
        for other in (before, after):
            if other is not None and len(other[0].objects) != len(frame.objects):
                raise ValueError("neighbouring frames hold different objects")
        assert self.motion_framebuffer is not None  # made by _motion_setup
        self._begin_pass(self.motion_framebuffer, MOTION_TARGETS, [t.name in targets for t in _MOTION_OUTPUTS],
                         [bool(t.integer) for t in _MOTION_OUTPUTS])
        gl.glUseProgram(self.motion_program)
        uniforms = self.motion_uniforms
        gl.glUniformMatrix4fv(uniforms["projection"], 1, gl.GL_TRUE, projection.astype(np.float32))
        gl.glUniform1f(uniforms["tolerance"], tolerance)
        gl.glUniform2f(uniforms["image_size"], float(w), float(h))
        for unit, (name, other) in enumerate((("before", before), ("after", after))):
            self._surface_texture(unit, catalog, other)
            gl.glUniform1i(uniforms[f"surface_{name}"], unit)
            gl.glUniform1i(uniforms[f"has_{name}"], int(other is not None))
            K = camera_model((other[0] if other is not None else frame).camera).pinhole_K()
            gl.glUniformMatrix3fv(uniforms[f"intrinsics_{name}"], 1, gl.GL_TRUE, K.astype(np.float32))
        # Per object, its three model-view matrices (here, before, after) in one upload.
        neighbours = [other[0] if other is not None else frame for other in (before, after)]
        views = np.stack([model_views(f) for f in (frame, *neighbours)], axis=1)
        gl.glUniform1i(uniforms["face_classes"], FACE_CLASSES_UNIT)
        for k in self._near_first(frame, catalog):
            gl.glUniformMatrix4fv(uniforms["model_views"], 3, gl.GL_TRUE, views[k])
            entry = self._vertex_array(frame.objects[k].mesh, catalog)
            # The same object's mesh in the frames before and after (uploaded first: an upload unbinds).
            moved = [self._vertex_array(n.objects[k].mesh, catalog) if n is not frame else entry for n in neighbours]
            gl.glBindVertexArray(entry.vao)
            for location, moved_entry in zip((2, 3), moved, strict=True):
                if moved_entry.vertices != entry.vertices:
                    raise ValueError(f"object {k} changes its vertex count between neighbouring frames")
                gl.glBindBuffer(gl.GL_ARRAY_BUFFER, moved_entry.buffers[0])  # its positions
                gl.glEnableVertexAttribArray(location)
                gl.glVertexAttribPointer(location, 3, gl.GL_FLOAT, False, 12, ctypes.c_void_p(0))
            gl.glBindBuffer(gl.GL_ARRAY_BUFFER, 0)
            self._draw(entry, classes="face_class" in targets)
            gl.glBindVertexArray(entry.vao)
            for location in (2, 3):  # the VAO never keeps another mesh's buffer, which may be freed
                gl.glDisableVertexAttribArray(location)
        gl.glActiveTexture(gl.GL_TEXTURE0 + FACE_CLASSES_UNIT)
        gl.glBindTexture(gl.GL_TEXTURE_BUFFER, 0)
        gl.glBindVertexArray(0)
        gl.glUseProgram(0)
        for unit in (1, 0):
            gl.glActiveTexture(gl.GL_TEXTURE0 + unit)
            gl.glBindTexture(gl.GL_TEXTURE_2D, 0)
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, 0)
        gl.glFlush()
        self.motion_generation += 1
        return PendingMotion(self, targets, self.motion_generation)

    def _read_motion(self, targets: frozenset[str], generation: int) -> dict[str, NDArray[Any]]:
        if generation != self.motion_generation:
            raise RuntimeError("a newer motion pass has replaced this one")
        self.context.make_current()
        gl = self.gl
        w, h = self.width, self.height
        gl.glBindFramebuffer(gl.GL_READ_FRAMEBUFFER, self.motion_framebuffer)
        out = {}
        for k, target in enumerate(_MOTION_OUTPUTS):
            if target.name not in targets:
                continue
            gl.glReadBuffer(gl.GL_COLOR_ATTACHMENT0 + k)
            out[target.name] = np.empty((h, w, *target.shape_of), dtype=target.integer or np.float32)
            read_type = {"": gl.GL_FLOAT, "uint8": gl.GL_UNSIGNED_BYTE, "uint32": gl.GL_UNSIGNED_INT}[target.integer]
            gl.glReadPixels(0, 0, w, h, getattr(gl, target.read_format), read_type, out[target.name])
        gl.glBindFramebuffer(gl.GL_READ_FRAMEBUFFER, 0)
        return out

    def amodal_masks(self, frame: FrameDescription, meshes: MeshLookup) -> NDArray[np.bool_]:
        """(N, H, W) bool: the pixel centres each of the frame's N labelled objects covers drawn alone."""
        labelled = frame.labelled_objects
        masks = np.zeros((len(labelled), self.height, self.width), dtype=bool)
        for k, obj in enumerate(labelled):
            alone = self._render(dataclasses.replace(frame, objects=(obj,)), meshes, count_alone=False,
                                 surfaces=False, surface_texture=self._free_surface_texture())
            masks[k] = alone.instance == obj.instance_id
        return masks

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
        for k, (_, model_view, normal_matrix, entry) in enumerate(draws):
            if k > 0 and k % 255 == 0:
                gl.glClear(gl.GL_STENCIL_BUFFER_BIT)
            gl.glStencilFunc(gl.GL_NOTEQUAL, k % 255 + 1, 0xFF)
            gl.glUniformMatrix4fv(self.uniforms["model_view"], 1, gl.GL_TRUE, model_view)
            gl.glUniformMatrix3fv(self.uniforms["normal_matrix"], 1, gl.GL_TRUE, normal_matrix)
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
