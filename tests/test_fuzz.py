"""Property-based fuzzing (Hypothesis) of scene files and --set overrides: every input either gives a
valid config whose frames sample to strict JSON, or one ConfigError; end to end, exit 0 with a readable
dataset or exit 2 with one line and nothing written. Bounded example budgets keep the suite quick."""

from __future__ import annotations

import dataclasses
import json
import math
import typing
from pathlib import Path
from typing import Any

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from renderer.assets.catalog import AssetCatalog  # noqa: E402
from renderer.config.distributions import constant  # noqa: E402
from renderer.config.schema import (  # noqa: E402
    CameraConfig,
    ConfigError,
    LensConfig,
    SceneConfig,
    apply_override,
    check_scene_files,
    scene_from_dict,
    scene_to_dict,
)
from renderer.sampling.frame import sample_frame  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SOURCE = str(ROOT / "scenes" / "fuzz.yaml")  # relative asset paths resolve against scenes/


def key_paths(cls: type, prefix: str = "", leaves_only: bool = False) -> list[str]:
    """Every key path of the scene schema (dataclass fields, recursively)."""
    paths = []
    hints = typing.get_type_hints(cls, include_extras=True)
    for f in dataclasses.fields(cls):
        if f.metadata.get("internal"):
            continue
        path = f"{prefix}{f.name}"
        hint = hints[f.name]
        args = [a for a in typing.get_args(hint) if dataclasses.is_dataclass(a)]
        target = hint if dataclasses.is_dataclass(hint) else (args[0] if args else None)
        if typing.get_origin(hint) is typing.Annotated:
            target = None  # a distribution: a value, not a section
        if not leaves_only or target is None:
            paths.append(path)
        if target is not None and isinstance(target, type):
            in_list = typing.get_origin(hint) is tuple
            paths += key_paths(target, path + ("[0]." if in_list else "."), leaves_only)
    return paths


KEY_PATHS = key_paths(SceneConfig)
LEAF_PATHS = key_paths(SceneConfig, leaves_only=True)
NUMBERS = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 0.5, 1e-300, 1e300, -1e300, 2**63, 1e-9, 360, 8192, 8193]),
)
WORDS = st.one_of(st.text(max_size=12), st.sampled_from(["raster", "path", "sky", "hdri", "uniform", "none",
                                                         "directional", "point", "spot", "wood", "images",
                                                         "physics", "air", "free", "../assets/meshes/*.obj"]))
LEAVES = st.one_of(NUMBERS, WORDS, st.booleans(), st.none())
VALUES = st.recursive(LEAVES, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.one_of(WORDS, st.sampled_from(["normal", "clip", "choice", "weights", "uniform",
                                                      "loguniform", "randint", "path", "scale"])),
                    inner, max_size=3)), max_leaves=8)
DEFAULTS = scene_to_dict(SceneConfig())
LENS_DEFAULTS = scene_to_dict(SceneConfig(camera=CameraConfig(lens=LensConfig(k1=constant(-0.1)))))["camera"]["lens"]


def default_at(path: str) -> Any:
    """The default value at a key path (list entries: a plausible stand-in for assets)."""
    if path.startswith(("objects.assets[0].", "distractors.assets[0].")):
        return {"path": "../assets/meshes/*.obj", "category": "thing", "weight": 1.0, "scale": 1.0}[path.split(".")[-1]]
    if path.startswith("camera.intrinsics."):
        return {"fx": 30.0, "fy": 30.0, "cx": 15.5, "cy": 11.5}[path.split(".")[-1]]
    if path.startswith("camera.lens."):
        return LENS_DEFAULTS[path.split(".")[-1]]
    node: Any = DEFAULTS
    for part in path.split("."):
        node = node[part]
    return node


