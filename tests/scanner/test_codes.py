"""Reading scanned payloads: every form a gate scanner or a person produces, and GS1's test vectors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanner_client import codes
from scanner_client.codes import check_symbol, format_code, normalize_code, parse_payload, strip_noise

CODE = "LRALC8X7RJNZ5V"
SHARED = Path(__file__).resolve().parents[3] / "shared"
DIGITAL_LINK = SHARED / "conformance" / "digital-link"


def test_the_check_symbol_matches_traceapps_codes():
    from traceapp.codes import mint_trace_code

    for _ in range(200):
        minted = mint_trace_code()  # the server's own minting: the two copies must agree
        assert check_symbol(minted[:-1]) == minted[-1]


def test_every_single_substitution_is_caught():
    for position in range(14):
        for symbol in codes.ALPHABET:
            if symbol != CODE[position]:
                assert not codes.is_trace_code(CODE[:position] + symbol + CODE[position + 1 :])


@pytest.mark.parametrize(
    "scanned",
    [
        CODE,
        CODE.lower(),
        "LRAL-C8X7-RJNZ-5V",
        "lral c8x7 rjnz 5v",
        "ＬＲＡＬ－Ｃ８Ｘ７－ＲＪＮＺ－５Ｖ",  # full width, from a Chinese input method
        f"https://trace.example.cn/t/{CODE}",
        f"HTTPS://TRACE.EXAMPLE.CN/T/{CODE}",
        f"http://127.0.0.1:5000/t/{CODE}/",
        f"https://trace.example.cn/t/{CODE}?lang=en#top",
        "https://example.cn/stem/t/lral-c8x7-rjnz-5v",
        f"]Q1https://trace.example.cn/t/{CODE}",
        f"\x02]Q1HTTPS://TRACE.EXAMPLE.CN/T/{CODE}\x03",
        f"{CODE}\r",
        f"{CODE}\r\n",
        f"  \ufeff{CODE}\t",
        f"]C1{CODE}",
        f"https://brand.example.com/01/09520123456788/10/{CODE}",
        f"https://id.gs1.org/01/09520123456788/22/2A/10/{CODE.lower()}/21/12345?17=261231",
        "https://id.gs1.org/01/09520123456788/10/LRAL-C8X7-RJNZ-5V",
    ],
)
def test_every_form_of_a_trace_code_is_read(scanned):
    payload = parse_payload(scanned)
    assert (payload.kind, payload.code) == ("trace_code", CODE)


@pytest.mark.parametrize(
    ("scanned", "kind", "words"),
    [
        ("", "empty", "nothing was scanned"),
        ("\r\n", "empty", "nothing was scanned"),
        ("\x02\x03", "empty", "nothing was scanned"),
        ("hello", "invalid", "5 characters"),
        ("0000-OOOO", "invalid", "8 characters"),
        ("LRALC8X7RJNZ50", "invalid", "never contain 0, O, 1, I"),
        ("LRALC8X7RJNZ5W", "invalid", "check character"),
        ("LRALC8X7RJNZV5", "invalid", "check character"),  # two adjacent symbols swapped
        ("https://id.gs1.org/01/09520123456788", "not_ours", "no lot"),
        ("https://example.com/about", "not_ours", "neither a traceapp code link"),
        (f"https://id.gs1.org/01/09520123456788?10={CODE}", "not_ours", "no lot"),
        (f"https://id.gs1.org/01/09520123456789/10/{CODE}", "invalid", "not a GTIN"),
        (f"https://id.gs1.org/01/09520123456788/21/1/10/{CODE}", "invalid", "22, 10, 21 in that order"),
        (f"https://trace.example.cn/t/{CODE[:-1]}", "invalid", "13 characters"),
        (f"ftp://trace.example.cn/t/{CODE}", "invalid", "http or https"),
        ("https://trace.example.cn/t/<script>", "invalid", "well-formed"),
    ],
)
def test_what_is_not_a_trace_code_says_why(scanned, kind, words):
    payload = parse_payload(scanned)
    assert payload.kind == kind and payload.code is None
    assert words in payload.reason


def test_codes_are_grouped_for_people():
    assert format_code(CODE) == "LRAL-C8X7-RJNZ-5V"
    assert normalize_code(" lral–c8x7—rjnz_5v ") == CODE  # en dash, em dash, underscore


def test_noise_is_stripped_from_both_ends_only():
    assert strip_noise("\x02]Q1 ABC DEF\x03\r\n") == "ABC DEF"
    assert strip_noise("]d2010952") == "010952"


# -- GS1 Digital Link conformance cases (../shared; never copied into the project) -------------


def _cases(name: str) -> list[dict]:
    path = DIGITAL_LINK / name
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared GS1 conformance data is not checked out")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [row for row in rows if "options" not in row]  # engine defaults only


def _bracketed(ai_bracketed: str) -> dict[str, str]:
    parts = ai_bracketed.split("(")[1:]
    return {part.split(")")[0]: part.split(")", 1)[1] for part in parts}


def test_no_gs1_parse_case_is_read_as_a_trace_code():
    for case in _cases("dl-uri-parse-cases.jsonl"):
        assert parse_payload(case["uri"]).kind != "trace_code", case["id"]


def test_valid_gs1_digital_links_are_read_as_a_gtin_and_lot_for_the_server_or_not_ours_without_lot():
    checked = 0
    for case in _cases("dl-uri-parse-cases.jsonl"):
        expected = _bracketed(case.get("ai_bracketed", ""))
        path = case["uri"].split("?")[0]
        path_ais = [ai for ai in expected if f"/{ai}/" in path]
        if not case["valid"] or path_ais[:1] != ["01"] or set(path_ais) - {"01", "22", "10", "21"}:
            continue  # other keys (SSCC, GIAI ...) and AIs the gate does not read
        payload = parse_payload(case["uri"])
        if "10" in path_ais:
            assert payload.kind == "gs1", case["id"]
            assert payload.code == f"01{expected['01'].zfill(14)}10{expected['10']}", case["id"]
        else:
            assert payload.kind == "not_ours" and expected["01"] in payload.reason, case["id"]
            assert "no lot" in payload.reason, case["id"]
        checked += 1
    assert checked >= 10


def test_a_trace_code_as_the_lot_of_any_valid_gs1_example_is_read():
    checked = 0
    for case in _cases("dl-uri-parse-cases.jsonl"):
        lot = _bracketed(case.get("ai_bracketed", "")).get("10")
        if case["valid"] and lot and f"/10/{lot}" in case["uri"]:
            uri = case["uri"].replace(f"/10/{lot}", f"/10/{CODE}")
            assert parse_payload(uri).code == CODE, case["id"]
            checked += 1
    assert checked >= 3


def test_path_unescaping_follows_gs1():
    for case in _cases("dl-uri-escaping-cases.jsonl"):
        if case["op"] != "unescape":
            continue
        expected = (
            bytes.fromhex(case["path_component_hex"])
            if "path_component_hex" in case
            else case["path_component"].encode("latin-1")
        )
        assert codes.dl_unquote(case["input"]) == expected, case["id"]


# -- GS1 element strings: a case label's GS1-128 as a handheld scanner sends it, or typed ------

GTIN = "10614141000415"


@pytest.mark.parametrize(
    "scanned",
    [
        f"]C101{GTIN}10LOT-7",
        f"\x02]C101{GTIN}10LOT-7\r\n",
        f"01{GTIN}10LOT-7",
        f"\x1d01{GTIN}13261204\x1d10LOT-7",  # FNC1 first as GS; (13) predefined length
        f"01{GTIN}10LOT-7\x1d21X1",
        f"(01){GTIN}(10)LOT-7",
        f"(01){GTIN}(13)261204(10)LOT-7",
        f"https://id.gs1.org/01/{GTIN}/10/LOT-7",
    ],
)
def test_a_gtin_and_producers_lot_is_a_key_for_the_server_in_every_spelling(scanned):
    payload = parse_payload(scanned)
    assert payload.kind == "gs1" and payload.code == f"01{GTIN}10LOT-7", payload
    assert format_code(payload.code) == f"(01){GTIN}(10)LOT-7"


@pytest.mark.parametrize(
    "scanned", [f"]C101{GTIN}10{CODE}", f"(01){GTIN}(10){CODE}", f"]d201{GTIN}10{CODE}\x1d21A"]
)
def test_a_trace_code_as_lot_of_an_element_string_is_our_code(scanned):
    payload = parse_payload(scanned)
    assert (payload.kind, payload.code, payload.source) == ("trace_code", CODE, "element_string")


@pytest.mark.parametrize(
    ("scanned", "kind", "words"),
    [
        (f"(01){GTIN[:-1]}6(10)A", "invalid", "wrong check digit in (01)"),
        ("(00)106141410000000013", "invalid", "wrong check digit in (00)"),
        ("(00)106141410000000019", "not_ours", "pallet's SSCC 106141410000000019"),
        ("00106141410000000019", "not_ours", "scan the label of each case"),
        ("(01)123", "invalid", "wrong length"),
        (f"(01){GTIN}", "not_ours", "no lot"),
        (f"(01){GTIN}(10)", "invalid", "wrong length"),
        (f"(01){GTIN}(10)A(10)B", "invalid", "appears twice"),
        (f"(01){GTIN}(10)A B", "invalid", "wrong length or characters"),
        (f"(01{GTIN}", "invalid", "brackets"),
        ("(99)X", "invalid", "does not read"),
        ("(17)261301", "not_ours", "without a GTIN"),
    ],
)
def test_bad_or_foreign_element_strings_say_why(scanned, kind, words):
    payload = parse_payload(scanned)
    assert payload.kind == kind and words in payload.reason, payload
