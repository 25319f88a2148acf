"""Logger CSV files: the plain layout, a logger-software export, and broken files by line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from traceapp.coldchain.loggers import LoggerFileError, parse_logger_csv

DATA = Path(__file__).resolve().parents[1] / "data"
CST = timezone(timedelta(hours=8))


def parse(text: str | bytes):
    data = text.encode() if isinstance(text, str) else text
    return parse_logger_csv(data, default_tz=CST)


def test_the_plain_layout_reads_times_with_offsets_or_in_the_local_zone():
    layout, readings = parse((DATA / "logger-plain.csv").read_bytes())
    assert layout == "plain" and len(readings) == 5
    assert readings[0].at == datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
    assert readings[2].at == datetime(2026, 11, 21, 8, 30, tzinfo=CST)
    assert readings[3].celsius == Decimal("6.8")


def test_a_logger_export_skips_its_metadata_and_stops_at_the_summary():
    layout, readings = parse((DATA / "logger-export.csv").read_bytes())
    assert layout == "logger" and [r.celsius for r in readings] == [
        Decimal("2.1"),
        Decimal("2.4"),
        Decimal("5.6"),
        Decimal("3.0"),
    ]
    assert readings[1].at == datetime(2026, 11, 21, 8, 5, tzinfo=CST)


def test_semicolons_decimal_commas_fahrenheit_and_separate_date_columns():
    text = "Logger;X\nDate;Time;Temp (°F)\n21.11.2026;08:00:00;39,2\n21.11.2026;08:10:00;41\n"
    _layout, readings = parse(text)
    assert [r.celsius for r in readings] == [Decimal("4.00"), Decimal("5.00")]


def test_gbk_encoded_chinese_headers_are_read():
    text = "设备编号,ABC\n序号,时间,温度(℃)\n1,2026/11/21 08:00:00,3.5\n"
    _layout, readings = parse(text.encode("gb18030"))
    assert readings[0].celsius == Decimal("3.5")


@pytest.mark.parametrize(
    ("text", "line", "code"),
    [
        ("timestamp,temperature\n2026-11-21T08:00:00+08:00,3\nyesterday,4\n", 3, "iso_time"),
        ("timestamp,temperature\n2026-11-21T08:00:00+08:00,warm\n", 2, "number"),
        ("timestamp,temperature\n2026-11-21T08:00:00+08:00,3,extra\n", 2, "plain_row"),
        ("timestamp,temperature\n2026-11-21T08:00:00+08:00,900\n", 2, "implausible"),
        ("No.,Time,Temperature(°C)\n1,2026-11-21 08:00:00,3\n2,21st Nov,3\n", 3, "local_time"),
        ("No.,Time,Temperature(°C)\n1,2026-11-21 08:00:00\n", 2, "short_row"),
        ("just,some,numbers\n1,2,3\n", 0, "no_header"),
        ("timestamp,temperature\n", 0, "no_readings"),
        ("", 0, "empty"),
    ],
)
def test_broken_files_say_which_line_and_what(text, line, code):
    with pytest.raises(LoggerFileError) as caught:
        parse(text)
    assert (caught.value.line, caught.value.code) == (line, code)


def test_binary_files_are_refused():
    with pytest.raises(LoggerFileError) as caught:
        parse(b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x81")
    assert caught.value.code == "encoding"
