"""The layers stay honest: which lockstep module may import which (see ARCHITECTURE.md), and sizes."""

from __future__ import annotations

import ast
from pathlib import Path

import lockstep

PACKAGE = Path(lockstep.__file__).parent
# layer -> the layers it must never import
FORBIDDEN = {
    "engine": ("checks", "plugin", "pytest_plugin", "session", "stateful", "har", "demo", "load", "browser"),
    "checks": ("plugin", "pytest_plugin", "session", "stateful", "har", "demo", "load", "browser"),
    "session": ("checks", "plugin", "pytest_plugin"),
    "stateful": ("checks", "plugin", "pytest_plugin", "session"),
    "har": ("checks", "plugin", "pytest_plugin", "session"),
    "report": ("checks", "plugin", "pytest_plugin", "session", "engine.flows"),
    "core": ("engine", "checks", "plugin", "pytest_plugin", "session", "stateful", "har", "load", "browser"),
}
CORE = ("contract", "targets", "exchange", "views", "compare", "noise", "findings", "operations", "bodies", "cors_policy",
        "rates", "errors", "settings", "spec")


def _layer(module: str) -> str | None:
    top = module.split(".")[0]
    if top in CORE:
        return "core"
    return top if top in FORBIDDEN else None


def _imports(path: Path) -> list[str]:
    rel = path.relative_to(PACKAGE).with_suffix("")
    package = list(rel.parts[:-1]) if rel.name != "__init__" else list(rel.parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                found.append(".".join(base + ([node.module] if node.module else [])))
            elif node.module and node.module.startswith("lockstep."):
                found.append(node.module.removeprefix("lockstep."))
        elif isinstance(node, ast.Import):
            found += [a.name.removeprefix("lockstep.") for a in node.names if a.name.startswith("lockstep.")]
    return [m for m in found if m]


def _modules() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if "demo" not in p.relative_to(PACKAGE).parts[:1]]


def test_no_layer_imports_a_layer_above_it() -> None:
    wrong = []
    for path in _modules():
        module = ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        layer = _layer(module)
        for imported in _imports(path):
            if layer and any(imported == f or imported.startswith(f + ".") for f in FORBIDDEN[layer]):
                wrong.append(f"{module} imports {imported}")
    assert wrong == []


def test_only_the_plugin_imports_pytest() -> None:
    importing = []
    for path in _modules():
        rel = path.relative_to(PACKAGE)
        tree = ast.parse(path.read_text())
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        if "pytest" in names and rel.parts[0] not in ("plugin",) and rel.name != "pytest_plugin.py":
            importing.append(str(rel))
    assert importing == []


def test_no_module_over_400_lines_and_no_function_over_50() -> None:
    long_modules, long_functions = [], []
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        if text.count("\n") > 400:
            long_modules.append(f"{path.relative_to(PACKAGE)}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > 50:
                    long_functions.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name} ({length} lines)")
    assert long_modules == [] and long_functions == []


def test_flows_never_import_each_other() -> None:
    crossing = []
    for path in _modules():
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[0] != "checks" or len(parts) < 2:
            continue
        mine = parts[1]
        for imported in _imports(path):
            bits = imported.split(".")
            if bits[0] == "checks" and len(bits) > 1 and bits[1] != mine:
                crossing.append(f"{'.'.join(parts)} imports {imported}")
    assert crossing == []
