"""Trace codes, code URLs, GS1 Digital Link / element strings and PTI voice pick codes.

GS1's conformance vectors run in tests/unit/test_gs1_conformance.py.
"""

import itertools
import random
import re
from datetime import date

import pytest

from traceapp.codes import (
    ALPHABET,
    CODE_LENGTH,
    CODE_RE,
    REASONS,
    code_url,
    format_trace_code,
    is_valid_trace_code,
    mint_trace_code,
    normalize_trace_code,
    parse_scan,
    qr_url,
)
from traceapp.gs1 import (
    GS,
    digital_link,
    gtin_check_digit,
    is_valid_gtin,
    parse_digital_link,
    voice_pick_code,
)

QR_ALPHANUMERIC = re.compile(r"[0-9A-Z $%*+\-./:]*")
HOST = "trace.example.cn"


def _with_check(body: str) -> str:
    """``body`` (13 symbols) plus the check symbol that makes it a valid code."""
    return next(body + s for s in ALPHABET if is_valid_trace_code(body + s))


CODE = _with_check("7KQM2XPA9CHD4")
GROUPED = f"{CODE[:4]}-{CODE[4:8]}-{CODE[8:12]}-{CODE[12:]}"


# --- trace codes ---------------------------------------------------------------------------


def test_alphabet_has_32_symbols_without_0_O_1_or_I():
    assert len(set(ALPHABET)) == 32 == len(ALPHABET)
    assert not set("0O1I") & set(ALPHABET)
    assert QR_ALPHANUMERIC.fullmatch(ALPHABET)


def test_minted_codes_are_canonical_valid_and_use_only_the_alphabet():
    for _ in range(1000):
        code = mint_trace_code()
        assert CODE_RE.fullmatch(code) and len(code) == CODE_LENGTH == 14
        assert is_valid_trace_code(code) and normalize_trace_code(code) == code


def test_ten_thousand_minted_codes_are_unique():
    # 65 random bits: a collision among 10,000 codes has probability about 1.4e-12.
    assert len({mint_trace_code() for _ in range(10_000)}) == 10_000


def test_single_substitution_is_always_detected():
    for code in [CODE] + [mint_trace_code() for _ in range(20)]:
        for position, symbol in itertools.product(range(CODE_LENGTH), ALPHABET):
            typo = code[:position] + symbol + code[position + 1 :]
            assert is_valid_trace_code(typo) == (typo == code), typo


def _swapped(code: str, position: int) -> str:
    return code[:position] + code[position + 1] + code[position] + code[position + 2 :]


def test_adjacent_transposition_is_detected_except_swapping_2_and_Z():
    # Exact claim for Luhn mod N, N = 32: swapping adjacent symbols of values a != b changes the
    # weighted sum by g(a) - g(b), with g(x) = -x for x < N/2 and -x-1 for x >= N/2 (mod N). g is
    # one-to-one except g(0) = g(N-1) = 0, so the only swap left undetected is of the symbols of
    # value 0 and N-1, '2' and 'Z': 1 of the 496 pairs of distinct symbols (>99.7% detected).
    detected = total = 0
    for code in (mint_trace_code() for _ in range(3000)):
        for position in range(CODE_LENGTH - 1):
            pair = set(code[position : position + 2])
            if len(pair) == 2:
                caught = not is_valid_trace_code(_swapped(code, position))
                assert caught == (pair != {"2", "Z"}), code
                detected, total = detected + caught, total + 1
    assert detected / total >= 0.95


def test_swapping_2_and_Z_is_the_blind_spot():
    code = _with_check("2Z" + CODE[2:13])
    assert is_valid_trace_code(_swapped(code, 0))


@pytest.mark.parametrize(
    "typed",
    [
        CODE.lower(),
        GROUPED,
        GROUPED.lower(),
        f"  {GROUPED}  ",
        f"{CODE[:7]} {CODE[7:]}",
        GROUPED.replace("-", "_"),
        GROUPED.replace("-", "\u2013"),
        GROUPED.replace("-", "\t"),
        "".join(chr(ord(c) + 0xFEE0) for c in GROUPED),  # full-width, as a Chinese IME types it
    ],
)
def test_typed_code_in_any_case_with_separators_normalizes(typed):
    assert normalize_trace_code(typed) == CODE
    assert is_valid_trace_code(typed)


