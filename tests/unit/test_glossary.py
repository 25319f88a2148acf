"""The Chinese catalogue reads as Chinese: full-width punctuation beside Chinese characters, no
stray spaces between Chinese words, and the trade's terms of traceapp/translations/glossary.toml.

A translation that breaks one of these rules fails here with its msgid, so the fix is one line
of the .po file.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog

from tests.unit.test_translations import CHINESE, entries, forms, tool

GLOSSARY = Path(__file__).resolve().parents[2] / "traceapp" / "translations" / "glossary.toml"
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
#: Chinese text and its own punctuation (、。，：；？！（）“”《》 ...).
WIDE = HAN + "\u3000-\u303f\uff00-\uffef\u201c\u201d"
#: Half-width punctuation written where Chinese needs the full-width form.
HALF = ',:;?!()"'
HALF_BESIDE_CHINESE = re.compile(f"[{HAN}][{re.escape(HALF)}]|[{re.escape(HALF)}][{HAN}]")
SPACE_BETWEEN_CHINESE = re.compile(f"[{WIDE}] +[{WIDE}]")
#: Spans a Chinese sentence keeps as written: placeholders, code and header names, URLs.
VERBATIM = re.compile(
    r"%\(\w+\)[sd]|\{\w+\}|https?://\S+|[A-Za-z][\w.-]*(?:[:=/][\w<>./+-]*)+|"
    r"\"[^\"\u3400-\u9fff]*\"|\([^()\u3400-\u9fff]*\)"
)


ROOT = Path(__file__).resolve().parents[2]
#: The Chinese catalogues a person reads: the service's and trace-scan's.
CATALOGUES = {
    "traceapp": tool.po_path(CHINESE),
    "trace-scan": ROOT / "scanner_client" / "translations" / "zh_CN" / "LC_MESSAGES" / "trace_scan.po",
}


@pytest.fixture(scope="module", params=sorted(CATALOGUES))
def chinese(request) -> list[tuple[str, str]]:
    catalog: Catalog = tool.load(CATALOGUES[request.param], CHINESE)
    pairs = []
    for message in entries(catalog):
        msgids = message.id if isinstance(message.id, tuple) else (message.id,)
        for text in forms(message):
            if text:
                pairs.append((msgids[-1], text))
    return pairs


@pytest.fixture(scope="module")
def glossary() -> dict:
    return tomllib.loads(GLOSSARY.read_text(encoding="utf-8"))


def prose(text: str) -> str:
    """The text without the spans it keeps verbatim (each replaced by one space)."""
    return VERBATIM.sub(" ", text)


def test_chinese_text_uses_full_width_punctuation(chinese):
    wrong = [(msgid, text) for msgid, text in chinese if HALF_BESIDE_CHINESE.search(prose(text))]
    assert not wrong, "half-width punctuation beside Chinese (write ，：；？！（）“”): " + repr(wrong)


def test_no_space_between_chinese_words(chinese):
    wrong = [(msgid, text) for msgid, text in chinese if SPACE_BETWEEN_CHINESE.search(text)]
    assert not wrong, f"a space between Chinese words: {wrong}"


def test_the_catalogue_uses_the_trades_terms(chinese, glossary):
    wrong = []
    for term in glossary["term"]:
        pattern = re.compile(term["en"], re.IGNORECASE)
        for msgid, text in chinese:
            if not pattern.search(msgid):
                continue
            if not any(word in text for word in term["zh"]):
                wrong.append((term["zh"], msgid, text))
            wrong += [(f"not {word}", msgid, text) for word in term.get("avoid", []) if word in text]
    assert not wrong, f"terms that differ from glossary.toml: {wrong}"


def test_no_chinese_text_holds_a_forbidden_word(chinese, glossary):
    words = glossary["forbidden"]["words"]
    latin = [w for w in words if w.isascii()]
    wrong = [
        (word, msgid, text)
        for msgid, text in chinese
        for word in words
        if (re.search(rf"(?<![A-Za-z]){word}(?![A-Za-z])", text) if word in latin else word in text)
    ]
    assert not wrong, f"forbidden words in Chinese text (see glossary.toml): {wrong}"


@pytest.mark.parametrize(
    ("text", "wrong"),
    [
        ("冷链: 正常", True),
        ("追溯码:", True),
        ("是否有效?", True),
        ("数量(千克)", True),
        ("冷链：正常", False),
        ("请以“Authorization: Bearer <token>”的形式发送", False),
        ("每行应有两个值：时间和温度（timestamp,temperature）。", False),
        ("%(code)s 可能输错了", False),
    ],
)
def test_the_punctuation_rule_catches_half_width_marks_and_keeps_code(text, wrong):
    assert bool(HALF_BESIDE_CHINESE.search(prose(text))) is wrong


def test_the_space_rule_catches_a_space_between_chinese_words():
    assert SPACE_BETWEEN_CHINESE.search("合格证 有效")
    assert not SPACE_BETWEEN_CHINESE.search("合格证 + 追溯码") and not SPACE_BETWEEN_CHINESE.search("60 千克")
