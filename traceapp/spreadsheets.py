"""Cells of the spreadsheets we write (CSV, XLSX) that a spreadsheet program reads as text.

A product, an organisation or a place is typed by whoever records it; in the regulator's
spreadsheet a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or a carriage
return, which programs skip before looking) is a live formula: ``=HYPERLINK(...)`` sends
the sheet's data away, ``=cmd|...`` runs a program on old installs. Every writer passes its
cells through ``text_cell``, which prefixes such text with an apostrophe (OWASP, "CSV
Injection"): the program shows it as text, and whoever reads the file sees what was typed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

#: First characters that make a spreadsheet program read a cell as a formula.
FORMULA_STARTS = frozenset("=+-@\t\r")


def text_cell(value: Any) -> Any:
    """``value``, with ``'`` before a text that a spreadsheet would read as a formula (other
    values, numbers and dates included, unchanged)."""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value


def text_cells(row: Iterable[Any]) -> list[Any]:
    """``text_cell`` of every cell of ``row``."""
    return [text_cell(value) for value in row]
