"""Command line: parse, call the library, print. Errors are one line on stderr and exit code 2."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from renderer.config.schema import load_scene
from renderer.errors import RendererError
from renderer.io.format import OutputError

EXIT_USAGE = 2


def _progress_bar(stream: object) -> Callable[[int, int], None] | None:
    if not getattr(stream, "isatty", lambda: False)():
        return None
    start = time.perf_counter()

    def show(done: int, total: int) -> None:
        width = 30
        filled = int(width * done / max(total, 1))
        rate = done / max(time.perf_counter() - start, 1e-9)
        print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {rate:.2f} frames/s",
              end="" if done < total else "\n", file=sys.stderr, flush=True)

    return show


def _generate(args: argparse.Namespace) -> int:
    from renderer.pipeline.run import generate

    config = load_scene(args.scene, args.set)
    if args.resume and not (Path(args.out) / "dataset.json").is_file():
        raise OutputError(f"{args.out}: --resume given but it holds no dataset to resume")
    summary = generate(config, args.out, frames=args.frames, seed=args.seed, start=args.start, workers=args.workers,
                       executor=args.executor, ray_address=args.address, skip_bad_assets=args.skip_bad_assets,
                       layout=args.layout, shard_size=args.shard_size, progress=_progress_bar(sys.stderr),
                       warn=lambda message: print(f"renderer: warning: {message}", file=sys.stderr))
    print(summary.line())
    for name in args.formats:
        if name != "native":
            _print_export(name, _run_export(name, args.out, None))
    return 0


def _sample(args: argparse.Namespace) -> int:
    import json

    from renderer.pipeline.balance import planned_config
    from renderer.pipeline.run import load_catalog
    from renderer.sampling.motion import describe_frame

    config = load_scene(args.scene, args.set)
    catalog = load_catalog(config)
    config = planned_config(config, catalog, args.seed)  # balance_visible's weights, as generate uses them
    for index in range(args.start, args.start + args.frames):
        description = describe_frame(config, catalog, seed=args.seed, index=index).to_dict()
        print(json.dumps(description, indent=args.indent or None))
    return 0


def _add_set(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE",
                        help="override a scene-file value (YAML), e.g. --set camera.fov_deg=60 "
                             "--set 'lights.count=[1, 2]'; repeatable")


def _run_export(name: str, root: str, out: str | None, options: dict[str, Any] | None = None) -> str:
    from renderer.export import EXPORTERS
    from renderer.io.dataset import DatasetError

    try:
        return str(EXPORTERS[name](root, out, **(options or {})))
    except DatasetError as exc:
        raise OutputError(str(exc)) from None
    except OSError as exc:
        raise OutputError(f"{out or root}: cannot write the {name} export ({exc.strerror or exc})") from None


def _channels(args: argparse.Namespace) -> int:
    """The channel registry, one line each: name, stored or derived (and from what), Channel.doc."""
    from renderer.channels import CHANNELS

    for name, channel in CHANNELS.items():
        how = "stored" if channel.stored else f"derived from {', '.join(channel.requires)}"
        print(f"{name:<22} {how:<40} {channel.doc}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from renderer.export import EXPORTERS, ExportError

    exporter = EXPORTERS[args.format]
    own = {o.keyword for o in exporter.options}
    for other in EXPORTERS.values():  # a flag of another format is a mistake, not something to ignore
        for option in other.options:
            if option.keyword not in own and getattr(args, option.keyword) is not None:
                raise ExportError(f"{option.flag} is an option of the {other.name} export, not of {args.format}")
    options = {o.keyword: o.default if getattr(args, o.keyword) is None else getattr(args, o.keyword)
               for o in exporter.options}
    _print_export(args.format, _run_export(args.format, args.dataset, args.out, options))
    return 0


def _print_export(name: str, path: str) -> None:
    """The export's path, then what else it wrote and what for (its Exporter.describe)."""
    from renderer.export import EXPORTERS

    print(f"{name}: {path}")
    describe = EXPORTERS[name].describe
    for line in describe(Path(path)) if describe is not None else []:
        print(line)


