"""The import graph of the project: no module imports, directly or through others, a
module that imports it back, and the layers point one way (models under solvers under
broker). Read from the source (every `import` and `from ... import`, also inside
functions and under TYPE_CHECKING), not from what happens to be loaded."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("models", "solvers", "broker", "scenarios")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    mods = {module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")
            if "migrations" not in p.parts}
    mods["cli"] = ROOT / "cli.py"
    return mods


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules `name` imports: `from a.b import c` counts as a.b.c when that
    is a module, else a.b; a package's own __init__ is not counted for its submodules."""
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = name.split(".") if is_pkg else name.split(".")[:-1]
                pkg = pkg[:len(pkg) - node.level + 1]
                base = ".".join([*pkg, base] if base else pkg)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                       for a in node.names]
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            # `import broker.ledger.db` loads broker and broker.ledger first, but those
            # parents import their children lazily: the edge that matters is to t.
            if t and t != name:
                out.add(t)
    return out


def import_graph() -> nx.DiGraph:
    mods = project_modules()
    g: nx.DiGraph = nx.DiGraph()
    g.add_nodes_from(mods)
    for name, path in mods.items():
        for target in imports_of(name, path, set(mods)):
            g.add_edge(name, target)
    return g


def test_graph_is_read() -> None:
    g = import_graph()
    assert g.has_edge("broker.ledger.planning", "solvers")
    assert g.has_edge("models.check", "models.evaluate")
    assert g.number_of_nodes() > 40


def test_no_import_cycle() -> None:
    # A strongly connected component of more than one module is a cycle of imports.
    tangles = [frozenset(c) for c in nx.strongly_connected_components(import_graph())
               if len(c) > 1]
    assert [sorted(c) for c in tangles] == []


def test_layers_point_one_way() -> None:
    g = import_graph()
    bad = [(a, b) for a, b in g.edges
           if (a.startswith("models") and not b.startswith("models"))
           or (a.startswith("solvers") and b.startswith(("broker", "scenarios", "cli")))
           or (a.startswith("scenarios") and b.startswith(("broker", "solvers", "cli")))
           # `python -m broker` runs the CLI: the one module of broker/ that may.
           or (a.startswith("broker") and a != "broker.__main__" and b == "cli")]
    assert bad == []


def test_import_broker_loads_nothing_heavy() -> None:
    # `import broker` stays light (README: under 0.3 s) by loading the solver, database
    # and plotting libraries only when a name that needs them is first used.
    import subprocess
    import sys

    heavy = ("ortools", "sqlalchemy", "numpy", "matplotlib", "networkx", "pydantic",
             "dask", "alembic", "solvers", "models")
    code = ("import sys, broker; print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=ROOT).stdout.split()
    assert "broker" in loaded
    assert [m for m in heavy if m in loaded] == []
