"""Data-logger CSV files → temperature readings (pure; no database, no Flask).

Two layouts are read:

* **plain**: a header ``timestamp,temperature`` (or ``timestamp,celsius``), then one reading per
  line: an ISO 8601 time (with offset; without one, the given default zone) and °C.
* **logger export**, as data-logger desktop software writes it (ElitechLog, LogTag Analyzer and
  similar): any number of metadata lines (device, serial, start time, alarm limits ...), then a
  header row with a time column (``Time``, ``Date/Time``, ``时间`` ..., or separate ``Date`` and
  ``Time`` columns) and a temperature column (``Temperature(°C)``, ``Temp °F``, ``温度(℃)`` ...);
  readings until the end or a blank line. Comma, semicolon or tab separated; with semicolons a
  decimal comma is accepted; °F is converted to °C.

Anything that cannot be read raises ``LoggerFileError`` with the 1-based line number.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal, InvalidOperation

from traceapp import limits
from traceapp.coldchain.verdicts import Reading

MAX_READINGS = limits.TEMPERATURES
TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
)
TIME_NAMES = ("date/time", "datetime", "date time", "timestamp", "time", "时间", "记录时间", "日期时间")
FAHRENHEIT = re.compile(r"°\s*f|℉|\(f\)|\bf\b", re.IGNORECASE)


MESSAGES = {
    "empty": "the file is empty",
    "encoding": "the file is neither UTF-8 nor GB18030 text",
    "plain_row": "expected two values: timestamp,temperature",
    "iso_time": "not an ISO 8601 time: {value}",
    "number": "not a temperature: {value}",
    "implausible": "temperature out of any plausible range: {value}",
    "no_header": "no header row with a time column and a temperature column",
    "short_row": "the row has fewer columns than the header",
    "local_time": "not a date and time: {value}",
    "no_readings": "the file holds no readings",
    "too_many": "too many readings",
}


class LoggerFileError(ValueError):
    """A logger file that cannot be read: ``line`` is 1-based (0: the file as a whole), ``code``
    says what is wrong (a key of ``MESSAGES``) and ``value`` quotes the offending text."""

    def __init__(self, line: int, code: str, value: str = ""):
        message = MESSAGES[code].format(value=repr(value))
        super().__init__(f"line {line}: {message}" if line else message)
        self.line, self.code, self.value = line, code, value


@dataclass(frozen=True)
class Columns:
    """Where the readings are in a logger export."""

    header_line: int
    time: int
    date: int | None
    temperature: int
    fahrenheit: bool
    delimiter: str


def parse_logger_csv(data: bytes, *, default_tz: tzinfo) -> tuple[str, list[Reading]]:
    """Read a logger file; return its layout name (``plain`` or ``logger``) and the readings.

    Raises LoggerFileError for an unreadable encoding, no header, a bad row, or no readings.
    """
    lines = _decode(data).splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise LoggerFileError(0, "empty")
    if _is_plain_header(lines[first]):
        return "plain", _plain_rows(lines, first, default_tz)
    columns = _find_columns(lines)
    return "logger", _logger_rows(lines, columns, default_tz)


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):  # Chinese Windows software writes GBK
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise LoggerFileError(0, "encoding")


def _is_plain_header(line: str) -> bool:
    cells = [c.strip().lower() for c in line.split(",")]
    return cells in (["timestamp", "temperature"], ["timestamp", "celsius"])


def _plain_rows(lines: list[str], header: int, default_tz: tzinfo) -> list[Reading]:
    readings: list[Reading] = []
    for number, line in enumerate(lines[header + 1 :], start=header + 2):
        if not line.strip():
            continue
        cells = line.split(",")
        if len(cells) != 2:
            raise LoggerFileError(number, "plain_row")
        readings.append(Reading(_iso_time(cells[0], number, default_tz), _number(cells[1], number, ".")))
    return _checked(readings)


def _iso_time(text: str, line: int, default_tz: tzinfo) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise LoggerFileError(line, "iso_time", text.strip()) from None
    return value if value.tzinfo else value.replace(tzinfo=default_tz)


def _number(text: str, line: int, decimal_mark: str) -> Decimal:
    cleaned = text.strip().replace("°C", "").replace("℃", "").strip()
    if decimal_mark == ",":
        cleaned = cleaned.replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise LoggerFileError(line, "number", text.strip()) from None
    if not value.is_finite() or not Decimal(-100) <= value <= Decimal(150):
        raise LoggerFileError(line, "implausible", text.strip())
    return value


def _find_columns(lines: list[str]) -> Columns:
    for index, line in enumerate(lines[:200]):
        delimiter = _delimiter(line)
        cells = [c.strip().strip('"').lower() for c in next(csv.reader([line], delimiter=delimiter))]
        found = _header_columns(cells)
        if found:
            time, date, temperature = found
            return Columns(
                index, time, date, temperature, bool(FAHRENHEIT.search(cells[temperature])), delimiter
            )
    raise LoggerFileError(0, "no_header")


def _delimiter(line: str) -> str:
    return max((";", "\t", ","), key=line.count)


def _header_columns(cells: list[str]) -> tuple[int, int | None, int] | None:
    temperature = next((i for i, c in enumerate(cells) if "temp" in c or "温度" in c), None)
    time = next((i for i, c in enumerate(cells) if c in TIME_NAMES), None)
    if temperature is None or time is None:
        return None
    date = next((i for i, c in enumerate(cells) if c in ("date", "日期")), None)
    return time, date, temperature


def _logger_rows(lines: list[str], columns: Columns, default_tz: tzinfo) -> list[Reading]:
    readings: list[Reading] = []
    start = columns.header_line + 1
    decimal_mark = "," if columns.delimiter == ";" else "."
    for number, row in enumerate(csv.reader(lines[start:], delimiter=columns.delimiter), start=start + 1):
        if not any(cell.strip() for cell in row):
            break  # a blank line ends the readings; summaries may follow
        readings.append(_logger_reading(row, number, columns, decimal_mark, default_tz))
    return _checked(readings)


def _logger_reading(
    row: list[str], line: int, columns: Columns, decimal_mark: str, default_tz: tzinfo
) -> Reading:
    needed = max(columns.time, columns.temperature, columns.date or 0)
    if len(row) <= needed:
        raise LoggerFileError(line, "short_row")
    stamp = row[columns.time].strip()
    if columns.date is not None:
        stamp = f"{row[columns.date].strip()} {stamp}"
    celsius = _number(row[columns.temperature], line, decimal_mark)
    if columns.fahrenheit:
        celsius = ((celsius - 32) * 5 / 9).quantize(Decimal("0.01"))
    return Reading(_local_time(stamp, line, default_tz), celsius)


def _local_time(text: str, line: int, default_tz: tzinfo) -> datetime:
    for pattern in TIME_FORMATS:
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=default_tz)
        except ValueError:
            continue
    raise LoggerFileError(line, "local_time", text)


def _checked(readings: list[Reading]) -> list[Reading]:
    if not readings:
        raise LoggerFileError(0, "no_readings")
    if len(readings) > MAX_READINGS:
        raise LoggerFileError(0, "too_many")
    return readings
