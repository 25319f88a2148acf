"""The identifiers the law names an operator by, checked when they are entered. Pure.

- The unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters of a
  31-character set (digits and capitals without I, O, Z, S, V): the registration authority and
  the type (2), the region (6 digits), the organisation code (9: 8 characters and their own
  GB 11714 check character) and the check character over the first 17.
- The resident identity number (公民身份号码, GB 11643-1999): 17 digits (region, birth date,
  sequence) and a MOD 11-2 check character (a digit or X).
- The national platform's operator code (主体码): its format is not published in full, so we
  accept 6 to 32 letters and digits (stored in capitals) and check nothing more.

Each check raises :class:`BadIdentifier` with a message that names the character at fault when
it can (translated at the time of the call, as the services call it inside a request).
"""

from __future__ import annotations

import re
from datetime import date

from flask_babel import gettext as _

#: GB 32100-2015's characters, in the order that gives each its value (0 to 30).
CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
#: GB 11714-1997's weights over the 8 characters of an organisation code's body.
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
#: GB 11643-1999's weights (2^(17-i) mod 11) over the 17 digits of an identity number.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECKS = "10X98765432"  # the check character for (weighted sum mod 11) = 0, 1, ... 10
EARLIEST_BIRTH = date(1900, 1, 1)
PLATFORM_CODE = re.compile(r"[0-9A-Z]{6,32}")


class BadIdentifier(ValueError):
    """An identifier that fails its standard's rules; ``message`` says how, for a person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _compact(text: str) -> str:
    """Capitals, without the spaces and dashes people type into long codes."""
    return re.sub(r"[\s\-]", "", text).upper()


def credit_check_char(first17: str) -> str:
    """The 18th character of a credit code whose first 17 are ``first17`` (all in the set)."""
    total = sum(CREDIT_CHARSET.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARSET[(31 - total % 31) % 31]


def org_code_check_char(body8: str) -> str:
    """GB 11714's check character of an organisation code's 8-character body (digits, capitals)."""
    total = sum(int(c, 36) * w for c, w in zip(body8, ORG_CODE_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def credit_code(text: str) -> str:
    """The credit code, normalised (capitals, no spaces or dashes). Raises BadIdentifier."""
    code = _compact(text)
    if len(code) != 18:
        raise BadIdentifier(_("A unified social credit code has 18 characters, not %(n)d.", n=len(code)))
    for position, char in enumerate(code, start=1):
        if char not in CREDIT_CHARSET:
            raise BadIdentifier(
                _(
                    "Character %(position)d (%(char)s) cannot be in a unified social credit code: it uses "
                    "digits and capital letters other than I, O, Z, S and V.",
                    position=position,
                    char=char,
                )
            )
    if not code[2:8].isdigit():
        raise BadIdentifier(
            _("Characters 3 to 8 of a unified social credit code are the region's six digits.")
        )
    expected = org_code_check_char(code[8:16])
    if code[16] != expected:
        raise BadIdentifier(
            _(
                "Character 17 (%(char)s) is not the organisation code's check character: for %(body)s "
                "it is %(expected)s. Check characters 9 to 17.",
                char=code[16],
                body=code[8:16],
                expected=expected,
            )
        )
    expected = credit_check_char(code[:17])
    if code[17] != expected:
        raise BadIdentifier(
            _(
                "Character 18 (%(char)s) is not the check character of the first 17, which is "
                "%(expected)s. One of the characters is mistyped.",
                char=code[17],
                expected=expected,
            )
        )
    return code


def id_number(text: str, *, today: date) -> str:
    """The resident identity number, normalised (a final x in capitals). Raises BadIdentifier."""
    number = _compact(text)
    if not re.fullmatch(r"[0-9]{17}[0-9X]", number):
        raise BadIdentifier(_("An identity number is 17 digits and a check digit or X (18 characters)."))
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise BadIdentifier(
            _(
                "Characters 7 to 14 of an identity number are the birth date: %(digits)s is no date.",
                digits=number[6:14],
            )
        ) from None
    if not EARLIEST_BIRTH <= born <= today:
        raise BadIdentifier(
            _(
                "Characters 7 to 14 give a birth date of %(date)s, which cannot be right.",
                date=born.isoformat(),
            )
        )
    total = sum(int(c) * w for c, w in zip(number[:17], ID_WEIGHTS, strict=True))
    expected = ID_CHECKS[total % 11]
    if number[17] != expected:
        raise BadIdentifier(
            _(
                "Character 18 (%(char)s) is not the check character of the first 17 digits, which is "
                "%(expected)s. One of the digits is mistyped.",
                char=number[17],
                expected=expected,
            )
        )
    return number


def platform_code(text: str) -> str:
    """The national platform's operator code, in capitals. Raises BadIdentifier."""
    code = _compact(text)
    if not PLATFORM_CODE.fullmatch(code):
        raise BadIdentifier(_("An operator code (主体码) is 6 to 32 letters and digits."))
    return code


def mask_id_number(number: str | None) -> str | None:
    """An identity number as shown to those who may not read it: the first 4 and last 4 kept
    (3201**********1234), enough to tell two apart on a list, not to use."""
    if not number:
        return number
    return number[:4] + "*" * (len(number) - 8) + number[-4:]
