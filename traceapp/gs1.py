"""GS1 identifiers: Application Identifier data (element strings), GS1 Digital Link URIs, GTIN
check digits, PTI voice pick codes.

The AI syntax is not written here: it is read from GS1's Barcode Syntax Dictionary, shipped as
``traceapp/data/gs1-syntax-dictionary.txt`` (Apache-2.0, see GS1_SYNTAX_DICTIONARY_LICENSE.txt
beside it). Each entry gives an AI's components (N numeric, X CSET 82, Y CSET 39, Z base64url;
fixed or variable length, optional), the "linters" that check each component's content (check
digits, dates, ISO codes...), whether it needs an FNC1 separator, whether it may be a Digital
Link data attribute, its mandatory associations (``req=``), invalid pairings (``ex=``) and its
Digital Link key-qualifier sequences (``dlpkey=``). The linters are the GS1 reference linters'
rules, re-implemented here by name; ISO 3166/4217 lists come from pycountry.

Behaviour follows GS1's reference Syntax Engine with its defaults (:data:`STRICT`), checked by
tests/unit/test_gs1_conformance.py over every vector extracted from its tests. What traceapp
reads from scanners uses :data:`SCANNING`, which differs in three options: a URI scheme in any
case (RFC 3986 §3.1; phone keyboards capitalise the first letter), GTIN-8/12/13 in a Digital
Link zero-padded (the engine's ``permitZeroSuppressedGTINinDLuris``), and no FNC1 in first
position required in an element string (scanners send an AIM symbology identifier or nothing).

Pure functions over strings; of traceapp, nothing is imported.
"""

import calendar
import dataclasses
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib.resources import files
from typing import NamedTuple
from urllib.parse import SplitResult, urlsplit

GS = "\x1d"  # ASCII group separator: how a scanner transmits an FNC1 separator
CANONICAL_STEM = "https://id.gs1.org"

REASONS = {
    "bad_uri": "This is not a well-formed web address.",
    "unknown_url": (
        "This web address is not a GS1 Digital Link: it has no GS1 primary key such as /01/{GTIN}."
    ),
    "bad_dl_path": (
        "The Digital Link path is malformed: a primary key, then its qualifiers in order "
        "(for /01/: 22, 10, 21)."
    ),
    "qualifier_in_query": (
        "A Digital Link carries a key qualifier (such as AI 22, 10 or 21) in its path, not its query."
    ),
    "not_dl_attribute": "This GS1 Application Identifier may not be a Digital Link data attribute.",
    "bad_element_string": "The GS1 barcode data is malformed.",
    "unsupported_ai": "The GS1 data holds an Application Identifier that GS1 does not define.",
    "bad_ai_value": "A GS1 value has the wrong length or characters.",
    "bad_gtin_check_digit": "The GTIN's check digit is wrong.",
    "bad_check_digit": "A GS1 key's check digit or check characters are wrong.",
    "bad_date": "A GS1 date or time is not a real one.",
    "bad_ai_content": (
        "A GS1 value breaks a rule of its Application Identifier (a code list, range or format)."
    ),
    "duplicate_ai": "A GS1 Application Identifier appears twice.",
    "missing_ai": "A GS1 Application Identifier is present without the one it must go with.",
    "conflicting_ais": "Two GS1 Application Identifiers that may not go together are present.",
}

_CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
_CSET39 = "#-/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_CSET64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_CSET32 = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_CSET_ERRORS = {
    "N": "NON_DIGIT_CHARACTER",
    "X": "INVALID_CSET82_CHARACTER",
    "Y": "INVALID_CSET39_CHARACTER",
    "Z": "INVALID_CSET64_CHARACTER",
}
_CSETS = {
    "N": frozenset("0123456789"),
    "X": frozenset(_CSET82),
    "Y": frozenset(_CSET39),
    "Z": frozenset(_CSET64),
}


class GS1Error(ValueError):
    """GS1 data that cannot be read: ``reason_code`` (a key of REASONS) and an English message.

    ``linter`` names the GS1 reference linter error (``INCORRECT_CHECK_DIGIT``...) where one
    applies, ``ai`` the Application Identifier concerned where there is one.
    """

    def __init__(self, reason_code: str, *, linter: str | None = None, ai: str | None = None) -> None:
        super().__init__(REASONS[reason_code])
        self.reason_code = reason_code
        self.linter = linter
        self.ai = ai


@dataclass(frozen=True)
class Options:
    """Settings of the engine; the defaults are GS1's reference Syntax Engine's."""

    permit_unknown_ais: bool = False
    permit_zero_suppressed_gtin: bool = False  # GTIN-8/12/13 in a Digital Link, padded to 14
    permit_convenience_alphas: bool = False  # legacy /gtin/, /ser/, /sscc/... path names
    unknown_ai_not_dl_attr: bool = True  # unknown AIs, even when permitted, are no DL attributes
    any_case_scheme: bool = False  # engine: http/https/HTTP/HTTPS only
    require_fnc1_first: bool = True  # an unbracketed element string starts with FNC1

    def replace(self, **changes: bool) -> "Options":
        return dataclasses.replace(self, **changes)


STRICT = Options()
SCANNING = Options(permit_zero_suppressed_gtin=True, any_case_scheme=True, require_fnc1_first=False)


# --- the syntax dictionary -----------------------------------------------------------------


@dataclass(frozen=True)
class Component:
    cset: str  # N, X, Y or Z
    min: int
    max: int
    optional: bool
    linters: tuple[str, ...]


