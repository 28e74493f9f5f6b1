"""``python -m renderer`` and the ``renderer`` command (pyproject's entry point): the command line of
renderer.cli, whose libraries (numpy, OpenCV, trimesh, PyYAML, the export formats') take about a second to
load. Ctrl-C in that second is held until they are loaded and then ends in one line and exit code 2, as
Ctrl-C later does: raised inside an import it would be a traceback, numpy turns it into an ImportError, and
trimesh's optional-import guards swallow it (the command would then run on)."""

import signal
import sys
from types import FrameType

INTERRUPTED = 2  # renderer.cli.EXIT_USAGE, which is not imported yet when this is needed


def main() -> int:
    """Load the command line with Ctrl-C (and SIGTERM) held, then run it."""
    held: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        held.append(signum)

    previous = {s: signal.signal(s, hold) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        from renderer import cli

        cli.build_parser()  # imports every export format's libraries
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if held:
        print("renderer: interrupted while starting; nothing was written", file=sys.stderr)
        return INTERRUPTED
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
