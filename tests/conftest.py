"""Shared fixtures: small datasets generated once per test session."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from renderer.config.schema import ImageConfig, SceneConfig, load_scene, scene_from_dict
from renderer.pipeline.run import generate

try:  # CI runs the fuzzer on a fixed sequence of examples (reproducible); elsewhere it explores anew
    from hypothesis import settings as _hypothesis_settings

    _hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
    _hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "default")
except ImportError:  # the fuzz tests skip themselves
    pass

ROOT = Path(__file__).resolve().parent.parent
TABLETOP = ROOT / "scenes" / "tabletop.yaml"
# The real-mesh scene uses a smaller image (more, smaller objects per pixel: a harder test).
TEST_WIDTH, TEST_HEIGHT = 320, 240


def small(config: SceneConfig) -> SceneConfig:
    return dataclasses.replace(config, image=ImageConfig(TEST_WIDTH, TEST_HEIGHT))


def pybullet_scene(tmp: Path) -> SceneConfig:
    """Real meshes shipped in the pybullet wheel (textured duck, bunny, ball, random objects)."""
    pybullet_data = pytest.importorskip("pybullet_data")
    data = Path(pybullet_data.getDataPath())
    return scene_from_dict({
        "image": {"width": TEST_WIDTH, "height": TEST_HEIGHT},
        "camera": {"distance": [0.45, 0.7], "elevation_deg": [25, 60]},
        "table": {"size": [0.6, 0.45], "texture": "checker"},
        "objects": {
            "count": [6, 10],
            "assets": [
                {"path": str(data / "duck.obj"), "category": "duck", "scale": [0.04, 0.05]},
                {"path": str(data / "bunny.obj"), "category": "bunny", "scale": [0.05, 0.06]},
                {"path": str(data / "soccerball.obj"), "category": "ball", "scale": [0.06, 0.07]},
                {"path": str(data / "lego" / "lego.obj"), "category": "lego", "scale": [0.25, 0.3]},
                {"path": str(data / "random_urdfs" / "00[0-9]" / "*.obj"), "category": "random",
                 "scale": [0.012, 0.016]},
            ],
        },
    }, source=str(tmp / "pybullet.yaml"))


@pytest.fixture(scope="session")
def tabletop_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tabletop")
    generate(load_scene(TABLETOP), out / "ds", frames=4, seed=7)
    return out / "ds"


@pytest.fixture(scope="session")
def pybullet_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pybullet")
    generate(pybullet_scene(out), out / "ds", frames=3, seed=3)
    return out / "ds"


@pytest.fixture(params=["tabletop_dataset", "pybullet_dataset"])
def dataset_root(request: pytest.FixtureRequest) -> Path:
    return request.getfixturevalue(request.param)
