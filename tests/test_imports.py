"""The import graph of ``pose``, ``pretrain`` and ``signllava``: imports go down or sideways, never in a circle.

The graph is read from the source with :mod:`ast` (nothing is imported), so imports inside functions and
under ``if TYPE_CHECKING:`` count as much as the ones at the top of a file: each is a place where the
layering could break at run time, or where a type checker would see the cycle.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# lowest first: a package may import from its own level or the ones before it
LAYERS = ("pose", "pretrain", "signllava")


@dataclass(frozen=True)
class Edge:
    """One import statement that makes ``source`` depend on ``target``."""

    source: str
    target: str
    file: Path
    line: int
    text: str


def module_files(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file under each package (``__init__`` names its package)."""
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _known(name: str, modules: dict[str, Path]) -> str | None:
    """``name`` itself if it is one of ours, else its longest prefix that is (``a.b.c`` -> ``a.b``), else None."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def import_edges(root: Path, packages: tuple[str, ...]) -> tuple[dict[str, Path], list[Edge]]:
    """The modules of ``packages`` under ``root`` and every import between them (self-imports left out).

    ``import a.b`` depends on ``a.b``; ``from a import b`` on the submodule ``a.b`` when there is one,
    otherwise on ``a`` (its ``__init__``). Relative imports resolve against the importing module's package.
    Imports of anything outside ``packages`` are ignored. The parent packages Python initializes on the
    way (``a`` for ``import a.b``) are not edges: a package's ``__init__`` re-exporting its submodules
    would otherwise be a cycle with each of them, which Python resolves fine; an explicit
    ``from a import X`` in a submodule of ``a`` is an edge, and a cycle when ``a`` imports it back.
    """
    modules = module_files(root, packages)
    edges = []
    for source, path in modules.items():
        is_package = path.name == "__init__.py"
        source_text = path.read_text()
        tree = ast.parse(source_text, filename=str(path))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    # the package the file sits in; an __init__ is its own package
                    base = source.split(".") if is_package else source.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    stem = ".".join(base + ([node.module] if node.module else []))
                else:
                    stem = node.module or ""
                # `from pkg import name`: the submodule pkg.name when there is one, else pkg's __init__
                targets = [f"{stem}.{a.name}" if f"{stem}.{a.name}" in modules else stem for a in node.names]
            else:
                continue
            text = ast.get_source_segment(source_text, node) or ast.dump(node)
            for name in targets:
                target = _known(name, modules)
                if target is not None and target != source:
                    edges.append(Edge(source, target, path, node.lineno, " ".join(text.split())))
    return modules, edges


def upward_imports(edges: list[Edge], layers: tuple[str, ...]) -> list[Edge]:
    """The edges from a lower package to a higher one in ``layers`` (lowest first)."""
    rank = {package: i for i, package in enumerate(layers)}
    return [e for e in edges if rank[e.source.split(".")[0]] < rank[e.target.split(".")[0]]]


def strongly_connected(modules: list[str], edges: list[Edge]) -> list[list[str]]:
    """The strongly connected components of two or more modules (each is one or more import cycles)."""
    graph = _adjacency(modules, edges)
    # Tarjan's algorithm, iterative so a deep graph cannot hit the recursion limit
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(graph[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
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
                        components.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(graph[child])))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return sorted(components)


def cycles(modules: list[str], edges: list[Edge]) -> list[list[str]]:
    """One cycle per strongly connected component: its modules in import order, the first repeated at the end."""
    graph = _adjacency(modules, edges)
    return [_cycle_in(component, graph) for component in strongly_connected(modules, edges)]


def _adjacency(modules: list[str], edges: list[Edge]) -> dict[str, list[str]]:
    graph: dict[str, list[str]] = {m: [] for m in modules}
    for e in edges:
        if e.target not in graph[e.source]:
            graph[e.source].append(e.target)
    return graph


def _cycle_in(component: list[str], graph: dict[str, list[str]]) -> list[str]:
    """The shortest cycle through the component's first module, staying inside the component."""
    members = set(component)
    start = component[0]
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in graph[node]:
                if child == start:
                    return paths[node] + [start]
                if child in members and child not in paths:
                    paths[child] = paths[node] + [child]
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle through {start} in {component}")  # a component of 2+ always has one


