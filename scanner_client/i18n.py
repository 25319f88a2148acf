"""The language trace-scan speaks: zh_CN or en, from gettext catalogues of its own domain.

The language comes from the first of: ``--lang``, ``TRACE_SCAN_LANG``, ``lang`` in the config
file, then the POSIX locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``): anything starting with
``zh`` is Chinese (zh_CN), everything else English. The catalogues are
``scanner_client/translations/<lang>/LC_MESSAGES/trace_scan.mo``, shipped as package data and
read with the standard library's gettext (msgids are English, so English needs none); they
are built from the ``.po`` files by ``python tools/i18n.py --domain trace_scan compile``.

The gate runs one language per process, so the choice is a module-level setting made once by
the command line (``activate``); ``_`` reads it at call time.
"""

from __future__ import annotations

import gettext
from collections.abc import Mapping
from pathlib import Path

DOMAIN = "trace_scan"
LOCALE_DIR = Path(__file__).resolve().parent / "translations"
LANGUAGES = ("zh_CN", "en")
ENGLISH = "en"

_active: gettext.NullTranslations = gettext.NullTranslations()
_language = ENGLISH


def normalize(value: str | None) -> str | None:
    """``zh``, ``zh-CN``, ``zh_CN.UTF-8``, ``zh_Hans`` → ``zh_CN``; another language → ``en``;
    empty, ``C`` or ``POSIX`` → None (not a choice)."""
    text = (value or "").split(".")[0].split("@")[0].strip()
    if not text or text in ("C", "POSIX"):
        return None
    return "zh_CN" if text.lower().startswith("zh") else ENGLISH


def choose(flag: str | None, configured: str | None, env: Mapping[str, str]) -> str:
    """The language to speak (module rule): the flag, the setting, then the locale."""
    for value in (flag, configured, env.get("LC_ALL"), env.get("LC_MESSAGES"), env.get("LANG")):
        found = normalize(value)
        if found:
            return found
    return ENGLISH


def activate(language: str) -> None:
    """Speak ``language`` (``zh_CN`` or ``en``) from now on in this process."""
    global _active, _language
    _language = language if language in LANGUAGES else ENGLISH
    _active = gettext.translation(DOMAIN, LOCALE_DIR, languages=[_language], fallback=True)


def current() -> str:
    """The language spoken now."""
    return _language


def accept_language() -> str:
    """The ``Accept-Language`` to send, so the server's messages come in the same language."""
    return "zh-CN" if _language == "zh_CN" else "en"


def _(message: str) -> str:
    """``message`` (English) in the language spoken now."""
    return _active.gettext(message)


def N_(message: str) -> str:
    """Marks ``message`` for the catalogue where it is defined; ``_`` translates it when shown."""
    return message


#: API unit values → their short names (as the server's pages print them: 千克, 斤, 件, 箱).
_UNITS = {"kg": N_("kg"), "jin": N_("jin"), "piece": N_("pcs"), "box": N_("boxes")}


def unit_label(unit: str) -> str:
    """A unit as people read it after a number; an unknown unit is shown as sent."""
    return _(_UNITS[unit]) if unit in _UNITS else unit
