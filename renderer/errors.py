"""One base for every error of ours that a user can cause: the command line prints any of them as one
line (``renderer: error: ...``) and exits with code 2; the library raises them with the same messages.
And quiet_stderr, for C libraries (libjpeg, pybullet) that print to stderr themselves."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


class RendererError(Exception):
    """Base of the errors renderer raises on bad input or an unusable environment: each message is one
    line that names the file, key or folder at fault."""


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
