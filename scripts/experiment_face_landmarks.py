"""A small 68-point face-landmark regressor trained on synthetic faces, scored per Monk tone and head pose.

    .venv/bin/python scripts/experiment_face_landmarks.py            # the numbers in docs/experiments.md

1. Generates (or reuses) two datasets of scenes/faces.yaml at 128x128 with different seeds: a training set
   (seed 1) and a held-out set (seed 2), RGB only (the face labels are in the meta files either way).
2. Crops every face by its face box (the box of its in-frame landmarks, docs/faces.md): a square of 1.3x the
   box's longer side about the box's centre, resampled to 64x64 (cv2.warpAffine; pixel centres at integers,
   as the labels are).
3. Trains a small CNN from scratch (eight 3x3 convolutions, 16-128 channels, then two linear layers; CPU,
   no pretrained weights) to regress the 68 points in crop units, with L1 loss, Adam and a cosine schedule;
   training crops are jittered (rotation, scale, shift, mirror with the 68-point flip, brightness).
4. Scores the held-out faces: NME = mean point error over the face's in-frame points divided by the
   inter-ocular distance (outer eye corners, 300-W points 37 and 46, from the projected ground truth), as
   300-W does; and, because that distance goes to zero in profile, also divided by the face box's size
   sqrt(w * h). Both per Monk tone, per |yaw| bin, per age group, per gender, with counts, and overall.

Writes a JSON of the numbers (--json) and a figure (--figure). Seeds are fixed: a rerun reproduces the
datasets byte for byte and, on the same machine and torch build with the default one thread, every number
in the JSON exactly (timings aside). About 10-12 minutes on a 2-core CPU (docs/experiments.md).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from renderer.humans.face_landmarks import FLIP_68
from renderer.io.dataset import Dataset

ROOT = Path(__file__).resolve().parent.parent
SCENE = ROOT / "scenes" / "faces.yaml"
YAW_BINS = ((0.0, 30.0), (30.0, 60.0), (60.0, 90.0))  # |yaw| in degrees; the last bin also takes |yaw| > 90
PITCH_BINS = ((0.0, 15.0), (15.0, 30.0), (30.0, 90.0))
AGE_GROUPS = ("child", "teen", "adult", "elderly")
GENDERS = ("female", "male")
EYE_OUTER = (36, 45)  # 300-W points 37 and 46, 0-based


# ---------------------------------------------------------------- data

def generate(out: Path, frames: int, seed: int, size: int, workers: int) -> float:
    """Make (or resume, or reuse) a dataset of scenes/faces.yaml; returns the seconds spent generating."""
    meta = out / "meta"
    if (out / "dataset.json").exists():
        info = json.loads((out / "dataset.json").read_text())
        if info["seed"] != seed or info["image"] != {"width": size, "height": size}:
            raise SystemExit(f"{out} holds another dataset (seed {info['seed']}, image {info['image']}): "
                             "remove it or pass another --data")
        if meta.is_dir() and len(list(meta.glob("*.json"))) >= frames:
            print(f"reusing {out} ({frames} frames)", flush=True)
            return 0.0
    command = [str(ROOT / ".venv" / "bin" / "renderer"), "generate", str(SCENE), "--out", str(out),
               "--frames", str(frames), "--seed", str(seed), "--workers", str(workers),
               "--set", f"image.width={size}", "--set", f"image.height={size}", "--set", "outputs=[rgb]"]
    if not Path(command[0]).exists():
        command[:1] = [sys.executable, "-m", "renderer"]
    print(" ".join(command), flush=True)
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT)
    return time.perf_counter() - start


def load_faces(root: Path, frames: int) -> dict[str, Any]:
    """Every labelled face of frames 0..frames-1: the RGB image, all 68 projected points (in frame or
    not), in-frame flags, face box, head Euler angles and the person's attributes."""
    images, uv, in_frame, boxes, rows = [], [], [], [], []
    skipped = 0
    dataset = Dataset(root)
    for position, index in enumerate(dataset.indices):
        if index >= frames:
            break
        frame = dataset[position]
        for o in frame.objects:
            face, person = o.face, o.person
            if face is None or person is None:
                continue
            x, y, w, h = face.box
            if w < 4 or h < 4 or int(face.landmarks.in_frame.sum()) < 17:
                skipped += 1
                continue
            images.append(frame.rgb)
            uv.append(face.landmarks.uv)
            in_frame.append(face.landmarks.in_frame)
            boxes.append((x, y, w, h))
            yaw, pitch, roll = face.head_euler_deg
            rows.append({"frame": index, "yaw": yaw, "pitch": pitch, "roll": roll, "monk_tone": person.monk_tone,
                         "age_group": person.age_group, "gender": person.gender, "expression": face.expression})
    return {"images": images, "uv": np.array(uv), "in_frame": np.array(in_frame),
            "boxes": np.array(boxes, dtype=np.float64), "rows": rows, "skipped": skipped}