def layering_problems(root: Path, layers: tuple[str, ...]) -> tuple[dict[str, Path], list[Edge], list[str]]:
    """The modules, the imports, and one message per upward import and per import cycle."""
    modules, edges = import_edges(root, layers)
    problems = [
        f"upward import ({' < '.join(layers)}): {e.file.relative_to(root)}:{e.line}: {e.text}"
        f"  ({e.source} -> {e.target})"
        for e in upward_imports(edges, layers)
    ]
    graph = _adjacency(list(modules), edges)
    for component in strongly_connected(list(modules), edges):
        cycle = _cycle_in(component, graph)
        lines = [f"import cycle: {' -> '.join(cycle)}"]
        if len(component) > len(cycle) - 1:
            lines[0] += f"  (one of the cycles among {', '.join(component)})"
        for source, target in pairwise(cycle):
            e = next(e for e in edges if e.source == source and e.target == target)
            lines.append(f"    {e.file.relative_to(root)}:{e.line}: {e.text}")
        problems.append("\n".join(lines))
    return modules, edges, problems


def test_imports_only_go_down_and_never_in_a_circle():
    modules, edges, problems = layering_problems(ROOT, LAYERS)
    pairs = {(e.source, e.target) for e in edges}
    print(f"\nimport graph of {', '.join(LAYERS)}: {len(modules)} modules, {len(pairs)} edges ({len(edges)} imports)")
    # a wrong root or package name would give an empty graph that passes every check below
    assert len(modules) > 50, sorted(modules)
    assert len(pairs) > 50
    assert not problems, "\n".join(problems)


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_checks_catch_a_planted_cycle_and_upward_import(tmp_path):
    _write(
        tmp_path,
        {
            "low/__init__.py": "from .a import A\n",
            "low/a.py": "import os\n\ndef f():\n    from . import b\n",  # in a function: still counts
            "low/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from low.a import A\n",
            "low/c.py": "import low.sub.d\nfrom low import A\n",  # `from low import A`: A is no module
            "low/sub/__init__.py": "",
            "low/sub/d.py": "from .. import c\nfrom ..b import x\n",  # c <-> sub.d, relative from a subpackage
            "low/up.py": "def g():\n    import high.z\n",
            "high/__init__.py": "",
            "high/z.py": "from low import a, c\nimport numpy\n",
        },
    )
    modules, edges = import_edges(tmp_path, ("low", "high"))
    assert sorted(modules) == ["high", "high.z", "low", "low.a", "low.b", "low.c", "low.sub", "low.sub.d", "low.up"]
    assert {(e.source, e.target) for e in edges} == {
        ("low", "low.a"),
        ("low.a", "low.b"),
        ("low.b", "low.a"),
        ("low.c", "low.sub.d"),
        ("low.c", "low"),
        ("low.sub.d", "low.c"),
        ("low.sub.d", "low.b"),
        ("low.up", "high.z"),
        ("high.z", "low.a"),
        ("high.z", "low.c"),
    }
    assert [(e.file.name, e.line, e.text) for e in upward_imports(edges, ("low", "high"))] == [
        ("up.py", 2, "import high.z")
    ]
    assert sorted(cycles(list(modules), edges)) == [["low.a", "low.b", "low.a"], ["low.c", "low.sub.d", "low.c"]]
    _, _, problems = layering_problems(tmp_path, ("low", "high"))
    assert problems == [
        "upward import (low < high): low/up.py:2: import high.z  (low.up -> high.z)",
        "import cycle: low.a -> low.b -> low.a\n    low/a.py:4: from . import b\n    low/b.py:3: from low.a import A",
        "import cycle: low.c -> low.sub.d -> low.c\n"
        "    low/c.py:1: import low.sub.d\n    low/sub/d.py:1: from .. import c",
    ]
    # a clean graph has none
    kept = [e for e in edges if (e.source, e.target) not in {("low.b", "low.a"), ("low.sub.d", "low.c")}]
    assert cycles(list(modules), kept) == []
    # a longer cycle is printed in import order
    ring = [Edge(s, t, tmp_path / "x.py", 1, "") for s, t in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]]
    assert cycles(["d", "c", "b", "a"], ring) == [["a", "b", "c", "a"]]


def reachable(start: str, edges: list[Edge]) -> set[str]:
    """Every module ``start`` imports, directly or through others."""
    out, todo = set(), [start]
    while todo:
        node = todo.pop()
        for e in edges:
            if e.source == node and e.target not in out:
                out.add(e.target)
                todo.append(e.target)
    return out


# inference (translate, ask, the notebook, the demo) must run without the training code
INFERENCE = (
    "signllava.inference.translator",
    "signllava.notebook",
    "signllava.demo",
    "signllava.inference.batch_translate",
)
TRAINING = ("signllava.train", "signllava.evaluate", "pretrain.loop", "pretrain.trainer")


def test_inference_never_imports_training():
    modules, edges = import_edges(ROOT, LAYERS)
    assert all(m in modules for m in INFERENCE + TRAINING)
    for module in INFERENCE:
        found = sorted(reachable(module, edges) & set(TRAINING))
        assert not found, f"{module} imports training code: {found}"
    assert "signllava.model.build" in reachable("signllava.inference.translator", edges)  # the check reads real edges
