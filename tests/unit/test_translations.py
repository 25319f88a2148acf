"""Translations: every string of the source is translated, compiled and well formed.

The catalogues live in traceapp/translations (zh_Hans_CN, the folder Flask-Babel reads for the
app's zh_CN, and en with msgstr = msgid) and are kept
with tools/i18n.py: extract → update → translate → compile → check. A string added to the source
without running that chain fails here.

Chinese rule: a Chinese msgstr must contain a Chinese character. The one exception is a msgstr
equal to its msgid when the msgid holds no English word (a run of letters with a lowercase one),
apart from placeholders and the units and format names of ``LATIN_IN_CHINESE`` that Chinese text
writes in Latin letters too: "PNG 203 dpi" or "GTIN" may stay as they are, "Print" may not.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections import Counter
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.support import Translations

from traceapp import config

TOOL_PATH = Path(__file__).resolve().parents[2] / "tools" / "i18n.py"
_spec = importlib.util.spec_from_file_location("traceapp_i18n_tool", TOOL_PATH)
assert _spec and _spec.loader
tool = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = tool  # its dataclasses look their module up there
_spec.loader.exec_module(tool)

#: printf-style conversions, ``%(name)s``, ``%d`` and the escaped ``%%``.
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa%]")
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
WORD = re.compile(r"[A-Za-z]+")
#: Words a Chinese text may keep in Latin letters (see the module docstring).
LATIN_IN_CHINESE = {"dpi", "px", "mm", "cm"}
CHINESE = "zh_Hans_CN"


@pytest.fixture(scope="module")
def source() -> Catalog:
    """A fresh extraction of the source with babel.cfg, in memory."""
    return tool.extract()


@pytest.fixture(scope="module")
def catalogues() -> dict[str, Catalog]:
    return {locale: tool.load(tool.po_path(locale), locale) for locale in tool.LOCALES}


def entries(catalog: Catalog) -> list[Message]:
    return [message for message in catalog if message.id]


def forms(message: Message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def placeholders(text: str) -> Counter[str]:
    return Counter(PLACEHOLDER.findall(text))


def has_english_word(text: str) -> bool:
    words = WORD.findall(PLACEHOLDER.sub(" ", text))
    return any(w != w.upper() and w.lower() not in LATIN_IN_CHINESE for w in words)


@pytest.mark.parametrize("locale", tool.LOCALES)
def test_catalogue_has_no_untranslated_fuzzy_or_obsolete_entries(catalogues, locale):
    catalog = catalogues[locale]
    assert entries(catalog), f"{locale} catalogue is empty"
    untranslated = [m.id for m in entries(catalog) if not all(forms(m))]
    fuzzy = [m.id for m in entries(catalog) if m.fuzzy]
    assert not untranslated, f"{locale}: translate these, then compile: {untranslated}"
    assert not fuzzy, f"{locale}: check and unflag these fuzzy entries: {fuzzy}"
    assert not catalog.obsolete, (
        f"{locale}: obsolete entries, run `tools/i18n.py update --prune`: {list(catalog.obsolete)}"
    )


@pytest.mark.parametrize("language", config.defaults("/nonexistent")["LANGUAGES"])
def test_flask_babel_finds_a_compiled_catalogue_for_every_configured_language(language):
    # Flask-Babel loads Translations.load(dir, [Locale.parse(selected)]): zh_CN → zh_Hans_CN.
    found = Translations.load(str(tool.TRANSLATIONS), [Locale.parse(language)])
    assert isinstance(found, Translations), f"no catalogue Flask-Babel would load for {language}"
    assert Path(found.files[0]).resolve().parent.parent.name in tool.LOCALES


def test_every_source_string_is_translated_in_both_catalogues(source, catalogues):
    for locale, catalog in catalogues.items():
        missing = sorted(str(key[0]) for key in tool.ids(source) - tool.ids(catalog))
        assert not missing, f"{locale}: run tools/i18n.py extract and update, then translate: {missing}"


def test_the_template_holds_exactly_the_strings_of_the_source(source):
    template = tool.load(tool.POT)
    assert tool.ids(template) == tool.ids(source), "run `python tools/i18n.py extract`"


@pytest.mark.parametrize("locale", tool.LOCALES)
def test_each_compiled_catalogue_matches_its_po_file(catalogues, locale):
    # Messages, not bytes: the header names the Babel release that compiled the file.
    mo = tool.po_path(locale).with_suffix(".mo")
    assert tool.mo_is_current(mo, catalogues[locale]), (
        f"{mo.relative_to(tool.ROOT)} is stale: run `python tools/i18n.py compile`"
    )


def test_a_compiled_catalogue_is_stale_when_one_translation_differs(catalogues):
    catalog = catalogues[CHINESE]
    mo = tool.po_path(CHINESE).with_suffix(".mo")
    message = next(m for m in entries(catalog) if isinstance(m.string, str))
    kept = message.string
    try:
        message.string = kept + "！"
        assert not tool.mo_is_current(mo, catalog)
    finally:
        message.string = kept


def test_the_babel_release_that_compiled_a_catalogue_does_not_make_it_stale(catalogues):
    data = tool.mo_bytes(catalogues["en"])
    # Another release number of the same length, so the file's offsets stay valid.
    other = re.sub(rb"(Generated-By: Babel )\d", rb"\g<1>0", data, count=1)
    assert other != data
    assert tool.compiled_messages(other) == tool.compiled_messages(data)


@pytest.mark.parametrize("locale", tool.LOCALES)
def test_every_translation_keeps_the_placeholders_of_its_msgid(catalogues, locale):
    wrong = []
    for message in entries(catalogues[locale]):
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        for index, text in enumerate(forms(message)):
            # zh_CN has one plural form: it stands for the plural msgid (and its %(num)d).
            original = ids[min(index if len(forms(message)) > 1 else len(ids) - 1, len(ids) - 1)]
            if text and placeholders(text) != placeholders(original):
                wrong.append((original, text))
    assert not wrong, f"{locale}: placeholders differ from the msgid: {wrong}"


def test_chinese_translations_are_in_chinese(catalogues):
    wrong = []
    for message in entries(catalogues[CHINESE]):
        msgid = message.id if isinstance(message.id, str) else message.id[-1]
        for text in forms(message):
            kept_as_is = text == msgid and not has_english_word(msgid)
            if text and not CJK.search(text) and not kept_as_is:
                wrong.append((msgid, text))
    assert not wrong, f"Chinese msgstrs without Chinese characters: {wrong}"


def test_the_chinese_rule_keeps_format_names_and_rejects_english_words():
    assert not has_english_word("PNG 203 dpi")
    assert not has_english_word("GTIN %(code)s")
    assert has_english_word("Print")
    assert has_english_word("A4 sheet of labels")
