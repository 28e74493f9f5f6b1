"""The scene file on disk: ``load_scene`` reads, parses and checks it for rendering, and what a scene names
on disk (asset meshes, image folders, environment maps) is found here, relative to the scene file's folder.

Parsing (renderer.config.scene) never looks at the disk; the checks here run where a scene is loaded
to be rendered, so that a dataset header's scene can be compared anywhere (renderer.io.writers.same_scene)
and a missing file still fails before anything is drawn, naming its key.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from pathlib import Path

from renderer.config.parse import ConfigError, read_yaml
from renderer.config.scene import SceneConfig, apply_override, scene_from_dict

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
HDR_SUFFIXES = (".hdr", ".exr")
MESH_SUFFIXES = (".obj", ".ply", ".stl", ".glb", ".gltf", ".off")


def load_scene(path: str | os.PathLike[str], overrides: Sequence[str] = ()) -> SceneConfig:
    """Read and validate a scene file, and check what it names on disk (check_scene_files); raise
    ConfigError with one clear line on any problem.

    overrides: ``key.path=value`` settings applied on top of the file (the CLI's ``--set``); the value
    is YAML, so ``camera.fov_deg=60``, ``lights.count=[1,2]`` and ``lights.type={choice: [point, spot]}``
    all work; ``objects.assets[0].scale=1`` reaches into lists.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read scene file ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: the scene file is not UTF-8 text (byte {exc.start})") from None
    try:
        data = read_yaml(text, str(path))
        if data is None:
            data = {}
        for setting in overrides:
            data = apply_override(data, setting, str(path))
        config = scene_from_dict(data, source=str(path))
    except RecursionError:
        raise ConfigError(f"{path}: the scene file is nested too deeply") from None
    check_scene_files(config)
    return config


def check_scene_files(config: SceneConfig) -> None:
    """What the scene names on disk is there, relative to ``config.base_dir`` (the scene file's folder):
    objects have asset sources and each matches a mesh file; image folders the scene may draw from hold
    images; ConfigError naming the key otherwise."""
    _check_asset_sources(config)
    _check_image_folders(config)


def _check_asset_sources(config: SceneConfig) -> None:
    if config.objects.count.max > 0 and not config.objects.assets:
        raise ConfigError(f"{config.source}: objects.assets: at least one asset source is needed "
                          f"when objects.count > 0")
    for i, source in enumerate(config.objects.assets):
        if not resolve_asset_paths(config.base_dir, source.path):
            raise ConfigError(
                f"{config.source}: objects.assets[{i}].path: {source.path!r} matches no mesh file"
            )


def _check_image_folders(config: SceneConfig) -> None:
    needed = []
    m = config.materials
    if m.texture_probability > 0 and "image" in m.textures.params:
        needed.append(("materials.texture_images", m.texture_images))
    if "images" in config.background.kind.params:
        needed.append(("background.images", config.background.images))
    people = config.people
    if people.count.max > 0 and people.garment_image_probability > 0:
        needed.append(("people.garment_images", people.garment_images))
    for key, folder in needed:
        if not resolve_image_files(config.base_dir, folder):
            raise ConfigError(f"{config.source}: {key}: {folder!r} holds no image files "
                              f"({', '.join(IMAGE_SUFFIXES)})")
    if "hdri" in config.environment.kind.params and not resolve_image_files(
            config.base_dir, config.environment.images, HDR_SUFFIXES):
        raise ConfigError(f"{config.source}: environment.images: {config.environment.images!r} holds no "
                          f"environment maps ({', '.join(HDR_SUFFIXES)})")


def resolve_image_files(base_dir: Path, folder: str, suffixes: tuple[str, ...] = IMAGE_SUFFIXES) -> list[Path]:
    """Image files in a folder (searched recursively; relative to base_dir), sorted for determinism."""
    if not folder:
        return []
    path = Path(os.path.expanduser(folder))
    if not path.is_absolute():
        path = base_dir / path
    if not path.is_dir():
        return []
    return sorted(p.resolve() for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)


def resolve_asset_paths(base_dir: Path, pattern: str) -> list[Path]:
    """Mesh files named by a file, folder or glob pattern (relative to base_dir), sorted for determinism."""
    full = Path(os.path.expanduser(pattern))
    if not full.is_absolute():
        full = base_dir / full
    if full.is_dir():
        candidates = [p for p in full.rglob("*") if p.is_file()]
    elif any(ch in pattern for ch in "*?["):
        candidates = [Path(p) for p in glob.glob(str(full), recursive=True)]
    else:
        candidates = [full] if full.exists() else []
    return sorted(p.resolve() for p in candidates if p.suffix.lower() in MESH_SUFFIXES)
