"""The screen at the gate: a verdict no one can miss, and short notes for everything else.

ACCEPT, REJECT and OFFLINE are drawn in block letters inside a box, with the code, the
product, the producer, the quantity and the certificate status (or why it is rejected) under
them. Colour (ANSI) only when the output is a terminal and ``NO_COLOR`` is unset; a REJECT
also rings the terminal bell (``\\a``), whatever the output is.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Sequence
from typing import TextIO

from scanner_client.codes import format_code
from scanner_client.i18n import _, unit_label
from scanner_client.inspection import Decision, RapidTest, Summary

_FONT = {
    "A": (" ███ ", "█   █", "█████", "█   █", "█   █"),
    "C": (" ████", "█    ", "█    ", "█    ", " ████"),
    "E": ("█████", "█    ", "████ ", "█    ", "█████"),
    "F": ("█████", "█    ", "████ ", "█    ", "█    "),
    "I": ("█████", "  █  ", "  █  ", "  █  ", "█████"),
    "J": ("  ███", "    █", "    █", "█   █", " ███ "),
    "L": ("█    ", "█    ", "█    ", "█    ", "█████"),
    "N": ("█   █", "██  █", "█ █ █", "█  ██", "█   █"),
    "O": (" ███ ", "█   █", "█   █", "█   █", " ███ "),
    "P": ("████ ", "█   █", "████ ", "█    ", "█    "),
    "R": ("████ ", "█   █", "████ ", "█  █ ", "█   █"),
    "T": ("█████", "  █  ", "  █  ", "  █  ", "  █  "),
}
STYLES = {"accept": "\033[1;97;42m", "reject": "\033[1;97;41m", "offline": "\033[1;30;43m", "note": "\033[1m"}
RESET = "\033[0m"
BELL = "\a"


def block_letters(word: str) -> list[str]:
    """``word`` (letters of ACCEPT, REJECT, OFFLINE) as five rows of block characters."""
    return [" ".join(_FONT[letter][row] for letter in word) for row in range(5)]


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: wide (CJK) characters count two, marks none."""
    return sum(
        0 if unicodedata.combining(char) else 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
        for char in text
    )


def wants_colour(stream: TextIO) -> bool:
    """ANSI colour only on a terminal, and never with ``NO_COLOR`` set or ``TERM=dumb``."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def describe(summary: Summary) -> list[str]:
    """Product, quantity and producer of a batch, as lines."""
    lines = []
    if summary.product_name:
        lines.append(f"{summary.product_name} · {summary.quantity} {unit_label(summary.unit)}".strip())
    if summary.producer:
        lines.append(_("producer: {name}").format(name=summary.producer))
    return lines


def _tested(tests: Sequence[RapidTest]) -> list[str]:
    return [_("test: {test}").format(test=test.describe()) for test in tests]


class Screen:
    """Writes verdicts and notes to one text stream, flushing after each."""

    def __init__(self, stream: TextIO, *, colour: bool | None = None) -> None:
        self.stream = stream
        self.colour = wants_colour(stream) if colour is None else colour

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()

    def banner(self, word: str, style: str, lines: Sequence[str], *, ring: bool = False) -> None:
        """A boxed verdict: ``word`` in block letters, then ``lines``; the bell when ``ring``."""
        rows = ["", *block_letters(word), "", *lines]
        widths = [display_width(row) for row in rows]
        width = max(widths) + 2
        on, off = (STYLES[style], RESET) if self.colour else ("", "")
        boxed = [f"{on}┏{'━' * width}┓{off}"]
        boxed += [
            f"{on}┃ {row}{' ' * (width - 1 - used)}┃{off}" for row, used in zip(rows, widths, strict=True)
        ]
        boxed.append(f"{on}┗{'━' * width}┛{off}")
        self._write((BELL if ring else "") + "\n".join(boxed) + "\n")

    def note(self, text: str, *, ring: bool = False) -> None:
        """A one-line message (bold on a terminal)."""
        on, off = (STYLES["note"], RESET) if self.colour else ("", "")
        self._write(f"{BELL if ring else ''}{on}{text}{off}\n")

    def accept(self, summary: Summary, tests: Sequence[RapidTest]) -> None:
        lines = [
            _("ACCEPT  {code}").format(code=format_code(summary.trace_code)),
            *describe(summary),
            _("certificate: valid"),
            *_tested(tests),
        ]
        self.banner("ACCEPT", "accept", lines)

    def reject(
        self,
        code: str,
        reasons: Sequence[str],
        summary: Summary | None = None,
        tests: Sequence[RapidTest] = (),
    ) -> None:
        lines = [
            _("REJECT  {code}").format(code=format_code(code)),
            *(_("why: {reason}").format(reason=reason) for reason in reasons),
        ]
        lines += [*describe(summary), *_tested(tests)] if summary else []
        self.banner("REJECT", "reject", lines, ring=True)

    def offline(
        self,
        code: str,
        problem: str,
        cached: tuple[Summary, Decision, str] | None,
        tests: Sequence[RapidTest] = (),
    ) -> None:
        """Queued without a verification: why, and the last verification on this gate if any.

        Without one, a positive test still means REJECT, and says so.
        """
        lines = [
            _("OFFLINE: queued  {code}").format(code=format_code(code)),
            _("not verified now: {problem}").format(problem=problem),
        ]
        if cached is None:
            positive = [test for test in tests if test.outcome == "positive"]
            lines.append(_("never verified on this gate: check the paper certificate"))
            lines += [
                _("REJECT: rapid test positive: {test}").format(test=test.describe()) for test in positive
            ]
            self.banner("OFFLINE", "offline", lines, ring=bool(positive))
            return
        summary, decision, verified_at = cached
        when = verified_at[:16].replace("T", " ")
        if decision.accept:
            last = _("last verified {when}: would ACCEPT").format(when=when)
        else:
            reasons = _("; ").join(decision.reasons)
            last = _("last verified {when}: would REJECT ({reasons})").format(when=when, reasons=reasons)
        lines += [last, *describe(summary)]
        self.banner("OFFLINE", "offline", lines, ring=not decision.accept)