@dataclass(frozen=True)
class AIEntry:
    ai: str
    fixed_length: bool  # "*": pre-defined length, no FNC1 separator after it
    dl_attribute: bool  # "?": may be a Digital Link query attribute
    components: tuple[Component, ...]
    req: tuple[tuple[tuple[str, ...], ...], ...]  # every group: one of its alternatives, each all of its AIs
    ex: tuple[str, ...]
    dlpkey: tuple[tuple[str, ...], ...] | None  # qualifier sequences if a primary key
    title: str

    @property
    def max_length(self) -> int:
        return sum(component.max for component in self.components)


_COMPONENT = re.compile(r"(\[)?([NXYZ])(\d+)?(?:\.\.(\d+))?(\])?((?:,\w+)*)")
_FLAGS = frozenset("*!?\"$%&'()+,-./:;<=>@[\\]^_`{|}~")


def _component(token: str) -> Component:
    match = _COMPONENT.fullmatch(token)
    if match is None:
        raise ValueError(f"bad component in the syntax dictionary: {token!r}")
    optional, cset, fixed, maximum, _, linters = match.groups()
    if maximum is not None:
        low, high = int(fixed or 1), int(maximum)
    else:
        low = high = int(fixed)
    return Component(cset, low, high, bool(optional), tuple(linters.split(",")[1:]))


def _entries(line: str) -> list[AIEntry]:
    body, _, title = line.partition("#")
    tokens = body.split()
    ais, tokens = tokens[0], tokens[1:]
    flags = ""
    if tokens and set(tokens[0]) <= _FLAGS:
        flags, tokens = tokens[0], tokens[1:]
    components, req, ex, dlpkey = [], [], [], None
    for token in tokens:
        key, has_value, value = token.partition("=")
        if key == "req" and has_value:
            req.append(tuple(tuple(alternative.split("+")) for alternative in value.split(",")))
        elif key == "ex" and has_value:
            ex.extend(value.split(","))
        elif key == "dlpkey":
            dlpkey = tuple(tuple(seq.split(",")) for seq in value.split("|")) if has_value else ((),)
        elif not has_value and _COMPONENT.fullmatch(token):
            components.append(_component(token))
        # any other attribute is one traceapp does not use
    first, _, last = ais.partition("-")
    numbers = range(int(first), int(last or first) + 1)
    return [
        AIEntry(
            str(n).zfill(len(first)),
            "*" in flags,
            "?" in flags,
            tuple(components),
            tuple(req),
            tuple(ex),
            dlpkey,
            title.strip(),
        )
        for n in numbers
    ]


@cache
def dictionary() -> dict[str, AIEntry]:
    """Every AI of the shipped GS1 Barcode Syntax Dictionary, by AI."""
    text = files("traceapp").joinpath("data/gs1-syntax-dictionary.txt").read_text(encoding="utf-8")
    table: dict[str, AIEntry] = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            for entry in _entries(line):
                table[entry.ai] = entry
    return table


@cache
def _prefix_lengths() -> dict[str, int]:
    """AI length by its first two digits (GS1 keeps AIs prefix-free)."""
    return {ai[:2]: len(ai) for ai in dictionary()}


def ai_entry(ai: str) -> AIEntry | None:
    return dictionary().get(ai)


def _unknown_entry(ai: str) -> AIEntry:
    return AIEntry(ai, False, False, (Component("X", 1, 90, False, ()),), (), (), None, "")


def _is_ai_shape(ai: str) -> bool:
    return ai.isascii() and ai.isdigit() and 2 <= len(ai) <= 4 and _prefix_lengths().get(ai[:2], 2) == len(ai)


def _entry(ai: str, options: Options) -> AIEntry:
    entry = ai_entry(ai)
    if entry is not None:
        return entry
    if options.permit_unknown_ais and _is_ai_shape(ai):
        return _unknown_entry(ai)
    raise GS1Error("unsupported_ai", ai=ai)


# --- linters: content rules of a component, by their names in the dictionary -------------


class _Lint(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


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


def _csum(value: str) -> None:
    if gtin_check_digit(value[:-1]) != int(value[-1]):
        raise _Lint("INCORRECT_CHECK_DIGIT")


_PAIR_WEIGHTS = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89)


