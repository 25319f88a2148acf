"""Trace codes, our code URLs, GS1 identifiers and the parsing of scanned or typed payloads.

Pure functions over strings, standard library only; nothing here imports traceapp.

Trace codes
    13 random symbols from :mod:`secrets` (32**13 = 2**65 codes: a producer's batches cannot be
    enumerated) and one Luhn mod N check symbol: 14 symbols, canonically upper case without
    separators, printed for people as ``XXXX-XXXX-XXXX-XX``.

    Alphabet ``23456789ABCDEFGHJKLMNPQRSTUVWXYZ``: the ten digits and 26 capitals minus 0, O, 1
    and I. Dropping exactly those four leaves 32 = 2**5 symbols, so each symbol carries 5 bits.
    L and U stay (dropping them too, as Crockford's base 32 does, would leave 30): in capitals
    L resembles nothing once 1 and I are gone, and look-alike pairs inside the alphabet (U/V,
    5/S, 2/Z, 8/B) are single substitutions, which the check symbol always catches. Every
    symbol is in the QR alphanumeric set, so an upper-case code URL encodes in that mode.

    Typing rule: NFKC first (full-width letters from a Chinese input method become ASCII), then
    white space, underscores and dashes of any kind are dropped and letters upper-cased (a typed
    ``l`` is the symbol L). 0, O, 1 and I are never guessed: none of them has one obvious
    reading (a printed D or Q may be read as O; J, L, T or 7 as 1 or I), so they make the input
    invalid with reason ``bad_symbol``, and the person can be told those characters never occur.

    The check symbol detects every single-symbol substitution and every transposition of two
    adjacent symbols except a swap of ``2`` and ``Z``: the values 0 and N-1, as 0/9 in decimal
    Luhn.

GS1
    We read the key (01) GTIN, its Digital Link qualifiers (22) CPV, (10) lot and (21) serial,
    and the date attributes (11) production, (13) packaging, (15) best before and (17) expiry.
    An element string holding any other AI is refused (``unsupported_ai``: without its length
    the rest cannot be read); other query attributes of a Digital Link are ignored, like any
    non-AI parameter, as they do not identify the batch. Where we part from GS1's reference
    Syntax Engine: a URI scheme in any case is accepted (RFC 3986 §3.1; phone keyboards
    capitalise the first letter); GTIN-8/12/13 in the ``/01/`` path are zero-padded (the engine's
    ``permitZeroSuppressedGTINinDLuris``); an element string needs no FNC1 in first position,
    because scanners send an AIM symbology identifier or nothing in its place. AI pairing
    rules reduce, for the AIs we read, to "every other AI needs (01)": :func:`parse_scan`
    applies it.
"""

import calendar
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal
from urllib.parse import SplitResult, quote, quote_plus, unquote, unquote_to_bytes, urlsplit

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
BODY_LENGTH = 13
CODE_LENGTH = BODY_LENGTH + 1
CODE_RE = re.compile(f"[{ALPHABET}]{{{CODE_LENGTH}}}")
GROUP_SIZE = 4
GS = "\x1d"  # ASCII group separator: how a scanner transmits an FNC1 separator

REASONS = {
    "empty": "Nothing was scanned or typed.",
    "unknown_format": "This is not a trace code, a GS1 Digital Link or GS1 barcode data.",
    "bad_symbol": "A trace code never contains 0, O, 1, I or punctuation: check the characters.",
    "bad_length": "A trace code has 14 characters.",
    "bad_check": "The check character does not match: a character was mistyped or misread.",
    "bad_uri": "This is not a well-formed web address.",
    "unknown_url": "This web address is neither a traceapp code link nor a GS1 Digital Link.",
    "bad_dl_path": "The Digital Link path is malformed: /01/{GTIN}, then 22, 10, 21 in that order.",
    "qualifier_in_query": "A Digital Link carries AI 22, 10 or 21 in its path, not its query.",
    "bad_element_string": "The GS1 barcode data is malformed.",
    "unsupported_ai": "The GS1 data holds an Application Identifier that traceapp does not read.",
    "bad_ai_value": "A GS1 value has the wrong length or characters.",
    "bad_gtin_check_digit": "The GTIN's check digit is wrong.",
    "bad_date": "A GS1 date (YYMMDD) is not a real date.",
    "duplicate_ai": "A GS1 Application Identifier appears twice.",
    "no_gtin": "The GS1 data has no GTIN (AI 01), so it names no product.",
}


