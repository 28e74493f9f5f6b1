"""Every file a scene reads, and their content hashes: what a resumed dataset must still find unchanged.

A dataset records the SHA-256 of each input file (meshes with the files they pull in, landmark files,
texture, background and environment images) in dataset.json; a later run into the same folder whose
inputs differ is refused, naming the file, so one dataset never mixes two versions of an asset.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from renderer.assets.catalog import AssetCatalog, landmarks_path, obj_companions
from renderer.config.schema import SceneConfig

_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def mesh_files(mesh_path: Path) -> list[Path]:
    """A mesh file, its landmark file if any, and (OBJ) its materials and textures."""
    files = [mesh_path]
    if mesh_path.suffix.lower() == ".obj":
        files += obj_companions(mesh_path)
    sidecar = landmarks_path(mesh_path)
    if sidecar.is_file():
        files.append(sidecar)
    return files


def input_files(config: SceneConfig, catalog: AssetCatalog) -> list[Path]:
    """Every file the scene may read, sorted, without duplicates."""
    files: list[Path] = []
    for asset in catalog.all_assets:
        if asset.source.kind == "file":
            files += mesh_files(Path(asset.source.path))
    for paths in catalog.images.values():
        files += paths
    return sorted({Path(os.path.abspath(f)) for f in files if Path(f).is_file()})


def _display_name(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base.resolve()))
    except ValueError:
        return str(path)


def input_hashes(config: SceneConfig, catalog: AssetCatalog) -> dict[str, str]:
    """{file (relative to the scene file's folder where it lies inside it): sha256} of every input."""
    return {_display_name(path, config.base_dir): file_sha256(path) for path in input_files(config, catalog)}


def changed_input(recorded: dict[str, str], current: dict[str, str]) -> str | None:
    """The first input file that differs between two hash tables, with what changed; None if none."""
    for name in sorted(set(recorded) | set(current)):
        if name not in current:
            return f"{name} (no longer an input)"
        if name not in recorded:
            return f"{name} (a new input)"
        if recorded[name] != current[name]:
            return f"{name} (contents changed)"
    return None
