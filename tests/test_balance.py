"""How objects are drawn: a source by its weight then a file within it, or balanced over categories or
files; proportions checked against the intended probabilities with chi-square tests (fixed seeds)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import chisquare

from renderer.assets.catalog import AssetCatalog, draw_probabilities
from renderer.config.schema import ConfigError, scene_from_dict
from renderer.sampling.frame import sample_frame

ROOT = Path(__file__).resolve().parent.parent
MESHES = ROOT / "assets" / "meshes"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three one-file sources beside a glob of the eight shipped meshes."""
    root = tmp_path_factory.mktemp("sources")
    (root / "many").mkdir()
    for path in MESHES.glob("*.obj"):
        shutil.copy(path, root / "many" / path.name)
    for name in ("mug", "can", "ball"):
        shutil.copy(MESHES / f"{name}.obj", root / f"single_{name}.obj")
    return root


def catalog_for(folder: Path, balance: str, weights: tuple[float, float, float, float] = (1, 1, 1, 1)) -> AssetCatalog:
    assets = [{"path": f"single_{name}.obj", "category": name, "weight": w}
              for name, w in zip(("mug", "can", "ball"), weights[:3], strict=True)]
    assets.append({"path": "many/*.obj", "category": "many", "weight": weights[3]})
    config = scene_from_dict({"objects": {"count": 1, "assets": assets, "balance": balance}},
                             source=str(folder / "scene.yaml"))
    return AssetCatalog(config)


def draw_counts(catalog: AssetCatalog, balance: str, key: str, n: int = 20000) -> dict[str, int]:
    p = draw_probabilities(catalog.assets, balance)
    rng = np.random.default_rng(1)
    drawn = rng.choice(len(catalog.assets), size=n, p=p)
    counts: dict[str, int] = {}
    for k in drawn:
        asset = catalog.assets[int(k)]
        name = asset.category if key == "category" else str(asset.group)
        counts[name] = counts.get(name, 0) + 1
    return counts


@pytest.mark.parametrize("weights", [(1, 1, 1, 1), (1, 2, 3, 4)])
def test_a_source_is_drawn_by_its_weight_whatever_its_file_count(folder: Path, weights: tuple[float, ...]) -> None:
    catalog = catalog_for(folder, "none", weights)  # type: ignore[arg-type]
    counts = draw_counts(catalog, "none", "source")
    observed = [counts.get(str(g), 0) for g in range(4)]
    expected = np.array(weights, dtype=float) / sum(weights) * sum(observed)
    assert chisquare(observed, expected).pvalue > 0.001
    many = [a for a in catalog.assets if a.group == 3]
    assert len(many) == 8  # the glob's 8 files share one source's weight


def test_balance_categories_and_assets(folder: Path) -> None:
    catalog = catalog_for(folder, "categories", (5, 1, 1, 1))
    counts = draw_counts(catalog, "categories", "category")
    observed = [counts[c] for c in ("mug", "can", "ball", "many")]
    assert chisquare(observed).pvalue > 0.001  # equal, whatever the weights
    p = draw_probabilities(catalog.assets, "assets")
    np.testing.assert_allclose(p, 1 / len(catalog.assets))


def test_frames_draw_sources_by_weight(folder: Path) -> None:
    """End to end through sample_frame (objects in the air, so placement keeps them all)."""
    assets = [{"path": f"single_{name}.obj", "category": name} for name in ("mug", "can", "ball")]
    assets.append({"path": "many/*.obj", "category": "many"})
    config = scene_from_dict({"objects": {"count": 3, "assets": assets, "placement": "air", "pose": "free",
                                          "air": {"low": [-50, -50, 0], "high": [50, 50, 50]}},
                              "table": {"enabled": False}}, source=str(folder / "scene.yaml"))
    catalog = AssetCatalog(config)
    counts = dict.fromkeys(("mug", "can", "ball", "many"), 0)
    for index in range(400):
        for obj in sample_frame(config, catalog, seed=5, index=index).labelled_objects:
            counts[obj.category] += 1
    assert sum(counts.values()) == 1200
    assert chisquare(list(counts.values())).pvalue > 0.001


