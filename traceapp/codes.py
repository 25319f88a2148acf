"""Trace codes, our code URLs and the parsing of scanned or typed payloads.

GS1 identifiers (GTIN, element strings, Digital Link, voice pick codes) are in
:mod:`traceapp.gs1`; a scan may carry either.

Pure functions over strings, standard library only; of traceapp, imports only :mod:`traceapp.gs1`.

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
"""

import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit

from traceapp import gs1
from traceapp.gs1 import GS, GS1Error, parse_digital_link, parse_element_string, split_url

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
BODY_LENGTH = 13
CODE_LENGTH = BODY_LENGTH + 1
CODE_RE = re.compile(f"[{ALPHABET}]{{{CODE_LENGTH}}}")
GROUP_SIZE = 4

REASONS = {
    "empty": "Nothing was scanned or typed.",
    "unknown_format": "This is not a trace code, a GS1 Digital Link or GS1 barcode data.",
    "bad_symbol": "A trace code never contains 0, O, 1, I or punctuation: check the characters.",
    "bad_length": "A trace code has 14 characters.",
    "bad_check": "The check character does not match: a character was mistyped or misread.",
    **gs1.REASONS,
    "unknown_url": "This web address is neither a traceapp code link nor a GS1 Digital Link.",
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
    ``lot``, ``serial`` and every AI read, in order, in ``ais``), ``sscc`` (GS1 data whose key
    is an SSCC, AI 00: a pallet's label; ``sscc`` set) or ``invalid`` (``reason_code``, a key of
    REASONS for the app to translate, and ``reason`` in English).
    """

    kind: Literal["trace_code", "digital_link", "sscc", "invalid"]
    trace_code: str | None = None
    gtin: str | None = None
    lot: str | None = None
    serial: str | None = None
    reason_code: str | None = None
    reason: str | None = None
    ais: tuple[tuple[str, str], ...] = ()
    sscc: str | None = None


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


def typing_mistake(text: str) -> str | None:
    """Why ``text`` cannot be a trace code as typed (``bad_check``, ``bad_symbol``,
    ``bad_length``, ``unknown_format``, ``empty``), or None when it could be one."""
    if not text.strip():
        return "empty"
    try:
        _canonical_trace_code(text)
    except ScanError as exc:
        return exc.reason_code
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


# --- scanned payloads ----------------------------------------------------------------------

_NOISE = r"[\s\x00-\x1f\x7f\u200b-\u200d\ufeff]"
# Leading noise, then an AIM symbology identifier such as ]C1, ]d2, ]Q3 that scanners may prefix.
_LEADING = re.compile(rf"\A{_NOISE}*(?:\][A-Za-z][0-9])?{_NOISE}*")
_TRAILING = re.compile(rf"{_NOISE}+\Z")
_OUR_PATH = re.compile(r"/[tT]/([^/]+)/?\Z")


def _gs1_result(ais: tuple[tuple[str, str], ...]) -> ScanResult:
    """Raises ScanError: duplicate_ai (one AI, two values), no_gtin; GS1Error: missing_ai,
    conflicting_ais."""
    values: dict[str, str] = {}
    for ai, value in ais:
        if values.setdefault(ai, value) != value:
            raise ScanError("duplicate_ai")
    if "01" not in values and "00" in values:
        gs1.validate_associations(ais)
        return ScanResult("sscc", sscc=values["00"], ais=ais)
    if "01" not in values:
        raise ScanError("no_gtin")
    gs1.validate_associations(ais)  # GS1's req=/ex= rules over the whole message
    return ScanResult(
        "digital_link", gtin=values["01"], lot=values.get("10"), serial=values.get("21"), ais=ais
    )


def _url_result(url: str, hosts: set[str]) -> ScanResult:
    parts = split_url(url)
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


def scanned_trace_code(text: str) -> tuple[str, str | None] | None:
    """The trace code a typed or scanned payload names, with the GTIN it was given with, or None.

    A trace code as people type it, a code URL ``/t/CODE`` on any host, or a GS1 Digital Link /
    element string whose lot (AI 10) is a trace code (the QR of a batch with a GTIN): then the
    second item is its GTIN-14, for the caller to check against the batch's.
    """
    code = normalize_trace_code(text)
    if code is not None:
        return code, None
    scan = parse_scan(text)
    if scan.kind == "trace_code" and scan.trace_code:
        return scan.trace_code, None
    if scan.kind == "digital_link" and scan.lot:
        code = normalize_trace_code(scan.lot)
        if code is not None:
            return code, scan.gtin
    return None


_GS1_LOOK = re.compile(r"\(|\][A-Za-z][0-9]|00\d{18}|0[12]\d{14}")


def scan_mistake(text: str) -> str | None:
    """Why a typed or scanned payload cannot name anything (a key of REASONS: ``bad_check``,
    ``bad_gtin_check_digit``, ``bad_ai_value`` ...), or None when it is well formed. Typed text
    that does not look like GS1 data (no bracket, GS, symbology identifier or full GTIN/SSCC)
    gets the trace-code reason: ``0000-OOOO`` is a mistyped code, not a bad element string."""
    scan = parse_scan(text)
    if scan.kind != "invalid":
        return None
    stripped = text.strip()
    if "://" not in stripped and GS not in stripped and not _GS1_LOOK.match(stripped):
        return typing_mistake(text) or scan.reason_code
    return scan.reason_code


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
    except (ScanError, GS1Error) as error:
        reason = REASONS[error.reason_code]
        return ScanResult("invalid", reason_code=error.reason_code, reason=reason)
