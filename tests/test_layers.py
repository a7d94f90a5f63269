"""The package's layers import one way: core <- render <- commands <- app entry point.

Walks every module's imports with ``ast`` (function-level imports included, since the commands
import the core lazily): no import cycle among module-level imports, and no core module imports
the app, a command or the renderers.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "csops_cli"
CLI_LAYER = ("csops_cli.app", "csops_cli.cli", "csops_cli.entry", "csops_cli.__main__",
             "csops_cli.options", "csops_cli.commands")
RENDER_LAYER = ("csops_cli.render",)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, top_level_only: bool) -> set[str]:
    """Modules of the package that ``path`` imports."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.If) and top_level_only:  # TYPE_CHECKING blocks do not run
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("csops_cli")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            if not base.startswith("csops_cli"):
                continue
            for alias in node.names:  # `from . import x` imports the submodule x
                candidate = f"{base}.{alias.name}"
                found.add(candidate if _exists(candidate) else base)
    found.discard(name)
    return found


def _exists(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in PACKAGE.rglob("*.py")}


def in_layer(name: str, layer: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in layer)


def test_the_core_imports_neither_the_app_nor_commands_nor_renderers():
    offences = []
    for name, path in modules().items():
        if in_layer(name, CLI_LAYER) or in_layer(name, RENDER_LAYER):
            continue
        for imported in imports(path, top_level_only=False):
            if in_layer(imported, CLI_LAYER) or in_layer(imported, RENDER_LAYER):
                offences.append(f"{name} imports {imported}")
    assert offences == []


def test_renderers_do_not_import_the_app_or_commands():
    offences = [f"{name} imports {imported}"
                for name, path in modules().items() if in_layer(name, RENDER_LAYER)
                for imported in imports(path, top_level_only=False)
                if in_layer(imported, CLI_LAYER)]
    assert offences == []


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> list[str] | None:
        if name in trail:
            return trail[trail.index(name):] + [name]
        if name in done:
            return None
        for imported in sorted(graph.get(name, ())):
            cycle = visit(imported, trail + [name])
            if cycle:
                return cycle
        done.add(name)
        return None

    return [cycle for name in sorted(graph) if (cycle := visit(name, []))]


def test_module_level_imports_have_no_cycle():
    graph = {name: imports(path, top_level_only=True) & set(modules())
             for name, path in modules().items()}
    assert find_cycles(graph) == []


def test_a_cycle_is_found():
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()})[0] == ["a", "b", "c",
                                                                               "a"]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_the_walk_sees_imports():
    """The checks above would pass vacuously if the walk found no imports at all."""
    graph = {name: imports(path, top_level_only=False) for name, path in modules().items()}
    assert "csops_cli.app" in graph["csops_cli.commands.health"]
    assert "csops_cli.jobs" in graph["csops_cli.commands.health"]
    assert "csops_cli.pipeline" in graph["csops_cli.jobs"]
    assert "csops_cli.render.health" in graph["csops_cli.render"] or \
        "csops_cli.render" in graph["csops_cli.render.health"]