@pytest.mark.parametrize("look_alike", ["0", "O", "o", "1", "I", "i"])
def test_look_alikes_outside_the_alphabet_are_rejected_not_guessed(look_alike):
    typed = CODE[:5] + look_alike + CODE[6:]
    assert normalize_trace_code(typed) is None
    assert parse_scan(typed).reason_code == "bad_symbol"


@pytest.mark.parametrize(
    ("typed", "reason_code"),
    [
        (CODE[:-1], "bad_length"),
        (CODE + "A", "bad_length"),
        (CODE[:-1] + next(s for s in ALPHABET if s != CODE[-1]), "bad_check"),
        (CODE[:-1] + "!", "bad_symbol"),
    ],
)
def test_codes_of_wrong_length_or_check_symbol_are_rejected(typed, reason_code):
    assert normalize_trace_code(typed) is None
    assert parse_scan(typed).reason_code == reason_code


def test_format_groups_the_code_for_people():
    assert format_trace_code(CODE) == GROUPED
    assert format_trace_code(GROUPED.lower()) == GROUPED
    assert normalize_trace_code(format_trace_code(CODE)) == CODE


def test_formatting_an_invalid_code_raises():
    with pytest.raises(ValueError):
        format_trace_code("NOT-A-CODE")


# --- our code URLs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        (f"https://{HOST}", f"https://{HOST}/t/{CODE}"),
        (f"https://{HOST}/", f"https://{HOST}/t/{CODE}"),
        ("http://127.0.0.1:5000", f"http://127.0.0.1:5000/t/{CODE}"),
        (f"https://{HOST}/Trace/", f"https://{HOST}/Trace/t/{CODE}"),
    ],
)
def test_code_url_appends_t_and_the_canonical_code(base, expected):
    assert code_url(base, GROUPED.lower()) == expected


@pytest.mark.parametrize("base", [f"https://{HOST}", f"https://{HOST}/", "http://localhost:5000"])
def test_qr_url_without_base_path_is_upper_case_for_alphanumeric_qr_mode(base):
    url = qr_url(base, CODE)
    assert url == code_url(base, CODE).upper()
    assert QR_ALPHANUMERIC.fullmatch(url)
    assert parse_scan(url).trace_code == CODE


def test_qr_url_with_base_path_keeps_the_path_case():
    assert qr_url(f"https://{HOST}/Trace", CODE.lower()) == f"https://{HOST}/Trace/t/{CODE}"


@pytest.mark.parametrize("base", ["ftp://a.cn", "https://", f"https://{HOST}/?x=1", "a.cn"])
def test_code_url_refuses_a_base_that_is_not_http_host_and_path(base):
    with pytest.raises(ValueError):
        code_url(base, CODE)


def test_code_url_refuses_an_invalid_code():
    with pytest.raises(ValueError):
        code_url(f"https://{HOST}", CODE[:-1])


# --- GS1 helpers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "digit"),
    [
        ("0234567", 3),
        ("41600033610", 8),
        ("950600013435", 2),
        ("0950600013435", 2),
        ("1231231231233", 3),
        ("12345678901234567", 5),  # last: an SSCC, same algorithm
    ],
)
def test_gtin_check_digit_is_gs1_mod_10(body, digit):
    assert gtin_check_digit(body) == digit


@pytest.mark.parametrize("body", ["", "12a4", "\uff11\uff12\uff13"])  # last: full-width 123
def test_gtin_check_digit_refuses_anything_but_ascii_digits(body):
    with pytest.raises(ValueError):
        gtin_check_digit(body)


@pytest.mark.parametrize(
    ("gtin", "valid"),
    [
        ("02345673", True),
        ("416000336108", True),
        ("9506000134352", True),
        ("09506000134352", True),
        ("09506000134353", False),
        ("123456789", False),
        ("0950600013435A", False),
        ("", False),
        ("".join(chr(ord(d) + 0xFEE0) for d in "02345673"), False),  # full-width digits
    ],
)
def test_is_valid_gtin_accepts_8_12_13_14_digits_with_correct_check_digit(gtin, valid):
    assert is_valid_gtin(gtin) == valid


