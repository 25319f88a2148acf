"""GS1 identifiers: GTIN, Application Identifier values, element strings, Digital Link, PTI voice
pick codes.

Pure functions over strings, standard library only; nothing here imports traceapp.

We read the key (01) GTIN, its Digital Link qualifiers (22) CPV, (10) lot and (21) serial,
and the date attributes (11) production, (13) packaging, (15) best before and (17) expiry.
An element string holding any other AI is refused (``unsupported_ai``: without its length
the rest cannot be read); other query attributes of a Digital Link are ignored, like any
non-AI parameter, as they do not identify the batch. Where we part from GS1's reference
Syntax Engine: a URI scheme in any case is accepted (RFC 3986 §3.1; phone keyboards
capitalise the first letter); GTIN-8/12/13 in the ``/01/`` path are zero-padded (the engine's
``permitZeroSuppressedGTINinDLuris``); an element string needs no FNC1 in first position,
because scanners send an AIM symbology identifier or nothing in its place. AI pairing
rules reduce, for the AIs we read, to "every other AI needs (01)":
:func:`traceapp.codes.parse_scan` applies it.
"""

import calendar
import re
from collections.abc import Callable
from datetime import date
from urllib.parse import SplitResult, quote, quote_plus, unquote_to_bytes, urlsplit

GS = "\x1d"  # ASCII group separator: how a scanner transmits an FNC1 separator

REASONS = {
    "bad_uri": "This is not a well-formed web address.",
    "unknown_url": "This web address is not a GS1 Digital Link: it has no /01/{GTIN} key.",
    "bad_dl_path": "The Digital Link path is malformed: /01/{GTIN}, then 22, 10, 21 in that order.",
    "qualifier_in_query": "A Digital Link carries AI 22, 10 or 21 in its path, not its query.",
    "bad_element_string": "The GS1 barcode data is malformed.",
    "unsupported_ai": "The GS1 data holds an Application Identifier that traceapp does not read.",
    "bad_ai_value": "A GS1 value has the wrong length or characters.",
    "bad_gtin_check_digit": "The GTIN's check digit is wrong.",
    "bad_date": "A GS1 date (YYMMDD) is not a real date.",
    "duplicate_ai": "A GS1 Application Identifier appears twice.",
}


class GS1Error(ValueError):
    """GS1 data that cannot be read: ``reason_code`` (a key of REASONS) and an English message."""

    def __init__(self, reason_code: str) -> None:
        super().__init__(REASONS[reason_code])
        self.reason_code = reason_code


# --- GS1 keys and AI values ----------------------------------------------------------------


def gtin_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit of ``body``, the digits of a GTIN, SSCC or GLN before it.

    Raises ValueError if ``body`` is empty or not all ASCII digits.
    """
    if not (body.isascii() and body.isdigit()):
        raise ValueError(f"not a string of digits: {body!r}")
    total = sum(int(digit) * (3 if i % 2 == 0 else 1) for i, digit in enumerate(reversed(body)))
    return -total % 10


def is_valid_gtin(gtin: str) -> bool:
    """Whether ``gtin`` is a GTIN-8, -12, -13 or -14 with a correct check digit."""
    return (
        len(gtin) in (8, 12, 13, 14)
        and gtin.isascii()
        and gtin.isdigit()
        and gtin_check_digit(gtin[:-1]) == int(gtin[-1])
    )


_X20 = re.compile(r"""[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}""")  # GS1 CSET 82, 1 to 20


def _check_x20(value: str) -> None:
    if not _X20.fullmatch(value):
        raise GS1Error("bad_ai_value")


def _check_gtin14(value: str) -> None:
    if not re.fullmatch("[0-9]{14}", value):
        raise GS1Error("bad_ai_value")
    if not is_valid_gtin(value):
        raise GS1Error("bad_gtin_check_digit")


def _check_date(value: str) -> None:
    """YYMMDD, day 00 meaning the month's end (GS1 yymmd0).

    Whichever century GS1's sliding window gives YY, 1901-2099 has the leap years of 2000+YY.
    """
    if not re.fullmatch("[0-9]{6}", value):
        raise GS1Error("bad_ai_value")
    year, month, day = 2000 + int(value[:2]), int(value[2:4]), int(value[4:])
    if not 1 <= month <= 12 or day > calendar.monthrange(year, month)[1]:
        raise GS1Error("bad_date")


# AI → (fixed length, or None when a GS or the end closes the value; value check).
# Every AI we read has two digits.
_AI_FORMATS: dict[str, tuple[int | None, Callable[[str], None]]] = {
    "01": (14, _check_gtin14),
    "10": (None, _check_x20),
    "11": (6, _check_date),
    "13": (6, _check_date),
    "15": (6, _check_date),
    "17": (6, _check_date),
    "21": (None, _check_x20),
    "22": (None, _check_x20),
}
_DL_QUALIFIERS = ("22", "10", "21")
_DL_ATTRIBUTES = frozenset({"11", "13", "15", "17"})


def _check_ai(ai: str, value: str) -> None:
    """Raises GS1Error: unsupported_ai, bad_ai_value, bad_gtin_check_digit, bad_date."""
    if ai not in _AI_FORMATS:
        raise GS1Error("unsupported_ai")
    _AI_FORMATS[ai][1](value)


def _resolver_base(base_url: str) -> str:
    """``base_url`` without a trailing slash. Raises ValueError unless http(s)://host[/path]."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"resolver base URL must be http(s)://host[:port][/path]: {base_url!r}")
    return base_url.rstrip("/")


