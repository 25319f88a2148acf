"""Read what a scanner sends: our code URLs, bare trace codes as people type them, GS1 Digital Links.

This is the client's own copy of the trace-code rules (it never imports traceapp):

- a trace code is 14 symbols of ``23456789ABCDEFGHJKLMNPQRSTUVWXYZ`` (no 0, O, 1, I): 13 random
  ones and a Luhn mod 32 check symbol, printed for people as ``XXXX-XXXX-XXXX-XX``;
- typed input is NFKC-folded (full-width letters from a Chinese input method become ASCII),
  white space, underscores and dashes are dropped and letters upper-cased;
- a QR holds ``https://host[/path]/t/CODE``, or the same URL upper-cased (``HTTPS://HOST/T/CODE``)
  so that it fits the QR alphanumeric mode;
- a GS1 Digital Link ``https://any.host[/stem]/01/{GTIN}[/22/..][/10/{lot}][/21/..]`` names our
  batch when its lot (AI 10) is a valid trace code; any other Digital Link is not ours.

Scanner noise around the payload is dropped first: control characters (STX, ETX, CR, LF, NUL),
white space, zero-width characters, and an AIM symbology identifier such as ``]Q1`` or ``]C1``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal
from urllib.parse import SplitResult, unquote_to_bytes, urlsplit

from scanner_client.i18n import _

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 14
_VALUE = {symbol: value for value, symbol in enumerate(ALPHABET)}

_NOISE = r"[\s\x00-\x1f\x7f\u200b-\u200d\u2060\ufeff]"
_LEADING = re.compile(rf"\A{_NOISE}*(?:\][A-Za-z][0-9A-Za-z])?{_NOISE}*")
_TRAILING = re.compile(rf"{_NOISE}+\Z")
_OUR_PATH = re.compile(r"/[tT]/([^/]+)/?\Z")
_URL_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")  # RFC 3986
_CSET82 = re.compile(r"""[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}""")
_DL_QUALIFIERS = ("22", "10", "21")

Kind = Literal["trace_code", "not_ours", "invalid", "empty"]


class CodeError(ValueError):
    """Text that is not a trace code; the message says why, for the operator."""


@dataclass(frozen=True, slots=True)
class Payload:
    """What a scanned line holds.

    ``kind`` is ``trace_code`` (``code`` is canonical; ``source`` is ``url``, ``digital_link``
    or ``typed``), ``not_ours`` (readable, but not a traceapp code: another web address, a
    Digital Link without a trace code as its lot), ``invalid`` or ``empty``; ``reason`` says
    why in the last three cases.
    """

    kind: Kind
    code: str | None = None
    source: str | None = None
    reason: str = ""
    text: str = ""


# --- trace codes ------------------------------------------------------------------------------


def check_symbol(body: str) -> str:
    """The Luhn mod 32 check symbol of ``body``, 13 symbols of ALPHABET."""
    total = 0
    for position, symbol in enumerate(reversed(body)):
        addend = _VALUE[symbol] * (2 if position % 2 == 0 else 1)
        total += addend // 32 + addend % 32
    return ALPHABET[-total % 32]


def _is_separator(char: str) -> bool:
    return char.isspace() or char == "_" or unicodedata.category(char) == "Pd"


def normalize_code(text: str) -> str:
    """The canonical trace code typed as ``text`` (any case, dashes, spaces, full width).

    Raises CodeError with a message for the operator: wrong length, 0/O/1/I or other foreign
    characters, or a check symbol that does not match.
    """
    folded = unicodedata.normalize("NFKC", text).upper()
    code = "".join(char for char in folded if not _is_separator(char))
    if len(code) != CODE_LENGTH:
        raise CodeError(
            _(
                "Not a trace code: it has {count} characters; a trace code has 14, "
                "from 2-9 and A-Z without O and I."
            ).format(count=len(code))
        )
    foreign = sorted({char for char in code if char not in _VALUE})
    if foreign:
        raise CodeError(
            _(
                "Not a trace code: it contains {characters}; trace codes never "
                "contain 0, O, 1, I or punctuation. Check the characters."
            ).format(characters=" ".join(foreign))
        )
    if check_symbol(code[:-1]) != code[-1]:
        raise CodeError(
            _("Not a trace code: the check character does not match (a character was mistyped or misread).")
        )
    return code


def is_trace_code(text: str) -> bool:
    """Whether ``text`` normalizes to a valid trace code."""
    try:
        normalize_code(text)
    except CodeError:
        return False
    return True


def format_code(code: str) -> str:
    """A canonical code grouped for people: ``XXXX-XXXX-XXXX-XX``."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


# --- noise ------------------------------------------------------------------------------------


def strip_noise(text: str) -> str:
    """``text`` without scanner framing: control characters, blanks and an AIM prefix like ``]Q1``."""
    return _TRAILING.sub("", _LEADING.sub("", text, count=1))


