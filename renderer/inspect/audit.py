"""Audit a detector's predictions on a labelled people dataset: recall per group of every person
attribute, with bootstrap confidence intervals, a test of difference between groups, worst group first.

The ground truth is the dataset's COCO export (``renderer.export.coco.coco_dict``: image id = frame
index, our category ids, one annotation per object with a visible pixel, ``iscrowd`` 1 for objects
marked ignore) given as a dictionary; each person annotation is tied back to its typed record
(``ObjectLabels`` with ``person`` and ``face``; ``FrameRecord``) through ``image_id`` and
``renderer_instance_id``. Predictions are a COCO results list (``image_id``, ``category_id``,
``bbox`` = [x, y, w, h] in COCO's pixel coordinates, ``score``).

Matching follows COCOeval's rule at one IoU threshold: per image, the person predictions scored at
least ``score`` are taken in falling score order (stable), each matched to the unmatched non-crowd person
of highest IoU if that is at least ``iou``; crowd (ignore) people are not counted. A person is
*detected* when a prediction matched it. Statistics (docs/experiments.md):

- recall per group with a percentile bootstrap interval: the group's people resampled with replacement
  (for a yes/no outcome the resampled count is exactly Binomial(n, recall), which is what is drawn),
  ``bootstrap`` times, from the ``rng`` given;
- a permutation test of "recall does not depend on the group": Pearson's chi-square of the detected /
  missed by group table, against the same statistic with the detected flags shuffled over the people
  ``permutations`` times; p = (1 + as large or larger) / (1 + permutations);
- Holm's adjustment over every attribute tested in one audit (family-wise false-positive rate at most
  ``alpha``); an attribute is flagged when its adjusted p is below ``alpha``;
- the gap: best group's recall minus the worst's, with the interval of the difference of their
  bootstrap replicates;
- groups of fewer than ``min_group`` people are flagged ``small``, never left out;
- AP per group (optional, pycocotools): COCOeval ``bbox`` on the person category with every person
  outside the group made a crowd region (detections on them neither count nor cost).
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from renderer.errors import RendererError, require_extra
from renderer.io.dataset import Dataset
from renderer.io.format import atomic_write_bytes
from renderer.io.records import FrameRecord
from renderer.scene.records import ObjectLabels

PERSON_CATEGORY = "person"


class AuditError(RendererError, ValueError):
    """Predictions or a dataset the audit cannot score (one line naming what is wrong)."""


@dataclass(frozen=True)
class AuditSettings:
    """How an audit scores and tests.

    iou: the IoU a prediction needs to detect a person (0-1). score: the lowest prediction score used for
    recall (AP uses every prediction). confidence: of the bootstrap intervals (0-1). alpha: the
    family-wise false-positive rate of the difference tests. bootstrap, permutations: resamples drawn.
    min_group: groups with fewer people are flagged small. by: the attributes audited (``Attribute.parse``
    specs); empty: every built-in one the people have (BUILTIN; head yaw only with face labels). The
    tests' family (Holm) is these attributes, so naming fewer keeps more power. ap: also AP per group
    (needs pycocotools)."""

    iou: float = 0.5
    score: float = 0.5
    confidence: float = 0.95
    alpha: float = 0.05
    bootstrap: int = 2000
    permutations: int = 2000
    min_group: int = 30
    by: tuple[str, ...] = ()
    ap: bool = True

    def __post_init__(self) -> None:
        for name in ("iou", "confidence", "alpha"):
            if not 0 < getattr(self, name) < 1 + (name == "iou"):
                raise AuditError(f"{name} must be in (0, 1], got {getattr(self, name)}")
        if not math.isfinite(self.score):
            raise AuditError(f"score must be a finite number, got {self.score}")
        if self.bootstrap < 1 or self.permutations < 1 or self.min_group < 1:
            raise AuditError("bootstrap, permutations and min_group must each be at least 1")


@dataclass(frozen=True)
class GroupResult:
    """One group of an attribute: its people (non-crowd person annotations), how many were detected,
    recall = detected / people with its bootstrap interval [ci_low, ci_high]; small: fewer people than
    min_group; ap, ap50: COCOeval's AP@[.5:.95] and AP@.5 on the group's subset (None when not asked)."""

    value: str
    people: int
    detected: int
    recall: float
    ci_low: float
    ci_high: float
    small: bool
    ap: float | None = None
    ap50: float | None = None


@dataclass(frozen=True)
class AttributeResult:
    """One attribute (or intersection ``a+b``): its groups worst recall first; ``unlabelled`` people with
    no value for it (e.g. no face labels); the permutation test's chi-square ``statistic``, ``p_value``
    and Holm-adjusted ``p_adjusted``; ``significant`` when p_adjusted < alpha; ``gap`` = best recall -
    worst recall with its interval (``gap_low``, ``gap_high``)."""

    name: str
    groups: tuple[GroupResult, ...]
    unlabelled: int
    statistic: float
    p_value: float
    p_adjusted: float
    significant: bool
    worst: str
    best: str
    gap: float
    gap_low: float
    gap_high: float


@dataclass(frozen=True)
class AuditResult:
    """A whole audit: the settings, counts over every person (non-crowd person annotations) and the
    predictions, overall recall with its interval, and one AttributeResult per attribute audited."""

    dataset: str
    settings: AuditSettings
    predictions: int
    people: int
    detected: int
    recall: float
    ci_low: float
    ci_high: float
    attributes: tuple[AttributeResult, ...]
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (what audit.json holds)."""
        return asdict(self)