def _preview(args: argparse.Namespace) -> int:
    import cv2

    from renderer.inspect.preview import contact_sheet, parse_frame_selection
    from renderer.io.dataset import Dataset, DatasetError

    suffix = Path(args.output).suffix or ".png"
    if args.sequence is None and not cv2.haveImageWriter(f"preview{suffix}"):  # before reading any frame
        raise OutputError(f"{args.output}: cannot write an image of type {suffix!r} (use .png or .jpg)")
    try:
        dataset = Dataset(args.dataset)
        if args.sequence is not None:
            from renderer.inspect.preview import gif_bytes, sequence_animation

            rows = sequence_animation(dataset, args.sequence, scale=args.scale)
            fps = dataset.header.fps
            output = Path(args.output if args.output != "preview.png" else "preview.gif")
            _write_file(output, gif_bytes(rows, fps))
            print(f"animation of sequence {args.sequence} ({len(rows)} frames): {output}")
            return 0
        positions = parse_frame_selection(args.frames, len(dataset))
        sheet = contact_sheet(dataset, positions, scale=args.scale)
    except (DatasetError, ValueError) as exc:
        raise OutputError(str(exc)) from None
    try:
        ok, data = cv2.imencode(suffix, np.ascontiguousarray(sheet[..., ::-1]))
    except cv2.error:
        ok = False
    if not ok:
        raise OutputError(f"{args.output}: cannot encode an image of this type (use .png or .jpg)")
    _write_file(Path(args.output), data.tobytes())
    print(f"preview of {len(positions)} frames ({sheet.shape[1]}x{sheet.shape[0]}): {args.output}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from renderer.inspect.report import ReportError, write_report
    from renderer.io.dataset import DatasetError

    try:
        path = write_report(args.dataset, args.output, samples=args.samples)
    except (DatasetError, ReportError) as exc:
        raise OutputError(str(exc)) from None
    print(f"report: {path}")
    return 0


def _audit(args: argparse.Namespace) -> int:
    """Recall (and AP) of a detector's COCO results per person attribute group (renderer.inspect.audit)."""
    from renderer.export.base import ExportError
    from renderer.export.coco import coco_dict
    from renderer.inspect.audit import AuditSettings, audit, load_predictions, write_audit
    from renderer.io.dataset import Dataset, DatasetError

    settings = AuditSettings(iou=args.iou, score=args.score, by=tuple(args.by), ap=not args.no_ap,
                             bootstrap=args.bootstrap, permutations=args.permutations, min_group=args.min_group)
    try:
        dataset = Dataset(args.dataset)
        dataset.require(("instance",), "the audit")
        predictions = load_predictions(args.predictions)
        result = audit(dataset, coco_dict(dataset), predictions, settings, rng=np.random.default_rng(args.seed))
    except (DatasetError, ExportError) as exc:
        raise OutputError(str(exc)) from None
    json_path, html_path = write_audit(result, args.out)
    print(f"audit: {result.people} people, recall {result.recall:.3f}; {html_path}, {json_path}")
    for a in result.attributes:
        flag = " SIGNIFICANT" if a.significant else ""
        print(f"  {a.name}: worst {a.worst}, best {a.best}, gap {a.gap:.3f}, p {a.p_value:.4f} "
              f"(Holm {a.p_adjusted:.4f}){flag}")
    return 0


def _write_file(path: Path, data: bytes) -> None:
    from renderer.io.format import atomic_write_bytes

    try:
        atomic_write_bytes(path, data)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value <= 4:
        raise argparse.ArgumentTypeError(f"must be in (0, 4], got {value}")
    return value


def _formats(text: str) -> list[str]:
    from renderer.export import EXPORTERS

    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n != "native" and n not in EXPORTERS]
    if unknown or "native" not in names:
        raise argparse.ArgumentTypeError(
            f"expected native plus any of {', '.join(EXPORTERS)} (comma-separated), got {text!r}")
    return names


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog="renderer", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="render a labelled dataset from a scene file")
    gen.add_argument("scene", help="scene file (YAML), e.g. scenes/tabletop.yaml")
    gen.add_argument("--out", required=True, help="output folder (created; a run into it again resumes)")
    gen.add_argument("--frames", type=_non_negative, default=10, help="number of frames (default 10)")
    gen.add_argument("--seed", type=_non_negative, default=0, help="dataset seed (default 0)")
    gen.add_argument("--start", type=_non_negative, default=0,
                     help="first frame index (default 0): --start 40 --frames 10 makes frames 40..49")
    gen.add_argument("--workers", type=_positive, default=1,
                     help="local worker processes, each with its own GL context (default 1)")
    gen.add_argument("--executor", choices=("local", "ray"), default="local",
                     help="run frames in local processes, or as Ray tasks (renderer[ray] extra)")
    gen.add_argument("--address", default=None, help="Ray cluster address (with --executor ray)")
    gen.add_argument("--layout", choices=("files", "shards"), default="files",
                     help="a file per channel and frame, or WebDataset tar shards (docs/format.md; default files)")
    gen.add_argument("--shard-size", type=_shard_size, default=1000,
                     help="frames per shard with --layout shards (default 1000)")
    gen.add_argument("--resume", action="store_true",
                     help="continue the dataset in --out (running the same command again does the same)")
    gen.add_argument("--skip-bad-assets", action="store_true",
                     help="warn about and leave out unreadable meshes instead of stopping")
    gen.add_argument("--formats", type=_formats, default=["native"],
                     help="native plus exports written after the run, e.g. native,coco,bop (default native)")
    _add_set(gen)
    gen.set_defaults(run=_generate)

    sample = sub.add_parser("sample", help="print frame descriptions (JSON) without rendering")
    sample.add_argument("scene", help="scene file (YAML)")
    sample.add_argument("--frames", type=_non_negative, default=3, help="number of frames (default 3)")
    sample.add_argument("--start", type=_non_negative, default=0, help="first frame index (default 0)")
    sample.add_argument("--seed", type=_non_negative, default=0, help="dataset seed (default 0)")
    sample.add_argument("--indent", type=_non_negative, default=1,
                        help="JSON indent (default 1; 0 = one line per frame)")
    _add_set(sample)
    sample.set_defaults(run=_sample)

    export = sub.add_parser("export", help="convert a written dataset to another format (--format)")
    export.add_argument("dataset", help="dataset folder written by renderer generate")
    from renderer.export import EXPORTERS

    export.add_argument("--format", required=True, choices=tuple(EXPORTERS),
                        help="; ".join(f"{e.name}: {e.doc}" for e in EXPORTERS.values()))
    export.add_argument("--out", default=None, help="output folder (default: DATASET/coco or DATASET/bop)")
    for exporter in EXPORTERS.values():
        for option in exporter.options:
            export.add_argument(option.flag, dest=option.keyword, default=None, choices=option.choices,
                                type=option.parse or str, help=f"{option.help} (default {option.default!r})")
    export.set_defaults(run=_export)

    channels = sub.add_parser("channels", help="list the label channels a scene's outputs can name")
    channels.set_defaults(run=_channels)

    preview = sub.add_parser("preview", help="contact sheet of frames with label overlays (PNG)")
    preview.add_argument("dataset", help="dataset folder")
    preview.add_argument("--frames", default="0:16",
                         help="frames by position: START:STOP[:STEP] or a,b,c (default 0:16)")
    preview.add_argument("-o", "--output", default="preview.png", help="image file (default preview.png)")
    preview.add_argument("--sequence", type=_non_negative, default=None,
                         help="an animated GIF of this sequence's frames instead (default output preview.gif)")
    preview.add_argument("--scale", type=_positive_float, default=0.5,
                         help="size of each panel relative to the frame (default 0.5)")
    preview.set_defaults(run=_preview)

    report = sub.add_parser("report", help="self-contained HTML page: samples, statistics, settings")
    report.add_argument("dataset", help="dataset folder")
    report.add_argument("-o", "--output", default="report.html", help="HTML file (default report.html)")
    report.add_argument("--samples", type=_positive, default=8, help="sample frames shown (default 8)")
    report.set_defaults(run=_report)

    aud = sub.add_parser("audit", help="recall per person attribute group of a detector's COCO results (HTML, JSON)")
    aud.add_argument("dataset", help="dataset folder with people")
    aud.add_argument("predictions", help="COCO results JSON for the dataset's COCO export (image id = frame index)")
    aud.add_argument("--by", action="append", default=[], metavar="FIELD",
                     help="audit this attribute instead of the built-ins (monk_tone, age_group, gender, pose, "
                          "head_yaw_abs, visible_fraction, height_px): one of them, a field path "
                          "(person.age_years@0,13,18,65,91, face.expression, frame.camera.model) or an "
                          "intersection a+b (monk_tone+gender); repeatable")
    aud.add_argument("--iou", type=float, default=0.5, help="IoU a detection needs (default 0.5)")
    aud.add_argument("--score", type=float, default=0.5, help="lowest score counted for recall (default 0.5)")
    aud.add_argument("--out", default="audit", help="output folder for audit.html and audit.json (default audit)")
    aud.add_argument("--seed", type=_non_negative, default=0, help="seed of the bootstrap and permutations (default 0)")
    aud.add_argument("--bootstrap", type=_positive, default=2000, help="bootstrap resamples (default 2000)")
    aud.add_argument("--permutations", type=_positive, default=2000, help="permutations of the test (default 2000)")
    aud.add_argument("--min-group", type=_positive, default=30, help="groups under this many people are flagged small")
    aud.add_argument("--no-ap", action="store_true", help="skip AP per group (pycocotools)")
    aud.set_defaults(run=_audit)
    return parser


