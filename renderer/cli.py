"""Command line: parse, call the library, print. Errors are one line on stderr and exit code 2."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence

from renderer.assets import AssetError
from renderer.backends.gl_platform import BackendError
from renderer.config import ConfigError, load_scene
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
    summary = generate(config, args.out, frames=args.frames, seed=args.seed,
                       progress=_progress_bar(sys.stderr))
    print(summary.line())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="renderer", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="render a labelled dataset from a scene file")
    gen.add_argument("scene", help="scene file (YAML), e.g. scenes/tabletop.yaml")
    gen.add_argument("--out", required=True, help="output folder (created; a run into it again resumes)")
    gen.add_argument("--frames", type=_non_negative, default=10, help="number of frames (default 10)")
    gen.add_argument("--seed", type=_non_negative, default=0, help="dataset seed (default 0)")
    gen.set_defaults(run=_generate)
    return parser


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
    except (ConfigError, AssetError, OutputError, BackendError) as exc:
        print(f"renderer: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("renderer: interrupted; frames written so far are complete, run the same command to resume",
              file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