# ---- attributes --------------------------------------------------------------------------------

Getter = Callable[[ObjectLabels, FrameRecord], Any]


def _person(name: str) -> Getter:
    return lambda obj, frame: getattr(obj.person, name) if obj.person is not None else None


def _head_yaw(obj: ObjectLabels, frame: FrameRecord) -> float | None:
    return abs(float(obj.face.head_euler_deg[0])) if obj.face is not None else None


@dataclass(frozen=True)
class Attribute:
    """A thing people are grouped by: a name, how a person's value is read from its typed records
    (None: the person has none), and optional bin edges (values in [e_k, e_k+1) share a group)."""

    name: str
    read: Getter
    edges: tuple[float, ...] = ()

    @staticmethod
    def parse(spec: str) -> Attribute:
        """``NAME`` (a built-in attribute), ``PATH`` (dotted fields of the person's ObjectLabels, e.g.
        ``person.age_years``, ``face.expression``, or of its FrameRecord after ``frame.``, e.g.
        ``frame.camera.model``), either with ``@e0,e1,...`` bin edges for numbers."""
        name, _, bins = spec.partition("@")
        edges: tuple[float, ...] = ()
        if bins:
            try:
                edges = tuple(float(e) for e in bins.split(","))
            except ValueError:
                raise AuditError(f"--by {spec}: bin edges must be numbers, e.g. "
                                 "person.age_years@0,13,18,65,91") from None
            if len(edges) < 2 or any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
                raise AuditError(f"--by {spec}: give at least two increasing bin edges")
        if name in BUILTIN:
            builtin = BUILTIN[name]
            return Attribute(spec, builtin.read, edges or builtin.edges)
        parts = name.split(".")
        if not name or not all(p.isidentifier() for p in parts):
            raise AuditError(f"--by {spec}: not an attribute ({', '.join(BUILTIN)}) or a dotted field path")
        if parts[0] == "frame":
            return Attribute(spec, lambda obj, frame: _walk(frame, parts[1:], spec), edges)
        return Attribute(spec, lambda obj, frame: _walk(obj, parts, spec), edges)

    def group(self, obj: ObjectLabels, frame: FrameRecord) -> str | None:
        """The person's group label (None: no value)."""
        value = self.read(obj, frame)
        if value is None:
            return None
        if not self.edges:
            if isinstance(value, (float, np.floating)) and not float(value).is_integer():
                raise AuditError(f"--by {self.name}: {value} is a continuous number; give bin edges "
                                 f"({self.name}@e0,e1,...)")
            return str(int(value)) if isinstance(value, (float, np.floating)) else str(value)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise AuditError(f"--by {self.name}: bin edges given but the value {value!r} is not a number") from None
        k = int(np.searchsorted(self.edges, number, side="right")) - 1
        if k < 0 or k >= len(self.edges) - 1:
            return f"outside [{self.edges[0]:g}, {self.edges[-1]:g})"
        return f"[{self.edges[k]:g}, {self.edges[k + 1]:g})"