class ScanError(ValueError):
    """A payload that cannot be read: ``reason_code`` (a key of REASONS) and an English message."""

    def __init__(self, reason_code: str) -> None:
        super().__init__(REASONS[reason_code])
        self.reason_code = reason_code


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What a scanned or typed payload identifies.

    ``kind`` is ``trace_code`` (``trace_code`` set), ``digital_link`` (GS1 data with a GTIN, from
    a Digital Link URI or an element string, which carry the same AI data: ``gtin`` as GTIN-14,
    ``lot``, ``serial`` and every AI read, in order, in ``ais``) or ``invalid`` (``reason_code``,
    a key of REASONS for the app to translate, and ``reason`` in English).
    """

    kind: Literal["trace_code", "digital_link", "invalid"]
    trace_code: str | None = None
    gtin: str | None = None
    lot: str | None = None
    serial: str | None = None
    reason_code: str | None = None
    reason: str | None = None
    ais: tuple[tuple[str, str], ...] = ()


# --- trace codes ---------------------------------------------------------------------------

_SYMBOL_VALUE = {symbol: value for value, symbol in enumerate(ALPHABET)}


def _luhn_check_symbol(body: str) -> str:
    """The Luhn mod N check symbol of ``body`` (symbols of ALPHABET), N = 32."""
    n = len(ALPHABET)
    total = 0
    for position, symbol in enumerate(reversed(body)):
        addend = _SYMBOL_VALUE[symbol] * (2 if position % 2 == 0 else 1)
        total += addend // n + addend % n
    return ALPHABET[-total % n]


def mint_trace_code() -> str:
    """A new random trace code in canonical form (14 upper-case symbols, no separators)."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return body + _luhn_check_symbol(body)


def _is_separator(char: str) -> bool:
    return char.isspace() or char == "_" or unicodedata.category(char) == "Pd"


def _canonical_trace_code(text: str) -> str:
    """The canonical code typed as ``text`` (module rule).

    Raises ScanError: ``unknown_format`` (foreign characters and not 14 long), ``bad_symbol``,
    ``bad_length``, ``bad_check``.
    """
    folded = unicodedata.normalize("NFKC", text).upper()
    code = "".join(char for char in folded if not _is_separator(char))
    if not all(char in _SYMBOL_VALUE for char in code):
        raise ScanError("bad_symbol" if len(code) == CODE_LENGTH else "unknown_format")
    if len(code) != CODE_LENGTH:
        raise ScanError("bad_length")
    if _luhn_check_symbol(code[:-1]) != code[-1]:
        raise ScanError("bad_check")
    return code


def normalize_trace_code(text: str) -> str | None:
    """The canonical code for ``text`` typed in any case with spaces, dashes or underscores.

    None unless it has 14 symbols of ALPHABET with a matching check symbol.
    """
    try:
        return _canonical_trace_code(text)
    except ScanError:
        return None


def looks_canonical(text: str) -> bool:
    """Whether ``text`` is written as a code is stored (14 symbols of ALPHABET), so a look-up
    may use it as it is: a wrong check symbol just finds nothing, as no code has it."""
    return CODE_RE.fullmatch(text) is not None


def is_valid_trace_code(text: str) -> bool:
    """Whether ``text`` normalizes to a valid trace code (see normalize_trace_code)."""
    return normalize_trace_code(text) is not None


def _require_trace_code(code: str) -> str:
    canonical = normalize_trace_code(code)
    if canonical is None:
        raise ValueError(f"not a valid trace code: {code!r}")
    return canonical


def format_trace_code(code: str) -> str:
    """``code`` grouped for people, ``XXXX-XXXX-XXXX-XX``. Raises ValueError if it is invalid."""
    canonical = _require_trace_code(code)
    groups = (canonical[i : i + GROUP_SIZE] for i in range(0, CODE_LENGTH, GROUP_SIZE))
    return "-".join(groups)


