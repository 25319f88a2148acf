"""scanner_client talks to traceapp only over HTTP: it never imports it (STYLE rule 33)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import scanner_client

PACKAGE = Path(scanner_client.__file__).resolve().parent


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("__import__", "import_module"):
            names.update(arg.value for arg in node.args if isinstance(arg, ast.Constant))
    return names


def test_no_module_of_the_client_imports_traceapp():
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) >= 10
    for path in modules:
        offending = {name for name in _imported_modules(path) if name.split(".")[0] == "traceapp"}
        assert not offending, f"{path.name} imports {offending}"


def test_loading_every_client_module_loads_nothing_of_traceapp():
    names = sorted(f"scanner_client.{p.stem}" for p in PACKAGE.glob("*.py") if p.stem != "__main__")
    program = (
        "import importlib, sys\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules\n"
        "             if m.split('.')[0] in ('traceapp', 'flask', 'sqlalchemy')))"
    )
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", program],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert run.stdout.strip() == "[]"
    imported = {line.rsplit("|", 1)[1].strip() for line in run.stderr.splitlines() if line.count("|") == 2}
    assert "scanner_client.gate" in imported  # -X importtime lists every module imported
    assert not {name for name in imported if name.split(".")[0] == "traceapp"}


def test_the_cli_starts_without_the_imaging_libraries():
    program = "import sys, scanner_client.cli; print('PIL' in sys.modules or 'zxingcpp' in sys.modules)"
    run = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=True
    )
    assert run.stdout.strip() == "False"  # so the gate loop starts fast