def _csumalpha(value: str) -> None:
    """GS1 check character pair (General Specifications 7.9.5): prime weights, mod 1021."""
    if len(value) < 2:
        raise _Lint("TOO_SHORT_FOR_CHECK_PAIR")
    body = value[:-2]
    if len(body) > len(_PAIR_WEIGHTS):
        raise _Lint("TOO_LONG_FOR_CHECK_PAIR_IMPLEMENTATION")
    total = sum(_CSET82.index(c) * w for c, w in zip(reversed(body), _PAIR_WEIGHTS, strict=False)) % 1021
    if value[-2:] != _CSET32[total // 32] + _CSET32[total % 32]:
        raise _Lint("INCORRECT_CHECK_PAIR")


_GCP_MIN_LENGTH = 4


def _gcppos(offset: int) -> Callable[[str], None]:
    def lint(value: str) -> None:
        prefix = value[offset : offset + _GCP_MIN_LENGTH]
        if len(prefix) < _GCP_MIN_LENGTH:
            raise _Lint("TOO_SHORT_FOR_GCP")
        if not prefix.isdigit():
            raise _Lint("INVALID_GCP_PREFIX")

    return lint


def _two_digits(value: str, low: int, high: int, error: str) -> None:
    if not low <= int(value) <= high:
        raise _Lint(error)


def _days_in_month(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _yymmdd(value: str, *, day_zero: bool = False) -> None:
    # Which century GS1's sliding window gives YY, 1951-2050 has the leap years of 2000+YY
    # except 1900/2100, neither of which the window reaches.
    year, month, day = 2000 + int(value[:2]), int(value[2:4]), int(value[4:6])
    _two_digits(value[2:4], 1, 12, "ILLEGAL_MONTH")
    if (day == 0 and not day_zero) or day > _days_in_month(year, month):
        raise _Lint("ILLEGAL_DAY")


def _yyyymmdd(value: str) -> None:
    year, month, day = int(value[:4]), int(value[4:6]), int(value[6:8])
    _two_digits(value[4:6], 1, 12, "ILLEGAL_MONTH")
    if day == 0 or day > _days_in_month(year, month):
        raise _Lint("ILLEGAL_DAY")


def _hhmi(value: str) -> None:
    _two_digits(value[:2], 0, 23, "ILLEGAL_HOUR")
    _two_digits(value[2:4], 0, 59, "ILLEGAL_MINUTE")


@cache
def _iso3166_numeric() -> frozenset[str]:
    import pycountry  # noqa: PLC0415 - loaded on the first AI that needs it

    return frozenset(country.numeric for country in pycountry.countries)


@cache
def _iso3166_alpha2() -> frozenset[str]:
    import pycountry  # noqa: PLC0415

    return frozenset(country.alpha_2 for country in pycountry.countries)


@cache
def _iso4217_numeric() -> frozenset[str]:
    import pycountry  # noqa: PLC0415

    return frozenset(currency.numeric for currency in pycountry.currencies if hasattr(currency, "numeric"))


def _in(values: Callable[[], frozenset[str]], error: str) -> Callable[[str], None]:
    def lint(value: str) -> None:
        if value not in values():
            raise _Lint(error)

    return lint


def _iso3166999(value: str) -> None:
    if value != "999" and value not in _iso3166_numeric():
        raise _Lint("NOT_ISO3166_OR_999")


def _iban(value: str) -> None:
    """ISO 13616: country, two check digits, BBAN; mod 97 of the rearranged digits is 1.

    Shorter than 15 characters (Norway's, the shortest IBAN) is too short.
    """
    if len(value) < 15:
        raise _Lint("IBAN_TOO_SHORT")
    if value[:2] not in _iso3166_alpha2():
        raise _Lint("ILLEGAL_IBAN_COUNTRY_CODE")
    if not re.fullmatch("[0-9A-Z]*", value[2:]):
        raise _Lint("INVALID_IBAN_CHARACTER")
    digits = "".join(str(int(c, 36)) for c in value[4:] + value[:4])
    if int(digits) % 97 != 1:
        raise _Lint("INCORRECT_IBAN_CHECKSUM")


def _one_of(allowed: str, error: str) -> Callable[[str], None]:
    def lint(value: str) -> None:
        if value not in allowed.split():
            raise _Lint(error)

    return lint


def _nonzero(value: str) -> None:
    if not value.strip("0"):
        raise _Lint("ILLEGAL_ZERO_VALUE")


def _nozeroprefix(value: str) -> None:
    if len(value) > 1 and value[0] == "0":
        raise _Lint("ILLEGAL_ZERO_PREFIX")


def _pieceoftotal(value: str) -> None:
    half = len(value) // 2
    piece, total = int(value[:half]), int(value[half:])
    if piece == 0:
        raise _Lint("ZERO_PIECE_NUMBER")
    if total == 0:
        raise _Lint("ZERO_TOTAL_PIECES")
    if piece > total:
        raise _Lint("PIECE_NUMBER_EXCEEDS_TOTAL")


def _posinseqslash(value: str) -> None:
    position, slash, end = value.partition("/")
    if not slash or not position.isdigit() or not end.isdigit():
        raise _Lint("POSITION_IN_SEQUENCE_MALFORMED")
    if position[0] == "0" or end[0] == "0":
        raise _Lint("ILLEGAL_ZERO_PREFIX")
    if int(position) > int(end):
        raise _Lint("POSITION_EXCEEDS_END")


def _pcenc(value: str) -> None:
    if re.search("%(?![0-9A-Fa-f]{2})", value):
        raise _Lint("INVALID_PERCENT_SEQUENCE")


def _hasnondigit(value: str) -> None:
    if value.isdigit():
        raise _Lint("REQUIRES_NON_DIGIT_CHARACTER")


def _degrees(limit: int, error: str) -> Callable[[str], None]:
    def lint(value: str) -> None:
        if int(value) > limit:
            raise _Lint(error)

    return lint


def _mediatype(value: str) -> None:
    if not (1 <= int(value) <= 10 or 80 <= int(value) <= 99):
        raise _Lint("INVALID_MEDIA_TYPE")


def _importeridx(value: str) -> None:
    if not re.fullmatch("[-0-9A-Z_a-z]", value):
        raise _Lint("INVALID_IMPORT_IDX_CHARACTER")


class _Coupon:
    """A cursor over North American coupon data (AIs 8110, 8112): digit fields, some led by a
    length indicator (VLI). Each step names the linter error GS1's coupon linters report."""

    def __init__(self, value: str) -> None:
        if value.strip("0123456789"):
            raise _Lint("NON_DIGIT_CHARACTER")
        self.value, self.position = value, 0

    def more(self, flag: str) -> bool:
        """Whether an optional field led by ``flag`` comes next (then it is consumed)."""
        if self.value.startswith(flag, self.position):
            self.position += 1
            return True
        return False

    def digit(self, field: str, allowed: str | None = None) -> int:
        if self.position == len(self.value):
            raise _Lint(f"COUPON_MISSING_{field}")
        digit = self.value[self.position]
        if allowed is not None and digit not in allowed:
            raise _Lint(f"COUPON_INVALID_{field}")
        self.position += 1
        return int(digit)

    def take(self, length: int, error: str) -> str:
        if len(self.value) - self.position < length:
            raise _Lint(f"COUPON_{error}")
        self.position += length
        return self.value[self.position - length : self.position]

    def vli_field(self, name: str, allowed: str, plus: int, *, vli_error: str | None = None) -> None:
        """A length indicator (``plus`` added; 9 means none where ``allowed`` has it for a GCP)."""
        vli_name = vli_error or f"{name}_VLI"
        if self.position == len(self.value):
            raise _Lint(f"COUPON_MISSING_{vli_name}")
        digit = self.value[self.position]
        if digit not in allowed:
            raise _Lint(f"COUPON_INVALID_{name}_LENGTH")
        self.position += 1
        self.take(
            0 if plus and digit == "9" and "9" in allowed and name.endswith("GCP") else int(digit) + plus,
            f"TRUNCATED_{name}",
        )

    def end(self) -> None:
        if self.position != len(self.value):
            raise _Lint("COUPON_EXCESS_DATA")


def _purchase(coupon: _Coupon, nth: str) -> None:
    coupon.vli_field(f"{nth}_PURCHASE_REQUIREMENT", "12345", 0)
    coupon.digit(f"{nth}_PURCHASE_REQUIREMENT_CODE", "012349")
    coupon.take(3, f"TRUNCATED_{nth}_PURCHASE_FAMILY_CODE")


def _coupon_date(coupon: _Coupon, which: str, error: str) -> str:
    date_text = coupon.take(6, f"TOO_SHORT_FOR_{which}_DATE")
    try:
        _yymmdd(date_text)
    except _Lint:
        raise _Lint(f"COUPON_{error}") from None
    return date_text


def _couponcode(value: str) -> None:
    """AI (8110): the North American Coupon Code (GS1 US coupon application guideline)."""
    coupon = _Coupon(value)
    coupon.vli_field("GCP", "0123456", 6)
    coupon.take(6, "TRUNCATED_OFFER_CODE")
    coupon.vli_field("SAVE_VALUE", "12345", 0)
    _purchase(coupon, "1ST")
    if coupon.more("1"):  # additional rules, 2nd purchase
        coupon.digit("ADDITIONAL_PURCHASE_RULES_CODE", "0123")
        _purchase(coupon, "2ND")
        coupon.vli_field("2ND_PURCHASE_GCP", "01234569", 6)
    if coupon.more("2"):  # 3rd purchase
        _purchase(coupon, "3RD")
        coupon.vli_field("3RD_PURCHASE_GCP", "01234569", 6)
    expiry = _coupon_date(coupon, "EXPIRATION", "INVALID_EXIPIRATION_DATE") if coupon.more("3") else None
    if coupon.more("4"):
        start = _coupon_date(coupon, "START", "INVALID_START_DATE")
        if expiry is not None and start > expiry:
            raise _Lint("COUPON_EXPIRATION_BEFORE_START")
    if coupon.more("5"):
        coupon.vli_field("SERIAL_NUMBER", "0123456789", 6)
    if coupon.more("6"):
        coupon.vli_field("RETAILER_GCP_OR_GLN", "1234567", 6)
    if coupon.more("9"):  # miscellaneous
        coupon.digit("SAVE_VALUE_CODE", "01256")
        coupon.digit("SAVE_VALUE_APPLIES_TO_ITEM", "012")
        coupon.digit("STORE_COUPON_FLAG")
        coupon.digit("DONT_MULTIPLY_FLAG", "01")
    coupon.end()


def _couponposoffer(value: str) -> None:
    """AI (8112): the positive offer file coupon code."""
    coupon = _Coupon(value)
    coupon.digit("FORMAT_CODE", "01")
    coupon.vli_field("FUNDER", "0123456", 6)
    coupon.take(6, "TRUNCATED_OFFER_CODE")
    coupon.vli_field("SERIAL_NUMBER", "0123456789", 6)
    coupon.end()


def _not_checked(value: str) -> None:
    """Linters whose rule traceapp does not check (see LINTERS_NOT_CHECKED)."""


#: Linters whose content rule is accepted unchecked, with why.
LINTERS_NOT_CHECKED = {
    "packagetype": "needs the UN/ECE Recommendation 21 package-type code list, not shipped",
}

LINTERS: dict[str, Callable[[str], None]] = {
    "csum": _csum,
    "csumalpha": _csumalpha,
    "gcppos1": _gcppos(0),
    "gcppos2": _gcppos(1),
    "yymmd0": lambda value: _yymmdd(value, day_zero=True),
    "yymmdd": _yymmdd,
    "yyyymmdd": _yyyymmdd,
    "hhmi": _hhmi,
    "hh": lambda value: _two_digits(value, 0, 23, "ILLEGAL_HOUR"),
    "mi": lambda value: _two_digits(value, 0, 59, "ILLEGAL_MINUTE"),
    "ss": lambda value: _two_digits(value, 0, 59, "ILLEGAL_SECOND"),
    "iso3166": _in(_iso3166_numeric, "NOT_ISO3166"),
    "iso3166999": _iso3166999,
    "iso3166alpha2": _in(_iso3166_alpha2, "NOT_ISO3166_ALPHA2"),
    "iso4217": _in(_iso4217_numeric, "NOT_ISO4217"),
    "iso5218": _one_of("0 1 2 9", "INVALID_BIOLOGICAL_SEX_CODE"),
    "iban": _iban,
    "importeridx": _importeridx,
    "latitude": _degrees(1800000000, "INVALID_LATITUDE"),
    "longitude": _degrees(3600000000, "INVALID_LONGITUDE"),
    "mediatype": _mediatype,
    "nonzero": _nonzero,
    "nozeroprefix": _nozeroprefix,
    "zero": _one_of("0", "NOT_ZERO"),
    "yesno": _one_of("0 1", "NOT_ZERO_OR_ONE"),
    "hyphen": lambda value: _one_of("-", "NOT_HYPHEN")(value),
    "winding": _one_of("0 1 9", "INVALID_WINDING_DIRECTION"),
    "pieceoftotal": _pieceoftotal,
    "posinseqslash": _posinseqslash,
    "pcenc": _pcenc,
    "hasnondigit": _hasnondigit,
    "couponcode": _couponcode,
    "couponposoffer": _couponposoffer,
    **dict.fromkeys(LINTERS_NOT_CHECKED, _not_checked),
}

_DATE_LINTS = frozenset({"ILLEGAL_MONTH", "ILLEGAL_DAY", "ILLEGAL_HOUR", "ILLEGAL_MINUTE", "ILLEGAL_SECOND"})
_CHECK_LINTS = frozenset({"INCORRECT_CHECK_DIGIT", "INCORRECT_CHECK_PAIR", "INCORRECT_IBAN_CHECKSUM"})


def _lint_error(ai: str, error: str) -> GS1Error:
    if error in _DATE_LINTS:
        reason = "bad_date"
    elif error in _CHECK_LINTS:
        reason = "bad_gtin_check_digit" if ai in ("01", "02", "03") else "bad_check_digit"
    elif error in _CSET_ERRORS.values() or error == "INVALID_CSET64_PADDING":
        reason = "bad_ai_value"
    else:
        reason = "bad_ai_content"
    return GS1Error(reason, linter=error, ai=ai)


def _check_component(ai: str, component: Component, value: str) -> None:
    allowed = _CSETS[component.cset]
    body = value
    if component.cset == "Z":  # base64url, "=" padding to a length that is a multiple of 3
        body = value.rstrip("=")
        pads = len(value) - len(body)
        if pads > 2 or (pads and len(value) % 3):
            raise GS1Error("bad_ai_value", linter="INVALID_CSET64_PADDING", ai=ai)
    if any(c not in allowed for c in body):
        raise GS1Error("bad_ai_value", linter=_CSET_ERRORS[component.cset], ai=ai)
    for name in component.linters:
        try:
            LINTERS[name](value)
        except _Lint as lint:
            raise _lint_error(ai, lint.error) from None


def check_value(ai: str, value: str, options: Options = STRICT) -> None:
    """Check ``value`` against the dictionary entry of ``ai``: components, lengths, linters.

    Raises GS1Error: unsupported_ai, bad_ai_value, bad_gtin_check_digit, bad_check_digit,
    bad_date, bad_ai_content.
    """
    entry = _entry(ai, options)
    position = 0
    for component in entry.components:
        rest = len(value) - position
        if rest == 0 and component.optional:
            break
        if rest < component.min:
            raise GS1Error("bad_ai_value", linter="TOO_SHORT", ai=ai)
        length = min(rest, component.max)
        _check_component(ai, component, value[position : position + length])
        position += length
    if position != len(value) or not value:
        raise GS1Error("bad_ai_value", linter="TOO_LONG" if value else "EMPTY", ai=ai)


# --- element strings -----------------------------------------------------------------------

AIs = tuple[tuple[str, str], ...]


def _bracketed_pairs(text: str, options: Options) -> list[tuple[str, str]]:
    """``(01)09506000134352(10)ABC`` → pairs; ``\\(`` is a literal bracket in a value."""
    pairs = []
    position = 0
    while position < len(text):
        match = re.compile(r"\(([0-9]{2,4})\)").match(text, position)
        if match is None:
            raise GS1Error("bad_element_string")
        ai = match[1]
        _entry(ai, options)
        value, position = [], match.end()
        while position < len(text) and text[position] != "(":
            if text.startswith("\\(", position):
                value.append("(")
                position += 2
            else:
                value.append(text[position])
                position += 1
        pairs.append((ai, "".join(value)))
    return pairs


def _raw_pairs(text: str, fnc1: str, options: Options) -> list[tuple[str, str]]:
    """Unbracketed data: a pre-defined length AI runs into the next, others end at FNC1 or the end."""
    if text.startswith(fnc1):
        text = text[1:]
    elif options.require_fnc1_first:
        raise GS1Error("bad_element_string")
    pairs = []
    position = 0
    while position < len(text):
        length = _prefix_lengths().get(text[position : position + 2])
        ai = text[position : position + length] if length else ""
        entry = ai_entry(ai)
        if entry is None:  # an unknown AI's length can't be known in unbracketed data
            raise GS1Error("unsupported_ai", ai=ai or text[position : position + 2])
        start = position + len(ai)
        if entry.fixed_length:
            position = start + entry.max_length
        else:
            separator = text.find(fnc1, start)
            position = len(text) if separator < 0 else separator
        pairs.append((ai, text[start:position]))
        if text.startswith(fnc1, position):  # a separator, or superfluous after a fixed-length AI
            position += 1
    return pairs


def parse_ai_data(text: str, options: Options = STRICT, *, fnc1: str = GS) -> AIs:
    """The (AI, value) pairs of bracketed or unbracketed AI data, each value checked.

    Checks syntax, lengths, character sets and linters, not the pairing rules (see
    :func:`validate_associations`). ``fnc1`` is the character that stands for FNC1 in
    unbracketed data (GS as scanners send it; ``^`` in GS1's notation).
    """
    if not text:
        raise GS1Error("bad_element_string")
    if text.startswith("("):
        if fnc1 in text or "^" in text:  # "^" would be read as FNC1 by an encoder
            raise GS1Error("bad_element_string")
        pairs = _bracketed_pairs(text, options)
    else:
        pairs = _raw_pairs(text, fnc1, options)
    if not pairs:
        raise GS1Error("bad_element_string")
    for ai, value in pairs:
        check_value(ai, value, options)
    return tuple(pairs)


def parse_element_string(text: str, options: Options = SCANNING) -> AIs:
    """The (AI, value) pairs of a GS1 element string, in order.

    Takes the bracketed form ``(01)09506000134352(10)ABC123`` (``\\(`` is a literal bracket in a
    value) or the form a scanner sends, ``0109506000134352`` ``10ABC123`` GS ``21XYZ``: a
    pre-defined length AI runs into the next, any other ends at GS (0x1D) or the end; a GS
    first (FNC1 in first position) may be there or not. Checks every value against the GS1
    syntax dictionary (length, character set, check digit, date, code lists), not the pairing
    rules (:func:`validate_associations`). Raises GS1Error: bad_element_string,
    unsupported_ai, bad_ai_value, bad_gtin_check_digit, bad_check_digit, bad_date, bad_ai_content.
    """
    return parse_ai_data(text, options)


def _pattern_matches(pattern: str, ai: str) -> bool:
    """Whether ``ai`` matches a dictionary pattern such as ``310n`` (n: any digit)."""
    if len(pattern) != len(ai):
        return False
    return all(p == "n" and a.isdigit() or p == a for p, a in zip(pattern, ai, strict=True))


def validate_associations(ais: Iterable[tuple[str, str]], options: Options = STRICT) -> None:
    """GS1's pairing rules over one message: repeated AIs carry one value, each AI's ``req=``
    (mandatory associations) and ``ex=`` (invalid pairings), and a digital signature (8030)
    needs its key serialised.

    Raises GS1Error: conflicting_ais (ex=, or one AI with two values), missing_ai (req=).
    """
    values: dict[str, str] = {}
    for ai, value in ais:
        if values.setdefault(ai, value) != value:
            raise GS1Error("conflicting_ais", linter="INSTANCES_OF_AI_HAVE_DIFFERENT_VALUES", ai=ai)
    present = list(values)
    for ai in present:
        entry = ai_entry(ai)
        if entry is None:
            continue
        for pattern in entry.ex:
            if any(other != ai and _pattern_matches(pattern, other) for other in present):
                raise GS1Error("conflicting_ais", linter="INVALID_AI_PAIRS", ai=ai)
        for group in entry.req:
            if not any(all(any(_pattern_matches(p, o) for o in present) for p in alt) for alt in group):
                raise GS1Error("missing_ai", linter="REQUIRED_AIS_NOT_SATISFIED", ai=ai)
    if "8030" in values:
        for key in ("253", "255", "8003"):
            entry = ai_entry(key)
            if (
                key in values
                and entry
                and len(values[key]) <= sum(c.max for c in entry.components if not c.optional)
            ):
                raise GS1Error("missing_ai", linter="SERIALISATION_REQUIRED_FOR_DIGSIG", ai=key)


def element_string(ais: Iterable[tuple[str, str]], *, fnc1: str = GS) -> str:
    """Unbracketed AI data as a barcode carries it after FNC1: ``fnc1`` only after values of
    AIs without a pre-defined length, and not after the last."""
    parts = []
    for ai, value in ais:
        entry = ai_entry(ai)
        parts.append(ai + value + ("" if entry and entry.fixed_length else fnc1))
    return "".join(parts).removesuffix(fnc1)


def bracketed(ais: Iterable[tuple[str, str]]) -> str:
    """The human-readable form ``(01)09506000134352(10)ABC``, a ``(`` in a value as ``\\(``."""
    return "".join(f"({ai}){value.replace('(', chr(92) + '(')}" for ai, value in ais)


# --- GS1 Digital Link ----------------------------------------------------------------------

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def dl_quote(value: str, *, query: bool = False) -> str:
    """Percent-encode a Digital Link path segment or query value.

    Only ``A-Z a-z 0-9 - . _ ~`` stay as they are; a space is ``%20`` in the path, ``+`` in a query.
    """
    out = []
    for byte in value.encode("utf-8"):
        char = chr(byte)
        if char in _UNRESERVED:
            out.append(char)
        elif char == " " and query:
            out.append("+")
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


_PERCENT = re.compile(rb"%([0-9A-Fa-f]{2})")


def dl_unquote(value: str, *, query: bool = False) -> bytes:
    """Decode a Digital Link path segment or query value (``+`` is a space only in a query).

    Bytes, because ``%FF`` is legal in a URI and not text; a ``%`` without two hex digits stays.
    """
    raw = value.encode("latin-1", "replace")
    if query:
        raw = raw.replace(b"+", b" ")
    return _PERCENT.sub(lambda match: bytes([int(match[1], 16)]), raw)


_URI_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")  # RFC 3986
_HOST = re.compile(r"(?:[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]*)?")


def split_url(text: str, options: Options = SCANNING) -> SplitResult:
    """The parts of an http(s) URL as a scanner may send it (RFC 3986 characters only).

    Raises GS1Error ``bad_uri`` unless ``text`` is an http(s) URL with a plain host (a
    registered name, IPv4 or IPv6 literal, and a port). Under :data:`STRICT` the scheme is
    ``http``/``https`` in lower or upper case only, as in GS1's engine.
    """
    if not _URI_CHARACTERS.fullmatch(text):
        raise GS1Error("bad_uri")
    scheme = text.partition(":")[0]
    if not options.any_case_scheme and scheme not in ("http", "https", "HTTP", "HTTPS"):
        raise GS1Error("bad_uri")
    try:
        parts = urlsplit(text)
    except ValueError as error:  # unbalanced IPv6 brackets
        raise GS1Error("bad_uri") from error
    if (
        parts.scheme not in ("http", "https")
        or not _HOST.fullmatch(parts.netloc)
        or not text[len(scheme) :].startswith("://")
    ):
        raise GS1Error("bad_uri")
    return parts


#: GS1 Digital Link "convenience alphas": legacy path names of keys and qualifiers.
CONVENIENCE_ALPHAS = {
    "sscc": "00", "gtin": "01", "lot": "10", "ser": "21", "cpv": "22", "tpx": "235", "gdti": "253",
    "glnx": "254", "gcn": "255", "ginc": "401", "gsin": "402", "gln": "414", "payTo": "415",
    "party": "417", "grai": "8003", "giai": "8004", "itip": "8006", "cpid": "8010", "cpsn": "8011",
    "gmn": "8013", "gsrnp": "8017", "gsrn": "8018", "srin": "8019", "refno": "8020",
}  # fmt: skip


def _path_ai(segment: str, options: Options) -> str | None:
    if options.permit_convenience_alphas and segment in CONVENIENCE_ALPHAS:
        return CONVENIENCE_ALPHAS[segment]
    return segment if segment in dictionary() else None


def _is_subsequence(qualifiers: Sequence[str], sequence: Sequence[str]) -> bool:
    remaining = iter(sequence)
    return all(ai in remaining for ai in qualifiers)


def is_valid_dl_path(path_ais: Sequence[str]) -> bool:
    """Whether a primary key then qualifiers is a Digital Link path the dictionary's ``dlpkey``
    allows: the qualifiers of one alternative, each optional, in that alternative's order."""
    entry = ai_entry(path_ais[0]) if path_ais else None
    if entry is None or entry.dlpkey is None:
        return False
    return any(_is_subsequence(path_ais[1:], sequence) for sequence in entry.dlpkey)


def _dl_value(ai: str, raw: bytes, options: Options) -> str:
    if not raw or b"\x00" in raw:
        raise GS1Error("bad_ai_value", ai=ai)
    value = raw.decode("latin-1")  # one char a byte; a non-ASCII one then fails the CSET check
    if ai == "01" and options.permit_zero_suppressed_gtin and len(value) in (8, 12, 13):
        value = value.zfill(14)
    return value


class DigitalLink(NamedTuple):
    """A parsed GS1 Digital Link: its AIs (path, then query order), how many of them are the
    path's key and qualifiers, and the stem before the key."""

    ais: AIs
    path_length: int
    stem: str


def _path_pairs(path: str, options: Options) -> tuple[list[tuple[str, str]], str]:
    """The (AI, raw value) pairs ending ``path`` back to its primary key, and the stem before it."""
    segments = path.split("/")
    pairs: list[tuple[str, str]] = []
    while len(segments) >= 3:  # segments[0] is the "" before the path's first slash
        ai = _path_ai(segments[-2], options)
        if ai is None:
            break
        pairs.insert(0, (ai, segments[-1]))
        segments = segments[:-2]
        entry = ai_entry(ai)
        if entry is not None and entry.dlpkey is not None:
            return pairs, "/".join(segments)
    raise GS1Error("bad_dl_path" if pairs or path.endswith("/") else "unknown_url")


def parse_digital_link_uri(uri: str, options: Options = SCANNING) -> DigitalLink:
    """Parse a GS1 Digital Link URI under any host and path stem.

    The path ends in a primary key and its qualifiers (``dlpkey=`` of the dictionary); the query's
    numeric parameters are AIs (data attributes, ``?`` in the dictionary), others and singletons
    are ignored; the fragment is ignored. Values are percent-decoded (``+`` is a space in the
    query only) and checked like element strings, and the pairing rules are applied.
    Raises GS1Error: bad_uri, unknown_url, bad_dl_path, qualifier_in_query, duplicate_ai,
    not_dl_attribute, missing_ai, conflicting_ais and the value errors of :func:`check_value`.
    """
    parts = split_url(uri, options)
    raw_pairs, stem = _path_pairs(parts.path, options)
    path_ais = [ai for ai, _ in raw_pairs]
    if not is_valid_dl_path(path_ais):
        raise GS1Error("bad_dl_path")
    ais = [(ai, _dl_value(ai, dl_unquote(raw), options)) for ai, raw in raw_pairs]
    key = ai_entry(path_ais[0])
    assert key is not None and key.dlpkey is not None
    alternatives = [seq for seq in key.dlpkey if _is_subsequence(path_ais[1:], seq)]
    for parameter in parts.query.split("&"):
        name, has_value, raw = parameter.partition("=")
        if not has_value or not name.isdigit():
            continue  # a singleton or non-AI parameter
        entry = ai_entry(name)
        if entry is None:
            if not (options.permit_unknown_ais and _is_ai_shape(name)):
                raise GS1Error("unsupported_ai", ai=name)
            if options.unknown_ai_not_dl_attr:
                raise GS1Error("not_dl_attribute", ai=name)
        elif not entry.dl_attribute:
            raise GS1Error("not_dl_attribute", ai=name)
        if any(name in seq for seq in alternatives):
            raise GS1Error("qualifier_in_query", ai=name)
        ais.append((name, _dl_value(name, dl_unquote(raw, query=True), options)))
    seen: set[str] = set()
    for ai, value in ais:
        if ai in seen:
            raise GS1Error("duplicate_ai", ai=ai)
        seen.add(ai)
        check_value(ai, value, options)
    validate_associations(ais, options)
    stem_url = f"{parts.scheme}://{parts.netloc}{stem}"
    return DigitalLink(tuple(ais), len(path_ais), stem_url)


def parse_digital_link(uri: str, options: Options = SCANNING) -> AIs:
    """The (AI, value) pairs of a GS1 Digital Link URI: path, then query order.

    See :func:`parse_digital_link_uri`, which also gives the path's length and the stem.
    """
    return parse_digital_link_uri(uri, options).ais


def _resolver_base(base_url: str) -> str:
    """``base_url`` without a trailing slash. Raises ValueError unless http(s)://host[/path]."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"resolver base URL must be http(s)://host[:port][/path]: {base_url!r}")
    return base_url.rstrip("/")


def generate_digital_link(
    ais: Iterable[tuple[str, str]],
    stem: str = CANONICAL_STEM,
    options: Options = STRICT,
    *,
    path_length: int | None = None,
) -> str:
    """The GS1 Digital Link URI of AI data, as GS1's engine renders it.

    The first primary key in the data is the path's key, with the longest qualifier sequence
    the data holds (``path_length`` takes the first AIs as key and qualifiers instead, as
    :func:`parse_digital_link_uri` found them). Every other AI is a query attribute: those
    of pre-defined length first, each in data order; a repeated identical AI once. Raises
    GS1Error: unknown_url (no primary key), not_dl_attribute (an AI that may not be an
    attribute, a qualifier of the key not in the path, an unknown AI), conflicting_ais, and
    the value errors of :func:`check_value`; ValueError for a stem that is not http(s)://host[/path].
    """
    base = _resolver_base(stem)
    unique: dict[str, str] = {}
    for ai, value in ais:
        check_value(ai, value, options)
        if unique.setdefault(ai, value) != value:
            raise GS1Error("conflicting_ais", ai=ai)
    order = list(unique)
    if path_length is not None:
        path = order[:path_length]
        if not is_valid_dl_path(path):
            raise GS1Error("bad_dl_path")
    else:
        key = next((ai for ai in order if (e := ai_entry(ai)) is not None and e.dlpkey is not None), None)
        if key is None:
            raise GS1Error("unknown_url")
        path = [key]
        for sequence in ai_entry(key).dlpkey:  # type: ignore[union-attr]
            present = [ai for ai in sequence if ai in unique]
            if len(present) + 1 > len(path):
                path = [key, *present]
    key_entry = ai_entry(path[0])
    assert key_entry is not None and key_entry.dlpkey is not None
    # From plain AI data any qualifier of the key is refused as an attribute (the engine's
    # rule); a path given as parsed keeps the other alternatives' qualifiers as attributes.
    sequences = [seq for seq in key_entry.dlpkey if path_length is None or _is_subsequence(path[1:], seq)]
    qualifiers = {ai for sequence in sequences for ai in sequence}
    attributes = [ai for ai in order if ai not in path]
    for ai in attributes:
        entry = ai_entry(ai)
        if entry is None:
            if options.unknown_ai_not_dl_attr:
                raise GS1Error("not_dl_attribute", ai=ai)
        elif not entry.dl_attribute or ai in qualifiers:
            raise GS1Error("not_dl_attribute", ai=ai)
    fixed = [ai for ai in attributes if (e := ai_entry(ai)) is not None and e.fixed_length]
    attributes = fixed + [ai for ai in attributes if ai not in fixed]
    uri = base + "".join(f"/{ai}/{dl_quote(unique[ai])}" for ai in path)
    query = "&".join(f"{ai}={dl_quote(unique[ai], query=True)}" for ai in attributes)
    return f"{uri}?{query}" if query else uri


def digital_link(base_url: str, gtin: str, lot: str | None = None, serial: str | None = None) -> str:
    """The GS1 Digital Link URI ``{base_url}/01/{GTIN-14}[/10/{lot}][/21/{serial}]``.

    A GTIN-8/12/13 is zero-padded to 14 digits. Raises ValueError for an invalid GTIN, a lot or
    serial that is not 1 to 20 characters of GS1 CSET 82, or a base URL that is not http(s)://host[/path].
    """
    if not is_valid_gtin(gtin):
        raise ValueError(f"not a valid GTIN: {gtin!r}")
    ais = [("01", gtin.zfill(14))]
    ais += [(ai, value) for ai, value in (("10", lot), ("21", serial)) if value is not None]
    return generate_digital_link(ais, base_url)


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
    check_value("10", lot)
    text = gtin14 + lot + (pack_date.strftime("%y%m%d") if pack_date else "")
    return f"{_crc16_arc(text.encode('ascii')) % 10000:04d}"
