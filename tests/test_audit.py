"""The audit (renderer.inspect.audit, ``renderer audit``) against independent references, on a tiny
dataset of scenes/audit_people.yaml: predictions are made from the raw meta files with known per-group
miss rates, so each group's people and detections are counted straight from the files; the injected
recalls are recovered within their intervals and the difference is flagged; with no bias the flags stay
within the stated family-wise rate over repeated seeds; AP per group equals pycocotools' COCOeval on the
same subset built from the exported instances.json; bad input is one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from renderer.cli import main
from renderer.config.schema import load_scene, scene_from_dict, scene_to_dict
from renderer.export import export_coco
from renderer.export.coco import coco_dict
from renderer.inspect.audit import AuditError, AuditSettings, audit, holm, permutation_test
from renderer.io.dataset import Dataset
from renderer.pipeline.run import generate

ROOT = Path(__file__).resolve().parents[1]
SCENE = ROOT / "scenes" / "audit_people.yaml"
try:  # at collection, as test_people does: importing torch (anny) after a GL context exists crashes
    import anny  # noqa: F401
    HAVE_ANNY = True
except ImportError:
    HAVE_ANNY = False
FAST: dict[str, Any] = {"bootstrap": 1000, "permutations": 400, "ap": False}


def _scene(count: int) -> Any:
    data = scene_to_dict(load_scene(SCENE))
    data["image"] = {"width": 96, "height": 72}
    data["people"]["count"] = count
    data["outputs"] = ["rgb", "instance"]
    return scene_from_dict(data, source=str(SCENE))


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """16 frames of 5 people (balanced tone x age group x gender, face labels) at 96 x 72."""
    if not HAVE_ANNY:
        pytest.skip("anny (renderer[people]) is not installed")
    root = tmp_path_factory.mktemp("audit") / "ds"
    generate(_scene(5), root, frames=16, seed=11, workers=1)
    return root


@pytest.fixture(scope="module")
def truth(people: Path) -> dict[str, Any]:
    return coco_dict(Dataset(people))


def _raw_people(root: Path) -> list[dict[str, Any]]:
    """Every audited person from the raw meta files: a person with a visible pixel, not ignored."""
    found = []
    for meta in sorted((root / "meta").glob("*.json")):
        frame = json.loads(meta.read_text())
        for obj in frame["objects"]:
            if obj["category"] == "person" and obj["visible_pixels"] > 0 and not obj.get("ignore", False):
                found.append({**obj, "image_id": frame["index"]})
    return found


def _predict(people: list[dict[str, Any]], recall: Any, seed: int) -> tuple[list[dict[str, Any]], list[bool]]:
    """COCO results from the ground truth: each person detected with probability recall(person) (a box
    jittered by up to 0.3 px, score 0.5-1, sometimes a lower-scored duplicate); a missed one gets either a
    box scored under the threshold or a false positive outside the image."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    predictions, hits = [], []
    for person in people:
        x, y, w, h = (float(v) for v in person["bbox"])
        base = {"image_id": person["image_id"], "category_id": person["category_id"]}
        hit = bool(rng.random() < recall(person))
        hits.append(hit)
        if hit:
            dx, dy = rng.uniform(-0.3, 0.3, 2)
            predictions.append({**base, "bbox": [x + dx, y + dy, w, h], "score": float(rng.uniform(0.5, 1.0))})
            if rng.random() < 0.2 and _isolated(person, people):  # a duplicate must not find another person
                predictions.append({**base, "bbox": [x, y, w, h], "score": float(rng.uniform(0.5, 0.6))})
        elif rng.random() < 0.5:
            predictions.append({**base, "bbox": [x, y, w, h], "score": float(rng.uniform(0.05, 0.45))})
        else:
            predictions.append({**base, "bbox": [200.0 + x, y, w, h], "score": float(rng.uniform(0.5, 1.0))})
    return predictions, hits


def _isolated(person: dict[str, Any], people: list[dict[str, Any]]) -> bool:
    """No other person of the image overlaps this one's box by IoU 0.3 or more."""
    x, y, w, h = person["bbox"]
    for other in people:
        if other["image_id"] != person["image_id"] or other is person:
            continue
        ox, oy, ow, oh = other["bbox"]
        inter = max(0, min(x + w, ox + ow) - max(x, ox)) * max(0, min(y + h, oy + oh) - max(y, oy))
        if inter >= 0.3 * (w * h + ow * oh - inter):
            return False
    return True


def _biased(person: dict[str, Any]) -> float:
    return 0.95 if person["person"]["monk_tone"] <= 6 else 0.70


