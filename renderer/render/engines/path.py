"""The path engine: unbiased path tracing with Mitsuba 3 (the ``renderer[path]`` extra).

Global illumination over ``max_bounces`` bounces, soft shadows from the environment, glossy
reflections, refraction through glass; optional Intel Open Image Denoise with albedo and normal guides.
The frame description maps onto one Mitsuba scene dictionary (scene_dict): camera K exactly (pixel
centres at integers, principal point anywhere; square pixels), the same lights in the same units as the
raster engine, materials (principled / dielectric / diffuse), procedural and image textures, the
mesh files' own textures, the same smooth shading normals and texture coordinates (engines.shading),
and the environment map (renderer.scene.environment). Noise comes from the frame's own "render" stream, so a
frame renders to the same image in any run and with any number of workers on the same variant.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes.util
import functools
import glob
import logging
import os
import shutil
import tempfile
from typing import Any

import numpy as np
import trimesh
from numpy.typing import NDArray

from renderer.assets.catalog import AssetCatalog
from renderer.caching import LruCache
from renderer.config.schema import RenderConfig
from renderer.errors import require_extra
from renderer.render.engines.shading import KEPT_MESH_BYTES, KEPT_TEXTURES, shading_arrays
from renderer.render.gl.gl_context import GLContext
from renderer.render.gl.gl_platform import BackendError
from renderer.render.gl.label_pass import model_matrix
from renderer.scene.buffers import EngineImage
from renderer.scene.camera import camera_model
from renderer.scene.color import display_from_linear, linear_from_srgb
from renderer.scene.description import (
    FrameDescription,
    LightDescription,
    MaterialDescription,
    MeshSource,
    ObjectDescription,
)
from renderer.scene.environment import environment_map, map_rotation
from renderer.scene.geometry import rigid_inverse
from renderer.scene.textures import texture_rgb
from renderer.seeding import randomizer_rng

log = logging.getLogger(__name__)

# Mitsuba's camera frame is x left, y up, z forward; OpenCV's x right, y down, z forward.
_MITSUBA_FROM_OPENCV_CAMERA = np.diag([-1.0, -1.0, 1.0, 1.0])
# Our environment map frame (z up, azimuth from +x towards +y) from Mitsuba's envmap frame (y up,
# u = atan2(x, -z) / 2pi): x_m = y, y_m = z, z_m = -x.
_ENVMAP_FROM_OURS = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [-1.0, 0.0, 0.0]])
LLVM_MIN_VERSION = 16
GUIDE_SAMPLES = 4  # samples per pixel of the denoiser's albedo and normal guides


def _find_libllvm() -> str | None:
    """A libLLVM >= 16 shared library (Dr.Jit's LLVM backend needs it), or None."""
    candidates = []
    for folder in ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib",
                   "/usr/local/lib", "/opt/homebrew/opt/llvm/lib"):
        candidates += glob.glob(os.path.join(folder, "libLLVM.so.*")) + glob.glob(os.path.join(folder, "libLLVM-*.so"))
        candidates += glob.glob(os.path.join(folder, "llvm-*", "lib", "libLLVM*.so*"))
    found = ctypes.util.find_library("LLVM")
    if found:
        candidates.append(found)

    def major(path: str) -> int:
        digits = "".join(ch if ch.isdigit() else " " for ch in os.path.basename(path)).split()
        return int(digits[0]) if digits else 0

    usable = sorted((p for p in candidates if major(p) >= LLVM_MIN_VERSION), key=major, reverse=True)
    return usable[0] if usable else None


