"""Read what a scanner sends: our code URLs, bare trace codes as people type them, GS1 Digital Links.

This is the client's own copy of the trace-code rules (it never imports traceapp):

- a trace code is 14 symbols of ``23456789ABCDEFGHJKLMNPQRSTUVWXYZ`` (no 0, O, 1, I): 13 random
  ones and a Luhn mod 32 check symbol, printed for people as ``XXXX-XXXX-XXXX-XX``;
- typed input is NFKC-folded (full-width letters from a Chinese input method become ASCII),
  white space, underscores and dashes are dropped and letters upper-cased;
- a QR holds ``https://host[/path]/t/CODE``, or the same URL upper-cased (``HTTPS://HOST/T/CODE``)
  so that it fits the QR alphanumeric mode;
- a GS1 Digital Link ``https://any.host[/stem]/01/{GTIN}[/22/..][/10/{lot}][/21/..]`` names our
  batch when its lot (AI 10) is a valid trace code; with another lot (the producer's own lot
  number) it is a GTIN + lot that the server resolves (kind ``gs1``); without a lot it is not ours;
- a GS1 element string, as a handheld scanner sends a case label's GS1-128 (FNC1 as GS, perhaps
  after ``]C1``), or typed in brackets ``(01)06912345678901(10)ABC``: read by the small parser
  below (the AIs a produce label carries), its GTIN + lot handled as a Digital Link's; an SSCC
  (00) names a pallet, not a batch: the operator is told to scan its cases.

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

Kind = Literal["trace_code", "gs1", "not_ours", "invalid", "empty"]
GS = "\x1d"


class CodeError(ValueError):
    """Text that is not a trace code; the message says why, for the operator."""


@dataclass(frozen=True, slots=True)
class Payload:
    """What a scanned line holds.

    ``kind`` is ``trace_code`` (``code`` is canonical; ``source`` is ``url``, ``digital_link``,
    ``element_string`` or ``typed``), ``gs1`` (a GTIN + lot for the server to resolve: ``code``
    is the element string ``01{GTIN-14}10{lot}``, which the server reads wherever a trace code
    goes; ``source`` as above), ``not_ours`` (readable, but not a traceapp code: another web address, a
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
    """A canonical code grouped for people: ``XXXX-XXXX-XXXX-XX``; a GTIN + lot (``gs1``) in
    GS1's bracketed form, ``(01)…(10)…`` (no trace code starts with 0 or 1)."""
    if code[:2] == "01" and code[16:18] == "10":
        return f"(01){code[2:16]}(10){code[18:]}"
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
    return _batch_key(gtin, values.get("10"), "digital_link", text)


def _batch_key(gtin: str, lot: str | None, source: str, text: str) -> Payload:
    """A GTIN + lot: our trace code when the lot is one, else the key for the server to resolve
    (the producer's lot number); without a lot, not ours (it names a product, not a batch)."""
    if lot is not None and is_trace_code(lot):
        return Payload("trace_code", normalize_code(lot), source, text=text)
    if lot is not None:
        return Payload("gs1", f"01{gtin.zfill(14)}10{lot}", source, text=text)
    return Payload(
        "not_ours",
        source=source,
        text=text,
        reason=_("GS1 data for GTIN {gtin} with no lot: it names a product, not a batch.").format(
            gtin=gtin.zfill(14)
        ),
    )


# --- GS1 element strings ----------------------------------------------------------------------

#: The AIs a produce, case or pallet label carries (GS1 General Specifications 3.2): AI → (value
#: pattern, check-digit checked). Others are refused with a clear reason, not guessed at.
_ELEMENTS: dict[str, tuple[re.Pattern[str], bool]] = {
    "00": (re.compile(r"\d{18}"), True),
    "01": (re.compile(r"\d{14}"), True),
    "02": (re.compile(r"\d{14}"), True),
    "10": (_CSET82, False),
    "11": (re.compile(r"\d{6}"), False),
    "13": (re.compile(r"\d{6}"), False),
    "15": (re.compile(r"\d{6}"), False),
    "16": (re.compile(r"\d{6}"), False),
    "17": (re.compile(r"\d{6}"), False),
    "21": (_CSET82, False),
    "22": (_CSET82, False),
    "37": (re.compile(r"\d{1,8}"), False),
    "7007": (re.compile(r"\d{6}(\d{6})?"), False),
    **{f"310{n}": (re.compile(r"\d{6}"), False) for n in range(6)},
    **{f"320{n}": (re.compile(r"\d{6}"), False) for n in range(6)},
}
#: The value lengths of AIs whose first two digits GS1 predefines (no FNC1 follows them).
_PREDEFINED = {"00": 18, "01": 14, "02": 14, "11": 6, "13": 6, "15": 6, "16": 6, "17": 6, "31": 6, "32": 6}
#: How GS1 data starts: a bracket, or an SSCC or GTIN in full (typed ``0000-OOOO`` is no SSCC).
_GS1_START = re.compile(r"\(|00\d{18}|0[12]\d{14}")
_BRACKETED = re.compile(r"\((\d{2,4})\)([^()]*)")


def _unread_ai() -> str:
    return _("GS1 barcode data with an Application Identifier this scanner does not read: scan the QR.")


def _mod10_is_valid(digits: str) -> bool:
    """GS1's mod-10 check digit (GTIN, SSCC): weights 3, 1, ... from the right, check excluded."""
    body = digits[:-1]
    total = sum(int(digit) * (3 if i % 2 == 0 else 1) for i, digit in enumerate(reversed(body)))
    return -total % 10 == int(digits[-1])


def _raw_pairs(data: str) -> list[tuple[str, str]]:
    """The (AI, value) pairs of element-string data as a scanner sends it (FNC1 as GS)."""
    pairs, at = [], 0
    data = data.lstrip(GS)
    while at < len(data):
        ai = next((ai for ai in sorted(_ELEMENTS, key=len, reverse=True) if data.startswith(ai, at)), None)
        if ai is None:
            raise CodeError(_unread_ai())
        at += len(ai)
        fixed = _PREDEFINED.get(ai[:2])
        end = at + fixed if fixed else (data.find(GS, at) if GS in data[at:] else len(data))
        pairs.append((ai, data[at:end]))
        at = end + (1 if end < len(data) and data[end] == GS else 0)
    return pairs


def _element_pairs(data: str) -> list[tuple[str, str]]:
    """The (AI, value) pairs of an element string, bracketed or raw, each value checked."""
    if data.startswith("("):
        pairs = _BRACKETED.findall(data)
        if "".join(f"({ai}){value}" for ai, value in pairs) != data:
            raise CodeError(_("Malformed GS1 barcode data: check the brackets and the numbers."))
    else:
        pairs = _raw_pairs(data)
    if not pairs:
        raise CodeError(_("Malformed GS1 barcode data: check the brackets and the numbers."))
    for ai, value in pairs:
        if ai not in _ELEMENTS:
            raise CodeError(_unread_ai())
        pattern, checked = _ELEMENTS[ai]
        if not pattern.fullmatch(value):
            raise CodeError(
                _("Malformed GS1 barcode data: ({ai}) {value} has the wrong length or characters.").format(
                    ai=ai, value=value
                )
            )
        if checked and not _mod10_is_valid(value):
            raise CodeError(
                _("GS1 barcode data with a wrong check digit in ({ai}) {value}: a digit was misread.").format(
                    ai=ai, value=value
                )
            )
    if len({ai for ai, _value in pairs}) != len(pairs):
        raise CodeError(_("Malformed GS1 barcode data: an Application Identifier appears twice."))
    return pairs


def _element_string(text: str) -> Payload:
    values = dict(_element_pairs(text))
    if "01" in values:
        return _batch_key(values["01"], values.get("10"), "element_string", text)
    if "00" in values:
        return Payload(
            "not_ours",
            source="element_string",
            text=text,
            reason=_("A pallet's SSCC {sscc}: scan the label of each case on it.").format(sscc=values["00"]),
        )
    return Payload(
        "not_ours",
        source="element_string",
        text=text,
        reason=_("GS1 barcode data without a GTIN (01): it names no batch."),
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
    Digital Link) when it has ``://``, as a GS1 element string when it starts with ``(``, an
    SSCC (00) or a GTIN (01, 02) in full or holds a GS, else as a trace code typed by hand.
    """
    payload = strip_noise(text)
    if not payload:
        return Payload("empty", reason=_("Empty line: nothing was scanned."), text=payload)
    try:
        if "://" in payload:
            return _url_payload(payload)
        if _GS1_START.match(payload) or GS in payload:  # no trace code has 0, 1 or brackets
            return _element_string(payload)
        return Payload("trace_code", normalize_code(payload), "typed", text=payload)
    except CodeError as error:
        return Payload("invalid", reason=str(error), text=payload)
