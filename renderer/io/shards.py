"""WebDataset-style tar shards: the frames of a dataset packed in order, 1000 (``shard_size``) a file.

``shards/shard-000000.tar`` holds frames 0 .. shard_size - 1 that exist, in index order; frame i's files
share the key ``NNNNNN`` (six digits): ``000123.meta.json``, ``000123.rgb.png``, ``000123.depth.npz`` ...
(the files layout's ``FOLDER/NNNNNN.SUFFIX`` as ``NNNNNN.FOLDER.SUFFIX``). Tar headers carry no time,
owner or mode of the machine that wrote them, so the same frames give the same bytes anywhere.
"""

from __future__ import annotations

import re
import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

SHARDS = "shards"
STAGING = "staging"  # frames made but not yet packed, in the files layout
DEFAULT_SHARD_SIZE = 1000
MAX_SHARD_SIZE = 1_000_000
_SHARD = re.compile(r"^shard-(\d{6,})\.tar$")
_MEMBER = re.compile(r"^(\d{6,})\.(.+)$")

Sample = tuple[int, list[tuple[str, bytes]]]  # (frame index, [(member, bytes)])


def shard_name(shard: int) -> str:
    return f"shard-{shard:06d}.tar"


def shard_number(path: Path) -> int | None:
    match = _SHARD.match(path.name)
    return int(match.group(1)) if match else None


def member_name(index: int, member: str) -> str:
    """``000123.depth.npz`` for frame 123's ``depth.npz``."""
    return f"{index:06d}.{member}"


def split_member(name: str) -> tuple[int, str] | None:
    match = _MEMBER.match(name)
    return (int(match.group(1)), match.group(2)) if match else None


def shard_paths(root: Path) -> list[Path]:
    """The dataset's shard files in shard order (temporary files excluded)."""
    folder = root / SHARDS
    if not folder.is_dir():
        return []
    found = [(n, p) for p in folder.iterdir() if (n := shard_number(p)) is not None]
    return [p for _, p in sorted(found)]


def write_tar(handle: BinaryIO, samples: Iterable[Sample]) -> None:
    """Samples in the order given, each one's members in the order given; reproducible headers."""
    import io

    with tarfile.open(fileobj=handle, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for index, members in samples:
            for member, data in members:
                info = tarfile.TarInfo(member_name(index, member))
                info.size = len(data)
                info.mtime = 0
                info.mode = 0o644
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                archive.addfile(info, io.BytesIO(data))


@dataclass(frozen=True)
class MemberSpan:
    """Where a member's bytes lie in its shard file."""

    offset: int
    size: int


def index_shard(path: Path) -> dict[int, dict[str, MemberSpan]]:
    """{frame index: {member: span}} of a shard file; ValueError naming the file when it is damaged."""
    frames: dict[int, dict[str, MemberSpan]] = {}
    try:
        with tarfile.open(path, mode="r:") as archive:
            for info in archive:
                parsed = split_member(info.name) if info.isfile() else None
                if parsed is None:
                    raise ValueError(f"{path}: unexpected member {info.name!r} (not NNNNNN.NAME)")
                frames.setdefault(parsed[0], {})[parsed[1]] = MemberSpan(info.offset_data, info.size)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ValueError(f"{path}: unreadable shard ({' '.join(str(exc).split()) or type(exc).__name__})") from None
    return frames


def read_span(path: Path, span: MemberSpan) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(span.offset)
        data = handle.read(span.size)
    if len(data) != span.size:
        raise ValueError(f"{path}: truncated shard")
    return data


def stream_samples(handle: BinaryIO) -> Iterator[tuple[int, dict[str, bytes]]]:
    """Frames of a shard read front to back (no seeking: a pipe or an object-store stream works), as
    (frame index, {member: bytes}); members of one frame are consecutive."""
    current: int | None = None
    members: dict[str, bytes] = {}
    with tarfile.open(fileobj=handle, mode="r|") as archive:
        for info in archive:
            parsed = split_member(info.name) if info.isfile() else None
            if parsed is None:
                continue
            index, member = parsed
            if current is not None and index != current:
                yield current, members
                members = {}
            current = index
            extracted = archive.extractfile(info)
            members[member] = extracted.read() if extracted is not None else b""
    if current is not None:
        yield current, members
