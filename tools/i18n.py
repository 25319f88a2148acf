"""Translations of traceapp and of trace-scan: extract → update → translate → compile → check.

    python tools/i18n.py [--domain D] extract          source (its mapping) → the domain's .pot
    python tools/i18n.py [--domain D] update [--prune] .pot → each locale's .po (no fuzzy matching;
                                                       en gets msgstr = msgid; --prune drops
                                                       obsolete #~ entries)
    python tools/i18n.py [--domain D] compile          every .po → .mo
    python tools/i18n.py [--domain D] check            exit 1, listing what is wrong, if the .pot's
                                                       msgids differ from a fresh extraction, or a
                                                       catalogue has missing, untranslated, fuzzy or
                                                       obsolete entries, or a stale .mo

Two domains, one workflow (``DOMAINS``): ``messages`` (the default) is the service's
(traceapp/translations, read by Flask-Babel); ``trace_scan`` is the gate client's
(scanner_client/translations, shipped as package data and read with the standard library's
gettext, so the client needs nothing of the service).

After adding or changing a string: extract, update, translate the new Chinese entries (empty
msgstr), update --prune if a msgid was reworded, compile, check. Commit the .pot, .po and .mo files.
The service's Chinese folder is zh_Hans_CN, not zh_CN: see ``Domain.locales``.
Files are rewritten only when more than their dates would change, so runs are quiet in git.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
COMMENT_TAGS = ("TRANSLATORS:",)


@dataclass(frozen=True)
class Domain:
    """One gettext domain: where its strings are found and where its catalogues live."""

    name: str
    project: str
    #: The Babel mapping (paths relative to the repository root) that says what to extract.
    mapping: Path
    folder: Path
    #: Catalogue directories, one per language.
    locales: tuple[str, ...]
    keywords: dict
    #: The language the msgids are written in, if it has a catalogue: filled with msgstr = msgid.
    source_locale: str | None = None

    @property
    def pot(self) -> Path:
        return self.folder / f"{self.name}.pot"

    @property
    def header(self) -> str:
        return f"# Translations of {self.project} (msgids are English).\n# Maintained with tools/i18n.py.\n#"

    def po_path(self, locale: str) -> Path:
        return self.folder / locale / "LC_MESSAGES" / f"{self.name}.po"


DOMAINS = {
    "messages": Domain(
        name="messages",
        project="traceapp",
        mapping=ROOT / "babel.cfg",
        folder=ROOT / "traceapp" / "translations",
        # The app asks for zh_CN, but Babel parses it as zh_Hans_CN (likely script added) and
        # gettext looks for that name, then "zh": a "zh_CN" folder is never read.
        locales=("zh_Hans_CN", "en"),
        keywords={**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None, "lazy_ngettext": (1, 2)},
        source_locale="en",
    ),
    "trace_scan": Domain(
        name="trace_scan",
        project="trace-scan",
        mapping=ROOT / "scanner_client" / "babel.cfg",
        folder=ROOT / "scanner_client" / "translations",
        # The standard library's gettext looks for zh_CN itself; English needs no catalogue.
        locales=("zh_CN",),
        keywords={"_": None, "N_": None},
    ),
}
#: The service's domain, which tests/unit/test_translations.py checks through the names below.
DEFAULT = DOMAINS["messages"]
POT = DEFAULT.pot
LOCALES = DEFAULT.locales
TRANSLATIONS = DEFAULT.folder


def po_path(locale: str, domain: Domain = DEFAULT) -> Path:
    return domain.po_path(locale)


def extract(domain: Domain = DEFAULT) -> Catalog:
    """A fresh template catalogue of every translatable string the domain's mapping names."""
    with domain.mapping.open() as fileobj:
        method_map, options_map = parse_mapping_cfg(fileobj)
    tops = {pattern.split("/")[0] for pattern, method in method_map if method != "ignore"}

    def walk_into(dirpath: str) -> bool:  # unlike Babel's default, walk into "_macros" and the like
        rel = os.path.relpath(dirpath, ROOT).replace(os.sep, "/")
        name = os.path.basename(dirpath)
        return rel.split("/")[0] in tops and not name.startswith(".") and name != "__pycache__"

    version = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]
    catalog = Catalog(
        project=domain.project,
        version=version,
        domain=domain.name,
        header_comment=domain.header,
        msgid_bugs_address="",
        copyright_holder="",
    )
    for filename, lineno, message, comments, context in extract_from_dir(
        ROOT,
        method_map,
        options_map,
        keywords=domain.keywords,
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


def cmd_extract(domain: Domain, args: argparse.Namespace) -> int:
    catalog = extract(domain)
    save(domain.pot, po_bytes(catalog))
    print(f"{len(ids(catalog))} msgids")
    return 0


def cmd_update(domain: Domain, args: argparse.Namespace) -> int:
    template = load(domain.pot)
    for locale in domain.locales:
        path = domain.po_path(locale)
        catalog = (
            load(path, locale)
            if path.exists()
            else Catalog(
                locale=locale,
                domain=domain.name,
                header_comment=domain.header,
                project=domain.project,
                version=template.version,
                msgid_bugs_address="",
                copyright_holder="",
            )
        )
        # Keep the .po's own POT-Creation-Date: a moved line must not change the compiled .mo.
        catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
        catalog.fuzzy = False  # the header's "#, fuzzy" from a fresh catalogue
        catalog.last_translator = domain.project
        if args.prune:
            catalog.obsolete.clear()
        if locale == domain.source_locale:
            for message in catalog:
                if message.id and not any(_forms(message)):
                    message.string = message.id
        save(path, po_bytes(catalog))
        todo = [message.id for message in catalog if message.id and not all(_forms(message))]
        print(f"  {locale}: {len(todo)} untranslated, {len(catalog.obsolete)} obsolete")
    return 0


def cmd_compile(domain: Domain, args: argparse.Namespace) -> int:
    for locale in domain.locales:
        path = domain.po_path(locale)
        catalog, mo = load(path, locale), path.with_suffix(".mo")
        if mo_is_current(mo, catalog):  # another Babel release writes other header bytes only
            print(f"unchanged  {mo.relative_to(ROOT)}")
        else:
            save(mo, mo_bytes(catalog))
    return 0


def _forms(message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def problems(domain: Domain = DEFAULT) -> Iterator[str]:
    """Everything ``check`` complains about, one line each."""
    pot = domain.pot.name
    fresh, template = ids(extract(domain)), ids(load(domain.pot))
    yield from (f"{pot}: missing {key[0]!r} (run extract)" for key in fresh - template)
    yield from (f"{pot}: stale {key[0]!r} (run extract)" for key in template - fresh)
    for locale in domain.locales:
        path = domain.po_path(locale)
        if not path.exists():
            yield f"{locale}: {path.relative_to(ROOT)} is missing (run update)"
            continue
        catalog = load(path, locale)
        yield from (f"{locale}: missing {key[0]!r} (run update)" for key in template - ids(catalog))
        yield from (f"{locale}: not in .pot {key[0]!r} (run update)" for key in ids(catalog) - template)
        for message in catalog:
            if message.id and message.fuzzy:
                yield f"{locale}: fuzzy {message.id!r}"
            elif message.id and not all(_forms(message)):
                yield f"{locale}: untranslated {message.id!r}"
        yield from (f"{locale}: obsolete {key!r} (run update --prune)" for key in catalog.obsolete)
        if not mo_is_current(path.with_suffix(".mo"), catalog):
            yield f"{locale}: {path.with_suffix('.mo').name} is out of date (run compile)"


def cmd_check(domain: Domain, args: argparse.Namespace) -> int:
    found = list(problems(domain))
    print("\n".join(found) if found else f"{domain.project} translations: all up to date")
    return 1 if found else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--domain", choices=sorted(DOMAINS), default=DEFAULT.name, help="which catalogues (default: messages)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("extract", help="source → the .pot").set_defaults(run=cmd_extract)
    update = commands.add_parser("update", help="the .pot → every .po")
    update.add_argument("--prune", action="store_true", help="drop obsolete (#~) entries")
    update.set_defaults(run=cmd_update)
    commands.add_parser("compile", help="every .po → .mo").set_defaults(run=cmd_compile)
    commands.add_parser("check", help="exit 1 if anything is out of date").set_defaults(run=cmd_check)
    args = parser.parse_args(argv)
    return args.run(DOMAINS[args.domain], args)


if __name__ == "__main__":
    sys.exit(main())