def test_groups_counted_as_in_the_files(people: Path, truth: dict[str, Any]) -> None:
    raw = _raw_people(people)
    predictions, hits = _predict(raw, _biased, seed=1)
    by = ("monk_tone", "gender", "age_group", "pose", "head_yaw_abs", "height_px", "monk_tone+gender",
          "person.age_years@0,13,18,65,91", "frame.camera.model")
    result = audit(Dataset(people), truth, predictions, AuditSettings(by=by, min_group=10, **FAST),
                   rng=np.random.default_rng(3))
    assert result.people == len(raw) and result.detected == sum(hits)
    keys = {
        "monk_tone": lambda p: str(p["person"]["monk_tone"]),
        "gender": lambda p: p["person"]["gender"],
        "age_group": lambda p: p["person"]["age_group"],
        "pose": lambda p: p["person"]["pose"],
        "head_yaw_abs": lambda p: _bin(abs(p["face"]["head_euler_deg"]["yaw"]), (0, 30, 60, 90, 180.0001)),
        "height_px": lambda p: _bin(p["bbox"][3], (0, 16, 32, 64, 128, 256, 1e9)),
        "monk_tone+gender": lambda p: f"{p['person']['monk_tone']} x {p['person']['gender']}",
        "person.age_years@0,13,18,65,91": lambda p: _bin(p["person"]["age_years"], (0, 13, 18, 65, 91)),
        "frame.camera.model": lambda p: "pinhole",
    }
    for attribute in result.attributes:
        key = keys[attribute.name]
        expected: dict[str, list[int]] = {}
        for person, hit in zip(raw, hits, strict=True):
            expected.setdefault(key(person), [0, 0])
            expected[key(person)][0] += 1
            expected[key(person)][1] += hit
        got = {g.value: [g.people, g.detected] for g in attribute.groups}
        assert got == expected, attribute.name
        recalls = [g.recall for g in attribute.groups]
        assert recalls == sorted(recalls), "worst group first"
        assert attribute.worst == attribute.groups[0].value and attribute.best == attribute.groups[-1].value
        assert attribute.gap == pytest.approx(recalls[-1] - recalls[0])
        for g in attribute.groups:
            assert g.small == (g.people < 10)
            assert g.ci_low <= g.recall <= g.ci_high
    assert any(g.small for a in result.attributes for g in a.groups), "small groups are shown, flagged"


def _bin(value: float, edges: tuple[float, ...]) -> str:
    k = max(i for i, e in enumerate(edges[:-1]) if value >= e)
    return f"[{edges[k]:g}, {edges[k + 1]:g})"


def test_injected_bias_recovered_and_flagged(people: Path, truth: dict[str, Any]) -> None:
    """Recall 0.95 for tones 1-6 and 0.70 for 7-10, drawn anew 40 times: the per-band interval holds the
    injected recall in at least 85 % of draws (95 % nominal), and the difference is flagged in at least
    60 % of them (about 80 % expected at this size: ~50 and ~30 people per band)."""
    raw = _raw_people(people)
    dataset = Dataset(people)
    settings = AuditSettings(by=("person.monk_tone@1,7,11",), **FAST)
    covered, flagged, draws = 0, 0, 40
    for seed in range(draws):
        predictions, hits = _predict(raw, _biased, seed=100 + seed)
        (band,) = audit(dataset, truth, predictions, settings, rng=np.random.default_rng(seed)).attributes
        assert [g.value for g in band.groups] == ["[7, 11)", "[1, 7)"] or band.groups[0].recall >= 0.9
        for g in band.groups:
            injected = 0.95 if g.value == "[1, 7)" else 0.70
            covered += g.ci_low <= injected <= g.ci_high
            light = injected > 0.9
            members = [h for p, h in zip(raw, hits, strict=True) if (p["person"]["monk_tone"] <= 6) == light]
            assert (g.people, g.detected) == (len(members), sum(members))
        flagged += band.significant
    assert covered >= 0.85 * 2 * draws, covered
    assert flagged >= 0.6 * draws, flagged


def test_no_bias_flags_within_the_false_positive_rate(people: Path, truth: dict[str, Any]) -> None:
    """Recall 0.8 for everyone, 60 draws, every built-in attribute (Holm over them): the family-wise rate
    is at most alpha = 0.05 (3 expected at most); 8 or more would happen with probability < 0.01."""
    raw = _raw_people(people)
    dataset = Dataset(people)
    any_flag = 0
    for seed in range(60):
        predictions, _ = _predict(raw, lambda p: 0.8, seed=1000 + seed)
        result = audit(dataset, truth, predictions, AuditSettings(**FAST), rng=np.random.default_rng(seed))
        any_flag += any(a.significant for a in result.attributes)
    assert any_flag <= 7, any_flag


