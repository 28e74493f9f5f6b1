"""A dataset report: one self-contained HTML page (images inline as data URIs, plots by matplotlib).

Needs matplotlib (the ``renderer[report]`` extra). The statistics are plain data (DatasetStatistics),
computed from the meta files (and, for the depth histogram, the depth of up to ``depth_frames``
frames spread over the dataset), so they can be checked or reused without the page. Any subset of
channels is reported: sample frames show the panels there are, and a plot that needs a channel the
dataset did not write is left out, the page saying which and why (``DatasetStatistics.left_out``).
"""

from __future__ import annotations

import base64
import html
import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml
from numpy.typing import NDArray

from renderer.errors import RendererError, require_extra
from renderer.inspect.preview import frame_row
from renderer.io.dataset import Dataset
from renderer.io.format import atomic_write_bytes


class ReportError(RendererError, RuntimeError):
    """The report cannot be made (missing plotting library)."""


@dataclass
class LandmarkRates:
    visible: int = 0
    occluded: int = 0  # in frame, behind something
    outside: int = 0  # outside the image or behind the camera

    @property
    def total(self) -> int:
        return self.visible + self.occluded + self.outside


PERSON_ATTRIBUTES = ("monk_tone", "age_group", "gender", "pose")  # the demographic histograms of a report


@dataclass
class PeopleStatistics:
    """People over a dataset: per attribute {value: people placed} and {value: people seen} (at least
    one visible pixel), and their keypoints: per keypoint name its visible / occluded / outside counts
    over the people seen, and how many keypoints each person seen shows (COCO v = 2)."""

    placed: dict[str, Counter[str]] = field(default_factory=dict)
    seen: dict[str, Counter[str]] = field(default_factory=dict)
    keypoints: dict[str, LandmarkRates] = field(default_factory=dict)
    visible_keypoints: list[int] = field(default_factory=list)

    def add(self, person: Any, landmarks: Any, visible: bool) -> None:
        for name in PERSON_ATTRIBUTES:
            value = str(getattr(person, name))
            self.placed.setdefault(name, Counter())[value] += 1
            if visible:
                self.seen.setdefault(name, Counter())[value] += 1
        if not visible:
            return
        for k, name in enumerate(landmarks.names):
            rates = self.keypoints.setdefault(name, LandmarkRates())
            rates.visible += int(landmarks.visible[k])
            rates.occluded += int(landmarks.in_frame[k] and not landmarks.visible[k])
            rates.outside += int(not landmarks.in_frame[k])
        self.visible_keypoints.append(int(landmarks.visible.sum()))

    @property
    def count(self) -> int:
        return sum(self.placed.get("gender", Counter()).values())


@dataclass
class DatasetStatistics:
    frames: int
    objects_per_frame: list[int]
    category_counts: dict[str, int]  # object instances per category over all frames
    visible_category_counts: dict[str, int]  # instances with at least one visible pixel
    visible_fractions: NDArray[np.float64]
    landmarks: dict[str, LandmarkRates] = field(default_factory=dict)
    depth_values: NDArray[np.float32] = field(default_factory=lambda: np.zeros(0, np.float32))
    depth_frames: int = 0
    people: PeopleStatistics = field(default_factory=PeopleStatistics)
    left_out: dict[str, str] = field(default_factory=dict)  # {plot: why}, plots needing an unwritten channel


DEPTH_PLOT = "Depth"


