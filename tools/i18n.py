"""Translations of traceapp: extract → update → translate → compile → check.

    python tools/i18n.py extract          source (babel.cfg) → traceapp/translations/messages.pot
    python tools/i18n.py update [--prune] .pot → zh_Hans_CN and en messages.po (no fuzzy matching;
                                          en gets msgstr = msgid; --prune drops obsolete #~ entries)
    python tools/i18n.py compile          every messages.po → messages.mo
    python tools/i18n.py check            exit 1, listing what is wrong, if the .pot's msgids differ
                                          from a fresh extraction, or a catalogue has missing,
                                          untranslated, fuzzy or obsolete entries, or a stale .mo

After adding or changing a string: extract, update, translate the new zh_Hans_CN entries (empty
msgstr), update --prune if a msgid was reworded, compile, check. Commit the .pot, .po and .mo files.
The Chinese folder is zh_Hans_CN, not zh_CN: see LOCALES.
Files are rewritten only when more than their dates would change, so runs are quiet in git.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
MAPPING = ROOT / "babel.cfg"
TRANSLATIONS = ROOT / "traceapp" / "translations"
POT = TRANSLATIONS / "messages.pot"
#: Catalogue directories. The app asks for zh_CN, but Babel parses it as zh_Hans_CN (likely
#: script added) and gettext looks for that name, then "zh": a "zh_CN" folder is never read.
LOCALES = ("zh_Hans_CN", "en")
#: The language the msgids are written in: its catalogue is filled with msgstr = msgid.
SOURCE_LOCALE = "en"
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None, "lazy_ngettext": (1, 2)}
COMMENT_TAGS = ("TRANSLATORS:",)
HEADER = "# Translations of traceapp (msgids are English).\n# Maintained with tools/i18n.py.\n#"


def po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def extract() -> Catalog:
    """A fresh template catalogue of every translatable string the source holds (per babel.cfg)."""
    with MAPPING.open() as fileobj:
        method_map, options_map = parse_mapping_cfg(fileobj)
    tops = {pattern.split("/")[0] for pattern, method in method_map if method != "ignore"}

    def walk_into(dirpath: str) -> bool:  # unlike Babel's default, walk into "_macros" and the like
        rel = os.path.relpath(dirpath, ROOT).replace(os.sep, "/")
        name = os.path.basename(dirpath)
        return rel.split("/")[0] in tops and not name.startswith(".") and name != "__pycache__"

    version = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]
    catalog = Catalog(
        project="traceapp", version=version, header_comment=HEADER, msgid_bugs_address="", copyright_holder=""
    )
    for filename, lineno, message, comments, context in extract_from_dir(
        ROOT,
        method_map,
        options_map,
        keywords=KEYWORDS,
        comment_tags=COMMENT_TAGS,
        strip_comment_tags=True,
        directory_filter=walk_into,
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def load(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as fileobj:
        return read_po(fileobj, locale=locale)


def po_bytes(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100)
    return buffer.getvalue()


def mo_bytes(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def compiled_messages(data: bytes) -> dict:
    """What a compiled catalogue says: each (msgid, context) → msgstr, without the header.

    The header (the empty msgid) names the Babel version that wrote the file, so two compilations of
    one catalogue by different Babel releases differ in bytes but not in what they translate.
    """

    def frozen(value):  # read_mo gives plural forms as lists
        return tuple(value) if isinstance(value, list | tuple) else value

    catalog = read_mo(io.BytesIO(data))
    return {(frozen(m.id), m.context): frozen(m.string) for m in catalog if m.id}


def mo_is_current(path: Path, catalog: Catalog) -> bool:
    """Whether the compiled file at ``path`` translates exactly what ``catalog`` does."""
    return path.exists() and compiled_messages(path.read_bytes()) == compiled_messages(mo_bytes(catalog))


def _undated(data: bytes) -> list[bytes]:
    return [line for line in data.splitlines() if not line.startswith(b'"POT-Creation-Date:')]


def save(path: Path, data: bytes) -> None:
    """Write ``data`` unless the file already holds it but for the creation date."""
    if path.exists() and _undated(path.read_bytes()) == _undated(data):
        print(f"unchanged  {path.relative_to(ROOT)}")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    print(f"written    {path.relative_to(ROOT)}")


def ids(catalog: Catalog) -> set:
    """The (msgid, context) keys of a catalogue, without its header."""
    return {(message.id, message.context) for message in catalog if message.id}


def cmd_extract(args: argparse.Namespace) -> int:
    catalog = extract()
    save(POT, po_bytes(catalog))
    print(f"{len(ids(catalog))} msgids")
    return 0


def cmd_update(args: argparse.Namespace) -> int:
    template = load(POT)
    for locale in LOCALES:
        path = po_path(locale)
        catalog = (
            load(path, locale)
            if path.exists()
            else Catalog(
                locale=locale,
                header_comment=HEADER,
                project="traceapp",
                version=template.version,
                msgid_bugs_address="",
                copyright_holder="",
            )
        )
        # Keep the .po's own POT-Creation-Date: a moved line must not change the compiled .mo.
        catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
        catalog.fuzzy = False  # the header's "#, fuzzy" from a fresh catalogue
        catalog.last_translator = "traceapp"
        if args.prune:
            catalog.obsolete.clear()
        if locale == SOURCE_LOCALE:
            for message in catalog:
                if message.id and not any(_forms(message)):
                    message.string = message.id
        save(path, po_bytes(catalog))
        todo = [message.id for message in catalog if message.id and not all(_forms(message))]
        print(f"  {locale}: {len(todo)} untranslated, {len(catalog.obsolete)} obsolete")
    return 0


def cmd_compile(args: argparse.Namespace) -> int:
    for locale in LOCALES:
        catalog, mo = load(po_path(locale), locale), po_path(locale).with_suffix(".mo")
        if mo_is_current(mo, catalog):  # another Babel release writes other header bytes only
            print(f"unchanged  {mo.relative_to(ROOT)}")
        else:
            save(mo, mo_bytes(catalog))
    return 0


def _forms(message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def problems() -> Iterator[str]:
    """Everything ``check`` complains about, one line each."""
    fresh, template = ids(extract()), ids(load(POT))
    yield from (f"messages.pot: missing {key[0]!r} (run extract)" for key in fresh - template)
    yield from (f"messages.pot: stale {key[0]!r} (run extract)" for key in template - fresh)
    for locale in LOCALES:
        catalog = load(po_path(locale), locale)
        yield from (f"{locale}: missing {key[0]!r} (run update)" for key in template - ids(catalog))
        yield from (f"{locale}: not in .pot {key[0]!r} (run update)" for key in ids(catalog) - template)
        for message in catalog:
            if message.id and message.fuzzy:
                yield f"{locale}: fuzzy {message.id!r}"
            elif message.id and not all(_forms(message)):
                yield f"{locale}: untranslated {message.id!r}"
        yield from (f"{locale}: obsolete {key!r} (run update --prune)" for key in catalog.obsolete)
        mo = po_path(locale).with_suffix(".mo")
        if not mo_is_current(mo, catalog):
            yield f"{locale}: messages.mo is out of date (run compile)"


def cmd_check(args: argparse.Namespace) -> int:
    found = list(problems())
    print("\n".join(found) if found else "translations: all up to date")
    return 1 if found else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("extract", help="source → messages.pot").set_defaults(run=cmd_extract)
    update = commands.add_parser("update", help="messages.pot → every messages.po")
    update.add_argument("--prune", action="store_true", help="drop obsolete (#~) entries")
    update.set_defaults(run=cmd_update)
    commands.add_parser("compile", help="every messages.po → messages.mo").set_defaults(run=cmd_compile)
    commands.add_parser("check", help="exit 1 if anything is out of date").set_defaults(run=cmd_check)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