# --- GS1 Digital Link ----------------------------------------------------------------------


def dl_quote(value: str, *, query: bool = False) -> str:
    """Percent-encode a Digital Link path segment or query value.

    Only ``A-Z a-z 0-9 - . _ ~`` stay as they are; a space is ``%20`` in the path, ``+`` in a query.
    """
    return quote_plus(value, safe="") if query else quote(value, safe="")


def dl_unquote(value: str, *, query: bool = False) -> bytes:
    """Decode a Digital Link path segment or query value (``+`` is a space only in a query).

    Bytes, because ``%FF`` is legal in a URI and not text; a ``%`` without two hex digits stays.
    """
    return unquote_to_bytes(value.replace("+", " ") if query else value)


def digital_link(base_url: str, gtin: str, lot: str | None = None, serial: str | None = None) -> str:
    """The GS1 Digital Link URI ``{base_url}/01/{GTIN-14}[/10/{lot}][/21/{serial}]``.

    A GTIN-8/12/13 is zero-padded to 14 digits. Raises ValueError for an invalid GTIN, a lot or
    serial that is not 1 to 20 characters of GS1 CSET 82, or a base URL that is not http(s)://host[/path].
    """
    if not is_valid_gtin(gtin):
        raise ValueError(f"not a valid GTIN: {gtin!r}")
    url = f"{_resolver_base(base_url)}/01/{gtin.zfill(14)}"
    for ai, value in (("10", lot), ("21", serial)):
        if value is not None:
            _check_ai(ai, value)
            url += f"/{ai}/{dl_quote(value)}"
    return url


_URI_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")  # RFC 3986
_NETLOC = re.compile(r"(?:[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]*)?")


def split_url(text: str) -> SplitResult:
    """The parts of an http(s) URL as a scanner may send it (RFC 3986 characters only).

    Raises GS1Error ``bad_uri`` unless ``text`` is an http(s) URL with a plain host."""
    if not _URI_CHARACTERS.fullmatch(text):
        raise GS1Error("bad_uri")
    try:
        parts = urlsplit(text)
    except ValueError as error:  # unbalanced IPv6 brackets
        raise GS1Error("bad_uri") from error
    if parts.scheme not in ("http", "https") or not _NETLOC.fullmatch(parts.netloc):
        raise GS1Error("bad_uri")
    return parts


def _dl_path_pairs(path: str) -> list[tuple[str, str]] | None:
    """The (AI, raw value) pairs ending ``path``, from its last /01/ on; None if there are none."""
    segments = path.split("/")
    pairs: list[tuple[str, str]] = []
    while len(segments) >= 3:  # segments[0] is the "" before the path's first slash
        value, ai = segments.pop(), segments.pop()
        pairs.insert(0, (ai, value))
        if ai == "01":
            return pairs
        if ai not in _DL_QUALIFIERS:
            return None
    return None


def _dl_value(ai: str, raw: bytes) -> str:
    # Latin-1 maps bytes one to one; any non-ASCII byte then fails the value check.
    value = raw.decode("latin-1")
    if ai == "01" and len(value) in (8, 12, 13):
        value = value.zfill(14)
    _check_ai(ai, value)
    return value


def _dl_attributes(query: str, seen: set[str]) -> list[tuple[str, str]]:
    """The date attributes of a DL query; other parameters are skipped.

    Raises GS1Error: duplicate_ai, qualifier_in_query, and the value errors of _check_ai.
    """
    attributes = []
    for parameter in query.split("&"):
        ai, has_value, raw = parameter.partition("=")
        if not has_value:  # a singleton parameter is not an AI
            continue
        if ai in seen:
            raise GS1Error("duplicate_ai")
        if ai in _DL_QUALIFIERS:
            raise GS1Error("qualifier_in_query")
        if ai in _DL_ATTRIBUTES:
            attributes.append((ai, _dl_value(ai, dl_unquote(raw, query=True))))
            seen.add(ai)
    return attributes