def test_permutation_test_and_holm_on_known_cases() -> None:
    rng = np.random.default_rng(5)
    groups = np.repeat(np.arange(4), 200)
    null_p = [permutation_test(groups, rng.random(800) < 0.7, 200, rng)[1] for _ in range(200)]
    assert np.mean(np.array(null_p) < 0.05) <= 0.09  # 5 % nominal (binomial sd 1.5 %)
    biased = rng.random(800) < np.where(groups == 0, 0.5, 0.9)
    assert permutation_test(groups, biased, 500, rng)[1] < 0.01
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])


def test_ap_per_group_equals_cocoeval_on_the_subset(people: Path, tmp_path: Path) -> None:
    pytest.importorskip("pycocotools")
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    raw = _raw_people(people)
    predictions, _ = _predict(raw, _biased, seed=7)
    result = audit(Dataset(people), coco_dict(Dataset(people)), predictions,
                   AuditSettings(by=("gender", "monk_tone"), bootstrap=200, permutations=50),
                   rng=np.random.default_rng(0))
    instances = json.loads(export_coco(people, tmp_path / "coco").read_text())
    person_id = next(c["id"] for c in instances["categories"] if c["name"] == "person")
    tone = {(p["image_id"], p["instance_id"]): p["person"] for p in raw}
    checked = 0
    for attribute in result.attributes:
        for g in attribute.groups:
            def member(a: dict[str, Any]) -> bool:
                who = tone.get((a["image_id"], a["renderer_instance_id"]))
                return who is not None and str(who[attribute.name]) == g.value  # noqa: B023

            subset = {**instances, "annotations": [
                {**a, "iscrowd": int(a["iscrowd"] or not member(a))}
                for a in instances["annotations"] if a["category_id"] == person_id]}
            gt = COCO()
            gt.dataset = subset
            gt.createIndex()
            E = COCOeval(gt, gt.loadRes([dict(p) for p in predictions]), "bbox")
            E.params.catIds = [person_id]
            E.evaluate()
            E.accumulate()
            E.summarize()
            assert (g.ap, g.ap50) == pytest.approx((E.stats[0], E.stats[1]), abs=1e-12), (attribute.name, g.value)
            checked += 1
    assert checked >= 4 and any(0 < (g.ap or 0) < 1 for a in result.attributes for g in a.groups)


def test_cli_writes_the_page_and_json_same_seed_same_numbers(people: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    predictions, _ = _predict(_raw_people(people), _biased, seed=2)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(predictions))
    runs = []
    for out in ("a", "b"):
        assert main(["audit", str(people), str(path), "--out", str(tmp_path / out), "--seed", "4",
                     "--by", "monk_tone", "--by", "monk_tone+gender", "--bootstrap", "300",
                     "--permutations", "100", "--no-ap"]) == 0
        runs.append(json.loads((tmp_path / out / "audit.json").read_text()))
    assert runs[0] == runs[1]
    page = (tmp_path / "a" / "audit.html").read_text()
    assert "monk_tone+gender" in page and "worst" in page
    assert "audit:" in capsys.readouterr().out


@pytest.fixture(scope="module")
def no_people(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not HAVE_ANNY:
        pytest.skip("anny (renderer[people]) is not installed")
    root = tmp_path_factory.mktemp("audit_empty") / "ds"
    generate(_scene(0), root, frames=1, seed=1, workers=1)
    return root


def _bad(people: Path, tmp_path: Path, predictions: Any, capsys: pytest.CaptureFixture[str],
         *extra: str) -> str:
    path = tmp_path / "bad.json"
    path.write_text(predictions if isinstance(predictions, str) else json.dumps(predictions))
    code = main(["audit", str(people), str(path), "--out", str(tmp_path / "out"), "--no-ap", *extra])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith("renderer: error:"), err
    return err


def test_bad_input_is_one_line_and_exit_2(people: Path, no_people: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    good, _ = _predict(_raw_people(people), lambda p: 1.0, seed=0)
    person_id = good[0]["category_id"]
    assert "image id" in _bad(people, tmp_path, [*good, {**good[0], "image_id": 999}], capsys)
    assert "category id" in _bad(people, tmp_path, [{**good[0], "category_id": 77}], capsys)
    other = next(i for i in Dataset(people).categories if i != person_id)
    assert "person category" in _bad(people, tmp_path, [{**good[0], "category_id": other}], capsys)
    assert "no predictions" in _bad(people, tmp_path, [], capsys)
    assert "not JSON" in _bad(people, tmp_path, "{oops", capsys)
    assert "bbox" in _bad(people, tmp_path, [{**good[0], "bbox": [1, 2, 3]}], capsys)
    assert "no field" in _bad(people, tmp_path, good, capsys, "--by", "person.nonsense")
    assert "bin edges" in _bad(people, tmp_path, good, capsys, "--by", "person.age_years")
    none = [{"image_id": 0, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 0.9}]
    assert "no people" in _bad(no_people, tmp_path, none, capsys)
    with pytest.raises(AuditError):
        AuditSettings(iou=0.0)
