"""The import graph of ``pose``, ``pretrain`` and ``signllava``: imports go down or sideways, never in a circle,
and inside ``signllava`` each room (``model/``, ``inference/``, ``cluster/``, ``data/``) uses only the rooms
it may (:data:`ROOM_RULES`).

The graph is read from the source with :mod:`ast` (nothing is imported), so imports inside functions and
under ``if TYPE_CHECKING:`` count as much as the ones at the top of a file: each is a place where the
layering could break at run time, or where a type checker would see the cycle.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest

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


@dataclass(frozen=True)
class Rule:
    """No module of the room ``room`` (a module or sub-package of the package) may reach ``forbidden``, directly
    or through other modules."""

    room: str
    forbidden: tuple[str, ...]
    why: str


ROOM_RULES = (
    Rule(
        "model",
        ("inference", "cluster", "train", "evaluate", "cli", "notebook", "demo"),
        "everything builds and loads the model, so it uses none of them",
    ),
    Rule("inference", ("train", "evaluate", "cluster", "cli"), "using a model needs no training or cluster code"),
    Rule(
        "data",
        ("model", "inference", "cluster", "train", "evaluate", "cli", "notebook", "demo"),
        "datasets sit below the model and its uses",
    ),
)
# the cluster room is imported only by these (the CLI's `submit` and `jobs`, and the room's own modules)
CLUSTER_IMPORTERS = ("cli", "cluster")


def _in(module: str, package: str, names: tuple[str, ...]) -> bool:
    return any(module == f"{package}.{n}" or module.startswith(f"{package}.{n}.") for n in names)


def _path_to(start: str, goal, edges: list[Edge]) -> list[Edge] | None:
    """The shortest chain of imports from ``start`` to a module for which ``goal`` holds (breadth first)."""
    parent: dict[str, Edge | None] = {start: None}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for e in edges:
                if e.source != node or e.target in parent:
                    continue
                parent[e.target] = e
                if goal(e.target):
                    chain, at = [], e
                    while at is not None:
                        chain.append(at)
                        at = parent[at.source]
                    return chain[::-1]
                following.append(e.target)
        frontier = following
    return None


def room_problems(root: Path, package: str, edges: list[Edge]) -> list[str]:
    """One message per module and forbidden name it reaches (with the shortest chain of imports that does)
    and per import of the cluster room from outside :data:`CLUSTER_IMPORTERS`."""
    modules = sorted({e.source for e in edges} | {e.target for e in edges})
    problems = []
    for rule in ROOM_RULES:
        for module in modules:
            if not _in(module, package, (rule.room,)):
                continue
            for name in rule.forbidden:
                chain = _path_to(module, lambda m, name=name: _in(m, package, (name,)), edges)
                if not chain:
                    continue
                steps = "\n".join(f"    {e.file.relative_to(root)}:{e.line}: {e.text}" for e in chain)
                problems.append(f"{rule.room} imports {chain[-1].target} ({rule.why}):\n{steps}")
    for e in edges:
        if _in(e.target, package, ("cluster",)) and not _in(e.source, package, CLUSTER_IMPORTERS):
            problems.append(
                f"only {', '.join(CLUSTER_IMPORTERS)} import the cluster room: "
                f"{e.file.relative_to(root)}:{e.line}: {e.text}"
            )
    return problems


def test_each_room_imports_only_what_it_may():
    modules, edges = import_edges(ROOT, LAYERS)
    rooms = {m.split(".")[1] for m in modules if m.startswith("signllava.") and (ROOT / m.replace(".", "/")).is_dir()}
    assert rooms == {"model", "inference", "cluster", "data"}, rooms
    for rule in ROOM_RULES:  # every name a rule speaks of is a real module or room, so no rule is vacuous
        for name in (rule.room, *rule.forbidden):
            assert f"signllava.{name}" in modules, name
    problems = room_problems(ROOT, "signllava", edges)
    counts = {room: sum(m.startswith(f"signllava.{room}.") for m in modules) for room in sorted(rooms)}
    print(f"\nrooms of signllava (modules): {counts}; {len(ROOM_RULES)} rules + the cluster's importers")
    assert not problems, "\n".join(problems)


CLEAN_ROOMS = {
    "pkg/__init__.py": "",
    "pkg/cli.py": "from .cluster import jobs\nfrom .inference import use\nfrom . import train, evaluate\n",
    "pkg/train.py": "from .model import core\nfrom .data import rows\n",
    "pkg/evaluate.py": "from .inference import use\nfrom . import metrics\n",
    "pkg/metrics.py": "",
    "pkg/notebook.py": "from .inference import use\n",
    "pkg/demo.py": "from .inference import use\n",
    "pkg/model/__init__.py": "",
    "pkg/model/core.py": "from ..data import rows\nfrom .. import metrics\n",
    "pkg/inference/__init__.py": "",
    "pkg/inference/use.py": "from ..model import core\n",
    "pkg/cluster/__init__.py": "",
    "pkg/cluster/jobs.py": "from . import stages\n",
    "pkg/cluster/stages.py": "from .. import train, evaluate\n",
    "pkg/data/__init__.py": "",
    "pkg/data/rows.py": "",
}
WHY = {rule.room: rule.why for rule in ROOM_RULES}


def _broken(room: str, target: str, *chain: str) -> str:
    """The message of :func:`room_problems` for ``room`` reaching ``target`` through the imports ``chain``."""
    return f"{room} imports {target} ({WHY[room]}):\n" + "\n".join(f"    {step}" for step in chain)


TO_TRAIN = ("pkg/model/core.py:2: from .. import metrics", "pkg/metrics.py:2: from . import train")
TO_CLUSTER = (
    "pkg/inference/live.py:1: from ..cluster.jobs import x",
    "pkg/cluster/jobs.py:1: from . import stages",
    "pkg/cluster/stages.py:1: from .. import train, evaluate",
)
ONLY = "only cli, cluster import the cluster room: "


@pytest.mark.parametrize(
    ("planted", "expected"),
    [
        (  # model -> inference, directly
            {"pkg/model/core.py": "from ..data import rows\nfrom ..inference import use\n"},
            [_broken("model", "pkg.inference.use", "pkg/model/core.py:2: from ..inference import use")],
        ),
        (  # model -> train through a module no rule names, inside a function
            {"pkg/metrics.py": "def f():\n    from . import train\n"},
            [
                _broken("model", "pkg.train", *TO_TRAIN),
                # and so does inference, which uses the model: the chain says how
                _broken("inference", "pkg.train", "pkg/inference/use.py:1: from ..model import core", *TO_TRAIN),
            ],
        ),
        (  # inference -> train
            {"pkg/inference/use.py": "from ..model import core\nimport pkg.train\n"},
            [_broken("inference", "pkg.train", "pkg/inference/use.py:2: import pkg.train")],
        ),
        (  # inference -> cluster: its rule (and what the cluster reaches), and the cluster's importers
            {"pkg/inference/live.py": "from ..cluster.jobs import x\n"},
            [
                _broken("inference", "pkg.train", *TO_CLUSTER),
                _broken("inference", "pkg.evaluate", *TO_CLUSTER),
                _broken("inference", "pkg.cluster.jobs", TO_CLUSTER[0]),
                ONLY + TO_CLUSTER[0],
            ],
        ),
        (  # data -> model
            {"pkg/data/rows.py": "from pkg.model.core import Thing\n"},
            [_broken("data", "pkg.model.core", "pkg/data/rows.py:1: from pkg.model.core import Thing")],
        ),
        (  # the cluster from the training loop (no room rule speaks of train.py)
            {"pkg/train.py": "from .model import core\nfrom .cluster import stages\n"},
            [ONLY + "pkg/train.py:2: from .cluster import stages"],
        ),
    ],
)
def test_the_room_rules_catch_planted_violations(tmp_path, planted, expected):
    _write(tmp_path, CLEAN_ROOMS)
    _, edges = import_edges(tmp_path, ("pkg",))
    assert room_problems(tmp_path, "pkg", edges) == []  # the clean tree passes
    _write(tmp_path, planted)
    _, edges = import_edges(tmp_path, ("pkg",))
    assert room_problems(tmp_path, "pkg", edges) == expected


def script_edges(folder: Path) -> tuple[dict[str, Path], list[Edge]]:
    """The scripts of ``folder`` (each importable by its stem while one of them runs) and their imports of each
    other."""
    modules = {path.stem: path for path in sorted(folder.glob("*.py"))}
    edges = []
    for source, path in modules.items():
        text = path.read_text()
        for node in ast.walk(ast.parse(text, filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module.split(".")[0]]
            else:
                continue
            for name in names:
                if name in modules and name != source:
                    edges.append(Edge(source, name, path, node.lineno, ast.get_source_segment(text, node) or ""))
    return modules, edges


def test_the_benchmark_scripts_import_each_other_without_a_circle():
    modules, edges = script_edges(ROOT / "benchmarks")
    assert ("connectors", "connector_variants") in {(e.source, e.target) for e in edges}  # it reads real edges
    graph = _adjacency(list(modules), edges)
    found = [_cycle_in(c, graph) for c in strongly_connected(list(modules), edges)]
    assert not found, found


def test_the_script_check_catches_a_planted_circle(tmp_path):
    _write(tmp_path, {"a.py": "from b import f\n", "b.py": "def f():\n    import a\n", "c.py": "import a, os\n"})
    modules, edges = script_edges(tmp_path)
    assert sorted((e.source, e.target) for e in edges) == [("a", "b"), ("b", "a"), ("c", "a")]
    assert cycles(list(modules), edges) == [["a", "b", "a"]]
