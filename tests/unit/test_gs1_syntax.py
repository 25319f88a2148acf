"""The AIs produce needs, read and written through the GS1 syntax dictionary (traceapp.gs1)."""

import pytest

from traceapp import gs1
from traceapp.gs1 import GS, STRICT, GS1Error


def _with_check(body: str) -> str:
    return body + str(gs1.gtin_check_digit(body))


GTIN = "09506000134352"
GLN = _with_check("950600013435")  # 13 digits
SSCC = _with_check("09506000134350001")  # 18 digits


def test_a_produce_case_label_reads_every_ai_it_carries():
    scanned = (
        f"01{GTIN}11260301" "13260302" "15260320" "17260331"
        "3103012500" "3202027557" f"10LOT-7{GS}21S1{GS}22A{GS}"
        f"7007260228260301{GS}422156{GS}423156{GS}426156{GS}8200https://trace.example.cn/T/X"
    )  # fmt: skip
    ais = dict(gs1.parse_element_string(scanned))
    assert ais == {
        "01": GTIN, "11": "260301", "13": "260302", "15": "260320", "17": "260331",
        "3103": "012500", "3202": "027557", "10": "LOT-7", "21": "S1", "22": "A",
        "7007": "260228260301", "422": "156", "423": "156", "426": "156",
        "8200": "https://trace.example.cn/T/X",
    }  # fmt: skip
    with pytest.raises(GS1Error) as error:  # 422 and 426 exclude each other (ex=426)
        gs1.validate_associations(gs1.parse_element_string(scanned))
    assert error.value.reason_code == "conflicting_ais"
    without_426 = [(ai, value) for ai, value in ais.items() if ai != "426"]
    gs1.validate_associations(without_426)
    assert gs1.parse_element_string(gs1.bracketed(without_426)) == tuple(without_426)


def test_a_pallet_sscc_with_content_gtin_and_count():
    ais = gs1.parse_element_string(f"(00){SSCC}(02){GTIN}(37)48(10)LOT7")
    gs1.validate_associations(ais)
    assert gs1.element_string(ais) == f"00{SSCC}02{GTIN}3748{GS}10LOT7"
    with pytest.raises(GS1Error, match="without the one"):  # (37) needs (00), (02) needs (37)
        gs1.validate_associations(gs1.parse_element_string(f"(02){GTIN}(10)LOT7"))


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (f"(01){GTIN[:-1]}3", "bad_gtin_check_digit"),
        ("(11)260230", "bad_date"),  # 30 February
        ("(15)260200", "bad_ai_value"),  # too short below: see next
        ("(3103)01250", "bad_ai_value"),
        ("(422)999", "bad_ai_content"),  # not an ISO 3166 country
        ("(7007)261301", "bad_date"),
        (f"(8003)1{GLN}", "bad_ai_content"),  # GRAI starts with a 0
        ("(10)LOT 7", "bad_ai_value"),  # space is not in CSET 82
        ("(89)X", "unsupported_ai"),
    ],
)
def test_bad_values_are_named(bad, reason):
    if bad == "(15)260200":  # day 00 is the month's end in a best-before date: valid
        assert gs1.parse_element_string(bad) == (("15", "260200"),)
        return
    with pytest.raises(GS1Error) as error:
        gs1.parse_element_string(bad)
    assert error.value.reason_code == reason


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        (f"https://a.cn/00/{SSCC}", (("00", SSCC),)),
        (f"https://a.cn/414/{GLN}/254/Shed%2F2", (("414", GLN), ("254", "Shed/2"))),
        (f"https://a.cn/417/{GLN}", (("417", GLN),)),
        (f"https://a.cn/8003/0{GLN}C7", (("8003", f"0{GLN}C7"),)),
        (
            f"https://a.cn/01/{GTIN}/22/A/10/L%2F7/21/S?3103=012500&7007=260228&422=156&15=260320",
            (
                ("01", GTIN), ("22", "A"), ("10", "L/7"), ("21", "S"),
                ("3103", "012500"), ("7007", "260228"), ("422", "156"), ("15", "260320"),
            ),
        ),
    ],
)  # fmt: skip
def test_digital_links_of_every_key_produce_uses(uri, expected):
    assert gs1.parse_digital_link(uri) == expected
    link = gs1.parse_digital_link_uri(uri)
    regenerated = gs1.generate_digital_link(link.ais, link.stem, path_length=link.path_length)
    # the same AIs; attributes of pre-defined length come first in a generated query
    assert sorted(gs1.parse_digital_link(regenerated)) == sorted(expected)


def test_product_url_8200_is_no_digital_link_attribute():
    with pytest.raises(GS1Error) as error:
        gs1.parse_digital_link(f"https://a.cn/01/{GTIN}?8200=https%3A%2F%2Fa.cn")
    assert error.value.reason_code == "not_dl_attribute"
    with pytest.raises(GS1Error):
        gs1.generate_digital_link([("01", GTIN), ("8200", "https://a.cn")])


def test_generation_puts_key_and_qualifiers_in_the_path_and_fixed_length_attributes_first():
    ais = [("10", "L7"), ("7007", "260228"), ("01", GTIN), ("17", "260331"), ("3103", "012500")]
    assert gs1.generate_digital_link(ais, "https://trace.example.cn/") == (
        f"https://trace.example.cn/01/{GTIN}/10/L7?17=260331&3103=012500&7007=260228"
    )


def test_scanning_options_pad_short_gtins_and_take_any_case_scheme_strict_does_not():
    uri = "Https://a.cn/01/9506000134352"
    assert gs1.parse_digital_link(uri) == (("01", GTIN),)
    with pytest.raises(GS1Error):
        gs1.parse_digital_link(uri, STRICT)


def test_the_dictionary_is_the_shipped_gs1_file():
    entries = gs1.dictionary()
    assert len(entries) > 500 and entries["7007"].title == "HARVEST DATE"
    assert entries["01"].dlpkey == (("22", "10", "21"), ("235",))
    assert [c.linters for c in entries["8003"].components] == [("zero",), ("csum", "gcppos1"), ()]


def test_every_linter_the_dictionary_names_is_implemented():
    named = {name for entry in gs1.dictionary().values() for c in entry.components for name in c.linters}
    assert named <= set(gs1.LINTERS), named - set(gs1.LINTERS)
    assert set(gs1.LINTERS_NOT_CHECKED) == {"packagetype"}


def test_the_one_code_list_we_do_not_apply_is_listed_with_its_reason():
    """The shipped dictionary (release 2026-01-27) has no AI 7012, so it is refused as an AI GS1
    does not define; its one code-list linter we do not apply is ``packagetype`` (AI 7041,
    UN/ECE Recommendation 21), accepted unchecked and listed with why."""
    assert gs1.ai_entry("7012") is None
    with pytest.raises(gs1.GS1Error) as refused:
        gs1.parse_element_string("(01)09506000134352(7012)ABC")
    assert refused.value.reason_code == "unsupported_ai"
    assert [c.linters for c in gs1.dictionary()["7041"].components] == [("packagetype",)]
    assert "Recommendation 21" in gs1.LINTERS_NOT_CHECKED["packagetype"]
    assert gs1.parse_element_string("(00)106141410000000019(7041)ZZZZ")[1] == ("7041", "ZZZZ")