def _positive(text: str) -> int:
    value = _non_negative(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def _shard_size(text: str) -> int:
    from renderer.io.shards import MAX_SHARD_SIZE

    value = _positive(text)
    if value > MAX_SHARD_SIZE:
        raise argparse.ArgumentTypeError(f"must be <= {MAX_SHARD_SIZE}")
    return value


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


class _OneLineParser(argparse.ArgumentParser):
    """argparse prints its usage block before an error; ours is one line (usage stays in --help)."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message} (see {self.prog.split()[0]} --help)", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def _one_line(message: str) -> str:
    return " ".join(str(message).split()) or "unknown error"


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # the same orderly stop as Ctrl-C: workers stopped, finished frames kept


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # On failure stderr is one line: library warnings (numpy, OpenCV, trimesh) are not shown here.
    warnings.simplefilter("ignore")
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm) if threading.current_thread() is \
        threading.main_thread() else None
    try:
        return int(args.run(args))
    except RendererError as exc:
        print(f"renderer: error: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("renderer: interrupted; frames written so far are complete, run the same command to resume",
              file=sys.stderr)
        return EXIT_USAGE
    except MemoryError:
        print("renderer: error: out of memory; use smaller images, fewer objects or smaller meshes", file=sys.stderr)
        return EXIT_USAGE
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
