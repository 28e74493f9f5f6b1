"""Deprecated path: the dataset reader now lives in renderer.io.dataset (kept for one release)."""

from renderer.io.dataset import *  # noqa: F401,F403
from renderer.io.dataset import Dataset, DatasetError, Frame  # noqa: F401