def dataset_statistics(dataset: Dataset, depth_frames: int = 32, depth_pixels: int = 20000) -> DatasetStatistics:
    """Label statistics over every frame; depth from up to depth_frames frames, evenly spread."""
    per_frame, fractions = [], []
    counts: Counter[str] = Counter()
    visible_counts: Counter[str] = Counter()
    landmarks: dict[str, LandmarkRates] = {}
    people = PeopleStatistics()
    for i in range(len(dataset)):
        frame = dataset[i]
        per_frame.append(len(frame.objects))
        for obj in frame.objects:
            counts[obj.category] += 1
            if obj.visible_pixels > 0:
                visible_counts[obj.category] += 1
            if obj.unoccluded_pixels > 0:
                fractions.append(obj.visible_fraction)
            rates = landmarks.setdefault(obj.category, LandmarkRates())
            lm = obj.landmarks
            rates.visible += int(lm.visible.sum())
            rates.occluded += int((lm.in_frame & ~lm.visible).sum())
            rates.outside += int((~lm.in_frame).sum())
            if obj.person is not None:
                people.add(obj.person, lm, obj.visible_pixels > 0)
    rng = np.random.default_rng(0)  # which pixels feed the histogram; fixed so reports are reproducible
    chosen = np.unique(np.linspace(0, len(dataset) - 1, min(depth_frames, len(dataset))).astype(int))
    depth_parts = []
    left_out = {}
    if "depth" not in dataset.channels:
        chosen, left_out[DEPTH_PLOT] = chosen[:0], "depth was not written (the scene's outputs leave it out)"
    for i in chosen if len(dataset) else []:
        depth = dataset[int(i)].depth
        values = depth[depth > 0]
        if len(values) > depth_pixels:
            values = rng.choice(values, depth_pixels, replace=False)
        depth_parts.append(values)
    return DatasetStatistics(
        frames=len(dataset), objects_per_frame=per_frame, category_counts=dict(sorted(counts.items())),
        visible_category_counts=dict(sorted(visible_counts.items())), visible_fractions=np.array(fractions),
        landmarks=dict(sorted(landmarks.items())),
        depth_values=np.concatenate(depth_parts) if depth_parts else np.zeros(0, np.float32),
        depth_frames=len(depth_parts), people=people, left_out=left_out,
    )


def _png_data_uri(image: NDArray[np.uint8]) -> str:
    ok, data = cv2.imencode(".png", np.ascontiguousarray(image[..., ::-1]))
    if not ok:
        raise ReportError("PNG encoding failed")
    return "data:image/png;base64," + base64.b64encode(data.tobytes()).decode("ascii")


def _plots(stats: DatasetStatistics) -> dict[str, str]:
    """{title: PNG data URI} for each plot."""
    matplotlib = require_extra("matplotlib", "report", "renderer report")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def figure_uri(fig: Any) -> str:
        buffer = io.BytesIO()
        fig.tight_layout()
        fig.savefig(buffer, format="png", dpi=90)
        plt.close(fig)
        return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")

    plots = {}
    names = list(stats.category_counts)
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.bar(names, [stats.category_counts[n] for n in names], label="placed")
    ax.bar(names, [stats.visible_category_counts.get(n, 0) for n in names], width=0.5, label="visible")
    ax.set_ylabel("instances")
    ax.tick_params(axis="x", rotation=45)
    ax.legend()
    plots["Instances per category"] = figure_uri(fig)

    fig, ax = plt.subplots(figsize=(6, 3.2))
    if stats.objects_per_frame:
        lo, hi = min(stats.objects_per_frame), max(stats.objects_per_frame)
        ax.hist(stats.objects_per_frame, bins=list(np.arange(lo, hi + 2) - 0.5), rwidth=0.85)
    ax.set_xlabel("objects in the frame (table included)")
    ax.set_ylabel("frames")
    plots["Objects per frame"] = figure_uri(fig)

    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.hist(stats.visible_fractions, bins=list(np.linspace(0, 1, 21)), rwidth=0.9)
    ax.set_xlabel("visible fraction (visible pixels / pixels it covers alone)")
    ax.set_ylabel("objects")
    plots["Visible fraction"] = figure_uri(fig)

    if DEPTH_PLOT not in stats.left_out:
        fig, ax = plt.subplots(figsize=(6, 3.2))
        if len(stats.depth_values):
            ax.hist(stats.depth_values, bins=50)
        ax.set_xlabel("depth (m), pixels with a surface")
        ax.set_ylabel("pixels (sampled)")
        plots[f"{DEPTH_PLOT} ({stats.depth_frames} frames sampled)"] = figure_uri(fig)

    fig, ax = plt.subplots(figsize=(6, 3.2))
    _visibility_bars(ax, stats.landmarks)
    ax.set_ylabel("share of landmarks")
    ax.tick_params(axis="x", rotation=45)
    plots["Landmark visibility"] = figure_uri(fig)
    if stats.people.count:
        people = stats.people
        for name in PERSON_ATTRIBUTES:
            values = sorted(people.placed[name], key=_value_order)
            fig, ax = plt.subplots(figsize=(6, 3.2))
            ax.bar(values, [people.placed[name][v] for v in values], label="placed")
            ax.bar(values, [people.seen.get(name, Counter())[v] for v in values], width=0.5, label="seen")
            ax.set_ylabel("people")
            ax.tick_params(axis="x", rotation=45 if name == "pose" else 0)
            ax.legend(fontsize=8)
            plots[f"People by {name.replace('_', ' ')}"] = figure_uri(fig)
        fig, ax = plt.subplots(figsize=(6, 3.2))
        _visibility_bars(ax, people.keypoints)
        ax.set_ylabel("share of people seen")
        ax.tick_params(axis="x", rotation=90, labelsize=7)
        plots["Keypoint visibility (people seen)"] = figure_uri(fig)
        fig, ax = plt.subplots(figsize=(6, 3.2))
        ax.hist(people.visible_keypoints, bins=list(np.arange(0, len(people.keypoints) + 2) - 0.5), rwidth=0.85)
        ax.set_xlabel("visible keypoints of a person seen")
        ax.set_ylabel("people")
        plots["Visible keypoints per person"] = figure_uri(fig)
    return plots


