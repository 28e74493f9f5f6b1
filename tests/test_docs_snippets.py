"""The ```python blocks of README.md and docs/*.md run offline as written, on tiny generated datasets.

Each page's blocks run top to bottom in one namespace, as a reader pastes them (a later block may use an
earlier one's imports and names). A block that is a fragment and cannot run alone is marked in the page
with ``<!-- not run: REASON -->`` on the line before its fence; the reason is required.

The docs name datasets by the paths `renderer generate` writes in the README (``out/tabletop``,
``out/people``, ...). ``DOC_PATHS`` maps each such string literal to a dataset generated here from the
same shipped scene at 96 x 72 (seed 0, as the README's command); any other ``"out/...`` literal left in
a block fails the test, so a new path in the docs is added here rather than written into the checkout.

Offline: every IPv4/IPv6 ``connect`` raises (Unix sockets stay: DataLoader workers pass tensors over
them) and ``TORCH_HOME`` points to an empty folder, so a snippet that would download weights fails even
where they are cached.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

try:  # torchvision before the first GL context in this process (docs/pytorch.md: Triton's LLVM vs Mesa's)
    import torchvision  # noqa: F401
except ImportError:  # the pages that need it skip themselves
    pass

from renderer.config.schema import load_scene
from renderer.pipeline.run import generate

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```python\s*$")
NOT_RUN = re.compile(r"^<!--\s*not run:\s*(\S.*?)\s*-->\s*$")
SIZE = (96, 72)


class Block:
    """One ```python block: its page, the line of its first code line (1-based), its code, why not run."""

    def __init__(self, page: Path, line: int, code: str, not_run: str | None) -> None:
        self.page, self.line, self.code, self.not_run = page, line, code, not_run

    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> Iterator[Block]:
    lines = page.read_text(encoding="utf-8").splitlines()
    n = 0
    while n < len(lines):
        if FENCE.match(lines[n]):
            previous = next((lines[k] for k in range(n - 1, -1, -1) if lines[k].strip()), "")
            marker = NOT_RUN.match(previous.strip())
            end = next(k for k in range(n + 1, len(lines)) if lines[k].startswith("```"))
            yield Block(page, n + 2, "\n".join(lines[n + 1:end]) + "\n", marker.group(1) if marker else None)
            n = end
        n += 1


def test_block_reader_on_a_page(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("text\n```python\na = 1\n```\n<!-- not run: needs b -->\n\n```python\nb\n```\n```bash\nls\n```\n")
    (first, second) = blocks(page)
    assert (first.line, first.code, first.not_run) == (3, "a = 1\n", None)
    assert (second.line, second.code, second.not_run) == (8, "b\n", "needs b")


def tiny_scene(folder: Path, name: str, *replace: tuple[str, str]) -> Path:
    """scenes/<name>.yaml at SIZE, its asset globs absolute, plus textual replacements (each must occur)."""
    text = (ROOT / "scenes" / f"{name}.yaml").read_text(encoding="utf-8")
    for old, new in (("width: 640", f"width: {SIZE[0]}"), ("height: 480", f"height: {SIZE[1]}"),
                     ("../assets/", f"{ROOT / 'assets'}/"), *replace):
        assert old in text, (name, old)
        text = text.replace(old, new)
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def doc_paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The dataset and scene paths the docs use -> tiny stand-ins (generated on first use, then kept)."""
    folder = tmp_path_factory.mktemp("docs")
    tabletop = tiny_scene(folder, "tabletop")
    made: dict[str, Path] = {}

    def dataset(name: str, scene: Path, frames: int, **options: Any) -> Path:
        if name not in made:
            generate(load_scene(scene), folder / name, frames=frames, seed=0, **options)
            made[name] = folder / name
        return made[name]

    class Paths(dict[str, Path]):
        def __missing__(self, key: str) -> Path:
            maker = {
                "out/tabletop": lambda: dataset("tabletop", tabletop, 3),
                "out/": lambda: dataset("tabletop", tabletop, 3),
                "out/big": lambda: dataset("big", tabletop, 3, layout="shards", shard_size=1),
                "out/people": lambda: dataset(
                    "people", tiny_scene(folder, "people", ("count: [2, 4]", "count: [1, 2]")), 2),
                "out/moving_objects": lambda: dataset(
                    "moving_objects", tiny_scene(folder, "moving_objects", ("length: 24", "length: 4")), 4),
                "scenes/tabletop.yaml": lambda: tabletop,
            }[key]
            self[key] = maker()
            return self[key]

    return Paths()


# The string literals the docs use for datasets and scenes (a literal, or a literal's start for a file in
# the dataset: "out/tabletop/coco/..."), longest first so "out/tabletop" is not read as "out/".
DOC_PATHS = ["out/moving_objects", "out/tabletop", "out/people", "out/big", "out/", "scenes/tabletop.yaml"]
ALTERNATIVES = "|".join(re.escape(p) for p in DOC_PATHS)
LITERAL = re.compile(rf"""(["'])({ALTERNATIVES})(/[^"']*)?\1""")


def substitute(code: str, paths: dict[str, Path]) -> str:
    def put(match: re.Match[str]) -> str:
        key, rest = match.group(2), match.group(3) or ""
        return repr(str(paths[key]) + rest)

    code = LITERAL.sub(put, code)
    left = re.findall(r"""["'](?:out|scenes)/[^"']*["']""", code)
    assert not left, f"paths the docs use that test_docs_snippets has no stand-in for: {left}"
    return code


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            raise OSError(f"network access in a docs snippet: connect to {address}")
        real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))  # no cached weights
    monkeypatch.chdir(tmp_path)  # a relative path a snippet writes lands here, not in the checkout


def test_offline_fixture_refuses_the_network(offline: None) -> None:
    with pytest.raises(OSError, match="network access"):
        socket.create_connection(("127.0.0.1", 9), timeout=1)


RUN = [page for page in PAGES if any(b.not_run is None for b in blocks(page))]
NEEDS = {"pytorch.md": ["torch", "torchvision"], "export.md": ["pycocotools"]}


@pytest.mark.parametrize("page", RUN, ids=[p.name for p in RUN])
def test_page_snippets_run(page: Path, doc_paths: dict[str, Path], offline: None) -> None:
    for module in NEEDS.get(page.name, []):
        pytest.importorskip(module)
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    for block in blocks(page):
        if block.not_run is not None:
            continue
        code = "\n" * (block.line - 1) + substitute(block.code, doc_paths)  # tracebacks give the page's line
        try:
            exec(compile(code, str(block.page), "exec"), namespace)
        except Exception as error:
            raise AssertionError(f"the snippet at {block.where()} fails: {error!r}") from error


def test_every_page_with_python_blocks_is_run_or_says_why() -> None:
    """The pages the issue names run (export, pytorch); people.md has no code block (its claims name tests)."""
    run = {p.name for p in RUN}
    assert {"README.md", "export.md", "pytorch.md", "format.md"} <= run
    assert not list(blocks(ROOT / "docs" / "people.md"))
    for page in PAGES:
        for block in blocks(page):
            assert block.not_run is None or len(block.not_run) > 10, block.where()
