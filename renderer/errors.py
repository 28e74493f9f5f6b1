"""One base for every error of ours that a user can cause: the command line prints any of them as one
line (``renderer: error: ...``) and exits with code 2; the library raises them with the same messages.
The one guard for optional dependencies (require_extra: a missing one is a MissingExtraError naming the
extra that installs it). And quiet_stderr, for C libraries (libjpeg, pybullet) that print to stderr
themselves."""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Iterator
from types import ModuleType


class RendererError(Exception):
    """Base of the errors renderer raises on bad input or an unusable environment: each message is one
    line that names the file, key or folder at fault."""


class MissingExtraError(RendererError, ImportError):
    """An optional dependency is not installed; the message names the extra that installs it."""


def require_extra(module: str, extra: str, needed_by: str, package: str | None = None, hint: str = "") -> ModuleType:
    """The optional dependency ``module``, imported; else a MissingExtraError of one line:
    "<needed_by> needs <package>: pip install 'renderer[<extra>]'" (``hint``, if any, after it).
    Callers import the module as usual right after (for its types); this makes its absence one clear line."""
    try:
        return importlib.import_module(module)
    except ImportError:
        message = f"{needed_by} needs {package or module}: pip install 'renderer[{extra}]'"
        raise MissingExtraError(f"{message} {hint}" if hint else message) from None


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """File descriptor 2 sent to /dev/null for the duration (C-level writes included)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