def crop_transform(box: NDArray[np.float64], crop: int, margin: float, *, angle_deg: float = 0.0,
                   scale: float = 1.0, shift: tuple[float, float] = (0.0, 0.0)) -> NDArray[np.float64]:
    """The 2x3 affine taking image pixel coordinates (pixel centres at integers) to crop pixel coordinates:
    a square of margin x the box's longer side about the box's centre (times scale, turned by angle_deg,
    moved by shift in units of the square's side) onto crop x crop pixels."""
    x, y, w, h = box
    centre = np.array([x + (w - 1) / 2.0, y + (h - 1) / 2.0])
    side = margin * max(w, h) * scale
    k = crop / side
    a = np.deg2rad(angle_deg)
    rotation = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) * k
    offset = (crop - 1) / 2.0 + np.array(shift) * crop - rotation @ centre
    return np.hstack([rotation, offset[:, None]])


def apply(affine: NDArray[np.float64], points: NDArray[np.float64]) -> NDArray[np.float64]:
    return points @ affine[:, :2].T + affine[:, 2]


def make_crops(data: dict[str, Any], crop: int, margin: float, rng: np.random.Generator | None,
               ) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float64]]:
    """(N, 3, crop, crop) images in [0, 1], (N, 136) targets (crop pixels / crop), (N, 2, 3) affines.
    rng: jitter for training (rotation, scale, shift, mirror, brightness and contrast); None: the plain crop."""
    n = len(data["images"])
    x = np.empty((n, 3, crop, crop), dtype=np.float32)
    y = np.empty((n, 68, 2), dtype=np.float32)
    affines = np.empty((n, 2, 3))
    for k in range(n):
        if rng is None:
            affine = crop_transform(data["boxes"][k], crop, margin)
        else:
            affine = crop_transform(data["boxes"][k], crop, margin, angle_deg=rng.uniform(-15, 15),
                                    scale=rng.uniform(0.9, 1.1), shift=tuple(rng.uniform(-0.05, 0.05, 2)))
        patch = cv2.warpAffine(data["images"][k], affine, (crop, crop), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0)).astype(np.float32) / 255.0
        points = apply(affine, data["uv"][k])
        if rng is not None:
            if rng.random() < 0.5:  # mirror: x -> crop-1-x, and each point swaps with its left/right twin
                patch = patch[:, ::-1]
                points = points[list(FLIP_68)]
                points[:, 0] = crop - 1 - points[:, 0]
            patch = np.clip((patch - 0.5) * rng.uniform(0.7, 1.3) + 0.5 + rng.uniform(-0.15, 0.15), 0.0, 1.0)
        x[k] = patch.transpose(2, 0, 1)
        y[k] = points / crop
        affines[k] = affine
    return x, y.reshape(n, 136), affines


# ---------------------------------------------------------------- model

def landmark_net() -> nn.Module:
    def block(cin: int, cout: int) -> list[nn.Module]:
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                nn.MaxPool2d(2)]

    return nn.Sequential(*block(3, 16), *block(16, 32), *block(32, 64), *block(64, 128),  # 64 -> 4
                         nn.Flatten(), nn.Linear(128 * 4 * 4, 256), nn.ReLU(inplace=True), nn.Linear(256, 136))