def _walk(value: Any, parts: Sequence[str], spec: str) -> Any:
    for part in parts:
        if value is None:
            return None
        if not hasattr(value, part):
            raise AuditError(f"--by {spec}: {type(value).__name__} has no field {part!r}")
        value = getattr(value, part)
    if isinstance(value, np.ndarray) or (isinstance(value, (tuple, list, dict)) and not isinstance(value, str)):
        raise AuditError(f"--by {spec}: names a {type(value).__name__}, not one value")
    return value


BUILTIN: dict[str, Attribute] = {a.name: a for a in (
    Attribute("monk_tone", _person("monk_tone")),
    Attribute("age_group", _person("age_group")),
    Attribute("gender", _person("gender")),
    Attribute("pose", _person("pose")),
    Attribute("head_yaw_abs", _head_yaw, (0.0, 30.0, 60.0, 90.0, 180.0001)),  # |yaw| degrees, with face labels
    Attribute("visible_fraction", lambda obj, frame: obj.visible_fraction, (0.0, 0.25, 0.5, 0.75, 1.0001)),
    Attribute("height_px", lambda obj, frame: obj.bbox[3], (0.0, 16.0, 32.0, 64.0, 128.0, 256.0, 1e9)),
)}


# ---- input -------------------------------------------------------------------------------------

def load_predictions(path: str | Path) -> list[dict[str, Any]]:
    """A COCO results JSON file (a list of {image_id, category_id, bbox, score}), checked."""
    try:
        data = json.loads(Path(path).read_text())
    except OSError as exc:
        raise AuditError(f"{path}: cannot read the predictions ({exc.strerror or exc})") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise AuditError(f"{path}: not JSON ({exc})") from None
    return check_predictions(data, str(path))


def check_predictions(data: Any, where: str = "predictions") -> list[dict[str, Any]]:
    """The results list, each entry checked: AuditError naming the first bad one."""
    if not isinstance(data, list):
        raise AuditError(f"{where}: expected a COCO results list [{{image_id, category_id, bbox, score}}, ...], "
                         f"got a JSON {type(data).__name__}")
    if not data:
        raise AuditError(f"{where}: no predictions (an empty results list)")
    for k, entry in enumerate(data):
        if not isinstance(entry, dict):
            raise AuditError(f"{where}: entry {k} is not an object")
        for key in ("image_id", "category_id", "bbox", "score"):
            if key not in entry:
                raise AuditError(f"{where}: entry {k} has no {key!r} (COCO results need image_id, category_id, "
                                 "bbox, score)")
        if not all(isinstance(entry[key], int) and not isinstance(entry[key], bool)
                   for key in ("image_id", "category_id")):
            raise AuditError(f"{where}: entry {k}: image_id and category_id must be whole numbers")
        box, score = entry["bbox"], entry["score"]
        if not (isinstance(box, list) and len(box) == 4 and all(_finite(v) for v in box) and box[2] >= 0
                and box[3] >= 0):
            raise AuditError(f"{where}: entry {k}: bbox must be [x, y, w, h] with finite numbers, w, h >= 0")
        if not _finite(score):
            raise AuditError(f"{where}: entry {k}: score must be a finite number")
    return data


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# ---- matching ----------------------------------------------------------------------------------