def test_digital_link_pads_the_gtin_and_escapes_lot_and_serial():
    url = digital_link("https://id.example.cn/", "9506000134352", lot="A+B/1", serial="x")
    assert url == "https://id.example.cn/01/09506000134352/10/A%2BB%2F1/21/x"


def test_every_cset82_lot_survives_a_digital_link_round_trip():
    cset82 = (
        """!"%&'()*+,-./0123456789:;<=>?"""
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
    )
    assert len(cset82) == 82
    for lot in (cset82[i : i + 20] for i in range(0, 82, 20)):
        url = digital_link("https://a.cn", "09506000134352", lot=lot, serial=lot[::-1])
        assert parse_digital_link(url) == (("01", "09506000134352"), ("10", lot), ("21", lot[::-1]))


@pytest.mark.parametrize(
    ("gtin", "lot"),
    [
        ("09506000134353", "A"),
        ("0950600013435", "A"),
        ("09506000134352", ""),
        ("09506000134352", "A B"),
        ("09506000134352", "批次"),
        ("09506000134352", "A" * 21),
    ],
)
def test_digital_link_refuses_bad_gtin_or_lot(gtin, lot):
    with pytest.raises(ValueError):
        digital_link("https://a.cn", gtin, lot=lot)


# --- parsing scans -------------------------------------------------------------------------

TRACE = {"kind": "trace_code", "trace_code": CODE}


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (f"https://{HOST}/t/{CODE}", TRACE),
        (f"HTTPS://{HOST.upper()}/T/{CODE}", TRACE),
        (f"https://{HOST}/t/{CODE.lower()}/", TRACE),
        (f"https://{HOST}/t/{CODE}?utm_source=wechat&utm=1", TRACE),
        (f"https://{HOST}/t/{CODE}#top", TRACE),
        (f"Https://{HOST}:8443/app/t/{GROUPED}/?lang=zh", TRACE),
        (f"  {GROUPED.lower()}\r\n", TRACE),
        (f"\t{CODE[:7]} {CODE[7:]} ", TRACE),
        (
            "https://id.gs1.org/01/09506000134352/10/ABC123/21/XYZ",
            {"kind": "digital_link", "gtin": "09506000134352", "lot": "ABC123", "serial": "XYZ"},
        ),
        (
            "https://brand.example.com/some/stem/01/9506000134352/22/2A/10/L%2F7?17=271231&utm=x#f",
            {
                "kind": "digital_link",
                "gtin": "09506000134352",
                "lot": "L/7",
                "ais": (("01", "09506000134352"), ("22", "2A"), ("10", "L/7"), ("17", "271231")),
            },
        ),
        ("\r\n https://a.cn/01/02345673\r\n", {"kind": "digital_link", "gtin": "00000002345673"}),
        (
            "(01)09506000134352(10)ABC123",
            {"kind": "digital_link", "gtin": "09506000134352", "lot": "ABC123", "serial": None},
        ),
        (
            "010950600013435210ABC123" + GS + "21XYZ\r\n",
            {"kind": "digital_link", "gtin": "09506000134352", "lot": "ABC123", "serial": "XYZ"},
        ),
        (
            "]C101095060001343521727123110ABC",
            {
                "kind": "digital_link",
                "lot": "ABC",
                "ais": (("01", "09506000134352"), ("17", "271231"), ("10", "ABC")),
            },
        ),
    ],
)
def test_parse_scan_reads_every_input_form(payload, expected):
    result = parse_scan(payload, known_hosts=[HOST])
    assert {field: getattr(result, field) for field in expected} == expected


