"""Translations of trace-scan (its own domain, ``trace_scan``): extract → update → compile → check.

    python tools/scan_i18n.py extract    scanner_client/*.py → scanner_client/translations/trace_scan.pot
    python tools/scan_i18n.py update     .pot → zh_CN/LC_MESSAGES/trace_scan.po (new msgids untranslated)
    python tools/scan_i18n.py compile    .po → .mo (the client reads the .mo with the standard library)
    python tools/scan_i18n.py check      exit 1, listing what is wrong: the .pot differs from a fresh
                                         extraction, or the .po has untranslated, fuzzy or obsolete
                                         entries, or the .mo is stale

Msgids are English (``_("...")`` and ``N_("...")`` in scanner_client), so English needs no
catalogue. Commit the .pot, .po and .mo files: the client ships them as package data.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "scanner_client"
FOLDER = PACKAGE / "translations"
DOMAIN = "trace_scan"
POT = FOLDER / f"{DOMAIN}.pot"
LOCALES = ("zh_CN",)
KEYWORDS = {"_": None, "N_": None}


def po_path(locale: str) -> Path:
    return FOLDER / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def extracted() -> Catalog:
    """A fresh template from the client's sources."""
    catalog = Catalog(project="trace-scan", domain=DOMAIN, charset="utf-8")
    found = extract_from_dir(
        str(PACKAGE), method_map=[("**.py", "python")], keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)
    )
    for filename, lineno, message, comments, context in found:
        catalog.add(
            message,
            locations=[(f"scanner_client/{filename}", lineno)],
            auto_comments=comments,
            context=context,
        )
    return catalog


def _bytes(catalog: Catalog, mo: bool = False) -> bytes:
    buffer = io.BytesIO()
    if mo:
        write_mo(buffer, catalog)
    else:
        write_po(buffer, catalog, width=100, omit_header=True)
    return buffer.getvalue()


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def extract() -> None:
    POT.parent.mkdir(parents=True, exist_ok=True)
    POT.write_bytes(_bytes(extracted()))
    print(f"written    {POT.relative_to(ROOT)}")


def update() -> None:
    template = _read(POT)
    for locale in LOCALES:
        path = po_path(locale)
        catalog = _read(path, locale) if path.exists() else Catalog(locale=locale, domain=DOMAIN)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_bytes(catalog))
        missing = sum(1 for m in catalog if m.id and not m.string)
        print(f"written    {path.relative_to(ROOT)} ({missing} untranslated)")


def compile_() -> None:
    for locale in LOCALES:
        path = po_path(locale)
        path.with_suffix(".mo").write_bytes(_bytes(_read(path, locale), mo=True))
        print(f"written    {path.with_suffix('.mo').relative_to(ROOT)}")


def problems() -> list[str]:
    """What is out of date or untranslated (empty when all is well)."""
    found: list[str] = []
    fresh = {m.id for m in extracted() if m.id}
    if not POT.exists() or {m.id for m in _read(POT) if m.id} != fresh:
        found.append(f"{POT.relative_to(ROOT)} differs from the sources: run extract")
    for locale in LOCALES:
        path = po_path(locale)
        if not path.exists():
            found.append(f"{path.relative_to(ROOT)} is missing: run update")
            continue
        catalog = _read(path, locale)
        ids = {m.id for m in catalog if m.id}
        found += [f"{locale}: missing {i!r}" for i in sorted(fresh - ids, key=str)]
        found += [f"{locale}: untranslated {m.id!r}" for m in catalog if m.id and not m.string]
        found += [f"{locale}: fuzzy {m.id!r}" for m in catalog if m.id and m.fuzzy]
        found += [f"{locale}: obsolete {key!r}" for key in catalog.obsolete]
        mo = path.with_suffix(".mo")
        if not mo.exists():
            found.append(f"{mo.relative_to(ROOT)} is missing: run compile")
            continue
        with mo.open("rb") as handle:
            compiled = {m.id: m.string for m in read_mo(handle) if m.id}
        if compiled != {m.id: m.string for m in catalog if m.id}:
            found.append(f"{mo.relative_to(ROOT)} is stale: run compile")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["extract", "update", "compile", "check"])
    command = parser.parse_args().command
    if command == "check":
        found = problems()
        print("\n".join(found) or "trace-scan translations: all up to date")
        return 1 if found else 0
    {"extract": extract, "update": update, "compile": compile_}[command]()
    return 0


if __name__ == "__main__":
    sys.exit(main())