# --- GS1 Digital Link -------------------------------------------------------------------------


def gtin_is_valid(gtin: str) -> bool:
    """Whether ``gtin`` is 8, 12, 13 or 14 ASCII digits ending in the right mod-10 check digit."""
    if len(gtin) not in (8, 12, 13, 14) or not (gtin.isascii() and gtin.isdigit()):
        return False
    total = sum(int(digit) * (3 if i % 2 == 0 else 1) for i, digit in enumerate(reversed(gtin[:-1])))
    return -total % 10 == int(gtin[-1])


def dl_unquote(value: str) -> bytes:
    """Decode a Digital Link path segment: ``%XX`` escapes only (``+`` stays a plus sign).

    A ``%`` not followed by two hex digits stays as it is; the result is bytes because ``%FF``
    is legal in a URI and is not text.
    """
    return unquote_to_bytes(value)


def _dl_pairs(path: str) -> list[tuple[str, str]] | None:
    """The (AI, raw value) pairs ending ``path`` from its last ``/01/``; None when it has none."""
    segments = path.split("/")
    pairs: list[tuple[str, str]] = []
    while len(segments) >= 3:  # segments[0] is the "" before the first slash
        value, ai = segments.pop(), segments.pop()
        pairs.insert(0, (ai, value))
        if ai == "01":
            return pairs
        if ai not in _DL_QUALIFIERS:
            return None
    return None


def _dl_value(raw: str) -> str:
    """A decoded DL path value. Raises CodeError when it is empty or not GS1 CSET 82."""
    value = dl_unquote(raw).decode("latin-1")
    if not _CSET82.fullmatch(value):
        raise CodeError(
            _("Malformed GS1 Digital Link: a value is empty, too long or has characters GS1 does not allow.")
        )
    return value


def _digital_link(parts: SplitResult, text: str) -> Payload | None:
    """Our code in a Digital Link's lot, a not-ours Payload, or None if this is no Digital Link."""
    pairs = _dl_pairs(parts.path)
    if pairs is None:
        return None
    qualifiers = [ai for ai, _raw in pairs[1:]]
    if qualifiers != sorted(set(qualifiers), key=_DL_QUALIFIERS.index):
        raise CodeError(
            _("Malformed GS1 Digital Link: the path must be /01/{GTIN}, then 22, 10, 21 in that order.")
        )
    values = {ai: _dl_value(raw) for ai, raw in pairs}
    gtin = values["01"]
    if not gtin_is_valid(gtin):
        raise CodeError(
            _("Malformed GS1 Digital Link: {gtin} is not a GTIN (check digit).").format(gtin=gtin)
        )
    lot = values.get("10")
    if lot is not None and is_trace_code(lot):
        return Payload("trace_code", normalize_code(lot), "digital_link", text=text)
    what = _("lot {lot}").format(lot=lot) if lot is not None else _("no lot")
    return Payload(
        "not_ours",
        source="digital_link",
        text=text,
        reason=_("GS1 Digital Link for GTIN {gtin} with {what}: not a traceapp trace code.").format(
            gtin=gtin.zfill(14), what=what
        ),
    )


def _split_url(text: str) -> SplitResult:
    if not _URL_CHARACTERS.fullmatch(text):
        raise CodeError(_("Not a well-formed web address."))
    try:
        parts = urlsplit(text)
    except ValueError as error:  # unbalanced IPv6 brackets
        raise CodeError(_("Not a well-formed web address.")) from error
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise CodeError(_("Not a well-formed web address (http or https, with a host)."))
    return parts


def _url_payload(text: str) -> Payload:
    parts = _split_url(text)
    ours = _OUR_PATH.search(parts.path)
    if ours:
        code = normalize_code(dl_unquote(ours[1]).decode("latin-1"))
        return Payload("trace_code", code, "url", text=text)
    link = _digital_link(parts, text)
    if link is not None:
        return link
    return Payload(
        "not_ours",
        source="url",
        text=text,
        reason=_("A web address that is neither a traceapp code link nor a GS1 Digital Link."),
    )


# --- payloads ---------------------------------------------------------------------------------


def parse_payload(text: str) -> Payload:
    """Read one scanned or typed payload; never raises.

    Noise is stripped (see :func:`strip_noise`), then the payload is read as a URL (ours, or a
    Digital Link) when it has ``://``, else as a trace code typed by hand.
    """
    payload = strip_noise(text)
    if not payload:
        return Payload("empty", reason=_("Empty line: nothing was scanned."), text=payload)
    try:
        if "://" in payload:
            return _url_payload(payload)
        return Payload("trace_code", normalize_code(payload), "typed", text=payload)
    except CodeError as error:
        return Payload("invalid", reason=str(error), text=payload)