# --- our code URLs -------------------------------------------------------------------------


def _base(base_url: str) -> str:
    """``base_url`` without a trailing slash. Raises ValueError unless http(s)://host[/path]."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"base URL must be http(s)://host[:port][/path]: {base_url!r}")
    return base_url.rstrip("/")


def code_url(base_url: str, code: str) -> str:
    """The public page of ``code``: ``{base_url}/t/{CODE}``.

    Raises ValueError for an invalid code or a base URL with a query or fragment.
    """
    return f"{_base(base_url)}/t/{_require_trace_code(code)}"


def qr_url(base_url: str, code: str) -> str:
    """code_url in its cheapest QR form.

    With a bare scheme and host (and port) the whole URL is upper-cased, so a QR encoder can use
    alphanumeric mode (5.5 bits a character instead of 8): scheme and host are case-insensitive
    and the app routes ``/T/`` like ``/t/``. A base path keeps its case (paths are
    case-sensitive), so the URL is code_url's. Raises ValueError as code_url does.
    """
    url = code_url(base_url, code)
    return url if urlsplit(_base(base_url)).path else url.upper()


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
        raise ScanError("bad_ai_value")


def _check_gtin14(value: str) -> None:
    if not re.fullmatch("[0-9]{14}", value):
        raise ScanError("bad_ai_value")
    if not is_valid_gtin(value):
        raise ScanError("bad_gtin_check_digit")


def _check_date(value: str) -> None:
    """YYMMDD, day 00 meaning the month's end (GS1 yymmd0).

    Whichever century GS1's sliding window gives YY, 1901-2099 has the leap years of 2000+YY.
    """
    if not re.fullmatch("[0-9]{6}", value):
        raise ScanError("bad_ai_value")
    year, month, day = 2000 + int(value[:2]), int(value[2:4]), int(value[4:])
    if not 1 <= month <= 12 or day > calendar.monthrange(year, month)[1]:
        raise ScanError("bad_date")


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
    """Raises ScanError: unsupported_ai, bad_ai_value, bad_gtin_check_digit, bad_date."""
    if ai not in _AI_FORMATS:
        raise ScanError("unsupported_ai")
    _AI_FORMATS[ai][1](value)


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
    serial that is not 1 to 20 characters of GS1 CSET 82, or a base URL as code_url does.
    """
    if not is_valid_gtin(gtin):
        raise ValueError(f"not a valid GTIN: {gtin!r}")
    url = f"{_base(base_url)}/01/{gtin.zfill(14)}"
    for ai, value in (("10", lot), ("21", serial)):
        if value is not None:
            _check_ai(ai, value)
            url += f"/{ai}/{dl_quote(value)}"
    return url


_URI_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")  # RFC 3986
_NETLOC = re.compile(r"(?:[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]*)?")


