"""Input from a keyboard-wedge scanner: one scan per line on stdin, and repeated reads.

A wedge scanner "types" each code followed by its configured terminator: Enter (CR, LF or
CR LF, whichever the terminal or pipe passes on). Lines are yielded as soon as their
terminator arrives, never waiting for a full buffer; CR, LF and CR LF each end one line, so a
CR-only scanner on a pipe works too.
"""

from __future__ import annotations

import codecs
import time
from collections.abc import Callable, Hashable, Iterator
from typing import BinaryIO

CHUNK = 4096


def _read_some(stream: BinaryIO) -> bytes:
    """What is available now (at least one byte, or b"" at end of input)."""
    read1 = getattr(stream, "read1", None)
    return read1(CHUNK) if read1 is not None else stream.read(CHUNK)


def _split(text: str, after_cr: bool) -> tuple[list[str], str, bool]:
    """Complete lines of ``text``, the unfinished rest, and whether it ended on a CR.

    ``after_cr``: the previous chunk ended with CR, so a leading LF belongs to it.
    """
    if after_cr and text.startswith("\n"):
        text = text[1:]
    lines, start, index = [], 0, 0
    while index < len(text):
        char = text[index]
        if char in "\r\n":
            lines.append(text[start:index])
            if char == "\r" and text[index + 1 : index + 2] == "\n":
                index += 1
            start = index + 1
        index += 1
    ended_cr = text.endswith("\r")
    return lines, text[start:], ended_cr


def scan_lines(stream: BinaryIO) -> Iterator[str]:
    """The lines of ``stream`` (UTF-8, undecodable bytes replaced), as they arrive, until EOF.

    A last line without a terminator is yielded too.
    """
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    rest, after_cr = "", False
    while True:
        chunk = _read_some(stream)
        text = rest + decoder.decode(chunk, final=not chunk)
        lines, rest, after_cr = _split(text, after_cr)
        yield from lines
        if not chunk:
            break
    if rest:
        yield rest


class Deduper:
    """Spots a scanner reading the same label twice in a row within ``window`` seconds.

    Compares with the previous scan only, on a monotonic clock; each repeat extends the window,
    so a scanner in continuous mode aimed at one label yields it once.
    """

    def __init__(self, window: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self.clock = clock
        self._last: Hashable | None = None
        self._at = float("-inf")

    def is_repeat(self, key: Hashable) -> bool:
        """Whether ``key`` repeats the previous scan within the window (then it is ignored)."""
        now = self.clock()
        repeat = key == self._last and now - self._at < self.window
        self._last, self._at = key, now
        return repeat
