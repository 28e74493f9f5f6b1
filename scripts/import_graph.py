"""Figures of the package's import graph: modules, imports between them, circles, upward imports.

    python scripts/import_graph.py [--root DIR] [--cycles]

Run from the project root (or give ``--root`` a checkout of another commit, to compare). An import is any
``import renderer.x`` / ``from renderer.x import y`` in a module, lazy ones inside functions included
(import-linter counts those too). A circle is a strongly connected component of more than one module;
an upward import is an edge that goes against the layer order of pyproject.toml's layers contract.
"""

from __future__ import annotations

import argparse
import ast
import sys
import tomllib
from pathlib import Path


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(root: Path) -> dict[str, set[str]]:
    """Each module of ``root/renderer`` -> the modules of ours it imports (packages resolved to __init__)."""
    files = sorted((root / "renderer").rglob("*.py"))
    modules = {module_name(root, path): path for path in files}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name and target.startswith("renderer"):
                    graph[name].add(target)
                    break
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def layers(project: Path) -> list[list[str]]:
    """The layers contract of pyproject.toml, top first; each layer's alternatives split on '|'."""
    config = tomllib.loads((project / "pyproject.toml").read_text()).get("tool", {}).get("importlinter", {})
    for contract in config.get("contracts", []):
        if contract.get("type") == "layers":
            container = contract.get("containers", [""])[0]
            return [[f"{container}.{part.strip()}" if container else part.strip()
                     for part in layer.replace(":", "|").split("|")] for layer in contract["layers"]]
    return []


def upward(graph: dict[str, set[str]], order: list[list[str]]) -> list[tuple[str, str]]:
    def rank(module: str) -> int | None:
        for position, layer in enumerate(order):
            if any(module == top or module.startswith(top + ".") for top in layer):
                return position
        return None

    found = []
    for source, targets in graph.items():
        for target in targets:
            low, high = rank(source), rank(target)
            if low is not None and high is not None and high < low:  # a lower layer importing a higher one
                found.append((source, target))
    return sorted(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("."), help="a checkout of the project")
    parser.add_argument("--cycles", action="store_true", help="list the modules of each circle")
    args = parser.parse_args()
    graph = imports_of(args.root)
    found = circles(graph)
    order = layers(Path("."))
    up = upward(graph, order)
    print(f"modules {len(graph)}  imports {sum(map(len, graph.values()))}  circles {len(found)} "
          f"(largest {max(map(len, found), default=0)})  upward imports {len(up)}")
    if args.cycles:
        for component in found:
            print("circle:", " ".join(component))
        for source, target in up:
            print(f"upward: {source} -> {target}")
    sys.exit(0)


if __name__ == "__main__":
    main()