def test_unknown_balance_is_refused() -> None:
    with pytest.raises(ConfigError, match="objects.balance: 'classes' is not one of none, categories, assets"):
        scene_from_dict({"objects": {"count": 0, "balance": "classes"}})


def visible_counts(root: Path) -> dict[str, int]:
    from renderer.io.dataset import Dataset

    ds = Dataset(root)
    counts: dict[str, int] = {}
    for i in range(len(ds)):
        for obj in ds[i].objects:
            if obj.category != "table" and obj.visible_pixels > 0:
                counts[obj.category] = counts.get(obj.category, 0) + 1
    return counts


@pytest.fixture(scope="module")
def crowded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The crowded flying-objects scene, categories drawn uniformly vs balanced for visibility."""
    from renderer.config.schema import load_scene
    from renderer.pipeline.run import generate

    root = tmp_path_factory.mktemp("crowded")
    base = ["objects.balance=categories", "image.width=160", "image.height=120"]
    for name, extra in (("uniform", []), ("visible", ["objects.balance_visible=true"])):
        generate(load_scene(ROOT / "scenes" / "flying_objects.yaml", base + extra), root / name, frames=80, seed=2)
    return {"uniform": root / "uniform", "visible": root / "visible"}


def test_balance_visible_evens_out_visible_instances(crowded: dict[str, Path]) -> None:
    """Uniform category draws leave large objects (bottles, cereal boxes) seen far less often in a crowd;
    balance_visible's pilot-based weights bring the visible counts level (chi-square against equal)."""
    uniform = visible_counts(crowded["uniform"])
    visible = visible_counts(crowded["visible"])
    assert chisquare(list(uniform.values())).pvalue < 1e-6
    assert chisquare(list(visible.values())).pvalue > 0.01
    assert min(visible.values()) / max(visible.values()) > min(uniform.values()) / max(uniform.values())
    import json

    weights = dict(json.loads((crowded["visible"] / "dataset.json").read_text())["scene"]["objects"]
                   ["category_weights"])
    assert weights["bottle"] > weights["donut"]  # the plan favours what the crowd hides


def test_balance_visible_frame_alone_equals_the_run(crowded: dict[str, Path], tmp_path: Path) -> None:
    from renderer.config.schema import load_scene
    from renderer.pipeline.run import generate

    config = load_scene(ROOT / "scenes" / "flying_objects.yaml", ["objects.balance=categories", "image.width=160",
                                                                  "image.height=120", "objects.balance_visible=true"])
    generate(config, tmp_path / "alone", frames=1, seed=2, start=37)
    for sub, suffix in (("rgb", ".png"), ("instance", ".png"), ("meta", ".json")):
        assert (tmp_path / "alone" / sub / f"000037{suffix}").read_bytes() == \
            (crowded["visible"] / sub / f"000037{suffix}").read_bytes()


def test_category_weights_by_hand(folder: Path) -> None:
    catalog = catalog_for(folder, "categories")
    p = draw_probabilities(catalog.assets, "categories", {"mug": 3.0})
    by_category: dict[str, float] = {}
    for asset, probability in zip(catalog.assets, p, strict=True):
        by_category[asset.category] = by_category.get(asset.category, 0.0) + probability
    assert by_category["mug"] == pytest.approx(0.5) and by_category["many"] == pytest.approx(1 / 6)
    with pytest.raises(ConfigError, match="need balance: categories"):
        scene_from_dict({"objects": {"count": 0, "category_weights": {"mug": 2}}})
    config = scene_from_dict({"objects": {"count": 0, "balance": "categories", "category_weights": {"mug": 2}}})
    assert config.objects.category_weights == (("mug", 2.0),)
