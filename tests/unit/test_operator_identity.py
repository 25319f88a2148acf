"""The identifiers an operator is named by, checked as their standards say. The valid codes here
are computed by this file's own reading of the standards (weights as powers, not the code's
tables), so a wrong table in ``traceapp.orgs.identity`` fails these tests."""

from __future__ import annotations

import random
from datetime import date

import pytest

from traceapp.orgs import identity

TODAY = date(2026, 12, 6)
# GB 32100-2015 §4.1: 31 characters, valued 0..30 in this order (no I, O, S, V, Z).
SET31 = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def uscc_check(first17: str) -> str:
    """GB 32100-2015 §5: C18 = 31 - (Σ Ci·Wi mod 31), Wi = 3^(i-1) mod 31; 31 becomes 0."""
    total = sum(SET31.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return SET31[(31 - total % 31) % 31]


def org_code_check(body: str) -> str:
    """GB 11714-1997: C9 = 11 - (Σ Ci·Wi mod 11), Wi = 2^(9-i) mod 11, A..Z = 10..35; 10 is X,
    11 is 0."""
    values = [int(c) if c.isdigit() else ord(c) - ord("A") + 10 for c in body]
    total = sum(v * pow(2, 8 - i, 11) for i, v in enumerate(values))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def make_uscc(authority: str, region: str, body: str) -> str:
    """A credit code: authority and type, region, organisation code with its check, check."""
    first17 = authority + region + body + org_code_check(body)
    return first17 + uscc_check(first17)


def id_check(first17: str) -> str:
    """GB 11643-1999: a1 = (12 - Σ ai·Wi mod 11) mod 11, Wi = 2^(18-i) mod 11 (i = 18..2)."""
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(first17))
    check = (12 - total % 11) % 11
    return "X" if check == 10 else str(check)


# A company (91), a farmers' cooperative (93), an individual business (92), a public institution (12).
VALID_CODES = [
    make_uscc("91", "420116", "MA4K3B7Q"),
    make_uscc("93", "420116", "MA49XW1F"),
    make_uscc("92", "320115", "L12345H8"),
    make_uscc("12", "110000", "40000080"),
]


def test_the_published_example_code_is_valid():
    # The example printed with GB 32100-2015's explanations (Fuzhou, 91350100M000100Y43).
    assert identity.credit_code("91350100M000100Y43") == "91350100M000100Y43"
    assert make_uscc("91", "350100", "M000100Y") == "91350100M000100Y43"


@pytest.mark.parametrize("code", VALID_CODES)
def test_credit_codes_with_both_check_characters_right_are_accepted_and_normalised(code):
    typed = f" {code[:6].lower()}-{code[6:12]} {code[12:]} "
    assert identity.credit_code(typed) == code


@pytest.mark.parametrize("code", VALID_CODES)
def test_a_wrong_last_check_character_is_refused_naming_character_18(code):
    wrong = next(c for c in SET31 if c != code[17])
    with pytest.raises(identity.BadIdentifier) as caught:
        identity.credit_code(code[:17] + wrong)
    assert "18" in caught.value.message and code[17] in caught.value.message


@pytest.mark.parametrize("code", VALID_CODES)
def test_a_wrong_organisation_code_check_is_refused_even_when_the_last_is_recomputed(code):
    wrong = next(c for c in "0123456789X" if c != code[16])
    first17 = code[:16] + wrong
    with pytest.raises(identity.BadIdentifier) as caught:
        identity.credit_code(first17 + uscc_check(first17))  # character 18 fits: 17 does not
    assert "17" in caught.value.message


def test_a_typo_in_the_body_is_caught():
    rng = random.Random(15)
    for code in VALID_CODES:
        position = rng.randrange(8, 16)  # inside the organisation code's body
        typo = next(c for c in "0123456789ABCDEFGH" if c != code[position])
        with pytest.raises(identity.BadIdentifier):
            identity.credit_code(code[:position] + typo + code[position + 1 :])


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("91350100M000100Y4", "18"),  # one short
        ("91350100M000100Y433", "18"),
        ("91350100MO00100Y43", "Character 10"),  # the letter O is not in the set
        ("9135O100M000100Y43", "Character 5"),
        ("91A50100M000100Y43", "region"),
    ],
)
def test_malformed_credit_codes_say_what_is_wrong(typed, says):
    with pytest.raises(identity.BadIdentifier) as caught:
        identity.credit_code(typed)
    assert says in caught.value.message


def make_id(region: str, born: str, sequence: str) -> str:
    return region + born + sequence + id_check(region + born + sequence)


def test_identity_numbers_with_the_right_check_are_accepted():
    # GB 11643-1999's own example.
    assert identity.id_number("11010519491231002x", today=TODAY) == "11010519491231002X"
    for number in (make_id("320102", "19800229", "123"), make_id("420116", "20010101", "007")):
        assert identity.id_number(number, today=TODAY) == number


@pytest.mark.parametrize(
    ("number", "says"),
    [
        ("110105194912310021", "Character 18"),  # the check is X
        ("11010519491231002", "18 characters"),
        ("1101051949123100XX", "18 characters"),
        (make_id("320102", "19810229", "123"), "no date"),  # no 29 February in 1981
        (make_id("320102", "18990101", "123"), "cannot be right"),
        (make_id("320102", "20270101", "123"), "cannot be right"),  # not born yet
    ],
)
def test_bad_identity_numbers_say_why(number, says):
    with pytest.raises(identity.BadIdentifier) as caught:
        identity.id_number(number, today=TODAY)
    assert says in caught.value.message


def test_platform_codes_are_letters_and_digits_within_a_length():
    assert identity.platform_code(" ab-12 3456 ") == "AB123456"
    for bad in ("ABC12", "A" * 33, "主体码123456", "AB_123456"):
        with pytest.raises(identity.BadIdentifier):
            identity.platform_code(bad)


def test_masking_keeps_the_first_and_last_four():
    assert identity.mask_id_number("32010219800229123X") == "3201**********123X"
    assert identity.mask_id_number(None) is None