def parse_digital_link(uri: str) -> tuple[tuple[str, str], ...]:
    """The (AI, value) pairs of a GS1 Digital Link URI with a GTIN key: path, then query order.

    Any path stem may precede ``/01/{gtin}``; qualifiers follow as 22, 10, 21, each optional;
    the fragment is ignored. Raises GS1Error: bad_uri, unknown_url (no /01/ key),
    bad_dl_path, duplicate_ai, qualifier_in_query, bad_ai_value, bad_gtin_check_digit, bad_date.
    """
    parts = split_url(uri)
    pairs = _dl_path_pairs(parts.path)
    if pairs is None:
        ends_in_slash = parts.path.endswith("/") and _dl_path_pairs(parts.path[:-1]) is not None
        raise GS1Error("bad_dl_path" if ends_in_slash else "unknown_url")
    qualifiers = [ai for ai, _ in pairs[1:]]
    if qualifiers != sorted(set(qualifiers), key=_DL_QUALIFIERS.index):
        raise GS1Error("bad_dl_path")
    ais = [(ai, _dl_value(ai, dl_unquote(raw))) for ai, raw in pairs]
    return tuple(ais + _dl_attributes(parts.query, {ai for ai, _ in ais}))


# --- GS1 element strings -------------------------------------------------------------------

_BRACKETED_PAIR = re.compile(r"\(([0-9]{2,4})\)((?:\\\(|[^(])*)")


def _bracketed_pairs(text: str) -> list[tuple[str, str]]:
    pairs = []
    position = 0
    while position < len(text):
        match = _BRACKETED_PAIR.match(text, position)
        if match is None:
            raise GS1Error("bad_element_string")
        pairs.append((match[1], match[2].replace("\\(", "(")))
        position = match.end()
    return pairs


def _value_end(text: str, start: int, length: int | None) -> int:
    """End of the value at ``start``: after ``length`` characters, else at GS or the end."""
    if length is not None:
        return start + length
    separator = text.find(GS, start)
    return len(text) if separator < 0 else separator


def _raw_pairs(text: str) -> list[tuple[str, str]]:
    pairs = []
    position = 0
    while position < len(text):
        if text[position] == GS:  # superfluous separators are tolerated
            position += 1
            continue
        ai = text[position : position + 2]
        if ai not in _AI_FORMATS:
            raise GS1Error("unsupported_ai")
        start = position + 2
        position = _value_end(text, start, _AI_FORMATS[ai][0])
        pairs.append((ai, text[start:position]))
    return pairs


def parse_element_string(text: str) -> tuple[tuple[str, str], ...]:
    """The (AI, value) pairs of a GS1 element string, in order.

    Takes the bracketed form ``(01)09506000134352(10)ABC123`` (``\\(`` is a literal bracket in a
    value) or the form a scanner sends, ``0109506000134352`` ``10ABC123`` GS ``21XYZ``: a
    fixed-length AI runs into the next, a variable-length one ends at GS (0x1D) or the end.
    Checks syntax and each value (length, CSET 82, check digit, date), not AI pairing rules.
    Raises GS1Error: bad_element_string, unsupported_ai, bad_ai_value, bad_gtin_check_digit,
    bad_date.
    """
    pairs = _bracketed_pairs(text) if text.startswith("(") else _raw_pairs(text)
    if not pairs:
        raise GS1Error("bad_element_string")
    for ai, value in pairs:
        _check_ai(ai, value)
    return tuple(pairs)


# --- PTI voice pick code -------------------------------------------------------------------


def _crc16_arc(data: bytes) -> int:
    """CRC-16/ARC: polynomial 0x8005 reflected (0xA001), initial value 0, no final XOR."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def voice_pick_code(gtin14: str, lot: str, pack_date: date | None = None) -> str:
    """The PTI voice pick code: CRC-16/ARC of GTIN-14 + lot [+ YYMMDD], mod 10000, 4 digits.

    Labels print it as two small digits then two large ones. Only the GTIN's shape is checked,
    not its check digit: PTI's own published example (65457886676767) fails it. Raises
    ValueError unless ``gtin14`` is 14 digits and ``lot`` 1 to 20 characters of GS1 CSET 82.
    """
    if not re.fullmatch("[0-9]{14}", gtin14):
        raise ValueError(f"not 14 digits: {gtin14!r}")
    _check_x20(lot)
    text = gtin14 + lot + (pack_date.strftime("%y%m%d") if pack_date else "")
    return f"{_crc16_arc(text.encode('ascii')) % 10000:04d}"