def box_iou(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """(len(a), len(b)) IoU of [x, y, w, h] boxes (COCO's: areas w * h, no +1)."""
    ax0, ay0, aw, ah = (a[:, i, None] for i in range(4))
    bx0, by0, bw, bh = (b[None, :, i] for i in range(4))
    iw = np.clip(np.minimum(ax0 + aw, bx0 + bw) - np.maximum(ax0, bx0), 0, None)
    ih = np.clip(np.minimum(ay0 + ah, by0 + bh) - np.maximum(ay0, by0), 0, None)
    inter = iw * ih
    union = aw * ah + bw * bh - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


@dataclass(frozen=True)
class _Person:
    annotation_id: int
    image_id: int
    labels: ObjectLabels
    frame: FrameRecord


def match(people_boxes: NDArray[np.float64], predictions: list[dict[str, Any]],
          settings: AuditSettings) -> NDArray[np.bool_]:
    """Which of one image's people (N, 4) the image's person predictions detect (COCOeval's greedy rule)."""
    detected = np.zeros(len(people_boxes), dtype=bool)
    kept = [p for p in predictions if p["score"] >= settings.score]
    if not kept or not len(people_boxes):
        return detected
    order = np.argsort([-p["score"] for p in kept], kind="mergesort")
    boxes = np.array([kept[k]["bbox"] for k in order], dtype=np.float64)
    iou = box_iou(boxes, people_boxes)
    for row in iou:
        free = np.where(detected, -1.0, row)
        best = int(np.argmax(free))
        if free[best] >= settings.iou:
            detected[best] = True
    return detected


# ---- statistics --------------------------------------------------------------------------------

def bootstrap_recall(people: int, detected: int, draws: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """``draws`` bootstrap replicates of a recall: resampling n yes/no outcomes with replacement gives a
    count that is Binomial(n, detected / n), so that is drawn."""
    return rng.binomial(people, detected / people, size=draws) / people


def chi_square(table: NDArray[np.float64]) -> NDArray[np.float64]:
    """Pearson's chi-square of (..., groups, 2) detected / missed tables (0 where a margin is 0)."""
    rows = table.sum(axis=-1, keepdims=True)
    cols = table.sum(axis=-2, keepdims=True)
    total = table.sum(axis=(-2, -1), keepdims=True)
    expected = rows * cols / np.where(total > 0, total, 1)
    terms = np.where(expected > 0, (table - expected) ** 2 / np.where(expected > 0, expected, 1), 0.0)
    return np.asarray(terms.sum(axis=(-2, -1)))


def permutation_test(groups: NDArray[np.int64], hits: NDArray[np.bool_], permutations: int,
                     rng: np.random.Generator) -> tuple[float, float]:
    """(chi-square, p) of "detection does not depend on the group": hits shuffled over the people."""
    k = int(groups.max()) + 1
    onehot = np.zeros((len(groups), k))
    onehot[np.arange(len(groups)), groups] = 1.0
    sizes = onehot.sum(axis=0)

    def stat(h: NDArray[np.float64]) -> NDArray[np.float64]:
        det = h @ onehot
        return chi_square(np.stack([det, sizes - det], axis=-1))

    observed = float(stat(hits.astype(np.float64)[None])[0])
    larger = 0
    chunk = max(1, 2_000_000 // max(len(hits), 1))
    done = 0
    while done < permutations:
        n = min(chunk, permutations - done)
        shuffled = rng.permuted(np.broadcast_to(hits.astype(np.float64), (n, len(hits))), axis=1)
        larger += int(np.count_nonzero(stat(shuffled) >= observed - 1e-9 * max(observed, 1.0)))
        done += n
    return observed, (1 + larger) / (1 + permutations)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (family-wise error control), in the given order."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


# ---- the audit ---------------------------------------------------------------------------------

def audit(dataset: Dataset, ground_truth: dict[str, Any], predictions: list[dict[str, Any]],
          settings: AuditSettings, *, rng: np.random.Generator) -> AuditResult:
    """Score ``predictions`` (COCO results, checked) against the people of ``ground_truth`` (the
    dataset's coco_dict) per attribute group; ``rng`` draws every resample and permutation."""
    predictions = check_predictions(predictions)
    categories = {c["id"]: c["name"] for c in ground_truth["categories"]}
    person_ids = [cid for cid, name in categories.items() if name == PERSON_CATEGORY]
    if not person_ids:
        raise AuditError(f"{dataset.root}: the dataset has no people (no {PERSON_CATEGORY!r} category)")
    person_id = person_ids[0]
    image_ids = {image["id"] for image in ground_truth["images"]}
    unknown_images = sorted({p["image_id"] for p in predictions} - image_ids)
    if unknown_images:
        raise AuditError(f"predictions for {len(unknown_images)} image id(s) not in the dataset "
                         f"(first: {unknown_images[:3]}; the dataset's image ids are its frame indices "
                         f"{min(image_ids, default=0)}..{max(image_ids, default=0)}, as its COCO export numbers them)")
    unknown_categories = sorted({p["category_id"] for p in predictions} - set(categories))
    if unknown_categories:
        raise AuditError(f"predictions with category id(s) {unknown_categories} the dataset does not have "
                         f"(its categories: {', '.join(f'{i} {n}' for i, n in sorted(categories.items()))})")
    if not any(p["category_id"] == person_id for p in predictions):
        raise AuditError(f"no prediction has the person category id {person_id} (the dataset's categories: "
                         f"{', '.join(f'{i} {n}' for i, n in sorted(categories.items()))})")
    records = {dataset[i].index: dataset[i].record for i in range(len(dataset))}
    people: list[_Person] = []
    by_image: dict[int, list[int]] = {}
    for ann in ground_truth["annotations"]:
        if ann["category_id"] != person_id or ann["iscrowd"]:
            continue
        frame = records[ann["image_id"]]
        labels = next(o for o in frame.objects if o.instance_id == ann["renderer_instance_id"])
        by_image.setdefault(ann["image_id"], []).append(len(people))
        people.append(_Person(ann["id"], ann["image_id"], labels, frame))
    if not people:
        raise AuditError(f"{dataset.root}: the dataset has no people to audit (no visible, non-ignored person)")
    detected = np.zeros(len(people), dtype=bool)
    person_predictions: dict[int, list[dict[str, Any]]] = {}
    for p in predictions:
        if p["category_id"] == person_id:
            person_predictions.setdefault(p["image_id"], []).append(p)
    for image_id, members in by_image.items():
        boxes = np.array([people[m].labels.bbox for m in members], dtype=np.float64)
        detected[members] = match(boxes, person_predictions.get(image_id, []), settings)

    specs = list(dict.fromkeys(settings.by)) or [
        name for name in BUILTIN if name != "head_yaw_abs" or any(p.labels.face for p in people)]
    attributes = [_parse_intersection(spec) for spec in specs]
    ap = _AP(ground_truth, predictions, person_id, people) if settings.ap else None
    partial = [_attribute(name, parts, people, detected, settings, rng, ap) for name, parts in attributes]
    tested = [k for k, a in enumerate(partial) if len(a.groups) > 1]
    adjusted = holm([partial[k].p_value for k in tested])
    results = list(partial)
    for k, p_adj in zip(tested, adjusted, strict=True):
        results[k] = _with_adjusted(partial[k], p_adj, settings.alpha)
    total, hits = len(people), int(detected.sum())
    reps = bootstrap_recall(total, hits, settings.bootstrap, rng)
    low, high = _interval(reps, settings.confidence)
    notes = [f"{a.name}: one group only, nothing to compare" for a in results if len(a.groups) < 2]
    return AuditResult(str(dataset.root), settings, len(predictions), total, hits, hits / total, low, high,
                       tuple(results), tuple(notes))


def _parse_intersection(spec: str) -> tuple[str, tuple[Attribute, ...]]:
    return spec, tuple(Attribute.parse(part) for part in spec.split("+"))


def _interval(reps: NDArray[np.float64], confidence: float) -> tuple[float, float]:
    tail = (1 - confidence) / 2
    low, high = np.quantile(reps, [tail, 1 - tail])
    return float(low), float(high)


class _AP:
    """COCOeval bbox AP on the person category with the people outside a group made crowd regions."""

    def __init__(self, ground_truth: dict[str, Any], predictions: list[dict[str, Any]], person_id: int,
                 people: list[_Person]) -> None:
        require_extra("pycocotools", "test", "AP per group", package="pycocotools",
                      hint="(or audit without AP: --no-ap)")
        self.ground_truth = ground_truth
        self.predictions = [p for p in predictions if p["category_id"] == person_id]
        self.person_id = person_id
        self.ids = [p.annotation_id for p in people]

    def __call__(self, members: set[int]) -> tuple[float, float]:
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval

        keep = {self.ids[m] for m in members}
        annotations = [{**a, "iscrowd": int(a["iscrowd"] or a["id"] not in keep)}
                       for a in self.ground_truth["annotations"] if a["category_id"] == self.person_id]
        with contextlib.redirect_stdout(io.StringIO()):
            gt = COCO()
            gt.dataset = {**self.ground_truth, "annotations": annotations}
            gt.createIndex()
            evaluation = COCOeval(gt, gt.loadRes([dict(p) for p in self.predictions]), "bbox")
            evaluation.params.catIds = [self.person_id]
            evaluation.evaluate()
            evaluation.accumulate()
            evaluation.summarize()
        return float(evaluation.stats[0]), float(evaluation.stats[1])


def _attribute(name: str, parts: tuple[Attribute, ...], people: list[_Person], detected: NDArray[np.bool_],
               settings: AuditSettings, rng: np.random.Generator, ap: _AP | None) -> AttributeResult:
    labels: list[str | None] = []
    for person in people:
        own = [part.group(person.labels, person.frame) for part in parts]
        labels.append(None if any(v is None for v in own) else " x ".join(v for v in own if v is not None))
    values: list[str] = sorted({v for v in labels if v is not None}, key=_natural)
    members = {v: [k for k, label in enumerate(labels) if label == v] for v in values}
    groups: list[GroupResult] = []
    replicates: dict[str, NDArray[np.float64]] = {}
    for value in values:
        n, hits = len(members[value]), int(detected[members[value]].sum())
        replicates[value] = bootstrap_recall(n, hits, settings.bootstrap, rng)
        low, high = _interval(replicates[value], settings.confidence)
        ap_value, ap50 = ap(set(members[value])) if ap is not None else (None, None)
        groups.append(GroupResult(value, n, hits, hits / n, low, high, n < settings.min_group, ap_value, ap50))
    groups.sort(key=lambda g: g.recall)  # stable: ties keep the natural order
    labelled = [k for k, label in enumerate(labels) if label is not None]
    statistic, p_value = 0.0, 1.0
    if len(groups) > 1:
        index = {v: i for i, v in enumerate(values)}
        codes = np.array([index[labels[k]] for k in labelled], dtype=np.int64)  # type: ignore[index]
        statistic, p_value = permutation_test(codes, detected[labelled], settings.permutations, rng)
    worst, best = (groups[0], groups[-1]) if groups else (None, None)
    gap, gap_low, gap_high = 0.0, 0.0, 0.0
    if worst is not None and best is not None and len(groups) > 1:
        gap = best.recall - worst.recall
        gap_low, gap_high = _interval(replicates[best.value] - replicates[worst.value], settings.confidence)
    return AttributeResult(name, tuple(groups), len(people) - len(labelled), statistic, p_value, p_value, False,
                           worst.value if worst else "", best.value if best else "", gap, gap_low, gap_high)


def _with_adjusted(result: AttributeResult, p_adjusted: float, alpha: float) -> AttributeResult:
    from dataclasses import replace

    return replace(result, p_adjusted=p_adjusted, significant=p_adjusted < alpha)


def _natural(value: str) -> tuple[Any, ...]:
    """Sort key: numbers (and bins by their lower edge) numerically, then words."""
    head = value.split(" x ")[0].lstrip("[")
    try:
        return (0, float(head.split(",")[0]), value)
    except ValueError:
        return (1, 0.0, value)


# ---- output ------------------------------------------------------------------------------------

def write_audit(result: AuditResult, out: str | Path) -> tuple[Path, Path]:
    """``<out>/audit.json`` (AuditResult.to_dict) and ``<out>/audit.html``; the paths."""
    folder = Path(out)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        json_path, html_path = folder / "audit.json", folder / "audit.html"
        atomic_write_bytes(json_path, (json.dumps(result.to_dict(), indent=1) + "\n").encode())
        atomic_write_bytes(html_path, audit_html(result).encode())
    except OSError as exc:
        raise AuditError(f"{folder}: cannot write the audit ({exc.strerror or exc})") from None
    return json_path, html_path


def audit_html(result: AuditResult) -> str:
    """A self-contained page: per attribute its test and groups, worst first, recall bars with intervals."""
    s = result.settings
    e = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>renderer audit</title><style>"
        "body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;margin-bottom:1.5em}"
        "td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}td:first-child,th:first-child"
        "{text-align:left}.bar{position:relative;width:220px;height:12px;background:#eee}.fill{position:absolute;"
        "height:12px;background:#4a7}.ci{position:absolute;height:4px;top:4px;background:#222}.small{color:#b60}"
        ".sig{color:#c00;font-weight:bold}</style></head><body>",
        f"<h1>Audit of {e(result.dataset)}</h1>",
        f"<p>{result.predictions} predictions; {result.people} people, {result.detected} detected: recall "
        f"{result.recall:.3f} [{result.ci_low:.3f}, {result.ci_high:.3f}] at IoU &ge; {s.iou:g}, score &ge; "
        f"{s.score:g}. Intervals: {s.confidence:.0%} percentile bootstrap ({s.bootstrap} resamples). Difference "
        f"test: permutation chi-square ({s.permutations} permutations), Holm-adjusted over the attributes, flagged "
        f"below {s.alpha:g}. Groups under {s.min_group} people are marked small (shown, not hidden).</p>",
    ]
    for a in result.attributes:
        verdict = ("<span class='sig'>significant difference</span>" if a.significant else "no significant difference")
        parts.append(f"<h2>{e(a.name)}</h2><p>{verdict}: chi-square {a.statistic:.2f}, p = {a.p_value:.4f}, "
                     f"Holm-adjusted {a.p_adjusted:.4f}; worst {e(a.worst)}, best {e(a.best)}, gap {a.gap:.3f} "
                     f"[{a.gap_low:.3f}, {a.gap_high:.3f}]"
                     + (f"; {a.unlabelled} people without a value" if a.unlabelled else "") + "</p>")
        parts.append("<table><tr><th>group</th><th>people</th><th>detected</th><th>recall</th><th>interval</th>"
                     "<th></th><th>AP</th><th>AP50</th><th></th></tr>")
        for g in a.groups:
            bar = (f"<div class='bar'><div class='fill' style='width:{100 * g.recall:.1f}%'></div><div class='ci' "
                   f"style='left:{100 * g.ci_low:.1f}%;width:{100 * (g.ci_high - g.ci_low):.1f}%'></div></div>")
            ap = f"{g.ap:.3f}" if g.ap is not None else "-"
            ap50 = f"{g.ap50:.3f}" if g.ap50 is not None else "-"
            parts.append(f"<tr><td>{e(g.value)}</td><td>{g.people}</td><td>{g.detected}</td><td>{g.recall:.3f}</td>"
                         f"<td>[{g.ci_low:.3f}, {g.ci_high:.3f}]</td><td>{bar}</td><td>{ap}</td><td>{ap50}</td>"
                         f"<td class='small'>{'small' if g.small else ''}</td></tr>")
        parts.append("</table>")
    parts.extend(f"<p>{e(n)}</p>" for n in result.notes)
    parts.append("</body></html>")
    return "\n".join(parts)
