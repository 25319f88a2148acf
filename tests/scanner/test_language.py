"""trace-scan in Chinese and English: the verdicts, labels, units and messages of a real gate run
against a real server, the language chosen by --lang, TRACE_SCAN_LANG, the config, then LANG."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from scanner_client import i18n
from scanner_client.codes import check_symbol
from scanner_client.inspection import GateOptions, RapidTest, Summary, decide
from scanner_client.verdict import Screen
from tests.scanner.conftest import inspections

pytestmark = pytest.mark.e2e
UNKNOWN = "2222222222222" + check_symbol("2222222222222")
HALF_WIDTH_AFTER_CHINESE = re.compile(r"[\u4e00-\u9fff][,:;?!()]")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _english_afterwards():
    """Tests in this process that switch the language leave English behind."""
    yield
    i18n.activate("en")


@pytest.mark.parametrize(
    ("flag", "configured", "env", "expected"),
    [
        ("zh", None, {"LANG": "en_US.UTF-8"}, "zh_CN"),
        ("en", "zh", {"LANG": "zh_CN.UTF-8"}, "en"),
        (None, "zh-CN", {"LANG": "en_US.UTF-8"}, "zh_CN"),
        (None, None, {"LANG": "zh_CN.UTF-8"}, "zh_CN"),
        (None, None, {"LC_ALL": "zh_TW.UTF-8", "LANG": "en_GB.UTF-8"}, "zh_CN"),
        (None, None, {"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
        (None, None, {"LANG": "C.UTF-8"}, "en"),
        (None, None, {"LANG": "de_DE.UTF-8"}, "en"),
        (None, None, {}, "en"),
    ],
)
def test_the_language_comes_from_the_flag_then_the_config_then_the_locale(flag, configured, env, expected):
    assert i18n.choose(flag, configured, env) == expected


def _screen_text(summary: Summary, tests: tuple[RapidTest, ...] = ()) -> str:
    import io

    out = io.StringIO()
    decision = decide(summary, GateOptions(tests=tests))
    if decision.accept:
        Screen(out, colour=False).accept(summary, tests)
    else:
        Screen(out, colour=False).reject(summary.trace_code, decision.reasons, summary, tests)
    return out.getvalue()


def test_every_verdict_line_is_chinese_with_full_width_punctuation_and_chinese_units():
    i18n.activate("zh_CN")
    valid = Summary("LRALC8X7RJNZ5V", "valid", "大白菜", "木兰合作社", "500", "kg")
    accepted = _screen_text(valid)
    assert "可以入场  LRAL-C8X7-RJNZ-5V" in accepted and "大白菜 · 500 千克" in accepted
    assert "生产者：木兰合作社" in accepted and "合格证：有效" in accepted
    revoked = Summary("LRALC8X7RJNZ5V", "revoked", "菠菜", "木兰合作社", "30", "jin", "2026-11-21", "写错了")
    tested = (RapidTest("enzyme_inhibition", "有机磷", None, None, "negative"),)
    rejected = _screen_text(revoked, tested)
    assert "拒绝入场  LRAL-C8X7-RJNZ-5V" in rejected and "原因：合格证已撤销：写错了" in rejected
    assert "菠菜 · 30 斤" in rejected and "快检：酶抑制法 有机磷 阴性" in rejected
    for unit, shown in (("piece", "件"), ("box", "箱")):
        assert f"· 5 {shown}" in _screen_text(Summary("LRALC8X7RJNZ5V", "valid", "鸡蛋", "", "5", unit))
    positive = _screen_text(valid, (RapidTest("colloidal_gold", "克伦特罗", None, None, "positive"),))
    assert "原因：快检阳性：胶体金 克伦特罗 阳性" in positive
    for text in (accepted, rejected, positive):
        assert not HALF_WIDTH_AFTER_CHINESE.search(text), text


def test_the_same_verdicts_in_english():
    i18n.activate("en")
    valid = Summary("LRALC8X7RJNZ5V", "valid", "大白菜", "木兰合作社", "500", "jin")
    accepted = _screen_text(valid)
    assert "ACCEPT  LRAL-C8X7-RJNZ-5V" in accepted and "大白菜 · 500 jin" in accepted
    assert "producer: 木兰合作社" in accepted and "certificate: valid" in accepted
    recalled = _screen_text(Summary("LRALC8X7RJNZ5V", "recalled", "大白菜", "", "5", "box"))
    assert "why: batch recalled" in recalled and "· 5 boxes" in recalled


def test_the_catalogue_is_complete_and_compiled():
    run = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "i18n.py"), "--domain", "trace_scan", "check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_a_chinese_gate_shows_verdicts_and_messages_in_chinese(trace_scan, issue, server, parties):
    good = issue(quantity="500")["trace_code"]
    revoked = issue(quantity="40", product_name="菠菜", revoked_because="农药使用记录有误")["trace_code"]
    lines = f"{good}\n{revoked} | qty=80jin | test=enzyme:有机磷:62.5\n{UNKNOWN}\nhello\n"
    run = trace_scan("gate", stdin=lines, LANG="zh_CN.UTF-8")
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "可以入场" in out and "大白菜 · 500 千克" in out and "合格证：有效" in out
    assert "✔ 已记录：查验结果为准予入场。" in out
    assert "拒绝入场" in out and "原因：合格证已撤销：农药使用记录有误" in out
    assert "原因：快检阳性：酶抑制法 有机磷 62.5% 阳性" in out
    assert "原因：未知追溯码：" in out and "原因：未作记录" in out
    assert "✘ 不是追溯码：'HELLO'" in out or "✘ 不是追溯码：'hello'" in out
    assert "本次：" in out and "队列：待发送 0 条" in out
    assert not HALF_WIDTH_AFTER_CHINESE.search(out.replace("trace-scan", "")), out
    assert [e["details"]["result"] for e in inspections(server, parties, revoked)] == ["rejected"]
    assert "certificate revoked" not in out and "why:" not in out


def test_the_flag_overrides_a_chinese_locale_and_the_config_keeps_the_language(trace_scan, issue):
    code = issue()["trace_code"]
    english = trace_scan("gate", "--lang", "en", stdin=f"{code}\n", LANG="zh_CN.UTF-8")
    assert "ACCEPT" in english.stdout and "500 kg" in english.stdout and "可以入场" not in english.stdout
    saved = trace_scan("config", "--lang", "zh")
    assert saved.returncode == 0 and "已保存到" in saved.stdout
    status = trace_scan("status")
    assert "待发送 0，已发送 1，被拒绝 0" in status.stdout
    bad = trace_scan("gate", "--quantity", "lots", LANG="en_US.UTF-8")
    assert bad.returncode == 2 and "数量应为正数" in bad.stderr


def test_a_settings_error_is_told_in_chinese(trace_scan):
    run = trace_scan("sync", TRACE_SCAN_SERVER="ftp://nowhere", TRACE_SCAN_LANG="zh_CN")
    assert (
        run.returncode == 2
        and "服务器地址应形如 https://trace.example.cn，而不是 'ftp://nowhere'。" in run.stderr
    )
