"""The package's import graph has no circles, lazy imports included (import-linter's layers allow a circle
inside one layer: a wardrobe kind importing the painter that imports the wardrobe went unseen)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_no_module_imports_itself_through_others() -> None:
    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "scripts" / "import_graph.py")
    assert spec is not None and spec.loader is not None
    graph_script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(graph_script)
    graph = graph_script.imports_of(ROOT)
    assert len(graph) > 100  # the whole package was read
    assert graph_script.circles(graph) == []
    assert graph_script.upward(graph, graph_script.layers(ROOT)) == []
