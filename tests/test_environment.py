"""Environment maps: file round trips, the map convention, the sky's normalisation, config errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from renderer.config.schema import ConfigError, check_scene_files, scene_from_dict
from renderer.scene.description import CameraDescription, EnvironmentDescription, as_matrix
from renderer.scene.environment import (
    EnvironmentMapError,
    ambient_radiance,
    environment_background,
    lookup,
    read_hdr_map,
    write_hdr_map,
)
from renderer.scene.geometry import look_at_world_to_camera


@pytest.mark.parametrize("suffix", [".exr", ".hdr"])
def test_hdr_files_round_trip(tmp_path: Path, suffix: str) -> None:
    radiance = np.random.default_rng(0).uniform(0.0, 50.0, size=(16, 32, 3)).astype(np.float32)
    write_hdr_map(tmp_path / f"map{suffix}", radiance)
    back = read_hdr_map(str(tmp_path / f"map{suffix}"))
    if suffix == ".exr":  # float32: exact
        np.testing.assert_array_equal(back, radiance)
    else:  # Radiance RGBE: 8 mantissa bits per channel under the pixel's largest channel's exponent
        bound = radiance.max(axis=-1, keepdims=True) * 2.0**-7
        assert np.all(np.abs(back - radiance) <= bound)


def test_damaged_map_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "bad.exr").write_bytes(b"not an exr at all")
    with pytest.raises(EnvironmentMapError, match="bad.exr"):
        read_hdr_map(str(tmp_path / "bad.exr"))


def test_map_convention_zenith_row_zero_azimuth_from_x_towards_y() -> None:
    h = 32
    radiance = np.zeros((h, 2 * h, 3), dtype=np.float32)
    radiance[0, :] = 5.0  # zenith row
    radiance[h // 2, h // 2] = 7.0  # horizon, column W/4: azimuth 90 degrees (+y)
    assert lookup(radiance, np.array([0.0, 0.0, 1.0]))[0] == pytest.approx(5.0)
    azimuth = 2 * np.pi * (h // 2 + 0.5) / (2 * h)
    polar = np.pi * (h // 2 + 0.5) / h
    d = np.array([np.sin(polar) * np.cos(azimuth), np.sin(polar) * np.sin(azimuth), np.cos(polar)])
    assert lookup(radiance, d)[0] == pytest.approx(7.0)
    assert d[1] > 0.99  # that pixel looks along +y


def test_uniform_environment_background_and_ambient() -> None:
    environment = EnvironmentDescription("uniform", intensity=0.3)
    camera = CameraDescription(8, 6, as_matrix(np.array([[5.0, 0, 3.5], [0, 5.0, 2.5], [0, 0, 1]])),
                               as_matrix(look_at_world_to_camera(np.array([1.0, 0, 1]), np.zeros(3))), 0.1, 10)
    np.testing.assert_allclose(environment_background(environment, camera), 0.3 ** (1 / 2.2), rtol=1e-6)
    np.testing.assert_allclose(ambient_radiance(environment), 0.3)
    assert not ambient_radiance(EnvironmentDescription()).any()


@pytest.mark.parametrize("elevation", [10.0, 45.0, 80.0])
def test_sky_intensity_is_its_ambient_luminance(elevation: float) -> None:
    e = np.deg2rad(elevation)
    sky = EnvironmentDescription("sky", intensity=0.4, sun_direction=(np.cos(e), 0.0, np.sin(e)), turbidity=3.0)
    luminance = ambient_radiance(sky) @ np.array([0.2126, 0.7152, 0.0722])
    assert luminance == pytest.approx(0.4, rel=1e-6)
    rgb = ambient_radiance(sky)
    assert rgb[2] > rgb[0]  # a clear sky is blue


def test_config_errors_name_the_key(tmp_path: Path) -> None:
    source = str(tmp_path / "s.yaml")
    base = {"objects": {"count": 0}}
    with pytest.raises(ConfigError, match=r"render.engine: 'cycles' is not one of raster, path"):
        scene_from_dict({**base, "render": {"engine": "cycles"}}, source)
    with pytest.raises(ConfigError, match=r"environment.images: .*holds no environment maps"):
        check_scene_files(scene_from_dict({**base, "environment": {"kind": "hdri", "images": "maps"}}, source))
    with pytest.raises(ConfigError, match="environment.images: a folder"):
        scene_from_dict({**base, "environment": {"kind": "hdri"}}, source)
    with pytest.raises(ConfigError, match="square pixels"):
        scene_from_dict({**base, "render": {"engine": "path"},
                         "camera": {"intrinsics": {"fx": 500, "fy": 400, "cx": 320, "cy": 240}}}, source)
    with pytest.raises(ConfigError, match="materials.ior"):
        scene_from_dict({**base, "materials": {"ior": 0.5}}, source)
    (tmp_path / "maps").mkdir()
    write_hdr_map(tmp_path / "maps" / "a.hdr", np.ones((4, 8, 3), np.float32))
    config = scene_from_dict({**base, "environment": {"kind": "hdri", "images": "maps"}}, source)
    assert config.environment.images == "maps"
