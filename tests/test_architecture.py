"""The layout docs/architecture.md describes, kept by a test: dependencies run one way and no module imports back.

Every import counts, function-local ones too; the one allowed exception is a Celery task importing its service
inside the task body (tasks.py modules), which keeps the worker's start-up light.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APPS = [
    "config",
    "regions",
    "planning",
    "indicators",
    "dashboards",
    "exchange",
    "reports",
    "published",
    "demo",
    "benchmarks",
]
# Who may import whom (besides itself). config is the project's seam: the API root, tokens, errors, caching.
ALLOWED = {
    "regions": {"config"},
    "planning": {"config", "regions"},
    "indicators": {"config", "regions", "planning"},
    "dashboards": {"config", "regions", "planning", "indicators", "published"},
    "exchange": {"config", "regions", "planning", "indicators"},
    "reports": {"config", "regions", "planning", "indicators", "published"},
    "published": {"config", "regions", "planning", "indicators"},
    "demo": {"config", "regions", "planning", "indicators"},
    "benchmarks": {"config", "regions", "planning", "indicators", "dashboards", "published", "demo"},
    # The seam imports the domain's exceptions and URL modules, never the other way round at module level.
    "config": {"regions", "planning", "indicators", "dashboards", "exchange", "reports", "published"},
}


def _modules() -> dict[str, Path]:
    found = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            found[name] = path
    return found


def _imports(name: str, path: Path, modules: set[str]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    in_task_body: set[int] = set()
    if path.name == "tasks.py":
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and any("task" in ast.unparse(d) for d in node.decorator_list):
                in_task_body.update(id(child) for child in ast.walk(node))
    for node in ast.walk(tree):
        if id(node) in in_task_body:
            continue
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            candidates = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        for candidate in candidates:
            while candidate and candidate not in modules:
                candidate = candidate.rpartition(".")[0]
            if candidate and candidate != name:
                targets.add(candidate)
    return targets


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, set(modules)) for name, path in modules.items()}


def test_apps_depend_one_way() -> None:
    wrong = defaultdict(set)
    for module, targets in _graph().items():
        app = module.split(".")[0]
        for target in targets:
            other = target.split(".")[0]
            if other != app and other not in ALLOWED[app]:
                wrong[module].add(target)
    assert not wrong, dict(wrong)


def test_no_module_imports_back() -> None:
    graph = _graph()
    cycles = []
    # Any cycle, not only two modules importing each other: depth-first search for a back edge.
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target] if target in path else [node, target])
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, cycles


def test_the_early_achieved_label_has_one_home() -> None:
    homes = [
        path.relative_to(ROOT).as_posix()
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts and "提前实现" in path.read_text(encoding="utf-8")
    ]
    assert homes == ["planning/assessment.py"]


def test_no_plan_code_is_hard_coded_in_pages_or_api() -> None:
    codes = ["leshan-edu-14fyp", "leshan-basic-edu-2021"]
    found = [
        path.relative_to(ROOT).as_posix()
        for app in APPS
        for path in [*(ROOT / app).rglob("*.py"), *(ROOT / "templates").rglob("*.html")]
        if "migrations" not in path.parts
        and "management" not in path.parts
        and any(code in path.read_text(encoding="utf-8") for code in codes)
    ]
    assert found == [], found