def train(model: nn.Module, data: dict[str, Any], *, epochs: int, batch: int, lr: float, crop: int, margin: float,
          seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    n = len(data["images"])
    steps = epochs * ((n + batch - 1) // batch)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=lr, total_steps=steps, pct_start=0.15)
    losses = []
    for epoch in range(epochs):
        start = time.perf_counter()
        x, y, _ = make_crops(data, crop, margin, rng)
        x_t, y_t = torch.from_numpy(x), torch.from_numpy(y)
        order = torch.from_numpy(rng.permutation(n))
        model.train()
        total = 0.0
        for s in range(0, n, batch):
            idx = order[s:s + batch]
            loss = nn.functional.l1_loss(model(x_t[idx]), y_t[idx])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += float(loss.detach()) * len(idx)
        losses.append(total / n)
        print(f"epoch {epoch + 1}/{epochs}: L1 {losses[-1] * crop:.3f} crop px, {time.perf_counter() - start:.1f} s",
              flush=True)
    return losses


def predict(model: nn.Module, data: dict[str, Any], crop: int, margin: float) -> NDArray[np.float64]:
    """(N, 68, 2) predicted points in image pixel coordinates."""
    x, _, affines = make_crops(data, crop, margin, None)
    model.eval()
    with torch.no_grad():
        out = torch.cat([model(torch.from_numpy(x[s:s + 256])) for s in range(0, len(x), 256)]).numpy()
    points = out.reshape(-1, 68, 2).astype(np.float64) * crop
    result = np.empty_like(points)
    for k, affine in enumerate(affines):  # crop pixels -> image pixels
        inverse = cv2.invertAffineTransform(affine)
        result[k] = apply(inverse, points[k])
    return result


# ---------------------------------------------------------------- scores

def per_face_errors(pred: NDArray[np.float64], data: dict[str, Any]) -> dict[str, NDArray[np.float64]]:
    gt, in_frame, boxes = data["uv"], data["in_frame"], data["boxes"]
    err = np.linalg.norm(pred - gt, axis=2)  # (N, 68) pixels
    mean_in = (err * in_frame).sum(1) / in_frame.sum(1)
    interocular = np.linalg.norm(gt[:, EYE_OUTER[0]] - gt[:, EYE_OUTER[1]], axis=1)
    box_size = np.sqrt(boxes[:, 2] * boxes[:, 3])
    return {"px": mean_in, "nme_io": mean_in / interocular, "nme_box": mean_in / box_size,
            "nme_io_all68": err.mean(1) / interocular, "interocular_px": interocular, "box_px": box_size}


def summary(errors: dict[str, NDArray[np.float64]], mask: NDArray[np.bool_]) -> dict[str, Any]:
    n = int(mask.sum())
    if n == 0:
        return {"count": 0}
    out: dict[str, Any] = {"count": n}
    for key in ("nme_io", "nme_box"):
        values = errors[key][mask]
        out[key] = {"mean": float(values.mean()), "median": float(np.median(values)),
                    "sem": float(values.std(ddof=1) / np.sqrt(n)) if n > 1 else None}
    out["px_mean"] = float(errors["px"][mask].mean())
    out["interocular_px_median"] = float(np.median(errors["interocular_px"][mask]))
    return out


def angle_bin(angle: float, bins: tuple[tuple[float, float], ...]) -> str:
    """The label of the bin |angle| falls in (the last bin takes everything beyond it)."""
    for lo, hi in bins:
        if abs(angle) < hi:
            return f"{lo:.0f}-{hi:.0f}"
    return f"{bins[-1][0]:.0f}-{bins[-1][1]:.0f}"


def yaw_bin(yaw: float) -> str:
    return angle_bin(yaw, YAW_BINS)


def pitch_bin(pitch: float) -> str:
    return angle_bin(pitch, PITCH_BINS)


def tables(errors: dict[str, NDArray[np.float64]], rows: list[dict[str, Any]]) -> dict[str, Any]:
    def by(key: str, values: list[Any]) -> dict[str, Any]:
        column = np.array([r[key] for r in rows], dtype=object)
        return {str(v): summary(errors, column == v) for v in values}

    tone = np.array([r["monk_tone"] for r in rows])
    yaw_abs = np.abs([r["yaw"] for r in rows])
    for r in rows:
        r["yaw_bin"] = yaw_bin(r["yaw"])
        r["pitch_bin"] = pitch_bin(r["pitch"])
    yaw_labels = [yaw_bin(lo) for lo, _ in YAW_BINS]
    yaw_bins = np.array([r["yaw_bin"] for r in rows])
    out = {
        "overall": summary(errors, np.ones(len(rows), dtype=bool)),
        "monk_tone": by("monk_tone", list(range(1, 11))),
        "yaw_bin": by("yaw_bin", yaw_labels),
        "pitch_bin": by("pitch_bin", [pitch_bin(lo) for lo, _ in PITCH_BINS]),
        "age_group": by("age_group", list(AGE_GROUPS)),
        "gender": by("gender", list(GENDERS)),
        "monk_tone_by_yaw_bin": {str(t): {b: summary(errors, (tone == t) & (yaw_bins == b)) for b in yaw_labels}
                                 for t in range(1, 11)},
        "faces_beyond_90_yaw": int((yaw_abs >= 90).sum()),
        "nme_io_all68_mean": float(errors["nme_io_all68"].mean()),
    }
    # Is the error flat across skin tones? Kruskal-Wallis over the ten tones' per-face errors, raw and with
    # each face's error divided by its yaw bin's median (pose is the dominant factor and is drawn
    # independently of tone, but with ~30 faces per tone its spread still shows up in tone means).
    from scipy import stats

    bins = np.array([r["yaw_bin"] for r in rows])
    tests = {}
    for key in ("nme_io", "nme_box"):
        values = errors[key]
        relative = values / np.array([np.median(values[bins == b]) for b in bins])
        groups = [values[tone == t] for t in range(1, 11) if (tone == t).sum() > 1]
        groups_rel = [relative[tone == t] for t in range(1, 11) if (tone == t).sum() > 1]
        rho = stats.spearmanr(tone, values)
        tests[key] = {"kruskal_p": float(stats.kruskal(*groups).pvalue),
                      "kruskal_p_yaw_adjusted": float(stats.kruskal(*groups_rel).pvalue),
                      "spearman_rho_vs_tone": float(rho.statistic), "spearman_p": float(rho.pvalue)}
    out["tone_tests"] = tests
    # each tone's mean of (face's box NME / its yaw bin's median box NME): 1.0 = as good as the pose predicts
    values = errors["nme_box"]
    relative = values / np.array([np.median(values[bins == b]) for b in bins])
    out["monk_tone_yaw_adjusted_nme_box"] = {str(t): float(relative[tone == t].mean()) for t in range(1, 11)
                                             if (tone == t).any()}
    return out


# ---------------------------------------------------------------- figure

def figure(results: dict[str, Any], path: Path, examples: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(14, 7.6))
    grid = fig.add_gridspec(2, 12, height_ratios=[1.15, 1.0])
    panels = [(grid[0, 0:4], "monk_tone", "Monk skin tone", "nme_io"),
              (grid[0, 4:6], "yaw_bin", "|head yaw| (degrees)", "nme_io"),
              (grid[0, 6:10], "monk_tone", "Monk skin tone", "nme_box"),
              (grid[0, 10:12], "yaw_bin", "|head yaw| (degrees)", "nme_box")]
    colours = {"nme_io": "#4c72b0", "nme_box": "#dd8452"}
    names = {"nme_io": "NME, inter-ocular (%)", "nme_box": "NME, box size (%)"}
    tone_swatches = ["#f6ede4", "#f3e7db", "#f7ead0", "#eadaba", "#d7bd96", "#a07e56", "#825c43", "#604134",
                     "#3a312a", "#292420"]
    for spec, key, xlabel, metric in panels:
        ax = fig.add_subplot(spec)
        groups = results[key]
        labels = list(groups)
        means = [100 * groups[g][metric]["mean"] if groups[g]["count"] else 0 for g in labels]
        medians = [100 * groups[g][metric]["median"] if groups[g]["count"] else 0 for g in labels]
        sems = [100 * (groups[g][metric]["sem"] or 0) if groups[g]["count"] else 0 for g in labels]
        xs = np.arange(len(labels))
        bars = ax.bar(xs, means, yerr=sems, capsize=3, color=colours[metric], alpha=0.85, label="mean ± s.e.")
        ax.plot(xs, medians, "k_", markersize=14, markeredgewidth=2, label="median")
        if key == "monk_tone":
            for x, c in zip(xs, tone_swatches, strict=True):
                ax.add_patch(plt.Rectangle((x - 0.4, -0.06), 0.8, 0.04, color=c, transform=ax.get_xaxis_transform(),
                                           clip_on=False, ec="k", lw=0.5))
        overall = 100 * results["overall"][metric]["mean"]
        ax.axhline(overall, color="gray", ls="--", lw=1, label=f"overall {overall:.1f}")
        for bar, g in zip(bars, labels, strict=True):
            ax.text(bar.get_x() + bar.get_width() / 2, 0.5, f"n={groups[g]['count']}", ha="center", va="bottom",
                    fontsize=7, color="white", rotation=90 if key == "monk_tone" else 0)
        ax.set_xticks(xs, labels)
        ax.set_xlabel(xlabel, labelpad=12 if key == "monk_tone" else 4)
        ax.set_ylabel(names[metric])
        ax.legend(fontsize=6, loc="upper left")
        ax.set_ylim(0, 1.3 * max(m + e for m, e in zip(means, sems, strict=True)))
    # bottom row: held-out examples, prediction (red) and ground truth (green)
    for j, (image, gt, pred, title) in enumerate(examples["items"][:6]):
        ax = fig.add_subplot(grid[1, 2 * j:2 * j + 2])
        ax.imshow(image)
        ax.scatter(gt[:, 0], gt[:, 1], s=3, c="lime", linewidths=0)
        ax.scatter(pred[:, 0], pred[:, 1], s=3, c="red", linewidths=0)
        ax.set_title(title, fontsize=7)
        ax.axis("off")
    fig.suptitle(examples["caption"], fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def example_items(test: dict[str, Any], pred: NDArray[np.float64], errors: dict[str, NDArray[np.float64]],
                  crop: int, margin: float) -> list[Any]:
    """Six held-out faces (the 3x crop, 192 px): two per yaw bin, at that bin's 25th and 75th percentile
    of inter-ocular NME, with their points."""
    items = []
    bins = np.array([r["yaw_bin"] for r in test["rows"]])
    big = 3 * crop
    for label in [yaw_bin(lo) for lo, _ in YAW_BINS]:
        idx = np.flatnonzero(bins == label)
        if len(idx) == 0:
            continue
        order = idx[np.argsort(errors["nme_io"][idx])]
        for q in (0.25, 0.75):
            k = int(order[min(len(order) - 1, int(q * len(order)))])
            affine = crop_transform(test["boxes"][k], big, margin)
            image = cv2.warpAffine(test["images"][k], affine, (big, big), flags=cv2.INTER_LINEAR)
            r = test["rows"][k]
            title = (f"yaw {r['yaw']:.0f} tone {r['monk_tone']} {r['age_group']}\n"
                     f"NME io {100 * errors['nme_io'][k]:.1f}% box {100 * errors['nme_box'][k]:.1f}%")
            items.append((image, apply(affine, test["uv"][k]), apply(affine, pred[k]), title))
    return items


# ---------------------------------------------------------------- main

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames-train", type=int, default=2000)
    parser.add_argument("--frames-test", type=int, default=600)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seed-train", type=int, default=1, help="dataset seed of the training frames")
    parser.add_argument("--seed-test", type=int, default=2, help="dataset seed of the held-out frames")
    parser.add_argument("--seed-model", type=int, default=0,
                        help="the network's initialisation (torch seed) and augmentation stream")
    parser.add_argument("--size", type=int, default=128, help="rendered image side (pixels)")
    parser.add_argument("--crop", type=int, default=64, help="face crop side (pixels)")
    parser.add_argument("--margin", type=float, default=1.3, help="crop side / face box's longer side")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--workers", type=int, default=2, help="renderer generate --workers")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (1: two threads on two busy cores ran 17x slower here)")
    parser.add_argument("--data", type=Path, default=ROOT / "out" / "face_landmarks",
                        help="where the two datasets are written (and reused from)")
    parser.add_argument("--json", type=Path, default=ROOT / "docs" / "experiment_faces.json")
    parser.add_argument("--figure", type=Path, default=ROOT / "docs" / "experiment_faces.png")
    args = parser.parse_args()
    torch.manual_seed(args.seed_model)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    wall = time.perf_counter()

    train_root = args.data / f"train_seed{args.seed_train}_{args.size}px"
    test_root = args.data / f"test_seed{args.seed_test}_{args.size}px"
    gen_train = generate(train_root, args.frames_train, args.seed_train, args.size, args.workers)
    gen_test = generate(test_root, args.frames_test, args.seed_test, args.size, args.workers)

    train_data = load_faces(train_root, args.frames_train)
    test_data = load_faces(test_root, args.frames_test)
    print(f"faces: {len(train_data['rows'])} train ({train_data['skipped']} skipped), "
          f"{len(test_data['rows'])} held out ({test_data['skipped']} skipped)", flush=True)

    model = landmark_net()
    start = time.perf_counter()
    losses = train(model, train_data, epochs=args.epochs, batch=args.batch, lr=args.lr, crop=args.crop,
                   margin=args.margin, seed=args.seed_train + 1000 * args.seed_model)
    train_s = time.perf_counter() - start

    start = time.perf_counter()
    pred = predict(model, test_data, args.crop, args.margin)
    errors = per_face_errors(pred, test_data)
    results = tables(errors, test_data["rows"])
    train_pred = predict(model, train_data, args.crop, args.margin)
    train_errors = per_face_errors(train_pred, train_data)
    eval_s = time.perf_counter() - start

    results["train_overall"] = summary(train_errors, np.ones(len(train_data["rows"]), dtype=bool))
    train_tone = np.array([r["monk_tone"] for r in train_data["rows"]])  # the training faces, ~200 per tone
    results["train_monk_tone"] = {str(t): summary(train_errors, train_tone == t) for t in range(1, 11)}
    results["setup"] = {
        "scene": "scenes/faces.yaml", "image": f"{args.size}x{args.size}", "outputs": ["rgb"],
        "frames_train": args.frames_train, "frames_test": args.frames_test, "seed_train": args.seed_train,
        "seed_test": args.seed_test, "seed_model": args.seed_model,
        "faces_train": len(train_data["rows"]), "faces_test": len(test_data["rows"]),
        "faces_skipped_train": train_data["skipped"], "faces_skipped_test": test_data["skipped"],
        "crop": args.crop, "margin": args.margin, "epochs": args.epochs, "batch": args.batch, "lr": args.lr,
        "parameters": sum(p.numel() for p in model.parameters()),
        "nme_points": "in-frame points of each face (self-occluded ones included, as 300-W annotates them)",
        "nme_io_normaliser": "distance between the projected ground-truth outer eye corners (300-W 37, 46)",
        "nme_box_normaliser": "sqrt(w * h) of the face box (the box of the in-frame landmarks)",
        "threads": args.threads, "cpu_count": os.cpu_count(), "torch": torch.__version__,
    }
    results["train_loss_crop_px"] = [loss * args.crop for loss in losses]
    results["seconds"] = {"generate_train": round(gen_train, 1), "generate_test": round(gen_test, 1),
                          "train": round(train_s, 1), "eval": round(eval_s, 1),
                          "total": round(time.perf_counter() - wall, 1)}
    caption = (f"held-out synthetic faces (scenes/faces.yaml, seed {args.seed_test}, {len(test_data['rows'])} faces); "
               f"model trained on {len(train_data['rows'])} faces (seed {args.seed_train}) for {args.epochs} epochs. "
               "Bottom: ground truth green, prediction red")
    figure(results, args.figure, {"items": example_items(test_data, pred, errors, args.crop, args.margin),
                                  "caption": caption})
    results["seconds"]["total"] = round(time.perf_counter() - wall, 1)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1) + "\n")

    o = results["overall"]
    print(f"held-out NME (inter-ocular) mean {100 * o['nme_io']['mean']:.2f}% "
          f"median {100 * o['nme_io']['median']:.2f}%; NME (box) mean {100 * o['nme_box']['mean']:.2f}%; "
          f"over {o['count']} faces")
    for key in ("monk_tone", "yaw_bin", "age_group", "gender"):
        print(key + " (NME inter-ocular / box, %): " + ", ".join(
            f"{g} {100 * s['nme_io']['mean']:.1f}/{100 * s['nme_box']['mean']:.1f} (n={s['count']})"
            for g, s in results[key].items() if s["count"]))
    print(f"seconds: {results['seconds']}; wrote {args.json} and {args.figure}")


if __name__ == "__main__":
    main()
