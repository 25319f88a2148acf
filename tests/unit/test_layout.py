"""The layout's rules, read off the imports: dependencies point one way, leaves stay leaves."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "traceapp"
#: Domains from the top down: a domain may import those after it, never those before it.
DOMAINS = ["public", "overview", "recalls", "epcis", "events", "notify", "certificates", "orgs"]
#: Leaves import no domain; the ones a leaf may use are listed.
LEAVES = {
    "coldchain": {"svg"},
    "labels": set(),
    "codes": {"gs1"},
    "gs1": set(),
    "svg": set(),
    "jobs": set(),
    "throttle": set(),
}


def _modules() -> list[tuple[str, Path]]:
    return [(".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts), p) for p in PACKAGE.rglob("*.py")]


def _imports(path: Path) -> set[str]:
    """Every traceapp module a file imports (``from traceapp import x`` counts as traceapp.x)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("traceapp.")}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("traceapp"):
            if node.module == "traceapp":
                found |= {f"traceapp.{a.name}" for a in node.names}
            else:
                found.add(node.module or "")
    return found


def _part(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _offences(rule) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(
        f"{module} imports {target}"
        for module, path in _modules()
        for target in _imports(path)
        if _part(target) != _part(module) and rule(module, target)
    )


def test_domains_import_only_the_domains_below_them():
    def upward(module: str, target: str) -> bool:
        me, other = _part(module), _part(target)
        return me in DOMAINS and other in DOMAINS and DOMAINS.index(other) < DOMAINS.index(me)

    assert _offences(upward) == []


@pytest.mark.parametrize("leaf", sorted(LEAVES))
def test_leaves_import_no_domain(leaf):
    def reaches_out(module: str, target: str) -> bool:
        other = _part(target)
        return _part(module) == leaf and (other in DOMAINS or (other in LEAVES and other not in LEAVES[leaf]))

    assert _offences(reaches_out) == []


def test_labels_import_nothing_from_traceapp():
    assert _offences(lambda module, target: _part(module) == "labels") == []


def test_pages_and_forms_do_not_import_api_modules():
    def page_imports_api(module: str, target: str) -> bool:
        return module.rsplit(".", 1)[-1] in ("views", "forms") and target.rsplit(".", 1)[-1] == "api"

    offences = sorted(
        f"{module} imports {target}"
        for module, path in _modules()
        for target in _imports(path)
        if page_imports_api(module, target)
    )
    assert offences == []
