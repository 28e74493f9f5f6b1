"""Command line: parse, call the library, print. Errors are one line on stderr and exit code 2."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from renderer.assets import AssetError
from renderer.backends.gl_platform import BackendError
from renderer.config import ConfigError, load_scene
from renderer.pipeline import WorkerError
from renderer.writers import OutputError

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
    from renderer.pipeline import generate

    config = load_scene(args.scene)
    if args.resume and not (Path(args.out) / "dataset.json").is_file():
        raise OutputError(f"{args.out}: --resume given but it holds no dataset to resume")
    summary = generate(config, args.out, frames=args.frames, seed=args.seed, workers=args.workers,
                       executor=args.backend, ray_address=args.address, skip_bad_assets=args.skip_bad_assets,
                       progress=_progress_bar(sys.stderr),
                       warn=lambda message: print(f"renderer: warning: {message}", file=sys.stderr))
    print(summary.line())
    for name in args.formats:
        if name != "native":
            print(f"{name}: {_run_export(name, args.out, None)}")
    return 0


def _run_export(name: str, root: str, out: str | None) -> str:
    from renderer.dataset import DatasetError
    from renderer.export import EXPORTERS

    try:
        return str(EXPORTERS[name](root, out))
    except DatasetError as exc:
        raise OutputError(str(exc)) from None
    except OSError as exc:
        raise OutputError(f"{out or root}: cannot write the {name} export ({exc.strerror or exc})") from None


def _export(args: argparse.Namespace) -> int:
    print(f"{args.format}: {_run_export(args.format, args.dataset, args.out)}")
    return 0


def _formats(text: str) -> list[str]:
    from renderer.export import EXPORTERS

    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n != "native" and n not in EXPORTERS]
    if unknown or "native" not in names:
        raise argparse.ArgumentTypeError(
            f"expected native plus any of {', '.join(EXPORTERS)} (comma-separated), got {text!r}")
    return names


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="renderer", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="render a labelled dataset from a scene file")
    gen.add_argument("scene", help="scene file (YAML), e.g. scenes/tabletop.yaml")
    gen.add_argument("--out", required=True, help="output folder (created; a run into it again resumes)")
    gen.add_argument("--frames", type=_non_negative, default=10, help="number of frames (default 10)")
    gen.add_argument("--seed", type=_non_negative, default=0, help="dataset seed (default 0)")
    gen.add_argument("--workers", type=_positive, default=1,
                     help="local worker processes, each with its own GL context (default 1)")
    gen.add_argument("--backend", choices=("local", "ray"), default="local",
                     help="run frames in local processes, or as Ray tasks (renderer[ray] extra)")
    gen.add_argument("--address", default=None, help="Ray cluster address (with --backend ray)")
    gen.add_argument("--resume", action="store_true",
                     help="continue the dataset in --out (running the same command again does the same)")
    gen.add_argument("--skip-bad-assets", action="store_true",
                     help="warn about and leave out unreadable meshes instead of stopping")
    gen.add_argument("--formats", type=_formats, default=["native"],
                     help="native plus exports written after the run, e.g. native,coco,bop (default native)")
    gen.set_defaults(run=_generate)

    export = sub.add_parser("export", help="convert a written dataset to COCO or BOP")
    export.add_argument("dataset", help="dataset folder written by renderer generate")
    export.add_argument("--format", required=True, choices=("coco", "bop"))
    export.add_argument("--out", default=None, help="output folder (default: DATASET/coco or DATASET/bop)")
    export.set_defaults(run=_export)
    return parser


def _positive(text: str) -> int:
    value = _non_negative(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (ConfigError, AssetError, OutputError, BackendError, WorkerError) as exc:
        print(f"renderer: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("renderer: interrupted; frames written so far are complete, run the same command to resume",
              file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