def _split_url(text: str) -> SplitResult:
    """Raises ScanError ``bad_uri`` unless ``text`` is an http(s) URL with a plain host."""
    if not _URI_CHARACTERS.fullmatch(text):
        raise ScanError("bad_uri")
    try:
        parts = urlsplit(text)
    except ValueError as error:  # unbalanced IPv6 brackets
        raise ScanError("bad_uri") from error
    if parts.scheme not in ("http", "https") or not _NETLOC.fullmatch(parts.netloc):
        raise ScanError("bad_uri")
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

    Raises ScanError: duplicate_ai, qualifier_in_query, and the value errors of _check_ai.
    """
    attributes = []
    for parameter in query.split("&"):
        ai, has_value, raw = parameter.partition("=")
        if not has_value:  # a singleton parameter is not an AI
            continue
        if ai in seen:
            raise ScanError("duplicate_ai")
        if ai in _DL_QUALIFIERS:
            raise ScanError("qualifier_in_query")
        if ai in _DL_ATTRIBUTES:
            attributes.append((ai, _dl_value(ai, dl_unquote(raw, query=True))))
            seen.add(ai)
    return attributes


def parse_digital_link(uri: str) -> tuple[tuple[str, str], ...]:
    """The (AI, value) pairs of a GS1 Digital Link URI with a GTIN key: path, then query order.

    Any path stem may precede ``/01/{gtin}``; qualifiers follow as 22, 10, 21, each optional;
    the fragment is ignored. Raises ScanError: bad_uri, unknown_url (no /01/ key),
    bad_dl_path, duplicate_ai, qualifier_in_query, bad_ai_value, bad_gtin_check_digit, bad_date.
    """
    parts = _split_url(uri)
    pairs = _dl_path_pairs(parts.path)
    if pairs is None:
        ends_in_slash = parts.path.endswith("/") and _dl_path_pairs(parts.path[:-1]) is not None
        raise ScanError("bad_dl_path" if ends_in_slash else "unknown_url")
    qualifiers = [ai for ai, _ in pairs[1:]]
    if qualifiers != sorted(set(qualifiers), key=_DL_QUALIFIERS.index):
        raise ScanError("bad_dl_path")
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
            raise ScanError("bad_element_string")
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
            raise ScanError("unsupported_ai")
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
    Raises ScanError: bad_element_string, unsupported_ai, bad_ai_value, bad_gtin_check_digit,
    bad_date.
    """
    pairs = _bracketed_pairs(text) if text.startswith("(") else _raw_pairs(text)
    if not pairs:
        raise ScanError("bad_element_string")
    for ai, value in pairs:
        _check_ai(ai, value)
    return tuple(pairs)


# --- scanned payloads ----------------------------------------------------------------------

_NOISE = r"[\s\x00-\x1f\x7f\u200b-\u200d\ufeff]"
# Leading noise, then an AIM symbology identifier such as ]C1, ]d2, ]Q3 that scanners may prefix.
_LEADING = re.compile(rf"\A{_NOISE}*(?:\][A-Za-z][0-9])?{_NOISE}*")
_TRAILING = re.compile(rf"{_NOISE}+\Z")
_OUR_PATH = re.compile(r"/[tT]/([^/]+)/?\Z")


def _gs1_result(ais: tuple[tuple[str, str], ...]) -> ScanResult:
    """Raises ScanError: duplicate_ai (one AI, two values), no_gtin."""
    values: dict[str, str] = {}
    for ai, value in ais:
        if values.setdefault(ai, value) != value:
            raise ScanError("duplicate_ai")
    if "01" not in values:
        raise ScanError("no_gtin")
    return ScanResult(
        "digital_link", gtin=values["01"], lot=values.get("10"), serial=values.get("21"), ais=ais
    )


def _url_result(url: str, hosts: set[str]) -> ScanResult:
    parts = _split_url(url)
    ours = _OUR_PATH.search(parts.path)
    if ours and (not hosts or parts.netloc.lower() in hosts or parts.hostname in hosts):
        return ScanResult("trace_code", trace_code=_canonical_trace_code(unquote(ours[1])))
    return _gs1_result(parse_digital_link(url))


def _payload_result(payload: str, hosts: set[str]) -> ScanResult:
    if not payload:
        raise ScanError("empty")
    if "://" in payload:
        return _url_result(payload, hosts)
    if payload[0] in "(01" or GS in payload:  # no trace code contains 0, 1 or brackets
        return _gs1_result(parse_element_string(payload))
    return ScanResult("trace_code", trace_code=_canonical_trace_code(payload))


def parse_scan(text: str, *, known_hosts: Iterable[str] = ()) -> ScanResult:
    """Read a scanned or typed payload; never raises.

    Accepts a code URL ``http(s)://host[/path]/t/CODE`` in any case, with query, fragment or a
    trailing slash, on one of ``known_hosts`` (``host`` or ``host:port``; empty means any
    host); a bare trace code as people type it; a GS1 Digital Link URI; a GS1 element string.
    White space and control characters around the payload, and an AIM symbology identifier
    before it, are dropped. Anything else is kind ``invalid`` with its reason.
    """
    payload = _TRAILING.sub("", _LEADING.sub("", text, count=1))
    try:
        return _payload_result(payload, {host.lower() for host in known_hosts})
    except ScanError as error:
        return ScanResult("invalid", reason_code=error.reason_code, reason=str(error))


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
