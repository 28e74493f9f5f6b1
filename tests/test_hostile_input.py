"""Hostile input and interruptions: bad image files, odd scene files, interrupted set-up, stale temporary
files, damaged frames, SIGTERM with workers, a billion frames, and one line on stderr for every failure."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import cv2
import numpy as np
import pytest

from renderer.config.schema import load_scene, scene_from_dict
from renderer.pipeline.run import generate

ROOT = Path(__file__).resolve().parent.parent
MESHES = ROOT / "assets" / "meshes"
SCENE = f"""image: {{width: 64, height: 48}}
objects: {{count: [2, 3], assets: [{{path: {MESHES}/*.obj}}]}}
"""


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "renderer", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


def one_line(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


def write_scene(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "scene.yaml"
    path.write_text(SCENE + extra)
    return path


def test_corrupt_background_image_is_caught_before_anything_is_written(tmp_path: Path) -> None:
    images = tmp_path / "backgrounds"
    images.mkdir()
    cv2.imwrite(str(images / "good.png"), np.full((20, 30, 3), 90, np.uint8))
    (images / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    scene = write_scene(tmp_path, "background: {kind: images, images: backgrounds}\n")
    out = tmp_path / "out"
    one_line(run("generate", str(scene), "--out", str(out), "--frames", "2"), "broken.jpg", "background.images")
    assert not out.exists()
    skipped = run("generate", str(scene), "--out", str(out), "--frames", "2", "--skip-bad-assets")
    assert skipped.returncode == 0 and "broken.jpg" in skipped.stderr
    from renderer.io.dataset import Dataset

    ds = Dataset(out)
    assert {Path(ds[i].description.background.path).name for i in range(2)} == {"good.png"}


def test_corrupt_environment_map_is_caught_before_anything_is_written(tmp_path: Path) -> None:
    maps = tmp_path / "hdri"
    maps.mkdir()
    (maps / "sky.exr").write_bytes(b"v/1\x01 this is no exr")
    scene = write_scene(tmp_path, "environment: {kind: hdri, images: hdri}\n")
    one_line(run("generate", str(scene), "--out", str(tmp_path / "out"), "--frames", "1"), "sky.exr")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("content", "message"), [
    (b"image: {width: \xff\xfe}\n", "not UTF-8"),
    (b"a: " + b"[" * 20000 + b"]" * 20000 + b"\n", "nested too deeply"),
    (b"objects: {count: 2}\nobjects: {count: 3}\n", "objects: duplicate key (line 2)"),
])
def test_odd_scene_files_are_one_line(tmp_path: Path, content: bytes, message: str) -> None:
    scene = tmp_path / "odd.yaml"
    scene.write_bytes(content)
    one_line(run("generate", str(scene), "--out", str(tmp_path / "out")), message)


@pytest.mark.parametrize("args", [["generate"], ["generate", "x.yaml", "--out", "o", "--frames", "-1"],
                                  ["frobnicate"], ["export", "somewhere", "--format", "yolo9"]])
def test_argument_errors_are_one_line(args: list[str]) -> None:
    one_line(run(*args), "error:")


def test_physics_scene_errors_are_one_line(tmp_path: Path) -> None:
    out = tmp_path / "taken"
    out.mkdir()
    (out / "something").write_text("x")
    one_line(run("generate", "scenes/bin_picking.yaml", "--out", str(out), "--frames", "1"), "not empty")


def test_interrupted_set_up_is_resumed(tmp_path: Path) -> None:
    """Killed after the folders were made but before dataset.json: the same command carries on."""
    out = tmp_path / "out"
    for sub in ("rgb", "depth", "normals", "instance", "semantic", "meta", "meshes"):
        (out / sub).mkdir(parents=True)
    (out / "meshes" / "mug.ply").write_bytes(b"partial junk from another run")
    scene = write_scene(tmp_path)
    assert run("generate", str(scene), "--out", str(out), "--frames", "1").returncode == 0
    import trimesh

    assert len(trimesh.load(out / "meshes" / "mug.ply").faces) > 0  # rewritten, not kept
    (out / "other.txt").write_text("not ours")
    fresh = tmp_path / "fresh"
    (fresh / "rgb").mkdir(parents=True)
    (fresh / "notes.txt").write_text("user data")
    one_line(run("generate", str(scene), "--out", str(fresh), "--frames", "1"), "not empty")


def test_stale_temporary_files_are_removed_and_damaged_frames_redone(tmp_path: Path) -> None:
    config = load_scene(write_scene(tmp_path))
    out = tmp_path / "out"
    generate(config, out, frames=3, seed=0)
    original = (out / "meta" / "000001.json").read_bytes()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = out / "meta" / f".000002.json.{dead.pid}.1.tmp"
    stale.write_text("{")
    mine = out / "rgb" / f".000000.png.{os.getpid()}.7.tmp"  # a live process's temp file stays
    mine.write_text("in progress")
    (out / "meta" / "000001.json").write_bytes(b"")  # what a power loss can leave
    (out / "depth" / "000002.npz").write_bytes(original[:0])
    summary = generate(config, out, frames=3, seed=0)
    assert summary.frames_written == 2 and summary.frames_skipped == 1
    assert not stale.exists() and mine.exists()
    assert (out / "meta" / "000001.json").read_bytes() == original


def test_sigterm_with_workers_stops_everything(tmp_path: Path) -> None:
    scene = write_scene(tmp_path)
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "renderer", "generate", str(scene), "--out", str(out),
                                "--frames", "100000", "--workers", "2"], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((out / "meta").glob("*.json"))) < 4:
        time.sleep(0.2)
    assert len(list((out / "meta").glob("*.json"))) >= 4
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 2 and stderr.count("\n") == 1 and "interrupted" in stderr, stderr
    written = sorted(p.name for p in (out / "meta").iterdir())
    time.sleep(3)
    assert sorted(p.name for p in (out / "meta").iterdir()) == written  # no worker goes on writing
    resumed = run("generate", str(scene), "--out", str(out), "--frames", str(len(written) + 2))
    assert resumed.returncode == 0


class _Enough(Exception):
    pass


def test_a_billion_frames_start_in_constant_memory(tmp_path: Path) -> None:
    config = scene_from_dict({"image": {"width": 32, "height": 24}, "objects": {"count": 0}})

    def stop_after_two(done: int, total: int) -> None:
        assert total == 10**9
        if done >= 2:
            raise _Enough

    tracemalloc.start()
    try:
        with pytest.raises(_Enough):
            generate(config, tmp_path / "out", frames=10**9, seed=0, progress=stop_after_two)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20  # a list of 10^9 indices alone would be 8 GB


DAMAGES = {
    "depth missing": ("depth/000001.npz", lambda p: p.unlink()),
    "depth truncated": ("depth/000001.npz", lambda p: p.write_bytes(p.read_bytes()[:100])),
    "depth deflate stream broken": ("depth/000001.npz",  # zlib.error, found by tests/test_fuzz.py's exports
                                    lambda p: p.write_bytes(p.read_bytes()[:39] + b"\x00" + p.read_bytes()[40:])),
    "rgb corrupt": ("rgb/000001.png", lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\nbroken")),
    "instance missing": ("instance/000001.png", lambda p: p.unlink()),
    "meta not JSON": ("meta/000001.json", lambda p: p.write_text("{not json")),
    "meta missing camera": ("meta/000001.json",
                            lambda p: p.write_text(p.read_text().replace('"camera"', '"kamera"') )),
    "mesh missing": ("meshes/mug.ply", lambda p: p.unlink()),
    "header a list": ("dataset.json", lambda p: p.write_text("[1, 2]")),
}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pristine") / "ds"
    config = scene_from_dict({"image": {"width": 64, "height": 48},
                              "objects": {"count": 3, "assets": [{"path": str(MESHES / "mug.obj")}]}})
    generate(config, root, frames=2, seed=0)
    return root


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_readers_on_a_damaged_dataset_say_which_file(pristine: Path, tmp_path: Path, damage: str,
                                                     capfd: pytest.CaptureFixture[str]) -> None:
    import shutil

    from renderer import cli
    from renderer.io.dataset import Dataset, DatasetError

    root = tmp_path / "ds"
    shutil.copytree(pristine, root)
    relative, spoil = DAMAGES[damage]
    spoil(root / relative)
    named = 0
    commands = [["preview", str(root), "-o", str(tmp_path / "p.png")],
                ["report", str(root), "-o", str(tmp_path / "r.html")],
                ["export", str(root), "--format", "coco", "--out", str(tmp_path / "coco")],
                ["export", str(root), "--format", "bop", "--out", str(tmp_path / "bop")]]
    for command in commands:
        code = cli.main(command)
        err = capfd.readouterr().err
        assert code in (0, 2), (command, err)
        if code == 2:
            assert err.count("\n") == 1 and "Traceback" not in err, (command, err)
            named += Path(relative).name in err
    assert named >= 1, damage
    with pytest.raises(DatasetError, match=Path(relative).name):  # the Python API, touching everything
        ds = Dataset(root)
        for i in range(len(ds)):
            frame = ds[i]
            _ = (frame.rgb, frame.depth, frame.normals, frame.instance, frame.semantic, frame.K, frame.objects)
            frame.scene_meshes()


def test_an_unreachable_ray_address_is_one_line_within_seconds(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a local port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    scene = write_scene(tmp_path)
    start = time.monotonic()
    result = run("generate", str(scene), "--out", str(tmp_path / "out"), "--frames", "1", "--executor", "ray",
                 "--address", f"127.0.0.1:{port}")
    one_line(result, "no Ray cluster answers", str(port))
    assert time.monotonic() - start < 60 and not (tmp_path / "out").exists()
    one_line(run("generate", str(scene), "--out", str(tmp_path / "out"), "--executor", "ray", "--address", "::"),
             "not a HOST:PORT")


def _alias_bomb(levels: int, width: int) -> str:
    """``levels`` nested lists of ``width`` aliases each: width**levels leaves in a few hundred bytes."""
    lines = [f"a0: &a0 [{', '.join(['x'] * width)}]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join(lines) + f"\nobjects: {{count: *a{levels - 1}}}\n"


YAML_BOMBS = {
    "self-referencing list": ("objects:\n  count: &a [1, *a]\n", "recursive alias (the value at line 2"),
    "self-referencing mapping": ("camera: &c {fov_deg: 50, lens: *c}\n", "recursive alias"),
    "cycle through two anchors": ("a: &a [&b [*a]]\n", "recursive alias"),
    "10^9 leaves": (_alias_bomb(9, 10), "more than 20000 values once its aliases are expanded"),
    "10^6 leaves, wide": (_alias_bomb(3, 100), "more than 20000 values"),
    "too many aliases": ("a: &a 1\nb: [" + ", ".join(["*a"] * 1001) + "]\n", "more than 1000 aliases"),
    "too many plain values": ("a: [" + ", ".join(["1"] * 20_001) + "]\n", "more than 20000 values"),
}


@pytest.mark.parametrize("name", sorted(YAML_BOMBS))
def test_recursive_aliases_and_alias_bombs_are_refused_fast_in_bounded_memory(tmp_path: Path, name: str) -> None:
    from renderer.config.schema import ConfigError

    text, message = YAML_BOMBS[name]
    scene = tmp_path / "bomb.yaml"
    scene.write_text(text)
    tracemalloc.start()
    start = time.monotonic()
    try:
        with pytest.raises(ConfigError, match="refused YAML") as caught:
            load_scene(scene)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert message in str(caught.value) and str(scene) in str(caught.value)
    assert time.monotonic() - start < 10 and peak < 256 * 2**20, (time.monotonic() - start, peak)


def test_yaml_bombs_are_one_line_from_the_cli_and_in_set(tmp_path: Path) -> None:
    scene = tmp_path / "bomb.yaml"
    scene.write_text(_alias_bomb(9, 10))
    out = tmp_path / "out"
    one_line(run("generate", str(scene), "--out", str(out)), "bomb.yaml", "refused YAML")
    one_line(run("generate", str(write_scene(tmp_path)), "--out", str(out), "--set", "camera.fov_deg=&a [*a]"),
             "--set camera.fov_deg", "recursive alias")
    assert not out.exists()


def test_shared_aliases_within_the_caps_still_load(tmp_path: Path) -> None:
    """Aliases are not refused as such: a value shared by a few keys, and a repeated key inside it named."""
    scene = write_scene(tmp_path, "lights: &l {count: 2}\nx_shared: *l\n")
    with pytest.raises(Exception, match="x_shared: unknown key"):
        load_scene(scene)
    ok = tmp_path / "ok.yaml"
    ok.write_text(SCENE.replace("count: [2, 3]", "count: &n [2, 3]") + "distractors: {count: *n}\n")
    assert load_scene(ok).distractors.count.max == 3
    dup = tmp_path / "dup.yaml"
    dup.write_text("a: &a {b: 1, b: 2}\nc: *a\n")
    with pytest.raises(Exception, match=r"a\.b: duplicate key \(line 1\)"):
        load_scene(dup)


def _safetensors(path: Path, payload: bytes = b"\x00" * 16) -> Path:
    """A minimal whole safetensors file: one uint8 tensor of len(payload) bytes."""
    import json
    import struct

    header = json.dumps({"__metadata__": {"data_version": "14"},
                         "t": {"dtype": "U8", "shape": [len(payload)], "data_offsets": [0, len(payload)]}}).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack("<Q", len(header)) + header + payload)
    return path


CACHE_DAMAGES = {
    "zero bytes": (lambda p: p.write_bytes(b""), "0 bytes"),
    "truncated data": (lambda p: p.write_bytes(p.read_bytes()[:-5]), "cut short"),
    "truncated header": (lambda p: p.write_bytes(p.read_bytes()[:20]), "header of"),
    "header not JSON": (lambda p: p.write_bytes(b"\x04\x00\x00\x00\x00\x00\x00\x00{{{{"), "not JSON"),
    "too long": (lambda p: p.write_bytes(p.read_bytes() + b"junk"), "expected"),
}


@pytest.mark.parametrize("damage", sorted(CACHE_DAMAGES))
def test_a_damaged_body_model_cache_file_is_removed_to_be_rebuilt_or_refused_read_only(
        tmp_path: Path, damage: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from renderer.humans.cache import BodyModelCacheError, check_body_model_cache, safetensors_problem

    good = _safetensors(tmp_path / "cache" / "v14" / "load_data_1.safetensors")
    bad = _safetensors(tmp_path / "cache" / "v14" / "build_model_data_2.safetensors")
    spoil, phrase = CACHE_DAMAGES[damage]
    spoil(bad)
    assert safetensors_problem(good) is None and phrase in str(safetensors_problem(bad))
    # Read-only (a read-only mount; root ignores permission bits, so the file system's answer is faked):
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if mode & os.W_OK else real_access(p, mode))
    with pytest.raises(BodyModelCacheError, match=f"{bad}: damaged body model cache file .*read-only"):
        check_body_model_cache(print, tmp_path / "cache")
    assert bad.exists()
    monkeypatch.setattr(os, "access", real_access)
    warnings: list[str] = []
    check_body_model_cache(warnings.append, tmp_path / "cache")
    assert not bad.exists() and good.exists()
    assert len(warnings) == 1 and str(bad) in warnings[0] and "rebuilt on first use" in warnings[0]


def test_a_read_only_body_model_cache_without_a_built_model_is_refused(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from renderer.humans.cache import BodyModelCacheError, check_body_model_cache

    (tmp_path / "cache" / "v14").mkdir(parents=True)
    check_body_model_cache(print, tmp_path / "cache")  # writable and empty: anny builds it
    check_body_model_cache(print, tmp_path / "not" / "yet")  # made by anny
    monkeypatch.setattr(os, "access", lambda p, mode: not mode & os.W_OK)
    with pytest.raises(BodyModelCacheError, match="read-only and holds no built model"):
        check_body_model_cache(print, tmp_path / "cache")
    with pytest.raises(BodyModelCacheError, match=f"cannot be made: {tmp_path} is read-only"):
        check_body_model_cache(print, tmp_path / "not" / "yet")
    _safetensors(tmp_path / "cache" / "v14" / "load_data_1.safetensors")
    check_body_model_cache(print, tmp_path / "cache")  # read-only but built: loads


PEOPLE = """image: {width: 64, height: 48}
objects: {count: 0}
people: {count: 1}
"""


@pytest.mark.parametrize("where", ["a regular file", "below a regular file"])
def test_a_body_model_cache_that_is_no_folder_is_one_line_before_anything_is_written(tmp_path: Path,
                                                                                     where: str) -> None:
    scene = tmp_path / "people.yaml"
    scene.write_text(PEOPLE)
    blocker = tmp_path / "cache_file"
    blocker.write_text("not a folder")
    cache = blocker if where == "a regular file" else blocker / "anny"
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "renderer", "generate", str(scene), "--out", str(out)],
                            capture_output=True, text=True, cwd=ROOT, timeout=300,
                            env={**os.environ, "ANNY_CACHE_DIR": str(cache)})
    one_line(result, str(cache), "$ANNY_CACHE_DIR", "not a folder")
    assert not out.exists()


EXTREME_NUMBERS = [  # (--set setting, the key path the one line names)
    ("objects.assets[0].scale=1e-300", "objects.assets[0].scale"),
    ("objects.assets[0].scale=1e300", "objects.assets[0].scale"),
    ("camera.distance=1e-300", "camera.distance"),
    ("camera.distance=[1e-300, 1]", "camera.distance"),
    ("camera.distance=1e300", "camera.distance"),
    ("camera.fov_deg=1e-300", "camera.fov_deg"),
    ("camera.intrinsics={fx: 1e-300, fy: 1e-300, cx: 32, cy: 24}", "camera.intrinsics"),
    ("camera.azimuth_deg=1e300", "camera.azimuth_deg"),
    ("camera.roll_deg=-1e300", "camera.roll_deg"),
    ("camera.near=1e-300", "camera: near"),
    ("table.size=[1e-300, 1e-300]", "table"),
    ("table.thickness=1e-300", "table"),
    ("table.size=[1e300, 1]", "table"),
    ("lights.distance=1e-300", "lights.distance"),
    ("lights.spot_angle_deg=1e-300", "lights.spot_angle_deg"),
    ("lights.elevation_deg=1e300", "lights.elevation_deg"),
    ("environment.rotation_deg=1e300", "environment.rotation_deg"),
    ("night.lamp_distance=1e-300", "night.lamp_distance"),
    ("precipitation.rain_radius_m=1e-300", "precipitation.rain_radius_m"),
    ("depth_sensor.baseline_m=1e-300", "depth_sensor.baseline_m"),
    ("depth_sensor.depth_step_m=1e-300", "depth_sensor.depth_step_m"),
    ("sequence.camera.baseline=1e-300", "sequence.camera.baseline"),
    ("people.area=[1e-300, 1e-300]", "people.area"),
]


@pytest.mark.parametrize(("setting", "key"), EXTREME_NUMBERS)
def test_extreme_lengths_scales_and_angles_are_refused_naming_the_key(tmp_path: Path, setting: str,
                                                                      key: str) -> None:
    from renderer.config.schema import ConfigError

    scene = write_scene(tmp_path)
    with pytest.raises(ConfigError) as caught:
        load_scene(scene, [setting])
    message = str(caught.value)
    assert message.startswith(f"{scene}: {key}") and "\n" not in message, message
    assert "expected a" not in message and any(w in message for w in ("outside", "must lie", "must satisfy")), message
    dotted = setting.replace("1e-300", "1.0e-300").replace("1e300", "1.0e+300")  # YAML 1.1's spelling
    with pytest.raises(ConfigError, match=f"^{re.escape(str(scene))}: {re.escape(key)}"):
        load_scene(scene, [dotted])


def test_numbers_in_exponent_form_are_numbers(tmp_path: Path) -> None:
    """YAML 1.1 (PyYAML) reads ``1e-3`` as a string; scene files read it as YAML 1.2 does, a number."""
    scene = write_scene(tmp_path, "camera: {distance: 1e0, near: 5E-2, far: +2e1}\n")
    camera = load_scene(scene).camera
    assert (camera.distance.min, camera.near, camera.far) == (1.0, 0.05, 20.0)
    assert load_scene(scene, ["camera.distance=15e-1"]).camera.distance.min == 1.5


def test_extreme_numbers_are_one_line_from_the_cli_before_anything_is_written(tmp_path: Path) -> None:
    scene = write_scene(tmp_path)
    out = tmp_path / "out"
    for setting, key in [EXTREME_NUMBERS[0], EXTREME_NUMBERS[2], EXTREME_NUMBERS[10]]:
        one_line(run("generate", str(scene), "--out", str(out), "--frames", "1", "--set", setting), key)
    assert not out.exists()


def test_the_smallest_accepted_values_still_render(tmp_path: Path) -> None:
    """The lower bounds are physical, not arbitrary: a scene at every bound renders finite labels."""
    from renderer.config.checks import MIN_LENGTH, MIN_SCALE
    from renderer.io.dataset import Dataset

    scene = write_scene(tmp_path)
    config = load_scene(scene, [f"objects.assets[0].scale={MIN_SCALE}", f"camera.distance={10 * MIN_LENGTH}",
                                "camera.near=0.0001", f"table.size=[{MIN_LENGTH}, {MIN_LENGTH}]",
                                f"table.thickness={MIN_LENGTH}", "camera.fov_deg=0.001"])
    generate(config, tmp_path / "out", frames=1, seed=0)
    frame = Dataset(tmp_path / "out")[0]
    assert np.isfinite(frame.depth[frame.depth > 0]).all() and frame.rgb.shape == (48, 64, 3)


def _png_bomb(path: Path, width: int = 30000, height: int = 30000) -> Path:
    """A valid 1-bit greyscale PNG of width x height black pixels: ~110 kB for 30000 x 30000, 2.7 GB decoded."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" * (1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
                     + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


def _jpeg_claiming(path: Path, width: int, height: int) -> Path:
    """A small JPEG whose frame header (SOF0) claims width x height."""
    import struct

    ok, data = cv2.imencode(".jpg", np.full((8, 8, 3), 128, np.uint8))
    raw = bytearray(data.tobytes())
    sof = raw.index(b"\xff\xc0")
    raw[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(raw))
    return path


def _hdr_claiming(path: Path, width: int, height: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n" + f"-Y {height} +X {width}\n".encode() + b"\x02\x02")
    return path


IMAGE_BOMBS = {  # folder key -> (scene text naming the folder "imgs", the bomb's maker)
    "background, 30000^2 PNG": ("background: {kind: images, images: imgs}\n", lambda d: _png_bomb(d / "b.png")),
    "background, 8193^2 PNG": ("background: {kind: images, images: imgs}\n",
                               lambda d: _png_bomb(d / "b.png", 8193, 8193)),
    "texture, 65000^2 JPEG header": ("materials: {texture_probability: 1, textures: image, texture_images: imgs}\n",
                                     lambda d: _jpeg_claiming(d / "t.jpg", 65000, 65000)),
    "garment fabric, 30000^2 PNG": ("people: {count: 1, garment_image_probability: 1, garment_images: imgs}\n",
                                    lambda d: _png_bomb(d / "fabric.png")),
    "environment, 60000 x 30000 HDR header": ("environment: {kind: hdri, images: imgs}\n",
                                              lambda d: _hdr_claiming(d / "sky.hdr", 60000, 30000)),
}


@pytest.mark.parametrize("name", sorted(IMAGE_BOMBS))
def test_oversize_images_in_every_folder_are_refused_from_their_header(tmp_path: Path, name: str) -> None:
    from renderer.assets.catalog import AssetError
    from renderer.pipeline.run import load_catalog

    extra, make = IMAGE_BOMBS[name]
    bomb = make(tmp_path / "imgs")
    config = load_scene(write_scene(tmp_path, extra))
    tracemalloc.start()
    try:
        with pytest.raises(AssetError) as caught:
            load_catalog(config)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(caught.value)
    assert str(bomb) in message and "pixels, more than the" in message and "downscale it" in message, message
    assert peak < 64 * 2**20, peak  # the decoded image alone would be 0.2 to 5.4 GB


def test_an_image_bomb_is_one_line_from_the_cli_in_bounded_memory(tmp_path: Path) -> None:
    _png_bomb(tmp_path / "imgs" / "bomb.png")
    scene = write_scene(tmp_path, "background: {kind: images, images: imgs}\n")
    out = tmp_path / "out"
    limit = "import resource; resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30)); "
    result = subprocess.run([sys.executable, "-c", limit + "from renderer.cli import main; raise SystemExit(main())",
                             "generate", str(scene), "--out", str(out)],
                            capture_output=True, text=True, cwd=ROOT, timeout=300)
    one_line(result, "bomb.png", "30000 x 30000 pixels", "background.images")
    assert not out.exists()


def test_image_readers_refuse_oversize_files_themselves(tmp_path: Path) -> None:
    """For a config made in code that skips the catalog's check: the readers look at the header too."""
    from renderer.scene.environment import EnvironmentMapError, read_hdr_map
    from renderer.scene.image_files import MAX_IMAGE_PIXELS, image_size
    from renderer.scene.textures import load_image

    bomb = _png_bomb(tmp_path / "b.png", 9000, 9000)
    assert image_size(bomb) == (9000, 9000) and 9000 * 9000 > MAX_IMAGE_PIXELS
    with pytest.raises(ValueError, match="9000 x 9000 pixels"):
        load_image(str(bomb), 64, 48)
    with pytest.raises(EnvironmentMapError, match="60000 x 30000 pixels"):
        read_hdr_map(str(_hdr_claiming(tmp_path / "sky.hdr", 60000, 30000)))
    ok = tmp_path / "ok.png"
    cv2.imwrite(str(ok), np.full((8192, 10, 3), 7, np.uint8))
    assert image_size(ok) == (10, 8192) and load_image(str(ok), 4, 4).shape == (4, 4, 3)


@pytest.mark.parametrize("folder", ["missing", "empty", "only_text"])
def test_a_missing_or_empty_garment_folder_is_named_before_anything_is_written(tmp_path: Path, folder: str) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "only_text").mkdir()
    (tmp_path / "only_text" / "readme.txt").write_text("no fabric here")
    scene = write_scene(tmp_path, f"people: {{count: 1, garment_image_probability: 0.5, garment_images: {folder}}}\n")
    out = tmp_path / "out"
    one_line(run("generate", str(scene), "--out", str(out), "--frames", "1"), str(scene), "people.garment_images",
             repr(folder), "holds no image files")
    assert not out.exists()


@pytest.fixture(scope="module")
def people_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("people") / "ds"
    config = scene_from_dict({"image": {"width": 64, "height": 48}, "people": {"count": 1},
                              "objects": {"count": 1, "assets": [{"path": str(MESHES / "mug.obj")}]}})
    generate(config, root, frames=1, seed=0)
    return root


def test_bop_export_of_a_people_dataset_is_refused_before_anything_is_written(people_dataset: Path,
                                                                              tmp_path: Path) -> None:
    out = tmp_path / "bop"
    one_line(run("export", str(people_dataset), "--format", "bop", "--out", str(out)), "BOP format",
             "person_001", "not stored as meshes")
    assert not out.exists()


@pytest.mark.parametrize("spoil", ["landmarks missing", "landmarks empty"])
def test_coco_export_of_a_person_without_landmarks_is_one_line_or_exports(people_dataset: Path, tmp_path: Path,
                                                                          spoil: str) -> None:
    import json
    import shutil

    root = tmp_path / "ds"
    shutil.copytree(people_dataset, root)
    meta = root / "meta" / "000000.json"
    record = json.loads(meta.read_text())
    person = next(o for o in record["objects"] if o["category"] == "person")
    if spoil == "landmarks missing":
        del person["landmarks"]
    else:
        person["landmarks"] = {key: [] for key in person["landmarks"]}
    meta.write_text(json.dumps(record))
    result = run("export", str(root), "--format", "coco", "--out", str(tmp_path / "coco"))
    assert "Traceback" not in result.stderr and "KeyError" not in result.stderr, result.stderr
    if spoil == "landmarks missing":
        one_line(result, "000000.json", "landmarks")
    else:
        assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("output", ["x.txt", "x.TXT", "sheet.json"])
def test_preview_to_a_file_type_it_cannot_write_is_one_line_before_reading(pristine: Path, tmp_path: Path,
                                                                           output: str) -> None:
    target = tmp_path / output
    one_line(run("preview", str(pristine), "-o", str(target)), str(target), "cannot write an image of type")
    assert not target.exists()
    assert run("preview", str(pristine), "-o", str(tmp_path / "ok.jpg")).returncode == 0


@pytest.mark.parametrize("entry", ["-m renderer", "renderer script"])
def test_ctrl_c_while_the_command_line_loads_is_one_line(entry: str) -> None:
    """SIGINT at several moments of the first second (imports, parser): never a traceback, never ignored."""
    script = Path(sys.executable).parent / "renderer"
    command = [sys.executable, "-m", "renderer"] if entry == "-m renderer" else [str(script)]
    if entry != "-m renderer" and not script.exists():
        pytest.skip("the renderer script is not installed here")
    for delay in (0.1, 0.3, 0.6):
        process = subprocess.Popen([*command, "sample", "scenes/tabletop.yaml", "--frames", "100000"], cwd=ROOT,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 2, (delay, process.returncode, stderr)
        assert stderr.count("\n") == 1 and "Traceback" not in stderr and "interrupted" in stderr, (delay, stderr)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".hdr", ".exr"])
def test_the_header_size_of_every_image_type_a_scene_takes_is_read(tmp_path: Path, suffix: str) -> None:
    """Every suffix of IMAGE_SUFFIXES and HDR_SUFFIXES has its size read without decoding (else the check
    would refuse good images as unreadable)."""
    from renderer.config.files import HDR_SUFFIXES, IMAGE_SUFFIXES
    from renderer.scene.environment import write_hdr_map
    from renderer.scene.image_files import image_size, image_size_problem

    assert suffix in IMAGE_SUFFIXES + HDR_SUFFIXES
    path = tmp_path / f"image{suffix}"
    if suffix in HDR_SUFFIXES:
        write_hdr_map(path, np.ones((20, 40, 3), np.float32))
    else:
        cv2.imwrite(str(path), np.zeros((20, 40, 3), np.uint8))
    assert image_size(path) == (40, 20)
    assert image_size_problem(path, hdr=suffix in HDR_SUFFIXES) is None


@pytest.mark.parametrize("people", ["people: {count: 0}\n", "", "people: {count: {choice: [0, 0]}}\n"])
def test_aim_face_without_people_is_refused_naming_the_key(tmp_path: Path, people: str) -> None:
    from renderer.config.schema import ConfigError

    scene = write_scene(tmp_path, "camera: {aim: face}\n" + people)
    with pytest.raises(ConfigError, match=r"camera\.aim: face needs people, and people\.count is 0"):
        load_scene(scene)
    assert load_scene(scene, ["people.count=[0, 1]"]).camera.aim == "face"  # frames without a person aim at target