@functools.cache
def load_mitsuba(variant: str) -> Any:
    """Import Mitsuba and set its variant (once per process; Mitsuba's variant is global).

    auto: cuda_ad_rgb where a CUDA device works, else llvm_ad_rgb where libLLVM >= 16 is found (its
    path given to Dr.Jit through DRJIT_LIBLLVM_PATH unless already set), else scalar_rgb (slow).
    """
    if "DRJIT_LIBLLVM_PATH" not in os.environ:
        libllvm = _find_libllvm()
        if libllvm is not None:
            os.environ["DRJIT_LIBLLVM_PATH"] = libllvm
    for module in ("drjit", "mitsuba"):
        require_extra(module, "path", "the path engine", package="Mitsuba 3")
    import drjit as dr
    import mitsuba as mi

    order = [variant] if variant != "auto" else ["cuda_ad_rgb", "llvm_ad_rgb", "scalar_rgb"]
    errors = []
    for name in order:
        if name not in mi.variants():
            errors.append(f"{name}: not in this Mitsuba build")
            continue
        try:
            if name.startswith("cuda") and not dr.has_backend(dr.JitBackend.CUDA):
                raise RuntimeError("no CUDA device")
            if name.startswith("llvm") and not dr.has_backend(dr.JitBackend.LLVM):
                raise RuntimeError(f"no libLLVM >= {LLVM_MIN_VERSION} found (Debian: apt-get install libllvm19)")
            mi.set_variant(name)
            _smoke_test(mi)
        except Exception as exc:
            errors.append(f"{name}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
            continue
        if variant == "auto" and name == "scalar_rgb":
            log.warning("path engine on Mitsuba's scalar_rgb variant (slow): %s", "; ".join(errors))
        return mi
    raise BackendError(f"no usable Mitsuba variant for the path engine ({'; '.join(errors)})")


def _smoke_test(mi: Any) -> None:
    """Render 2x2 pixels: JIT back ends fail here (not at set_variant) when their library is unusable."""
    scene = mi.load_dict({"type": "scene", "integrator": {"type": "path"}, "sensor": {"type": "perspective", "film": {
        "type": "hdrfilm", "width": 2, "height": 2}}, "light": {"type": "constant"}})
    np.asarray(mi.render(scene, spp=1))


def render_seed(frame: FrameDescription) -> int:
    """The path tracer's sample seed for a frame: from the frame's own "render" stream."""
    return int(randomizer_rng(frame.seed, frame.index, "render", frame.attempt).integers(0, 2**31 - 1))


class PathEngine:
    """Mitsuba 3 path tracer for frames of one size."""

    name = "path"

    def __init__(self, width: int, height: int, settings: RenderConfig, context: GLContext | None = None) -> None:
        self.width, self.height = width, height
        self.settings = settings
        self.mi = load_mitsuba(settings.variant)
        self.variant = str(self.mi.variant())
        self._folder = tempfile.mkdtemp(prefix="renderer-path-")
        atexit.register(self.close)  # the temporary mesh files go even if nobody closes the engine
        # Bounded (people: new meshes every frame); a dropped mesh's file is deleted.
        self._plys: LruCache[tuple[MeshSource, bool], tuple[str, int]] = LruCache(
            KEPT_MESH_BYTES, release=lambda kept: _remove(kept[0]), weight=lambda kept: kept[1])
        self._ply_count = 0
        # The denoiser's guides (first-hit albedo and shading normal) in a pass of their own: a few
        # samples of them cost far less than carrying them through every path sample.
        self._guides = self.mi.load_dict({"type": "aov", "aovs": "albedo:albedo,nn:sh_normal"})
        self._textures: LruCache[Any, Any] = LruCache(KEPT_TEXTURES)

    def close(self) -> None:
        shutil.rmtree(self._folder, ignore_errors=True)
        self._textures.clear()
        self._plys.clear()
        atexit.unregister(self.close)

    def render(self, frame: FrameDescription, catalog: AssetCatalog) -> EngineImage:
        return self.render_seeded(frame, catalog, render_seed(frame))

    def render_seeded(self, frame: FrameDescription, catalog: AssetCatalog, seed: int) -> EngineImage:
        """render() with another sample seed (independent noise, e.g. for a converged reference)."""
        if (frame.camera.width, frame.camera.height) != (self.width, self.height):
            raise ValueError(f"frame is {frame.camera.width}x{frame.camera.height}, engine is "
                             f"{self.width}x{self.height}")
        mi = self.mi
        scene = mi.load_dict(self.scene_dict(frame, catalog))
        raw = np.asarray(mi.render(scene, seed=seed, spp=self.settings.samples), dtype=np.float32)
        linear = np.ascontiguousarray(raw[..., :3])
        alpha = np.clip(raw[..., 3:4], 0.0, 1.0)
        if self.settings.denoise:
            guides = np.asarray(mi.render(scene, integrator=self._guides, seed=seed, spp=GUIDE_SAMPLES),
                                dtype=np.float32)
            linear = denoise(linear, albedo=guides[..., -6:-3], normal=guides[..., -3:])  # the last 6 channels
        return EngineImage(rgba=display_rgba(linear, alpha), linear=linear)

    # -- the scene dictionary --------------------------------------------------------------------------

    def scene_dict(self, frame: FrameDescription, catalog: AssetCatalog) -> dict[str, Any]:
        """The Mitsuba scene of a frame (plain dictionaries, but for meshes, bitmaps and transforms)."""
        mi = self.mi
        integrator = {"type": "path", "max_depth": self.settings.max_bounces + 1, "hide_emitters": True}
        scene: dict[str, Any] = {"type": "scene", "integrator": integrator, "sensor": self._sensor(frame)}
        for k, obj in enumerate(frame.objects):
            scene[f"object_{k:04d}"] = self._shape(obj, catalog)
        for k, light in enumerate(frame.lights):
            scene[f"light_{k:03d}"] = _emitter(mi, light)
        # One environment emitter: the raster engine's ambient term (a uniform radiance) plus the environment.
        environment = frame.environment
        if environment.kind in ("none", "uniform"):
            radiance = frame.ambient + (environment.intensity if environment.kind == "uniform" else 0.0)
            if radiance > 0:
                scene["environment"] = {"type": "constant", "radiance": {"type": "rgb", "value": [radiance] * 3}}
        else:
            to_world = np.eye(4)
            to_world[:3, :3] = map_rotation(environment) @ _ENVMAP_FROM_OURS.T
            radiance_map = environment_map(environment) + np.float32(frame.ambient)
            scene["environment"] = {"type": "envmap", "bitmap": mi.Bitmap(radiance_map),
                                    "to_world": mi.ScalarTransform4f(to_world)}
        return scene

    def _sensor(self, frame: FrameDescription) -> dict[str, Any]:
        """A pinhole camera with K exactly: vertical field of view from fy, the principal point as an
        offset of the film centre. Mitsuba's pinhole has square pixels (fx = fy, no skew): the config
        refuses other intrinsics for this engine."""
        mi = self.mi
        cam = frame.camera
        K = camera_model(cam).pinhole_K()
        fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
        w, h = cam.width, cam.height
        fov_y = float(np.rad2deg(2.0 * np.arctan(h / (2.0 * fy))))
        if not np.isclose(fx, fy, rtol=1e-9) or K[0, 1] != 0:
            raise BackendError(f"the path engine needs square pixels without skew (fx {fx:g}, fy {fy:g}, "
                               f"skew {K[0, 1]:g})")
        camera_to_world = rigid_inverse(np.asarray(cam.world_to_camera)) @ _MITSUBA_FROM_OPENCV_CAMERA
        # Pixel centre (c, r) sits at film position (c + 0.5, r + 0.5). Mitsuba's offsets are in film
        # widths and heights, positive towards the film's left and top (checked by tests/test_path_engine.py).
        offset_x = (w / 2.0 - cx - 0.5) / w
        offset_y = (h / 2.0 - cy - 0.5) / h
        return {
            "type": "perspective", "fov_axis": "y", "fov": fov_y,
            "principal_point_offset_x": float(offset_x), "principal_point_offset_y": float(offset_y),
            "near_clip": float(cam.near), "far_clip": float(cam.far),
            "to_world": mi.ScalarTransform4f(camera_to_world),
            "film": {"type": "hdrfilm", "width": w, "height": h, "pixel_format": "rgba",
                     "rfilter": {"type": "box"}},
            "sampler": {"type": "independent", "sample_count": self.settings.samples},
        }

    def _shape(self, obj: ObjectDescription, catalog: AssetCatalog) -> dict[str, Any]:
        mi = self.mi
        mesh = catalog.mesh(obj.mesh)
        own = obj.material.use_asset_material
        return {"type": "ply", "filename": self._ply(obj.mesh, mesh, own), "face_normals": False,
                "to_world": mi.ScalarTransform4f(model_matrix(obj)),
                "bsdf": self._asset_bsdf(obj, mesh) if own else self._bsdf(obj.material)}

    def _ply(self, source: MeshSource, mesh: trimesh.Trimesh, own_uv: bool) -> str:
        """The mesh's shading geometry as a PLY file Mitsuba reads (written once per engine)."""
        key = (source, own_uv)
        kept = self._plys.get(key)
        if kept is None:
            uv = getattr(mesh.visual, "uv", None)
            if own_uv and uv is not None and len(uv) == len(mesh.vertices):
                arrays = {"positions": np.asarray(mesh.vertices, np.float32),
                          "normals": np.asarray(mesh.vertex_normals, np.float32),
                          "indices": np.asarray(mesh.faces, np.uint32), "uv": np.asarray(uv, np.float32)}
            else:
                arrays = shading_arrays(mesh)
            self._ply_count += 1
            path = os.path.join(self._folder, f"mesh_{self._ply_count:06d}.ply")
            _write_ply(path, arrays)
            kept = self._plys.put(key, (path, sum(a.nbytes for a in arrays.values())))
        return kept[0]

    def _bsdf(self, material: MaterialDescription) -> dict[str, Any]:
        color = [float(c) for c in material.base_color[:3]]
        if material.kind == "glass":
            tint = {"type": "rgb", "value": color}
            if material.roughness > 0.05:
                return {"type": "roughdielectric", "int_ior": material.ior, "alpha": material.roughness ** 2,
                        "specular_transmittance": tint}
            return {"type": "dielectric", "int_ior": material.ior, "specular_transmittance": tint}
        base: Any = {"type": "rgb", "value": color}
        if material.texture is not None:
            base = self._texture(material)
        if material.kind == "diffuse":
            return {"type": "diffuse", "reflectance": base}
        return {"type": "principled", "base_color": base, "metallic": material.metallic,
                "roughness": material.roughness}

    def _texture(self, material: MaterialDescription) -> dict[str, Any]:
        """The texture tinted by base_color, as linear values (pyrender decodes the texture as sRGB
        and multiplies by the factor; so does this)."""
        assert material.texture is not None
        key = (material.texture, material.base_color[:3])
        bitmap = self._textures.get(key)
        if bitmap is None:
            encoded = texture_rgb(material.texture).astype(np.float32) / np.float32(255.0)
            decoded = linear_from_srgb(encoded).astype(np.float32)
            tinted = decoded * np.asarray(material.base_color[:3], dtype=np.float32)
            bitmap = self._textures.put(key, self.mi.Bitmap(np.ascontiguousarray(tinted, dtype=np.float32)))
        return {"type": "bitmap", "bitmap": bitmap, "raw": True, "filter_type": "bilinear",
                "wrap_mode": "repeat"}

    def _asset_bsdf(self, obj: ObjectDescription, mesh: trimesh.Trimesh) -> dict[str, Any]:
        """The mesh file's own material: base colour (factor and texture), metallic-roughness (factors
        and glTF's texture: roughness in G, metallic in B) and normal map."""
        mi = self.mi
        material = getattr(mesh.visual, "material", None)
        pbr = material.to_pbr() if material is not None and hasattr(material, "to_pbr") else material
        factor = np.ones(4, dtype=np.float32)
        if pbr is not None and getattr(pbr, "baseColorFactor", None) is not None:
            factor = np.asarray(pbr.baseColorFactor, dtype=np.float32)
            factor = factor / np.float32(255.0 if factor.max() > 1 else 1.0)  # trimesh keeps uint8 factors
        image = getattr(pbr, "baseColorTexture", None) if pbr is not None else None
        key = (obj.mesh, "base")
        base: Any = {"type": "rgb", "value": factor[:3].tolist()}
        if image is not None:
            bitmap = self._textures.get(key)
            if bitmap is None:
                rgb = np.asarray(image.convert("RGB"), dtype=np.float32) / np.float32(255.0)
                bitmap = self._textures.put(key, mi.Bitmap(np.ascontiguousarray(
                    linear_from_srgb(rgb).astype(np.float32) * factor[:3])))
            base = {"type": "bitmap", "bitmap": bitmap, "raw": True, "wrap_mode": "repeat"}
        metallic: Any = float(getattr(pbr, "metallicFactor", None) or 0.0)
        roughness: Any = float(getattr(pbr, "roughnessFactor", None) or 1.0) if pbr is not None else 1.0
        mr_image = getattr(pbr, "metallicRoughnessTexture", None)
        if mr_image is not None:
            channels = np.asarray(mr_image.convert("RGB"), dtype=np.float32) / np.float32(255.0)
            roughness = {"type": "bitmap", "raw": True, "wrap_mode": "repeat",
                         "bitmap": mi.Bitmap(np.ascontiguousarray(channels[..., 1:2] * roughness))}
            metallic = {"type": "bitmap", "raw": True, "wrap_mode": "repeat",
                        "bitmap": mi.Bitmap(np.ascontiguousarray(channels[..., 2:3] * metallic))}
        bsdf: dict[str, Any] = {"type": "principled", "base_color": base, "metallic": metallic, "roughness": roughness}
        normal_image = getattr(pbr, "normalTexture", None)
        if normal_image is not None:
            normals = np.asarray(normal_image.convert("RGB"), dtype=np.float32) / np.float32(255.0)
            bsdf = {"type": "normalmap", "bsdf": bsdf,
                    "normalmap": {"type": "bitmap", "raw": True, "bitmap": mi.Bitmap(np.ascontiguousarray(normals))}}
        return {"type": "twosided", "bsdf": bsdf} if bsdf["type"] != "normalmap" else bsdf


def _emitter(mi: Any, light: LightDescription) -> dict[str, Any]:
    """A light in the raster engine's units: directional irradiance E = intensity * colour; point and
    spot radiant intensity I = intensity * colour (E = I / d^2); spot cut off at spot_angle_deg with
    the raster engine's inner cone of 0.75 of it."""
    value = {"type": "rgb", "value": [light.intensity * c for c in light.color]}
    pose = np.asarray(light.light_to_world)
    position = pose[:3, 3]
    direction = -pose[:3, 2]  # lights shine along their local -z
    if light.kind == "directional":
        return {"type": "directional", "direction": direction.tolist(), "irradiance": value}
    if light.kind == "point":
        return {"type": "point", "position": position.tolist(), "intensity": value}
    to_world = mi.ScalarTransform4f().look_at(origin=position.tolist(), target=(position + direction).tolist(),
                                              up=_any_perpendicular(direction).tolist())
    return {"type": "spot", "to_world": to_world, "intensity": value, "cutoff_angle": light.spot_angle_deg,
            "beam_width": 0.75 * light.spot_angle_deg}


def _any_perpendicular(direction: NDArray[np.float64]) -> NDArray[np.float64]:
    helper = np.array([0.0, 0.0, 1.0]) if abs(direction[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    return np.cross(direction, helper)


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.remove(path)


def _write_ply(path: str, arrays: dict[str, NDArray[Any]]) -> None:
    """Binary PLY with positions, normals, texture coordinates (u, v) and triangles."""
    positions, normals, faces = arrays["positions"], arrays["normals"], arrays["indices"]
    uv = arrays.get("uv")
    fields = [("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("nx", "<f4"), ("ny", "<f4"), ("nz", "<f4")]
    if uv is not None:
        fields += [("u", "<f4"), ("v", "<f4")]
    vertices = np.empty(len(positions), dtype=fields)
    for k, name in enumerate("xyz"):
        vertices[name] = positions[:, k]
        vertices["n" + name] = normals[:, k]
    if uv is not None:
        vertices["u"], vertices["v"] = uv[:, 0], 1.0 - uv[:, 1]  # Mitsuba samples images with v up
    triangles = np.empty(len(faces), dtype=[("n", "u1"), ("i", "<u4", (3,))])
    triangles["n"] = 3
    triangles["i"] = faces
    header = ["ply", "format binary_little_endian 1.0", f"element vertex {len(vertices)}"]
    header += [f"property float {name}" for name, _ in fields]
    header += [f"element face {len(faces)}", "property list uchar uint vertex_indices", "end_header"]
    with open(path, "wb") as handle:
        handle.write(("\n".join(header) + "\n").encode("ascii"))
        handle.write(vertices.tobytes())
        handle.write(triangles.tobytes())


def display_rgba(linear: NDArray[np.float32], alpha: NDArray[np.float32]) -> NDArray[np.float32]:
    """Premultiplied linear colour and coverage -> premultiplied display-encoded RGBA (EngineImage)."""
    covered = alpha > 0
    straight = np.where(covered, linear / np.where(covered, alpha, 1.0), 0.0).astype(np.float32)
    return np.concatenate([display_from_linear(straight) * alpha, alpha], axis=-1).astype(np.float32)


def denoise(color: NDArray[np.float32], albedo: NDArray[np.float32],
            normal: NDArray[np.float32]) -> NDArray[np.float32]:
    """Intel Open Image Denoise (pyoidn) on HDR colour with albedo and normal guides."""
    require_extra("pyoidn", "path", "denoising", package="Intel Open Image Denoise",
                  hint="(or set render.denoise: false)")
    import pyoidn

    return np.asarray(pyoidn.denoise(np.ascontiguousarray(color), np.ascontiguousarray(np.clip(albedo, 0, 1)),
                                     np.ascontiguousarray(np.clip(normal, -1, 1)), hdr=True), dtype=np.float32)


ENGINE = PathEngine  # the factory make_engine calls (renderer.render.engines)