def scaled(value: Any, factor: float) -> Any:
    """The value with every number multiplied by factor (integers stay integers): a plausible neighbour."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(round(value * factor))
    if isinstance(value, float):
        return value * factor
    if isinstance(value, list):
        return [scaled(v, factor) for v in value]
    if isinstance(value, dict):
        return {k: scaled(v, factor) for k, v in value.items()}
    return value


def setting_for(path: str) -> st.SearchStrategy[tuple[str, Any]]:
    """Mostly plausible values for the key (its default, scaled), sometimes anything at all."""
    default = default_at(path)
    plausible = st.floats(min_value=0.25, max_value=4.0).map(lambda f: scaled(default, f))
    return st.tuples(st.just(path), st.one_of(plausible, plausible, st.just(default), VALUES))


SETTINGS = st.one_of(st.sampled_from(LEAF_PATHS).flatmap(setting_for),
                     st.tuples(st.sampled_from(KEY_PATHS), VALUES))


def check_config(config: SceneConfig) -> None:
    """A config that validated must sample frames whose description is strict JSON."""
    catalog = AssetCatalog(config)
    if catalog.find_bad_assets():
        return
    for index in range(2):
        frame = sample_frame(config, catalog, seed=3, index=index)
        json.dumps(frame.to_dict(), allow_nan=False)
        values = [v for row in frame.camera.world_to_camera for v in row] + [v for row in frame.camera.K for v in row]
        assert all(math.isfinite(v) for v in values)


def _refuse_constant(name: str) -> None:
    raise AssertionError(f"{name} in JSON: not strict")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(SETTINGS, min_size=1, max_size=3))
def test_fuzzed_settings_validate_or_raise_one_config_error(settings_list: list[tuple[str, Any]]) -> None:
    data: dict[str, Any] = {"image": {"width": 32, "height": 24}, "objects": {"count": [0, 2], "assets": [
        {"path": "../assets/meshes/*.obj"}]}}
    for path, value in settings_list:
        try:
            data = apply_override(data, f"{path}={json.dumps(value, allow_nan=True)}", SOURCE)
        except ConfigError as exc:
            assert "\n" not in str(exc)
            return
    try:
        config = scene_from_dict(data, source=SOURCE)
        check_scene_files(config)  # what load_scene does before a scene is rendered
    except ConfigError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(SOURCE)
        return
    if config.objects.placement == "physics":
        return  # settling is slow; physics configs are covered by tests/test_randomization.py
    hypothesis.event("valid config, frames sampled")
    check_config(config)


@settings(max_examples=100, deadline=None)
@given(VALUES)
def test_fuzzed_whole_documents_validate_or_raise_one_config_error(document: Any) -> None:
    try:
        config = scene_from_dict(document, source=SOURCE)
    except ConfigError as exc:
        assert "\n" not in str(exc)
        return
    assert isinstance(config, SceneConfig)


@settings(max_examples=16, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from([p for p in LEAF_PATHS if not p.startswith(("objects.physics", "render",
                                                                           "objects.placement"))]).flatmap(setting_for),
                min_size=1, max_size=2))
def test_fuzzed_command_lines_exit_0_with_a_dataset_or_2_with_one_line(
        tmp_path_factory: pytest.TempPathFactory, capfd: pytest.CaptureFixture[str],
        settings_list: list[tuple[str, Any]]) -> None:
    from renderer import cli
    from renderer.io.dataset import Dataset

    folder = tmp_path_factory.mktemp("fuzz")
    scene = folder / "scene.yaml"
    scene.write_text(f"image: {{width: 32, height: 24}}\nobjects: {{count: [0, 2], assets: "
                     f"[{{path: {ROOT / 'assets' / 'meshes' / 'mug.obj'}}}]}}\n")
    out = folder / "out"
    args = ["generate", str(scene), "--out", str(out), "--frames", "2"]
    for path, value in settings_list:
        args += ["--set", f"{path}={json.dumps(value, allow_nan=True)}"]
    code = cli.main(args)
    err = capfd.readouterr().err
    hypothesis.event(f"exit {code}")
    if code == 0:
        ds = Dataset(out)
        assert len(ds) == 2
        for path in sorted(out.rglob("*.json")):
            json.loads(path.read_text(), parse_constant=_refuse_constant)
    else:
        assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
        assert not out.exists(), err


# --------------------------------------------------------------------------------------------------
# The people, face, lens, camera motion and conditions surface, with people in the scene

SURFACE = ("people.", "camera.", "sequence.camera.", "sensor.", "fog.", "glare.", "night.", "precipitation.",
           "edge_cases.", "depth_sensor.")
SURFACE_PATHS = [p for p in LEAF_PATHS if p.startswith(SURFACE) and not p.startswith("camera.intrinsics")]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(SURFACE_PATHS).flatmap(setting_for), min_size=1, max_size=3))
def test_fuzzed_people_lens_motion_and_conditions_validate_or_raise_one_config_error(
        settings_list: list[tuple[str, Any]]) -> None:
    from renderer.humans.catalog import scene_catalog

    data: dict[str, Any] = {"image": {"width": 32, "height": 24}, "objects": {"count": 0},
                            "people": {"count": [0, 2]}, "camera": {"lens": dict(LENS_DEFAULTS)}}
    for path, value in settings_list:
        try:
            data = apply_override(data, f"{path}={json.dumps(value, allow_nan=True)}", SOURCE)
        except ConfigError as exc:
            assert "\n" not in str(exc)
            return
    try:
        config = scene_from_dict(data, source=SOURCE)
        check_scene_files(config)
    except ConfigError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(SOURCE), str(exc)
        return
    hypothesis.event(f"valid config, {config.people.count.max} people at most, aim {config.camera.aim}")
    catalog = scene_catalog(config)
    if catalog.find_bad_assets():
        return
    frame = sample_frame(config, catalog, seed=3, index=0)
    json.dumps(frame.to_dict(), allow_nan=False)
    values = [v for row in frame.camera.world_to_camera for v in row] + [v for row in frame.camera.K for v in row]
    assert all(math.isfinite(v) for v in values)


# --------------------------------------------------------------------------------------------------
# Damaged body model caches and image files: judged from their headers, never an exception


def _whole_safetensors() -> bytes:
    header = json.dumps({"__metadata__": {"data_version": "14"},
                         "a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
                         "b": {"dtype": "U8", "shape": [5], "data_offsets": [24, 29]}}).encode()
    return len(header).to_bytes(8, "little") + header + bytes(range(29))


DAMAGE = st.one_of(
    st.tuples(st.just("cut"), st.integers(min_value=0)),
    st.tuples(st.just("set"), st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255))),
    st.tuples(st.just("append"), st.binary(min_size=1, max_size=16)),
)


def _damaged(raw: bytes, damage: tuple[str, Any]) -> bytes:
    kind, how = damage
    if not raw:
        return raw + how if kind == "append" else raw
    if kind == "cut":
        return raw[:how % len(raw)]
    if kind == "set":
        position, value = how
        spoilt = bytearray(raw)
        spoilt[position % len(raw)] = value
        return bytes(spoilt)
    return raw + how


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(DAMAGE, min_size=1, max_size=3))
def test_fuzzed_body_model_cache_files_are_judged_like_safetensors_reads_them(
        tmp_path_factory: pytest.TempPathFactory, damages: list[tuple[str, Any]]) -> None:
    from safetensors import safe_open

    from renderer.humans.cache import safetensors_problem

    raw = _whole_safetensors()
    for damage in damages:
        raw = _damaged(raw, damage)
    path = tmp_path_factory.mktemp("cache") / "build_model_data_0.safetensors"
    path.write_bytes(raw)
    problem = safetensors_problem(path)
    if problem is None:  # judged whole: safetensors reads every tensor
        with safe_open(str(path), framework="numpy") as f:
            for key in f.keys():
                f.get_tensor(key)
    if len(raw) < len(_whole_safetensors()):
        assert problem is not None  # any file cut short is caught, whatever its header says


def _png_with_size(width: int, height: int) -> bytes:
    """An 8 x 8 PNG whose header (IHDR, with its CRC fixed) declares width x height."""
    import zlib

    import cv2
    import numpy as np

    raw = bytearray(cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))[1].tobytes())
    raw[16:24] = width.to_bytes(4, "big") + height.to_bytes(4, "big")
    raw[29:33] = zlib.crc32(bytes(raw[12:29])).to_bytes(4, "big")
    return bytes(raw)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(min_value=0, max_value=2**31 - 1), st.integers(min_value=0, max_value=2**31 - 1),
       st.lists(DAMAGE, max_size=2), st.sampled_from([".png", ".jpg"]))
def test_fuzzed_image_files_are_refused_from_their_header_or_decode_within_the_bound(
        tmp_path_factory: pytest.TempPathFactory, width: int, height: int, damages: list[tuple[str, Any]],
        suffix: str) -> None:
    import cv2
    import numpy as np

    from renderer.assets.catalog import image_problem
    from renderer.scene.image_files import MAX_IMAGE_PIXELS, image_size

    small = (width % 64 + 1, height % 64 + 1)
    raw = _png_with_size(width, height) if suffix == ".png" else \
        cv2.imencode(".jpg", np.zeros((small[1], small[0], 3), np.uint8))[1].tobytes()
    for damage in damages:
        raw = _damaged(raw, damage)
    path = tmp_path_factory.mktemp("images") / f"image{suffix}"
    path.write_bytes(raw)
    problem = image_problem(path)
    if problem is None:
        size = image_size(path)
        assert size is not None and size[0] * size[1] <= MAX_IMAGE_PIXELS
        decoded = cv2.imread(str(path), cv2.IMREAD_COLOR)
        assert decoded is not None and decoded.shape[1] * decoded.shape[0] <= MAX_IMAGE_PIXELS
    elif suffix == ".png" and not damages and width * height > MAX_IMAGE_PIXELS:
        assert "pixels, more than the" in problem


# --------------------------------------------------------------------------------------------------
# The export surface: every format, on a whole dataset and on one with a file damaged


@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from renderer.pipeline.run import generate

    root = tmp_path_factory.mktemp("export_fuzz") / "ds"
    config = scene_from_dict({"image": {"width": 48, "height": 32}, "objects": {
        "count": 2, "assets": [{"path": str(ROOT / "assets" / "meshes" / "mug.obj")}]}})
    generate(config, root, frames=2, seed=0)
    return root


def _export_formats() -> list[str]:
    from renderer.export import EXPORTERS

    return sorted(EXPORTERS)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(st.sampled_from(_export_formats()), st.one_of(st.none(), st.tuples(st.integers(min_value=0), DAMAGE)))
def test_fuzzed_exports_exit_0_or_2_with_one_line(small_dataset: Path, tmp_path_factory: pytest.TempPathFactory,
                                                   capfd: pytest.CaptureFixture[str], name: str,
                                                   damage: tuple[int, tuple[str, Any]] | None) -> None:
    import shutil

    from renderer import cli

    root = tmp_path_factory.mktemp("export") / "ds"
    shutil.copytree(small_dataset, root)
    if damage is not None:
        files = sorted(p for p in root.rglob("*") if p.is_file())
        target = files[damage[0] % len(files)]
        target.write_bytes(_damaged(target.read_bytes(), damage[1]))
        hypothesis.event(f"damaged {target.parent.name}/")
    code = cli.main(["export", str(root), "--format", name, "--out", str(root.parent / "out")])
    err = capfd.readouterr().err
    hypothesis.event(f"{name}: exit {code}")
    assert code in (0, 2), (name, damage, err)
    if code == 2:
        assert err.count("\n") == 1 and "Traceback" not in err, (name, damage, err)