@pytest.mark.parametrize(
    ("payload", "reason_code"),
    [
        ("", "empty"),
        (" \r\n\t", "empty"),
        ("hello world", "unknown_format"),
        ("请扫描二维码", "unknown_format"),
        ("https://example.com/about", "unknown_url"),
        (f"https://evil.example.com/t/{CODE}", "unknown_url"),
        (f"https://{HOST}/t/{CODE[:-1]}", "bad_length"),
        ("https://id.gs1.org/01/09506000134353/10/ABC", "bad_gtin_check_digit"),
        ("https://id.gs1.org/01/09506000134352/10/ABC/", "bad_dl_path"),
        ("https://id.gs1.org/01/09506000134352/10/ABC/22/X", "bad_dl_path"),
        ("https://id.gs1.org/01/09506000134352?10=ABC", "qualifier_in_query"),
        ("https://id.gs1.org/01/09506000134352?17=271231&17=271231", "duplicate_ai"),
        ("https://id.gs1.org/01/09506000134352?17=271332", "bad_date"),
        ("https://a.cn/01/<09506000134352>", "bad_uri"),
        ("(01)09506000134352(89)ABC", "unsupported_ai"),
        ("(01)09506000134352(3103)00019", "bad_ai_value"),
        ("(01)09506000134352(7007)260230", "bad_date"),
        ("(02)09506000134352(37)12", "no_gtin"),
        ("(01)09506000134352(3103)000195(3102)001950", "conflicting_ais"),
        ("https://id.gs1.org/01/09506000134352?8200=https%3A%2F%2Fa.cn", "not_dl_attribute"),
        ("(01)09506000134352(10)A(10)B", "duplicate_ai"),
        ("(10)ABC123", "no_gtin"),
        ("(01)0950600013435", "bad_ai_value"),
        ("(01)09506000134352)", "bad_ai_value"),
        ("(1)x", "bad_element_string"),
    ],
)
def test_unreadable_payload_is_invalid_with_a_reason(payload, reason_code):
    result = parse_scan(payload, known_hosts=[HOST])
    assert (result.kind, result.reason_code) == ("invalid", reason_code)
    assert result.reason == REASONS[reason_code]
    assert result.trace_code is result.gtin is None


@pytest.mark.parametrize("scheme", ["Https", "HtTp"])
def test_uri_scheme_in_any_case_is_read(scheme):
    # RFC 3986 §3.1: schemes are case-insensitive. GS1's engine rejects mixed case as a policy
    # (case dlparse-013); a phone keyboard capitalises the first letter, so we accept it.
    assert parse_scan(f"{scheme}://a.cn/01/09506000134352").gtin == "09506000134352"
    assert parse_scan(f"{scheme}://{HOST}/t/{CODE}").trace_code == CODE


def test_code_urls_of_any_host_are_read_when_no_hosts_are_known():
    assert parse_scan(f"https://other.example/t/{CODE}").trace_code == CODE


def test_parse_scan_never_raises():
    rng = random.Random(20260201)
    pieces = [
        "(",
        ")",
        "0",
        "1",
        "01",
        "/",
        "://",
        "https://a",
        "/01/",
        "?",
        "=",
        "&",
        "%",
        "%2",
        GS,
        "\r\n",
        " ",
        "]C1",
        "A",
        "z",
        "Z",
        "二",
        "\\",
        "#",
        "[",
        "]",
        "17",
        "10",
    ]
    for _ in range(5000):
        result = parse_scan("".join(rng.choices(pieces, k=rng.randint(0, 12))))
        assert result.kind in ("trace_code", "digital_link", "invalid")
        assert (result.kind == "invalid") == (result.reason_code in REASONS)


# --- PTI voice pick code -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gtin", "lot", "pack_date", "expected"),
    [
        ("10850510002011", "46587443HG234", None, "6359"),
        ("65457886676767", "2", date(2010, 1, 26), "5836"),
    ],
)
def test_voice_pick_code_matches_the_published_pti_checks(gtin, lot, pack_date, expected):
    assert voice_pick_code(gtin, lot, pack_date) == expected


@pytest.mark.parametrize(("gtin", "lot"), [("1085051000201", "L"), ("10850510002011", "")])
def test_voice_pick_code_refuses_a_malformed_gtin_or_lot(gtin, lot):
    with pytest.raises(ValueError):
        voice_pick_code(gtin, lot)
