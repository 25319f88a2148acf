"""Mobile numbers as people type them (``13800138000``, ``138 0013 8000``, ``+86 138-0013-8000``)
to the one stored form, E.164 (``+8613800138000``), with Google's libphonenumber rules.

Only Chinese mobiles are accepted: 11 digits starting 13 to 19 (a landline cannot receive the
text messages a mobile sign-in may one day need, and the users are in China).
"""

from __future__ import annotations

import re

import phonenumbers
from flask_babel import gettext as _

from traceapp.errors import InvalidInput

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
#: What a typed sign-in looks like when it is a phone number rather than an e-mail address.
_PHONE_LIKE = re.compile(r"^\+?[\d\s\-().]+$")


def looks_like_phone(text: str) -> bool:
    """Whether typed text is meant as a phone number (digits, spaces, dashes, a leading +)."""
    return bool(_PHONE_LIKE.match(text.strip()))


def normalised_mobile(text: str) -> str | None:
    """The E.164 form of a Chinese mobile number as typed, or None when it is not one."""
    try:
        number = phonenumbers.parse(text.strip(), "CN")
    except phonenumbers.NumberParseException:
        return None
    national = str(number.national_number)
    if number.country_code != 86 or not _MOBILE.match(national) or not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mobile_or_refuse(text: str, field: str = "mobile") -> str:
    """``normalised_mobile`` or InvalidInput naming ``field``."""
    mobile = normalised_mobile(text)
    if mobile is None:
        raise InvalidInput(field, _("Enter a Chinese mobile number: 11 digits starting with 13 to 19."))
    return mobile


def display(mobile: str) -> str:
    """``+8613800138000`` → ``138 0013 8000`` (as people read it in China)."""
    national = mobile.removeprefix("+86")
    return f"{national[:3]} {national[3:7]} {national[7:]}" if len(national) == 11 else mobile