def _visibility_bars(ax: Any, rates: dict[str, LandmarkRates]) -> None:
    """Stacked bars per name: the visible, occluded and outside shares of its landmarks."""
    names = list(rates)
    bottom = np.zeros(len(names))
    for key, color in (("visible", "tab:green"), ("occluded", "tab:orange"), ("outside", "tab:gray")):
        share = np.array([getattr(rates[n], key) / max(rates[n].total, 1) for n in names])
        ax.bar(names, share, bottom=bottom, label=key, color=color)
        bottom += share
    ax.legend(fontsize=8)


def _value_order(value: str) -> tuple[int, Any]:
    """Numbers in numeric order, age groups by age, the rest by name."""
    groups = ("child", "teen", "adult", "elderly")
    if value.isdigit():
        return 0, int(value)
    return (1, groups.index(value)) if value in groups else (2, value)


def _people_tables(people: PeopleStatistics) -> str:
    """The People section: a table per attribute (placed, seen, share of those seen) and the keypoints'."""
    if not people.count:
        return ""
    esc = html.escape
    parts = [f"<h2>People</h2>\n<p>{people.count} people placed, {len(people.visible_keypoints)} seen; "
             f"a person seen shows {np.mean(people.visible_keypoints) if people.visible_keypoints else 0:.1f} "
             "visible keypoints on average.</p>"]
    for name in PERSON_ATTRIBUTES:
        seen = people.seen.get(name, Counter())
        total = sum(seen.values())
        rows = "\n".join(f"<tr><td>{esc(v)}</td><td class='num'>{people.placed[name][v]}</td>"
                         f"<td class='num'>{seen[v]}</td><td class='num'>{_rate(seen[v], total)}</td></tr>"
                         for v in sorted(people.placed[name], key=_value_order))
        parts.append(f"<table id='people-{name}'><tr><th>{esc(name)}</th><th>placed</th><th>seen</th>"
                     f"<th>share seen</th></tr>\n{rows}\n</table>")
    rows = "\n".join(f"<tr><td>{esc(n)}</td><td class='num'>{_rate(r.visible, r.total)}</td>"
                     f"<td class='num'>{_rate(r.occluded, r.total)}</td><td class='num'>{_rate(r.outside, r.total)}"
                     "</td></tr>" for n, r in people.keypoints.items())
    parts.append("<table id='people-keypoints'><tr><th>keypoint</th><th>visible</th><th>occluded</th>"
                 f"<th>outside</th></tr>\n{rows}\n</table>")
    return "\n".join(parts)


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; }
h1 { margin-bottom: 4px; } h2 { margin-top: 28px; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; } td, th { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 12px; }
.grid img, .plots img { width: 100%; }
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 12px; }
pre { background: #f6f6f6; padding: 10px; overflow: auto; max-height: 420px; }
figure { margin: 0; } figcaption { font-size: 0.9em; color: #555; }
"""


def report_html(dataset: Dataset, samples: int = 8, sample_scale: float = 0.35) -> str:
    """The whole page as a string."""
    stats = dataset_statistics(dataset)
    plots = _plots(stats)
    header = dataset.header
    esc = html.escape
    positions = sorted({int(p) for p in np.linspace(0, len(dataset) - 1, min(samples, len(dataset)))}) \
        if len(dataset) else []
    tiles = "\n".join(
        f'<figure><img alt="frame {dataset.indices[p]}" src="{_png_data_uri(frame_row(dataset[p], sample_scale))}">'
        f"<figcaption>frame {dataset.indices[p]}</figcaption></figure>"
        for p in positions
    )
    plot_html = "\n".join(f'<figure><img alt="{esc(t)}" src="{uri}"><figcaption>{esc(t)}</figcaption></figure>'
                          for t, uri in plots.items())
    left_out = "".join(f"<li>{esc(plot)}: {esc(why)}</li>" for plot, why in stats.left_out.items())
    left_out_html = f'<p id="left-out">Left out of this report:</p><ul>{left_out}</ul>' if left_out else ""
    category_rows = "\n".join(
        f"<tr><td>{esc(name)}</td><td class='num'>{count}</td>"
        f"<td class='num'>{stats.visible_category_counts.get(name, 0)}</td>"
        f"<td class='num'>{_rate(stats.landmarks[name].visible, stats.landmarks[name].total)}</td>"
        f"<td class='num'>{_rate(stats.landmarks[name].occluded, stats.landmarks[name].total)}</td></tr>"
        for name, count in stats.category_counts.items()
    )
    run_rows = "\n".join(
        f"<tr><td class='num'>{k + 1}</td><td class='num'>{r.frames_written}</td>"
        f"<td class='num'>{r.seconds:.1f}</td><td class='num'>{r.frames_per_second:.2f}</td>"
        f"<td>{esc('' if r.workers is None else str(r.workers))}</td></tr>"
        for k, r in enumerate(header.runs)
    )
    image = header.image
    per_frame = stats.objects_per_frame
    mean_objects = f"{np.mean(per_frame):.1f}" if per_frame else "–"
    scene_yaml = yaml.safe_dump(header.scene, sort_keys=False)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>renderer dataset report: {esc(str(dataset.root))}</title>
<link rel="icon" href="data:,">
<style>{_STYLE}</style></head>
<body>
<h1>Dataset report</h1>
<p><code>{esc(str(dataset.root))}</code>: {stats.frames} frames, {image.width}×{image.height},
seed {header.seed}, {len(dataset.categories)} categories, {mean_objects} objects per frame on average;
renderer {esc(header.renderer_version)}.</p>
<h2>Sample frames</h2>
<div class="grid">
{tiles}
</div>
<h2>Statistics</h2>
<div class="plots">
{plot_html}
</div>
{left_out_html}
<h2>Per category</h2>
<table id="categories"><tr><th>category</th><th>instances</th><th>visible</th><th>landmarks visible</th>
<th>landmarks occluded</th></tr>
{category_rows}
</table>
{_people_tables(stats.people)}
<h2>Generation</h2>
<table id="runs"><tr><th>run</th><th>frames written</th><th>seconds</th><th>frames/s</th><th>workers</th></tr>
{run_rows}
</table>
<p>Scene file: <code>{esc(header.scene_file)}</code>; skipped assets:
{esc(', '.join(header.skipped_assets) or 'none')}. Validated scene:</p>
<pre>{esc(scene_yaml)}</pre>
</body></html>
"""


def _rate(part: int, total: int) -> str:
    return f"{100 * part / total:.1f} %" if total else "–"


def write_report(root: str | Path, out: str | Path, samples: int = 8) -> Path:
    """Write the report page for the dataset at root to out (atomically); returns out."""
    page = report_html(Dataset(root), samples=samples)
    path = Path(out)
    try:
        atomic_write_bytes(path, page.encode("utf-8"))
    except OSError as exc:
        raise ReportError(f"{path}: cannot write the report ({exc.strerror or exc})") from None
    return path
